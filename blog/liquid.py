"""fastpages' Liquid tags, turned into the Markdown and HTML that Python-Markdown renders.

Jekyll ran Liquid over a post before kramdown saw it, everywhere in the text, code included; only
``{% raw %}…{% endraw %}`` was left alone. This module does the same to one Markdown text (a
``.md`` body or one notebook Markdown cell), before Markdown:

* ``{% include alert|info|note|important|warning|tip.html text="…" %}`` → a Material admonition;
* ``{% include youtube.html content="URL" %}``, ``{% include twitter.html content="URL" %}`` and
  ``{% twitter URL %}`` → the embeds that ``> youtube:`` / ``> twitter:`` make (blog.callouts);
* ``{% include video.html url="URL" %}`` → an HTML5 player; ``{% include image.html file=… %}``
  → a ``<figure>``;
* ``{% fn 1 %}`` and ``{{ 'text' | fndetail: 1 }}`` → Python-Markdown footnotes (``[^1]``);
* ``{{ site.baseurl }}`` and ``{{ site.url }}`` → nothing (links stay root-relative);
* ``{{ model_report("NAME") }}`` (this project's own directive) is left as it is.

Anything else is an error that names the tag, except inside code and math, where an unknown tag
is shown as written: a post that shows GitHub Actions' ``${{ secrets.X }}`` keeps working.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from pathlib import Path

from .callouts import _ADMONITION, _embed, _youtube_id
from .errors import PostError

# Liquid reads `{% raw %}` before anything else, so its body is never parsed, even in code.
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
# Like Liquid's own tokenizer, a tag ends at the first `%}` and an expression at the first `}}`
# (quotes don't protect them). The last branch finds an opener that is never closed.
_TOKEN = re.compile(r"\{%-?(?P<tag>.*?)-?%\}|\{\{-?(?P<var>.*?)-?\}\}|(?P<open>\{%|\{\{)", re.S)
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
# Inline places where an unknown tag is content, not a mistake: code spans (as Python-Markdown
# finds them: same-length backtick runs, inside one block) and math ($…$, $$…$$, \(…\), \[…\]).
_INLINE_CODE_OR_MATH = re.compile(
    r"""
      (?<![\\`])(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)(?P=ticks)(?!`)
    | \$\$.+?\$\$
    | \\\[.+?\\\]
    | \\\(.+?\\\)
    | (?<![\\$\w])\$(?![\s$])[^\n$]+?(?<![\s\\])\$(?!\d)
""",
    re.S | re.X,
)
# A Liquid string literal; Jekyll's include tag also accepts \" and \' inside it.
_STRING = r"""(?P<q>["'])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
_EXPRESSION = re.compile(
    _STRING + r"\s*(?:\|\s*(?P<filter>\w+)\s*(?::\s*(?P<arg>.*?))?)?\s*$", re.S
)
_SITE_VARIABLE = re.compile(r"site\.(?:baseurl|url)")
_SITE_IN_VALUE = re.compile(r"\{\{-?\s*site\.(?:baseurl|url)\s*-?\}\}")
_MODEL_REPORT = re.compile(r"""model_report\(\s*(["'])[^"'\n]*\1\s*\)""")
_PARAM = re.compile(
    r"""\s*(?P<key>[\w-]+)\s*=\s*(?:"(?P<dq>(?:\\.|[^"\\])*)"
                        |'(?P<sq>(?:\\.|[^'\\])*)'|(?P<bare>[^\s"']+))""",
    re.S | re.X,
)
_FOOTNOTE_ID = re.compile(r"[^\s\]\[^]+")
_CSS_LENGTH = re.compile(r"\d+(?:\.\d+)?(?:px|%|em|rem|vw)?")

_ADMONITIONS = {"alert": ("warning", None), "info": ("info", None), **_ADMONITION}
# Each include and the parameters it takes (the first name of a pair is the one fastpages used).
_INCLUDES = {
    **{name: ("text", "content") for name in ("alert", "info")},
    **{name: ("content", "text") for name in ("note", "tip", "important", "warning")},
    "youtube": ("content", "url"),
    "twitter": ("content", "url"),
    "video": ("url", "content"),
    "image": ("file", "alt", "caption", "url", "max-width"),
}
_VIDEO_TYPES = {"webm": "video/webm", "ogg": "video/ogg", "ogv": "video/ogg"}
_SUPPORTED = (
    "fastpages tags that work here: include alert/info/note/important/warning/tip/"
    "youtube/video/image, twitter, raw, comment, highlight, post_url, link, fn, "
    "fndetail, site.baseurl. Remove it, or wrap literal text in "
    "{% raw %}...{% endraw %}."
)
# Jekyll's own block tags, rewritten before the rest: a comment disappears, a highlight block
# is a fenced code block (its options, such as linenos, are dropped).
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_HIGHLIGHT = re.compile(
    r"^(?P<indent>[ \t]*)\{%-?\s*highlight\s+(?P<lang>[\w+#.-]+)[^%]*-?%\}"
    r"[ \t]*\n?(?P<code>.*?)\n?[ \t]*\{%-?\s*endhighlight\s*-?%\}",
    re.S | re.M,
)
# The folders of a Jekyll site whose files are posts here: `{% link _posts/x.md %}` is `/x.md`.
_POST_FOLDERS = re.compile(r"^/?(?:_posts|_notebooks)/")


def render_liquid(text: str, path: Path, *, cell: int | None = None) -> str:
    """Apply fastpages' Liquid tags to one Markdown text (a .md post body or one notebook Markdown cell)."""  # noqa: E501
    if "{%" not in text and "{{" not in text:
        return text  # most texts: returned untouched, byte for byte
    if "comment" in text:
        text = _COMMENT.sub("", text)
    if "highlight" in text:
        text = _HIGHLIGHT.sub(
            lambda m: f"{m['indent']}```{m['lang']}\n{m['code']}\n{m['indent']}```", text
        )
    return _Renderer(text, Path(path), cell).render()


@dataclass
class _Block:
    """Block-level output: it needs lines of its own, with blank lines around."""

    lines: list[str]
    inline: str | None = None  # the one-line form for a line of raw HTML (`<center>{% … %}`)


class _Renderer:
    def __init__(self, text: str, path: Path, cell: int | None):
        self.text, self.path, self.cell = text, path, cell
        # The text as Markdown will see it (raw markers gone) and the raw bodies' spans in it.
        parts: list[str] = []
        self.raw: list[tuple[int, int]] = []
        last = size = 0
        for match in _RAW.finditer(text):
            parts.append(text[last : match.start()])
            size += match.start() - last
            parts.append(match[1])
            self.raw.append((size, size + len(match[1])))
            size += len(match[1])
            last = match.end()
        parts.append(text[last:])
        self.src = "".join(parts)
        self.lenient = _code_and_math(self.src)
        self.starts = [start for start, _ in self.lenient]
        self.out: list[str] = []
        self.after_block = False  # the text that follows a block must start a new paragraph
        self.indent = ""
        self.ends_with_block = False

    def error(self, problem: str, fix: str = "") -> PostError:
        return PostError(self.path, problem, fix, cell=self.cell)

    def render(self) -> str:
        pos = 0
        for start, end in self.raw:
            self.tags(pos, start)
            self.emit(self.src[start:end], raw=True)
            pos = end
        self.tags(pos, len(self.src))
        result = "".join(self.out)
        if self.ends_with_block:  # don't add blank lines after a block the text ended with
            result = result.rstrip("\n") + ("\n" if self.text.endswith("\n") else "")
        return result

    def in_code_or_math(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.lenient[i][1]

    def tags(self, pos: int, end: int) -> None:
        """Render the tags in src[pos:end], a stretch outside {% raw %}."""
        while (match := _TOKEN.search(self.src, pos, end)) is not None:
            self.emit(self.src[pos : match.start()])
            try:
                result = self.interpret(match)
            except PostError:
                if not self.in_code_or_math(match.start()):
                    raise
                # Content, not a tag: keep the opener and read on right after it, so a stray
                # `{{` in code can't swallow the real tags that follow.
                self.emit(match[0][:2])
                pos = match.start() + 2
                continue
            if isinstance(result, _Block):
                self.block(result, match)
            else:
                self.emit(result)
            pos = match.end()
        self.emit(self.src[pos:end])

    def emit(self, text: str, *, raw: bool = False) -> None:
        if not text:
            return
        if self.after_block and not raw:
            lead = re.match(r"[ \t]*((?:\n[ \t]*)*\n)?", text)
            assert lead is not None  # the pattern matches the empty string
            if lead.end() == len(text) and not lead[1]:
                return  # only spaces so far: wait for the rest of the line
            # Drop the rest of the block's line (and blank lines: the block ends with one);
            # text left on that line becomes a paragraph at the line's indentation.
            text = text[lead.end() :] if lead[1] else self.indent + text[lead.end() :]
        self.after_block = False
        if text:
            self.out.append(text)
            self.ends_with_block = False

    def block(self, block: _Block, match: re.Match) -> None:
        line_start = self.src.rfind("\n", 0, match.start()) + 1
        line_end = self.src.find("\n", match.end())
        line_end = len(self.src) if line_end < 0 else line_end
        line = self.src[line_start:line_end]
        alone = not (
            self.src[line_start : match.start()] + self.src[match.end() : line_end]
        ).strip()
        if block.inline is not None and not alone and line.lstrip().startswith("<"):
            # Python-Markdown passes a line that starts with a tag through as raw HTML: the
            # embed goes inside it as one line, so `<center>{% twitter … %}</center>` works.
            self.emit(block.inline)
            return
        indent = line[: len(line) - len(line.lstrip())]
        done = "".join(self.out).rstrip(" \t")
        if done and not done.endswith("\n\n"):
            done += "\n" if done.endswith("\n") else "\n\n"
        body = "\n".join(indent + text if text.strip() else "" for text in block.lines)
        self.out = [done, body, "\n\n"]
        self.after_block, self.indent, self.ends_with_block = True, indent, True

    def interpret(self, match: re.Match) -> str | _Block:
        """What a tag becomes; PostError when it is not one this module knows."""
        if match["open"]:
            close = "%}" if match["open"] == "{%" else "}}"
            raise self.error(
                f"`{match['open']}` is never closed with `{close}`.",
                "Close it, or wrap literal braces in {% raw %}...{% endraw %}.",
            )
        if match["var"] is not None:
            return self.expression(match["var"].strip(), match[0])
        name, rest = _first_word(match["tag"])
        if name == "include":
            return self.include(rest, match[0])
        if name == "twitter":
            url = next(
                (word for word in rest.split() if word.startswith(("http://", "https://"))), None
            )
            if url is None:
                raise self.error(
                    f"`{_show(match[0])}` names no tweet.",
                    "Write {% twitter https://twitter.com/USER/status/ID %}.",
                )
            return _Block(_embed("twitter", url), "".join(_embed("twitter", url)))
        if name == "fn":
            ident = rest.strip("'\"")
            if not _FOOTNOTE_ID.fullmatch(ident):
                raise self.error(
                    f"`{_show(match[0])}` needs a footnote number.",
                    "Write {% fn 1 %} and define it with {{ 'text' | fndetail: 1 }}.",
                )
            return f"[^{ident}]"
        if name in ("post_url", "link"):
            # A link to another post, written as its file: the links pass finds the page.
            target = rest.strip().strip("'\"")
            if not target:
                raise self.error(
                    f"`{_show(match[0])}` names no file.",
                    "Write {% post_url 2020-01-28-my-post %}.",
                )
            if name == "post_url":
                target = "/" + target.split("/")[-1] + ".md"
            return "/" + _POST_FOLDERS.sub("", target).lstrip("/")
        if name == "raw":
            raise self.error(
                "`{% raw %}` is never closed.", "Add {% endraw %} where the literal text ends."
            )
        if name == "endraw":
            raise self.error(
                "`{% endraw %}` has no `{% raw %}` before it.",
                "Remove it, or add {% raw %} where the literal text starts.",
            )
        raise self.error(f"unknown Liquid tag `{_show(match[0])}`.", _SUPPORTED)

    def expression(self, body: str, source: str) -> str | _Block:
        if body.startswith(("<", "{<")) and body.endswith(">"):
            return source  # a Quarto shortcode, {{< … >}}: blog.quarto renders it
        if _SITE_VARIABLE.fullmatch(body):
            return ""  # links stay root-relative; the site's own prefix is added later
        if _MODEL_REPORT.fullmatch(body):
            return source  # this project's directive, expanded by blog.demos
        value = _EXPRESSION.match(body)
        if value:
            text = _unescape(value["s"], value["q"])
            arg = (value["arg"] or "").strip().strip("'\"")
            if value["filter"] is None or value["filter"] in ("relative_url", "absolute_url"):
                return text  # `{{ '{{' }}`, `{{ '/images/x.png' | relative_url }}`
            if value["filter"] == "fndetail" and _FOOTNOTE_ID.fullmatch(arg):
                # A footnote definition must start a line; its next lines are indented to stay
                # part of it.
                first, *more = text.strip().split("\n")
                return _Block([f"[^{arg}]: {first}", *(f"    {line}" for line in more)])
        raise self.error(f"unknown Liquid expression `{_show(source)}`.", _SUPPORTED)

    def include(self, markup: str, source: str) -> _Block:
        file, params = _first_word(markup)
        name = file.strip("'\"").removesuffix(".html")
        if not name:
            raise self.error(
                f"`{_show(source)}` names no file.",
                'Write e.g. {% include note.html content="…" %}.',
            )
        if name not in _INCLUDES:
            raise self.error(
                f"`{_show(source)}` includes `{file}`, which is not a fastpages include.",
                "Includes that work here: " + ", ".join(f"{key}.html" for key in _INCLUDES) + ".",
            )
        values = self.params(params, source, name)
        if name in _ADMONITIONS:
            kind, title = _ADMONITIONS[name]
            text = values.get("text", values.get("content", ""))
            return _Block(
                [
                    f'!!! {kind} "{title}"' if title else f"!!! {kind}",
                    "",
                    *(f"    {line}" for line in text.strip().split("\n")),
                ]
            )
        if name == "image":
            return self.image(values, source)
        url = _link_target(values.get(_INCLUDES[name][0]) or values.get(_INCLUDES[name][1], ""))
        if not url:
            raise self.error(
                f'`{_show(source)}` has no {_INCLUDES[name][0]}="URL".',
                f'Write {{% include {name}.html {_INCLUDES[name][0]}="URL" %}}.',
            )
        if name == "twitter":
            return _Block(_embed("twitter", url), "".join(_embed("twitter", url)))
        if name == "video":
            kind = _VIDEO_TYPES.get(url.split("?")[0].rsplit(".", 1)[-1].lower(), "video/mp4")
            # fastpages' video.html styled with its theme's classes; a plain width keeps the player
            # inside the column without any CSS.
            player = (
                f'<div class="video-file"><video controls loop muted playsinline '
                f'preload="metadata" style="width: 100%; height: auto">'
                f'<source src="{html.escape(url)}" type="{kind}"></video></div>'
            )
            return _Block([player], player)
        if not _youtube_id(url):
            # youtube.html took the URL's last path segment, so a bare video ID worked too.
            last = url.rstrip("/").rsplit("/", 1)[-1]
            if not re.fullmatch(r"[\w-]{6,}", last):
                raise self.error(
                    f"`{_show(source)}` is not a YouTube link.",
                    "Use https://youtu.be/ID or https://www.youtube.com/watch?v=ID.",
                )
            url = f"https://youtu.be/{last}"
        embed = _embed("youtube", url)
        return _Block(embed, "".join(embed))

    def params(self, text: str, source: str, name: str) -> dict[str, str]:
        values: dict[str, str] = {}
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            param = _PARAM.match(text, pos)
            if not param:
                raise self.error(
                    f"the parameters of `{_show(source)}` can't be read.",
                    'Write them as name="value" (or name=value without spaces).',
                )
            if param["key"] not in _INCLUDES[name]:
                raise self.error(
                    f"`{_show(source)}` has an unknown parameter `{param['key']}`.",
                    f"{name}.html takes " + ", ".join(f"{key}=" for key in _INCLUDES[name]) + ".",
                )
            if param["dq"] is not None:
                value = _unescape(param["dq"], '"')
            elif param["sq"] is not None:
                value = _unescape(param["sq"], "'")
            else:
                value = param["bare"]
            values[param["key"]] = _SITE_IN_VALUE.sub("", value)
            pos = param.end()
        return values

    def image(self, values: dict[str, str], source: str) -> _Block:
        src, alt = values.get("file", "").strip(), values.get("alt", "")
        caption, link = values.get("caption", "").strip(), values.get("url", "").strip()
        width = values.get("max-width", "").strip()
        if not src:
            raise self.error(
                f'`{_show(source)}` has no file="…".',
                'Write {% include image.html file="/images/NAME.png" alt="…" %}.',
            )
        if width and not _CSS_LENGTH.fullmatch(width):
            raise self.error(
                f'`{_show(source)}` has max-width="{width}", not a width.',
                'Write a number of pixels, e.g. max-width="400".',
            )
        style = f"max-width: {width}px" if width and width[-1].isdigit() else f"max-width: {width}"
        # A Markdown image inside `<figure markdown="span">` (md_in_html), so the image path is
        # handled like every other image of the post and the caption may hold Markdown.
        image = f"![{_md_escape(alt)}](<{_md_url(src)}>)"
        if width:
            image += f'{{ style="{style}" }}'
        if link:
            image = f'[{image}](<{_md_url(link)}>){{ target="_blank" rel="noopener noreferrer" }}'
        lines = ['<figure markdown="span">', image]
        if caption:
            lines.append(f'<figcaption markdown="span">{caption}</figcaption>')
        lines.append("</figure>")
        # Inside a line of raw HTML no Markdown is read: the same figure in plain HTML.
        tag = (
            f'<img src="{html.escape(src)}" alt="{html.escape(alt)}"'
            + (f' style="{html.escape(style)}"' if width else "")
            + ">"
        )
        if link:
            tag = (
                f'<a href="{html.escape(link)}" target="_blank" rel="noopener noreferrer">{tag}</a>'
            )
        inline = f"<figure>{tag}" + (f"<figcaption>{caption}</figcaption>" if caption else "")
        return _Block(lines, inline + "</figure>")


def _code_and_math(text: str) -> list[tuple[int, int]]:
    """The sorted (start, end) spans of fenced code, code spans and math in a Markdown text."""
    spans: list[tuple[int, int]] = []
    prose_start = pos = 0
    fence: tuple[str, int] | None = None  # the open fence's character and length
    for line in text.splitlines(keepends=True):
        if fence:
            if re.fullmatch(rf"[ \t]*{re.escape(fence[0])}{{{fence[1]},}}[ \t]*\n?", line):
                spans.append((prose_start, pos + len(line)))
                prose_start, fence = pos + len(line), None
        elif (opener := _FENCE_OPEN.match(line.rstrip("\n"))) and not (
            opener[1][0] == "`" and "`" in opener[2]
        ):
            spans.extend(_inline_spans(text, prose_start, pos))
            prose_start, fence = pos, (opener[1][0], len(opener[1]))
        pos += len(line)
    if fence:  # an unclosed fence runs to the end, as in CommonMark
        spans.append((prose_start, len(text)))
    else:
        spans.extend(_inline_spans(text, prose_start, len(text)))
    return spans


def _inline_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [match.span() for match in _INLINE_CODE_OR_MATH.finditer(text, start, end)]


def _first_word(text: str) -> tuple[str, str]:
    """`include  note.html content="x"` → ("include", 'note.html content="x"')."""
    word, *rest = text.split(None, 1) or [""]
    return word, rest[0].strip() if rest else ""


def _unescape(text: str, quote: str) -> str:
    return text.replace("\\" + quote, quote)


def _link_target(value: str) -> str:
    """The URL in an include's content: fastpages' notebook converter passed `<a>…</a>` or
    `<code>…</code>` around it, and youtube.html/twitter.html took the URL back out."""
    value = value.strip()
    if "<code>" in value:
        return value.replace("<code>", "").replace("</code>", "").strip()
    return value.replace("</a>", "").split(">")[-1].strip()


def _md_escape(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", text)


def _md_url(url: str) -> str:
    return url.replace("<", "%3C").replace(">", "%3E").replace("\n", "")


def _show(tag: str) -> str:
    """A tag as an error message quotes it: on one line, and not too long."""
    tag = " ".join(tag.split())
    return tag if len(tag) <= 80 else tag[:77] + "..."
