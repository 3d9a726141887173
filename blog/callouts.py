"""fastpages' Markdown shortcuts: callouts and embeds.

``> Note: text`` (also Tip, Important, Warning) becomes a Material admonition; the quote may go on
over further ``>`` lines. ``> youtube: URL`` becomes an embedded player and ``> twitter: URL`` an
embedded post. Fenced code is left alone, so a tutorial can show the syntax itself.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

from .fences import code_lines

# The indent lets a call-out sit inside a list item, as it can in Jupyter.
_CALLOUT = re.compile(
    r"^(?P<indent>[ \t]*)>\s*(?P<kind>note|tip|important|warning)\s*:\s*"
    r"(?P<text>.*)$",
    re.I,
)
_EMBED = re.compile(
    r"^(?P<indent>[ \t]*)>\s*(?P<kind>youtube|twitter)\s*:\s*(?P<url>\S+)\s*$", re.I
)

# Material's admonition types; "important" has no style of its own, so it borrows "danger".
_ADMONITION = {
    "note": ("note", None),
    "tip": ("tip", None),
    "important": ("danger", "Important"),
    "warning": ("warning", None),
}


def _youtube_id(url: str) -> str | None:
    parts = urlparse(url)
    host = parts.netloc.lower().removeprefix("www.").removeprefix("m.")
    if host == "youtu.be":
        return parts.path.strip("/") or None
    if host.endswith("youtube.com"):
        if parts.path.startswith(("/embed/", "/shorts/", "/live/")):
            return parts.path.split("/")[2] or None
        return parse_qs(parts.query).get("v", [None])[0]
    return None


def _embed(kind: str, url: str) -> list[str]:
    if kind == "youtube":
        video = _youtube_id(url)
        if not video:
            return [f"> youtube: {url}"]  # leave it visible rather than drop it silently
        src = f"https://www.youtube-nocookie.com/embed/{html.escape(video)}"
        return [
            f'<div class="video-embed"><iframe src="{src}" title="YouTube video" '
            'loading="lazy" allowfullscreen></iframe></div>'
        ]
    link = html.escape(url, quote=True)
    return [
        f'<blockquote class="twitter-tweet"><a href="{link}">{link}</a></blockquote>',
        '<script async src="https://platform.twitter.com/widgets.js"></script>',
    ]


def convert_callouts(markdown: str) -> str:
    """Rewrite callouts and embeds in a Markdown text; everything else is returned unchanged."""
    out: list[str] = []
    lines = markdown.splitlines()
    code = code_lines(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if code[i]:
            out.append(line)
            i += 1
            continue
        if embed := _EMBED.match(line):
            pad = embed["indent"]
            out.extend(["", *(pad + e for e in _embed(embed["kind"].lower(), embed["url"])), ""])
            i += 1
            continue
        callout = _CALLOUT.match(line)
        if not callout:
            out.append(line)
            i += 1
            continue
        kind, title = _ADMONITION[callout["kind"].lower()]
        pad = callout["indent"]
        body = [callout["text"]]
        i += 1
        while i < len(lines) and lines[i].startswith(pad + ">"):
            body.append(lines[i][len(pad) + 1 :].removeprefix(" "))
            i += 1
        out.extend(["", pad + (f'!!! {kind} "{title}"' if title else f"!!! {kind}"), ""])
        out.extend(f"{pad}    {text}" if text.strip() else "" for text in body)
        out.append("")
    return "\n".join(out)
