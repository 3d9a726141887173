"""Math and escapes written as Jupyter (MathJax, CommonMark) and kramdown read them, in the
form Python-Markdown and pymdownx.arithmatex read.

arithmatex takes ``$$ … $$`` only as a block of its own, between blank lines at the left
margin, and ``$…$`` only without a space inside the dollars. Authors write display math inside
a sentence (``covariances $$C_1, C_2$$ are``), straight after a line of text, one equation a
line with no blank lines between, indented by a space, and ``$ x$``; Jupyter and fastpages
typeset all of it, and arithmatex left it as text with stray dollars. Here display math on
lines of its own becomes a block with blank lines around it, display math inside a sentence
becomes inline math (display style in notebooks, as MathJax showed it there), and ``$ x$``
loses its space. ``\\eqref{…}`` in the prose is typeset too. Code is left alone.

CommonMark (and kramdown) let a backslash escape any punctuation (``I\\'d``); Python-Markdown
only some, and shows the backslash before the others, so those lose it.
"""

from __future__ import annotations

import re

from .fences import code_lines, edit_outside_code

_INDENTED = re.compile(r"^ {1,3}(?=\$\$)")
_LIST_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_SPACED_INLINE = re.compile(r"(?<![\\$])\$ +(?P<tex>[^$\n]*?[^\s$\\])\$(?![$\d])")
_REFERENCE = re.compile(r"\\(?:eqref|ref)\{[^{}\n]+\}")
# Punctuation CommonMark lets a backslash escape and Python-Markdown doesn't (its own list is
# \`*_{}[]()>#+-.!, and arithmatex keeps \$): the character alone, or its entity in HTML.
_ESCAPE = re.compile(r"(?<!\\)\\(?P<char>['\"&<~^|/@%,;:?=])")
_ENTITY = {"&": "&amp;", "<": "&lt;"}


def fix_math(text: str, *, notebook: bool) -> str:
    """Rewrite the math and escapes Python-Markdown would show differently in one text."""
    if "$" not in text and "\\" not in text:
        return text
    if "$$" in text:
        text = _unindent(text)
        text = edit_outside_code(
            text,
            lambda part: part,
            math=lambda span, whole, start: _display(span, whole, start, notebook),
        )
    return edit_outside_code(text, _prose)


def _unindent(text: str) -> str:
    """``  $$`` at the start of a line outside fenced code loses its 1-3 spaces."""
    lines = text.split("\n")
    return "\n".join(
        line if code else _INDENTED.sub("", line)
        for line, code in zip(lines, code_lines(lines), strict=True)
    )


def _prose(part: str) -> str:
    if "\\" in part:
        part = _REFERENCE.sub(lambda m: f"\\({m[0]}\\)", part)
        part = _ESCAPE.sub(lambda m: _ENTITY.get(m["char"], m["char"]), part)
    if "$ " in part:
        part = _SPACED_INLINE.sub(lambda m: f"${m['tex']}$", part)
    return part


def _display(span: str, text: str, start: int, notebook: bool) -> str:
    """One ``$$ … $$`` span of ``text`` (at ``start``), as arithmatex will typeset it."""
    if not (span.startswith("$$") and span.endswith("$$")) or len(span) < 5:
        return span
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start + len(span))
    line_end = len(text) if line_end < 0 else line_end
    before, after = text[line_start:start], text[start + len(span) : line_end]
    tex = span[2:-2].strip()
    numbered = "\\tag" in tex or "\\label" in tex  # MathJax numbers display math only
    if "\n" not in span and (before.strip() or after.strip()) and not numbered:
        return f"$\\displaystyle {tex}$" if notebook else f"${tex}$"  # inside a sentence
    # Display math: a block of its own, with a blank line on each side; inside a list item,
    # indented as the item's content.
    item = _LIST_ITEM.match(before)
    indent = (item[1] + "    ") if item else ("" if before.strip() else before)
    span = span.replace("\n", "\n" + indent) if item else span
    if before.strip():
        lead = "\n\n" + indent
    elif line_start > 0 and text[: line_start - 1].rsplit("\n", 1)[-1].strip():
        lead = "\n" + indent  # the line above is text: a blank line between
    else:
        lead = ""
    if after.strip():
        trail = "\n\n" + indent
    elif text[line_end + 1 :].split("\n", 1)[0].strip():
        trail = "\n"  # the line below is text
    else:
        trail = ""
    return f"{lead}{span}{trail}"
