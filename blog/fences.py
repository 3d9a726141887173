"""Fenced code in a Markdown text, found one way for every text pass of the converter.

The passes (headings, call-outs, links, math, blank lines) must leave code as written: a
tutorial may show `> Note:`, `$$`, `# comment` or `[x](y)` in a code block.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


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
