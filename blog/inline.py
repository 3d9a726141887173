"""HTML and Markdown inside a post's title, description and author, rendered safely.

fastpages printed these front-matter values unescaped, so real posts carry links in them
(``author: "<a href='https://twitter.com/x'>X</a>"``). On the page they must render as links and
code, never as escaped tags and never as a script: the values go through nh3 (the Rust
``ammonia`` sanitiser) with a short list of inline tags. Where only text fits (the browser's
title bar, ``<meta>`` descriptions, the RSS feed), the tags are dropped instead.
"""

from __future__ import annotations

import html
import re

_TAGS = {
    "a",
    "abbr",
    "b",
    "br",
    "code",
    "del",
    "em",
    "i",
    "kbd",
    "mark",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)


def _clean(text: str, tags: set[str]) -> str:
    import nh3  # imported on use: most builds never need it (posts are cached)

    return nh3.clean(
        text,
        tags=tags,
        attributes=_ATTRIBUTES if tags else {},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )


def inline_html(text: str) -> str:
    """Markdown with sanitised inline HTML; code spans are kept as written (Markdown escapes
    them itself, so ``a<b`` in backticks stays ``a<b``)."""
    if "<" not in text and "&" not in text:
        return text
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_clean(text[last : match.start()], _TAGS))
        parts.append(match[0])
        last = match.end()
    parts.append(_clean(text[last:], _TAGS))
    return "".join(parts)


def plain_text(text: str) -> str:
    """The words alone: no tags, no entities, no Markdown marks (`*gradient descent*` is
    "gradient descent")."""
    if re.search(r"[*_`\[<&\\]", text):
        from markdown_it import MarkdownIt

        text = html.unescape(_clean(MarkdownIt("commonmark").renderInline(text), set()))
    return " ".join(text.split())
