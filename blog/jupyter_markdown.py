"""Notebook Markdown cells, rewritten so Python-Markdown shows what Jupyter showed.

Jupyter renders Markdown cells as CommonMark (GitHub flavoured); the site renders them with
Python-Markdown, which reads some of the same text differently: a list right after a line of text
stays text, 2-space nesting does not nest, a fence or a table must follow a blank line, a block
after a blank line inside a list swallows the next item... markdown-it-py parses the cell the way
Jupyter does; its block tokens carry source line ranges, and the lines are then edited in place
(indentation, blank lines, a few escapes), so everything else stays byte for byte.

Math is masked before parsing (Jupyter takes it out before its Markdown parser runs too), so
``$$`` blocks and ``$...$`` never look like Markdown, and their text is never edited.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = ["commonmark_to_python_markdown"]


@functools.cache
def _parser() -> MarkdownIt:
    # Imported on first use (~20 ms): builds without notebooks, and most cells, don't need it.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")  # Jupyter's marked: CommonMark + GFM tables


# Only cells with one of these can read differently; the others (most cells) skip parsing.
_SUSPECT = re.compile(
    r"\S[^\S\n]*\n[ \t>]*(?:[-*+](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|```|~~~|\$\$|\\begin\{|>"
    r"|-{3,}[ \t]*$)"  # and `---` after a list: a setext heading to Python-Markdown
    r"|^[ \t>]*(?:\d{1,9}\)[ \t]|#{1,6}[^#\s]|#{7}|<[a-zA-Z])"  # `1)` list, `#tag`, HTML
    r"|^[ \t]+\S|^[ \t>]*>[ \t]{2,}\S"  # indented lines: list nesting and continuations
    r"|^[ \t>]*\|?[ \t]*:?-+:?[ \t]*\|"  # a table's delimiter row
    r"|\]\(\s*<?www\.|\]:\s*<?www\."  # www. link targets
    r"|\\\n|\$\$"  # backslash line breaks, display math
    r"|^[^\S\n]*\S.*\n[^\S\n]*\S.*\n[ \t>]*(?:=+|-+)[ \t]*$",  # a setext heading of 2+ lines
    re.M | re.I,
)

# Lists with different markers: two lists in CommonMark, one in Python-Markdown.
_MARKERS = re.compile(r"^[ \t>]*(?:([-*+])|\d{1,9}([.)]))[ \t]", re.M)
_QUOTES = re.compile(r"(?:^|\n[ \t]*\n)[ \t]*>")  # quotes after a blank line: two quotes?
_LEAD_TABS = re.compile(r"^[ >*+\-.)\d]*\t[ \t>*+\-.)\d]*", re.M)  # indentation, markers
_FENCE = re.compile(r"[ \t>]*(`{3,}|~{3,})")
# Math as Jupyter finds it before Markdown sees the text: `$$...$$`, `\begin{env}...\end{env}`
# (both may span lines, not a blank one) and `$...$`; code spans first, so `$` there stays code.
# (A single backslash `\[` is an escaped bracket to Jupyter, not math.)
_MATH = re.compile(
    r"(?P<code>(?<!`)(`+)(?!`).*?(?<!`)\2(?!`))"
    r"|(?P<display>\$\$(?:[^$\n]|\$(?!\$)|\n(?![ \t>]*\n))+?\$\$"
    r"|\\begin\{([a-zA-Z]+\*?)\}(?:[^\n]|\n(?![ \t>]*\n))+?\\end\{\4\})"
    r"|\$[^$\n]+\$"
)
_QUOTE = re.compile(r" {0,3}> ?")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")
_WWW_LINK = re.compile(r"\]\([ \t]*<?(?=www\.)", re.I)
_WWW_REF = re.compile(r" {0,3}\[[^\]]+\]:[ \t]*<?(?=www\.)", re.I)
# What Python-Markdown takes for a list item on any line of a list (CommonMark does not, inside a
# paragraph: `2.` cannot interrupt one, and 4+ extra spaces make a continuation line).
_PM_ITEM = re.compile(r"(?:\d+(\.)|([*+-]))[ ]")
# Block-level tags whose Markdown content CommonMark renders (blank lines around it) but
# Python-Markdown leaves raw unless md_in_html is told with `markdown="1"`.
_HTML_OPEN = re.compile(
    r" {0,3}<(div|details|section|article|aside|header|footer|main|nav|figure"
    r"|center)(?=[\s>])[^>]*>",
    re.I,
)

_SEPARATOR = "<!-- -->"
# fastpages call-outs and embeds (`> Note: ...`): blog.callouts turns them into other blocks.
_CALLOUT = re.compile(r" {0,3}> *(?:note|tip|important|warning|youtube|twitter) *:", re.I)
_KIND = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "blockquote_open": "quote",
    "table_open": "table",
    "fence": "fence",
    "code_block": "code",
    "html_block": "html",
    "hr": "hr",
}


class _GiveUp(Exception):
    """The tokens don't match the text as expected: the cell is returned unchanged."""


def commonmark_to_python_markdown(text: str) -> str:
    """Rewrite one notebook Markdown cell so Python-Markdown (as configured for the site) renders
    the same structure Jupyter showed.

    Lists, quotes, fences, tables and display math that CommonMark starts right under a line of
    text get a blank line; list items are re-indented 4 spaces a level, with everything in them;
    `1)` lists become `1.`; `#tag`, and text lines Python-Markdown would take for a list item or
    a quote, are escaped; `](www.x)` links get `https://`; a line-end backslash becomes `<br>`;
    `<details>` and co. with Markdown inside get `markdown="1"`. Text that needs none of this is
    returned as it is (the same string); code, inline code and math are never edited.
    """
    if not (
        _SUSPECT.search(text)
        or len(set(_MARKERS.findall(text))) > 1
        or len(_QUOTES.findall(text)) > 1
    ):
        return text
    src = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in src:  # Python-Markdown expands tabs (4 columns) anyway: columns get simpler
        src = _LEAD_TABS.sub(lambda m: m[0].expandtabs(4), src)
    cell = _Cell(src)
    try:
        cell.container(cell.tokens, 0, len(cell.tokens), "root")
        cell.reference_links()
    except _GiveUp:
        return text
    out = cell.render()
    return text if out == src else out


def _children(tokens: list[Token], i: int, j: int):
    """The direct children of a container: (first token, start, end) with tokens[start:end]."""
    while i < j:
        if tokens[i].nesting == 1:
            depth, k = 1, i + 1
            while depth:
                depth += tokens[k].nesting
                k += 1
            yield tokens[i], i, k
            i = k
        else:
            yield tokens[i], i, i + 1
            i += 1


def _lead(s: str) -> int:
    return len(s) - len(s.lstrip(" "))


class _Cell:
    def __init__(self, src: str):
        self.lines = src.split("\n")
        self.masked, self.display = _mask_math(self.lines)
        self.env: dict = {}
        self.tokens = _parser().parse("\n".join(self.masked), self.env)
        n = len(self.lines)
        # Per line: the container prefixes found so far, outer first, as (kind, text) with kind
        # "indent" (a list item's continuation), "item" (its marker) or "quote" (a `>` marker);
        # where the content starts; the depth where it became a lazy continuation line.
        self.pieces: list[list[tuple[str, str]]] = [[] for _ in range(n)]
        self.off = [0] * n
        self.lazy: list[int | None] = [None] * n
        self.role: list[str | None] = [None] * n
        self.fenced = [False] * n  # inside a fence: blank lines there don't end a chunk
        self.dropped = [False] * n  # joined into the line before
        self.edits: dict[int, list[tuple[int, str]]] = {}  # line -> (position, inserted text)
        # line -> (its prefixes, text): a line inserted before it: blank or a separator
        self.blanks: dict[int, tuple[list[tuple[str, str]], str]] = {}
        self.chain: list[str] = []  # the containers being walked: "item" or "quote"

    # -- the walk -------------------------------------------------------------------------------

    def container(self, tokens: list[Token], i: int, j: int, kind: str, marker: int = -1) -> None:
        """Walk a container's children; `marker` is a list item's first line."""
        children = list(_children(tokens, i, j))
        prev = None
        for index, (tok, a, b) in enumerate(children):
            what = _KIND.get(tok.type)
            if what is None or tok.map is None:
                raise _GiveUp(tok.type)
            start = tok.map[0]
            if (prev == "list" and what in ("list", "code")) or (
                prev == what == "quote"
                and not self._callout(children[index - 1][0])
                and not self._callout(tok)
            ):
                # Two lists (the marker changed) or two quotes (a blank line between) in
                # CommonMark; Python-Markdown joins them unless something stands between. It
                # also takes any indented block after a list for the list's. (Call-outs
                # become admonitions, which don't join.)
                self.blanks[start] = (list(self.pieces[start]), _SEPARATOR)
            elif prev and start > 0 and not self._blank(start - 1):
                # In an item, the first paragraph shares the marker's line: Python-Markdown
                # finds a list nested right under it, but not under a later paragraph.
                first, last = children[0][0].map
                nested = (
                    kind == "item"
                    and index == 1
                    and first == marker
                    and not any(first < n < last for n in self.blanks)
                )  # math split it
                if _needs_blank(prev, what, kind == "item", nested):
                    self.blanks.setdefault(start, (list(self.pieces[start]), ""))
            getattr(self, "_" + what)(tokens, a, b)
            prev = what
        self._markdown_in_html(tokens, children)

    def _callout(self, tok: Token) -> bool:
        assert tok.map is not None  # `container` gave up on tokens without one
        return bool(_CALLOUT.match(self.lines[tok.map[0]], self.off[tok.map[0]]))

    def _blank(self, n: int) -> bool:
        """Whether line n is blank inside the containers being walked (`>` is not, at the
        top: Python-Markdown goes on with the quote after it)."""
        line = self.masked[n]
        return not line.strip(" >") and line.count(">") <= self.chain.count("quote")

    def _list(self, tokens, a, b):
        for tok, ia, ib in _children(tokens, a + 1, b - 1):
            self._item(tok, tokens, ia, ib)

    def _item(self, tok: Token, tokens, a, b):
        if tok.map is None:  # markdown-it maps every list item; give up as `container` does
            raise _GiveUp(tok.type)
        first, end = tok.map
        if self.lazy[first] is not None:
            raise _GiveUp("lazy item")
        line, o = self.lines[first], self.off[first]
        marker = tok.info + tok.markup if tok.markup in ".)" else tok.markup
        p = o + _lead(line[o:])
        if not line.startswith(marker, p):
            raise _GiveUp("marker")
        after = p + len(marker)
        spaces = _lead(line[after:])
        # CommonMark's content column: 1-4 spaces after the marker; 1 when more (then the item
        # starts with indented code) or when the line ends at the marker.
        start = after + (spaces if 0 < spaces <= 4 and line[after:].strip() else 1)
        width = start - o
        text = line[o:start]
        if tok.markup == ")":  # Python-Markdown knows only `1.` ordered lists
            text = line[o:p] + tok.info + "." + line[after:start]
        self.pieces[first].append(("item", text))
        self.off[first] = min(start, len(line))
        for n in range(first + 1, end):
            if self.lazy[n] is not None:
                continue
            rest = self.lines[n][self.off[n] :]
            if not rest.strip():
                continue
            if _lead(rest) >= width:
                self.pieces[n].append(("indent", rest[:width]))
                self.off[n] += width
            else:
                self.lazy[n] = len(self.chain)
        self.chain.append("item")
        self.container(tokens, a + 1, b - 1, "item", first)
        self.chain.pop()

    def _quote(self, tokens, a, b):
        first, end = tokens[a].map
        for n in range(first, end):
            if self.lazy[n] is not None:
                continue
            m = _QUOTE.match(self.lines[n], self.off[n])
            if m:
                self.pieces[n].append(("quote", m[0]))
                self.off[n] = m.end()
            elif self.lines[n][self.off[n] :].strip():
                self.lazy[n] = len(self.chain)
        self.chain.append("quote")
        self.container(tokens, a + 1, b - 1, "quote")
        self.chain.pop()

    def _paragraph(self, tokens, a, b):
        first, end = tokens[a].map
        self.role[first] = "start"
        for n in range(first + 1, end):
            self.role[n] = "cont"
        inline = tokens[a + 1]
        for n in range(first, end):
            self._escape_hash(n)
            if n > first and "item" in self.chain:
                self._escape_item_marker(n)
        self._hard_breaks(inline, first, end)
        self._www_links(tokens[a:b], first, end)
        self._split_display_math(first, end)

    def _heading(self, tokens, a, b):
        first, end = tokens[a].map
        self._www_links(tokens[a:b], first, end)
        if tokens[a].markup.startswith("#"):
            self.role[first] = "strip"  # Python-Markdown wants the `#` at the line's start
        else:  # setext: the text lines, then the underline
            self.role[first] = "start"
            for n in range(first + 1, end):
                self.role[n] = "cont"
            for n in range(first, end - 1):
                self._escape_hash(n)
            if end - first > 2 or self.chain[-1:] == ["item"]:
                self._setext_to_atx(tokens[a], first, end)

    def _setext_to_atx(self, tok: Token, first: int, end: int) -> None:
        """Python-Markdown reads a setext heading of one line only, and not in a list item:
        write it as `## text` on one line."""
        base, rest = self._content(first)
        self._edit(first, base + _lead(rest), "#" * int(tok.tag[1]) + " ")
        more = []
        for n in range(first + 1, end - 1):
            more.append(self._edited(n)[self.off[n] :].strip())
        if more:
            self._edit(first, len(self.lines[first]), " " + " ".join(more))
        for n in range(first + 1, end):
            self.dropped[n] = True
        self.role[first] = "strip"

    def _table(self, tokens, a, b):
        first, end = tokens[a].map
        for n in range(first, end):
            self.role[n] = "start"
            if n > first + 1:  # a body row (the table goes on until a blank line)
                self._escape_hash(n)
        self._www_links(tokens[a:b], first, end)

    def _fence(self, tokens, a, b):
        first, end = tokens[a].map
        for n in range(first, end):
            self.role[n] = "code" if self.lines[n][self.off[n] :].strip() else None
            self.fenced[n] = n > first
        self.fenced[end - 1] = False

    def _code(self, tokens, a, b):
        first, end = tokens[a].map
        for n in range(first, end):
            self.role[n] = "code" if self.lines[n][self.off[n] :].strip() else None

    def _html(self, tokens, a, b):
        first, end = tokens[a].map
        for n in range(first, end):
            self.role[n] = "start" if self.lines[n][self.off[n] :].strip() else None

    def _hr(self, tokens, a, b):
        self.role[tokens[a].map[0]] = "start"

    # -- edits inside leaf blocks ---------------------------------------------------------------

    def _content(self, n: int) -> tuple[int, str]:
        """Where line n's own text starts (after the `>` of a lazy line too), and the masked
        text from there."""
        return self.off[n], self.masked[n][self.off[n] :]

    def _edit(self, n: int, pos: int, text: str) -> None:
        self.edits.setdefault(n, []).append((pos, text))

    def _escape_hash(self, n: int) -> None:
        # `#tag` is text in CommonMark but a heading in Python-Markdown, on any line of a block.
        base, rest = self._content(n)
        if rest.lstrip(" ").startswith("#"):
            self._edit(n, base + _lead(rest), "\\")

    def _escape_item_marker(self, n: int) -> None:
        # Also `>`: once Python-Markdown has taken off an item's indentation, a continuation
        # line indented past the content (text to CommonMark) may start a quote.
        base, rest = self._content(n)
        m = _PM_ITEM.match(rest, _lead(rest))
        if m:
            self._edit(n, base + m.start(1 if m[1] else 2), "\\")
        elif rest.lstrip(" ").startswith(">"):
            self._edit(n, base + _lead(rest), "\\")

    def _hard_breaks(self, inline: Token, first: int, end: int) -> None:
        """A backslash at a line's end is a line break in CommonMark, a backslash in
        Python-Markdown (which breaks on two trailing spaces, or <br>)."""
        breaks = sum(t.type == "hardbreak" for t in inline.children or ())
        if not breaks:
            return
        spaces, slashes = 0, []
        for n in range(first, end - 1):
            line = self.masked[n]
            if line.endswith("  "):
                spaces += 1
            elif (len(line) - len(line.rstrip("\\"))) % 2:
                slashes.append(n)
        if spaces + len(slashes) == breaks:  # else a code span hides one: leave them all
            for n in slashes:
                self._edit(n, -1, "<br>")

    def _www_links(self, tokens: list[Token], first: int, end: int) -> None:
        """`[text](www.example.com)` works in Jupyter (it opens the site), but is a relative
        link to nothing in the built site."""
        found = False
        for tok in tokens:
            for child in tok.children or ():
                target = child.attrGet("href") or child.attrGet("src") or ""
                found |= str(target).lower().startswith("www.")
        if not found:
            return
        for n in range(first, end):
            base, rest = self._content(n)
            code = [m.span() for m in _CODE_SPAN.finditer(rest)]
            for m in _WWW_LINK.finditer(rest):
                if not any(s <= m.start() < e for s, e in code):
                    self._edit(n, base + m.end(), "https://")

    def _split_display_math(self, first: int, end: int) -> None:
        """Display math on its own lines inside a paragraph: Jupyter shows it, but
        pymdownx.arithmatex only finds `$$...$$` that is a block of its own."""
        for top, col, bottom, stop in self.display:
            if not first <= top < end:
                continue
            base, rest = self._content(top)
            if col != base + _lead(rest) or self.masked[bottom][stop:].strip():
                continue
            for n in (top, bottom + 1):
                # (text after the math stays, if it has a `|`: on its own it could be a table)
                if first < n < end and not (n > top and "|" in self.masked[n]):
                    if self.lazy[n] is not None:
                        self._unlazy(n)
                    self.blanks.setdefault(n, (list(self.pieces[n]), ""))
                    self.role[n] = "strip"
                    if n > top:  # text that went on after the math: it mustn't start a list
                        self._escape_item_marker(n)

    def _unlazy(self, n: int) -> None:
        """Give a lazy continuation line the prefixes of the containers it skipped, so it can
        start a block of its own."""
        depth = self.lazy[n]
        for kind in self.chain[depth:]:
            self.pieces[n].append(("indent", "") if kind == "item" else ("quote", "> "))
        self.lazy[n] = None

    def _markdown_in_html(self, tokens, children) -> None:
        """`<details>`, blank line, Markdown, blank line, `</details>`: CommonMark renders the
        Markdown, Python-Markdown's md_in_html only when the tag says `markdown="1"`."""
        for index, (tok, _, _) in enumerate(children):
            if tok.type != "html_block":
                continue
            n = tok.map[0]
            m = _HTML_OPEN.match(self.lines[n], self.off[n])
            if not m or "markdown" in m[0].lower():
                continue
            tag = m[1].lower()
            opens = re.compile(rf"<{tag}(?=[\s>])", re.I)
            closes = re.compile(rf"</{tag}\s*>", re.I)
            depth = len(opens.findall(tok.content)) - len(closes.findall(tok.content))
            markdown = False
            for later, _, _ in children[index + 1 :]:
                if depth <= 0:
                    break
                if later.type == "html_block":
                    depth += len(opens.findall(later.content)) - len(closes.findall(later.content))
                else:
                    markdown = True
            if markdown and depth <= 0:
                self._edit(n, m.start(1) + len(tag), ' markdown="1"')

    def reference_links(self) -> None:
        refs = self.env.get("references") or {}
        if not any(str(r.get("href", "")).lower().startswith("www.") for r in refs.values()):
            return
        for n, line in enumerate(self.masked):
            if self.role[n] is None and not self.fenced[n]:
                m = _WWW_REF.match(line, self.off[n])
                if m:
                    self._edit(n, m.end(), "https://")

    # -- output ---------------------------------------------------------------------------------

    def _edited(self, n: int) -> str:
        line = self.lines[n]
        # from the end, so positions stay right; -1 replaces the last character (a backslash)
        for pos, text in sorted(self.edits.get(n, ()), reverse=True):
            line = line[:-1] + text if pos < 0 else line[:pos] + text + line[pos:]
        return line

    def _line(self, n: int) -> str:
        line = self._edited(n)
        role = self.role[n]
        pieces, content = self.pieces[n], line[self.off[n] :]
        if role is None and pieces and not content.strip():  # `>` of a quote in a list
            blank = _assemble(pieces, "", exact=False).rstrip()
            return line if blank == line.rstrip() else blank
        if role is None:
            return line
        if (role == "cont" or self.lazy[n] is not None) and all(k == "indent" for k, _ in pieces):
            return line  # a paragraph's continuation may sit anywhere in both renderers
        if self.lazy[n] is not None:  # but the quotes it is in must go on
            return _assemble(pieces, content, exact=False)
        if role == "strip":
            content = content.lstrip(" ")
        return _assemble(pieces, content, exact=role == "code", strict=role == "strip")

    def _shape(self, n: int) -> tuple[int, tuple[int, ...]] | None:
        """For Python-Markdown's chunks: (quote depth, ()) for a line blank inside its quotes;
        (quote depth, list depths) for a line that starts a block, with the list depth (4-space
        levels) outside the first quote, inside it, and so on; None for other lines."""
        if self.lazy[n] is not None or self.role[n] == "cont":
            return None
        quotes = sum(kind == "quote" for kind, _ in self.pieces[n])
        if not self._edited(n)[self.off[n] :].strip():
            return quotes, ()
        if self.role[n] is None:
            return None
        depths, count, counting = [], 0, True
        for kind, _ in self.pieces[n]:
            if kind == "quote":
                depths.append(count)
                count, counting = 0, True
            elif kind == "item":
                counting = False
            elif counting:
                count += 1
        depths.append(count)
        return quotes, tuple(depths)

    def render(self) -> str:
        out: list[str] = []
        # After a blank line, Python-Markdown hands the whole next chunk of lines to the list
        # item its first line belongs to: a line of a shallower item there needs a chunk of its
        # own. chunks[d]: the list depth that the current chunk inside d quotes started at.
        chunks: list[int] = []
        for n in range(len(self.lines)):
            if n in self.blanks:
                pieces, text = self.blanks[n]
                blank = _assemble(pieces, "", exact=False).rstrip()
                if text:
                    if out and out[-1].rstrip() != blank:
                        out.append(blank)
                    out.append(_assemble(pieces, text, exact=False))
                out.append(blank)
                del chunks[sum(kind == "quote" for kind, _ in pieces) :]
            if self.dropped[n]:
                continue
            line = self._line(n)
            out.append(line)
            shape = None if self.fenced[n] else self._shape(n)
            if shape is None:
                continue
            quotes, depths = shape
            if not depths:
                del chunks[quotes:]
                continue
            del chunks[quotes + 1 :]
            for d, depth in enumerate(chunks):
                if depth > depths[d]:
                    # the blank line stays inside the line's first d quotes
                    marks = [i for i, (kind, _) in enumerate(self.pieces[n]) if kind == "quote"]
                    prefix = self.pieces[n][: marks[d - 1] + 1] if d else []
                    out.insert(-1, _assemble(prefix, "", exact=False).rstrip())
                    del chunks[d:]
                    break
            chunks += depths[len(chunks) :]
        return "\n".join(out)


def _needs_blank(prev: str, block: str, in_item: bool, nested: bool) -> bool:
    """Whether Python-Markdown needs a blank line between two sibling blocks that CommonMark
    separates without one (found by rendering each pair with both)."""
    if prev in ("heading", "hr", "html"):
        return prev == block == "hr"  # `***` then `---`: a setext heading to Python-Markdown
    if prev == "paragraph":
        if block in ("heading", "hr", "html", "quote"):
            return in_item  # Python-Markdown looks for these on any line, but not indented
        if block in ("list", "fence"):
            return not nested  # right under an item's first line they need none (stay tight)
    if prev == "fence" and block == "paragraph":
        return not in_item
    return True


def _assemble(
    pieces: list[tuple[str, str]], content: str, exact: bool, strict: bool = False
) -> str:
    """A line from its container prefixes and content, with list indentation that
    Python-Markdown reads at the same depth: 4 spaces per list level. Indentation already at
    the right depth stays as it was; code (exact) keeps its own indentation after the levels;
    a heading (strict) must start right at its level."""
    out: list[str] = []
    run: list[str] = []
    for kind, text in [*pieces, ("content", content)]:
        if kind == "indent":
            run.append(text)
            continue
        have = "".join(run)
        levels = len(run)
        if kind == "content" and exact:
            out.append(" " * (4 * levels) + text)
        elif (len(have) + _lead(text)) // 4 == levels and not (
            strict and kind == "content" and len(have) != 4 * levels
        ):
            out.append(have + text)
        else:
            out.append(" " * (4 * levels) + text)
        run = []
    return "".join(out)


def _mask_math(lines: list[str]) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """The lines with math (outside fences and code spans) turned into `x`s, so the parser sees
    it as plain text, as Jupyter's does; and where display math is: (line, col, line, col)."""
    masked = list(lines)
    display: list[tuple[int, int, int, int]] = []
    text = "\n".join(lines)
    if "$" not in text and "\\" not in text:
        return masked, display
    # Fenced code is left alone: `$` is common there (shell, PID `$$`).
    segments: list[tuple[int, int]] = []  # [first, end) line ranges outside fences
    fence: str | None = None
    seg_start = 0
    for n, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None and m:
            segments.append((seg_start, n))
            fence = m[1]
        elif (
            fence is not None
            and m
            and m[1][0] == fence[0]
            and len(m[1]) >= len(fence)
            and not line[m.end() :].strip()
        ):
            fence, seg_start = None, n + 1
    if fence is None:
        segments.append((seg_start, len(lines)))
    for first, end in segments:
        if first >= end:
            continue
        chunk = "\n".join(lines[first:end])
        if "$" not in chunk and "\\" not in chunk:
            continue
        starts = [0]
        for line in lines[first : end - 1]:
            starts.append(starts[-1] + len(line) + 1)
        changed = False
        pieces: list[str] = []
        last = 0
        for m in _MATH.finditer(chunk):
            if m["code"]:
                continue
            changed = True
            pieces.append(chunk[last : m.start()])
            pieces.append(re.sub(r"\S", "x", m[0]))
            last = m.end()
            if m["display"]:
                top = bisect.bisect_right(starts, m.start()) - 1
                bottom = bisect.bisect_right(starts, m.end()) - 1
                display.append(
                    (first + top, m.start() - starts[top], first + bottom, m.end() - starts[bottom])
                )
        if changed:
            pieces.append(chunk[last:])
            masked[first:end] = "".join(pieces).split("\n")
    return masked, display
