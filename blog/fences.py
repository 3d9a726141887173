"""Code and math in a Markdown text, found one way for every text pass of the converter.

The passes (headings, call-outs, links, math, blank lines) must leave code as written: a
tutorial may show `> Note:`, `$$`, `# comment` or `[x](y)` in a code block.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def code_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it is fenced code (its ``` or ~~~ fence lines included)."""
    flags: list[bool] = []
    fence = None
    for line in lines:
        marker = FENCE.match(line)
        if marker:
            token = marker[1][0] * 3
            if fence is None:
                fence = token
            elif fence == token:
                fence = None
            flags.append(True)
        else:
            flags.append(fence is not None)
    return flags


# Math as arithmatex and MathJax read it: `[f(x)](x_i)` inside it is no link.
MATH = re.compile(
    r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|\\begin\{(\w+\*?)\}.+?\\end\{\1\}"
    r"|(?<![\\$])\$(?=\S)[^$\n]+?(?<![\s\\])\$(?!\d)",
    re.S,
)


def protected(text: str) -> list[tuple[int, int, bool]]:
    """The spans of a Markdown text that are code or math (True for math), sorted."""
    spans: list[tuple[int, int, bool]] = []
    lines = text.split("\n")
    start, pos = None, 0
    for line, code in zip(lines, code_lines(lines), strict=True):
        if code and start is None:
            start = pos  # a run of fenced lines: one span
        elif not code and start is not None:
            spans.append((start, pos - 1, False))
            start = None
        pos += len(line) + 1
    if start is not None:
        spans.append((start, len(text), False))
    for pattern, is_math in ((_CODE_SPAN, False), (MATH, True)):
        found: list[tuple[int, int, bool]] = []
        for gap_start, gap_end in _gaps(spans, len(text)):
            found.extend(
                (m.start() + gap_start, m.end() + gap_start, is_math)
                for m in pattern.finditer(text[gap_start:gap_end])
            )
        spans = sorted(spans + found)
    return spans


def _gaps(spans: list[tuple[int, int, bool]], size: int):
    last = 0
    for start, end, _ in spans:
        if start > last:
            yield last, start
        last = max(last, end)
    if last < size:
        yield last, size


def edit_outside_code(text: str, apply, math=None) -> str:
    """``apply`` to the parts of a text that are neither code nor math; ``math(span, text,
    start)``, when given, to the math spans."""
    if "`" not in text and "$" not in text and "\\" not in text and "~~~" not in text:
        return apply(text)
    parts, last = [], 0
    for start, end, is_math in protected(text):
        if start < last:
            continue
        parts.append(apply(text[last:start]))
        span = text[start:end]
        parts.append(math(span, text, start) if math and is_math else span)
        last = end
    parts.append(apply(text[last:]))
    return "".join(parts)
