"""Math written as Jupyter (MathJax) and kramdown read it, in the form arithmatex reads.

pymdownx.arithmatex takes ``$$ … $$`` only as a block of its own, starting at the left margin.
Authors also write it inside a sentence (``covariances $$C_1, C_2$$ are``), which MathJax in
Jupyter and kramdown in fastpages typeset, and indent it by a space; arithmatex leaves both as
text with stray dollars. Here the first becomes inline math (display style in notebooks, as
MathJax showed it there) and the second loses its indent. Code is left alone.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_DISPLAY = re.compile(r"(?<![\\$])\$\$(?!\$)(?P<tex>[^$]+?)(?<!\\)\$\$(?!\$)")
_INDENTED = re.compile(r"^ {1,3}(?=\$\$)")


_REFERENCE = re.compile(r"\\(?:eqref|ref)\{[^{}\n]+\}")


def fix_math(text: str, *, notebook: bool) -> str:
    """Rewrite the ``$$`` math arithmatex would miss in one Markdown text, and equation
    references written in the prose (``see \\eqref{eq:loss}``), which MathJax typesets."""
    if "\\eqref{" in text or "\\ref{" in text:
        from .links import _edit_outside_code

        text = _edit_outside_code(text, lambda part: _REFERENCE.sub(
            lambda m: f"\\({m[0]}\\)", part))
    if "$$" not in text:
        return text
    out: list[str] = []
    fence = None
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if marker:
            token = marker[1][0] * 3
            fence = None if fence == token else (fence or token)
        if fence or marker or "$$" not in line:
            out.append(line)
            continue
        out.append(_outside_code(_INDENTED.sub("", line), notebook))
    return "\n".join(out)


def _outside_code(line: str, notebook: bool) -> str:
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(line):
        parts.append(_inline(line[last:match.start()], line, notebook))
        parts.append(match[0])
        last = match.end()
    parts.append(_inline(line[last:], line, notebook))
    return "".join(parts)


def _inline(text: str, line: str, notebook: bool) -> str:
    """``$$x$$`` with other words on its line is math inside a sentence."""
    def inline(match: re.Match) -> str:
        if not (line[:line.find(match[0])] + line[line.find(match[0]) + len(match[0]):]).strip():
            return match[0]  # alone on its line: arithmatex's own block
        tex = match["tex"].strip()
        return f"$\\displaystyle {tex}$" if notebook else f"${tex}$"

    return _DISPLAY.sub(inline, text)
