"""blog.jupyter_markdown: notebook Markdown as Jupyter shows it (CommonMark), rewritten for the
site's Python-Markdown; checked by rendering with both."""

from __future__ import annotations

import importlib
import random
import re
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
import yaml
from markdown_it import MarkdownIt

from blog.jupyter_markdown import commonmark_to_python_markdown as convert

ROOT = Path(__file__).resolve().parents[2]


def _python_name(loader, suffix, node):
    module, _, name = suffix.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _site_extensions() -> tuple[list[str], dict]:
    """The site's Markdown extensions, read from mkdocs.yml (its `!ENV` tags don't matter)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", _python_name)
    config = yaml.load((ROOT / "mkdocs.yml").read_text("utf-8"), Loader=Loader)
    names, options = [], {}
    for entry in config["markdown_extensions"]:
        name, settings = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        names.append(name)
        options[name] = settings or {}
    if "pymdownx.magiclink" not in names:  # being added to the site
        names.append("pymdownx.magiclink")
    return names, options


EXTENSIONS, OPTIONS = _site_extensions()
JUPYTER = MarkdownIt("commonmark").enable("table")  # how Jupyter reads the cell


def site(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS, extension_configs=OPTIONS)


class _Tags(HTMLParser):
    def __init__(self, tags: set[str]):
        super().__init__()
        self.tags, self.seen = tags, []

    def handle_starttag(self, tag, attrs):
        if tag in self.tags:
            self.seen.append(tag)

    def handle_endtag(self, tag):
        if tag in self.tags and tag != "hr":
            self.seen.append("/" + tag)


LISTS = {"ul", "ol", "li"}
BLOCKS = LISTS | {"blockquote", "pre", "table", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}


def structure(html: str, tags: set[str] = BLOCKS) -> str:
    """The nesting of the block tags in some HTML, e.g. 'ul li ul li /li /ul /li /ul'."""
    parser = _Tags(tags)
    parser.feed(html)
    return " ".join(parser.seen)


def same_structure(cell: str, tags: set[str] = BLOCKS) -> bool:
    return structure(JUPYTER.render(cell), tags) == structure(site(convert(cell)), tags)


# -- 1. a list right after a line of text ------------------------------------------------------


@pytest.mark.parametrize("items", ["- a\n- b", "* a\n* b", "+ a\n+ b", "1. a\n2. b", "1) a\n2) b"])
def test_list_right_after_a_paragraph_line(items):
    cell = f"Some text:\n{items}"
    assert "<li>" not in site(cell)  # the bug: Python-Markdown keeps it all one paragraph
    html = site(convert(cell))
    assert re.search(r"<p>Some text:</p>\s*<[ou]l>\s*<li>a</li>\s*<li>b</li>\s*</[ou]l>", html)


def test_list_right_after_a_paragraph_line_exact():
    assert convert("Some text:\n- a\n- b") == "Some text:\n\n- a\n- b"
    assert convert("Steps:\n1) one\n2) two") == "Steps:\n\n1. one\n2. two"


# -- 2. nesting by the parent's content column ------------------------------------------------


def test_two_space_nesting():
    cell = "- a\n  - b\n    - c\n- d"
    nested = "ul li ul li ul li /li /ul /li /ul /li li /li /ul"
    assert structure(JUPYTER.render(cell)) == nested
    assert structure(site(cell)) != nested  # the bug: b is no child of a
    assert convert(cell) == "- a\n    - b\n        - c\n- d"
    assert structure(site(convert(cell))) == nested


def test_ordered_items_indented_by_three():
    cell = "1. Install:\n\n   ```\n   pip install x\n   ```\n\n   Then run it.\n2. Done"
    out = convert(cell)
    assert out == (
        "1. Install:\n\n    ```\n    pip install x\n    ```\n\n    Then run it.\n\n2. Done"
    )
    assert structure(site(out)) == "ol li pre /pre /li li /li /ol"
    assert "pip install x\n" in site(out)  # the code itself is untouched


def test_nested_ordered_and_bullets():
    cell = "1. a\n   1. b\n   2. c\n2. d\n   - e"
    assert convert(cell) == "1. a\n    1. b\n    2. c\n2. d\n    - e"
    assert same_structure(cell)


def test_continuation_paragraph_and_indented_code_in_item():
    cell = "- a\n\n  more about a\n\n      code in a\n- b"
    html = site(convert(cell))
    assert structure(html) == "ul li pre /pre /li li /li /ul"
    assert "<p>more about a</p>" in html and "<code>code in a\n</code>" in html


def test_item_after_a_loose_item_is_not_swallowed():
    # After a blank line Python-Markdown gives the whole next chunk to the item above.
    cell = "- a\n\n  para\n- b"
    assert "- b" in site(cell)  # the bug: `- b` is text in a's paragraph
    assert structure(site(convert(cell))) == "ul li /li li /li /ul"


def test_lazy_line_that_looks_like_an_item():
    # `2.` cannot interrupt a paragraph in CommonMark: it is text of item b.
    cell = "- a\n\n- b\n  2. x"
    assert convert(cell) == "- a\n\n- b\n  2\\. x"
    assert structure(site(convert(cell))) == "ul li /li li /li /ul"


def test_tab_indented_nesting():
    assert structure(site(convert("- a\n\t- b"))) == "ul li ul li /li /ul /li /ul"


def test_quote_in_an_item_keeps_its_indentation():
    # A `> Note:` call-out inside an item stays recognisable by its indentation.
    cell = "- a\n\n  > Note: careful\n  > really\n- b"
    out = convert(cell)
    assert "\n    > Note: careful\n    > really\n" in out
    assert structure(site(out)) == "ul li blockquote /blockquote /li li /li /ul"


# -- 3. blocks right after a line of text -----------------------------------------------------


def test_fence_after_a_paragraph_line():
    cell = "Run this:\n```python\nx = 1\n```\nand look."
    assert convert(cell) == "Run this:\n\n```python\nx = 1\n```\n\nand look."
    html = site(convert(cell))
    assert re.search(r"<p>Run this:</p>\s*<div class=\"highlight\">", html)
    assert "<p>and look.</p>" in html


def test_table_after_a_paragraph_line():
    cell = "Results:\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert "<table>" not in site(cell)
    assert convert(cell) == "Results:\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert "<table>" in site(convert(cell))


@pytest.mark.parametrize("block", ["> a quote", "# A heading", "***"])
def test_what_python_markdown_already_splits_is_left_alone(block):
    cell = f"Intro:\n{block}"
    assert convert(cell) == cell
    assert same_structure(cell)


def test_quote_after_a_paragraph_line_in_an_item():
    cell = "- a\n  > quoted\n- b"
    assert structure(site(convert(cell))) == "ul li blockquote /blockquote /li li /li /ul"


def test_quote_or_fence_right_after_a_list():
    for cell in ("- a\n> quote", "- a\n```\nx\n```"):
        assert same_structure(cell), cell


def test_two_quotes_and_two_lists_stay_two():
    for cell in ("> a\n\n> b", "- a\n\n* b", "- a\n1. b"):
        assert same_structure(cell), cell
    assert convert("> Note: a\n\n> Tip: b") == "> Note: a\n\n> Tip: b"  # call-outs: not joined


def test_setext_heading_of_two_lines():
    cell = "A long\ntitle\n---"
    assert convert(cell) == "## A long title"
    assert "<h2" in site(convert(cell))


@pytest.mark.parametrize(
    ("cell", "out"),
    [
        ("- a\n---", "- a\n\n---"),  # else a setext heading to Python-Markdown
        ("> quote\n#tag in a lazy line", "> quote\n\\#tag in a lazy line"),
        ("- a\n\n  b\n      > text, not a quote", "- a\n\n    b\n      \\> text, not a quote"),
    ],
)
def test_other_lines_python_markdown_reads_as_blocks(cell, out):
    assert convert(cell) == out
    assert same_structure(cell)


def test_display_math_in_a_list_item():
    out = convert("1. The loss:\n$$L = x$$\nwhere x is the input.\n2. Next")
    assert out == "1. The loss:\n\n    $$L = x$$\n\n    where x is the input.\n\n2. Next"
    assert re.search(r"<li>\s*<p>The loss:</p>\s*<div class=\"arithmatex\">", site(out))


# -- 4. www. links ----------------------------------------------------------------------------


def test_www_links_get_a_scheme():
    cell = (
        "See [the site](www.example.com/page), ![logo](www.example.com/a.png) and "
        "[ours](posts/other.md); `[code](www.x.com)` stays."
    )
    out = convert(cell)
    assert out == (
        "See [the site](https://www.example.com/page), "
        "![logo](https://www.example.com/a.png) and [ours](posts/other.md); "
        "`[code](www.x.com)` stays."
    )
    html = site(out)
    assert 'href="https://www.example.com/page"' in html and 'href="posts/other.md"' in html


def test_www_reference_definition():
    out = convert("Read [the docs][d].\n\n[d]: www.example.com/docs")
    assert 'href="https://www.example.com/docs"' in site(out)


# -- 5. #hashtags ------------------------------------------------------------------------------


def test_hash_without_space_is_not_a_heading():
    cell = "#hashtag at the start\nand #one in the middle\n#another"
    assert "<h1" in site(cell)  # the bug
    out = convert(cell)
    assert out == "\\#hashtag at the start\nand #one in the middle\n\\#another"
    assert site(out) == "<p>#hashtag at the start\nand #one in the middle\n#another</p>"


def test_real_headings_and_code_keep_their_hashes():
    cell = "# Title\n\n```python\n#comment\n```\n\n    #also code"
    assert convert(cell) == cell


# -- math, line breaks, HTML -------------------------------------------------------------------


def test_math_is_untouched():
    cell = "Costs:\n$$\n- a + b\n#c\n$$\n\nand $x_1 * y_2$ inline."
    out = convert(cell)
    assert "$$\n- a + b\n#c\n$$" in out and "$x_1 * y_2$" in out
    assert "<li>" not in site(out) and "<h1" not in site(out)


@pytest.mark.parametrize(
    "math", ["$$L = x_1$$", "$$\nL = x_1\n$$", "\\begin{align}\na &= b\n\\end{align}"]
)
def test_display_math_inside_a_paragraph_becomes_a_block(math):
    cell = f"The loss is:\n{math}\nwhere x is the input."
    out = convert(cell)
    assert out == f"The loss is:\n\n{math}\n\nwhere x is the input."
    assert '<div class="arithmatex">' in site(out)


def test_backslash_line_break():
    out = convert("first line\\\nsecond line")
    assert out == "first line<br>\nsecond line"
    assert "<br" in site(out)


def test_markdown_inside_details():
    cell = "<details>\n<summary>Answer</summary>\n\n- a\n- b\n\n</details>"
    out = convert(cell)
    assert out.startswith('<details markdown="1">')
    assert structure(site(out), LISTS | {"details"}) == "details ul li /li li /li /ul /details"


def test_windows_line_endings():
    assert structure(site(convert("Text:\r\n- a\r\n- b"))) == "ul li /li li /li /ul"


# -- unchanged when nothing needs changing -----------------------------------------------------

WELL_FORMED = [
    "# Title\n\nSome *text* with `code`, $x_1$ and a [link](https://example.com).",
    "Text\n\n- a\n- b\n\nMore text.",
    "- a\n    - b\n        - c\n- d",
    "- item one\n  wraps onto a second line\n- item two",
    "1. a\n\n    more about a\n\n2. b",
    "Text\n\n```python\n#comment\n- x\n```\n\nMore",
    "> quote\n> more\n\nText",
    "> Note: a\n\n> Tip: b",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Here is math:\n\n$$\n- a\n$$\n\nDone.",
    "<div>\n<b>html</b>\n</div>",
    "Line one  \nline two",
    "    indented code\n    - x",
    "## Heading\nText right under it.",
]


@pytest.mark.parametrize("cell", WELL_FORMED)
def test_well_formed_markdown_is_unchanged(cell):
    assert convert(cell) is cell
    assert convert(cell + "\n") == cell + "\n"


def test_real_notebook_cells_keep_their_structure():
    cells = [
        "We are pleased to announce:\n\n- Create posts from [Jupyter](https://jupyter.org/):\n"
        "    - Interactive charts\n    - Hidden cells\n- Create posts from Word",
        "**Why this is interesting**\n1. **Ideas:** from other languages.\n2. **Tools**: new.\n",
        "These are the features we desired:\n- Platform independent.\n- Fast.\n\nThat's it.",
        "Here is how:\n```yaml\nname: Check\non: [push]\n```\nWe can extend this:",
        "Some text\n * one\n * two\n   * nested\n\n1. first\n   - sub\n2. second",
    ]
    for cell in cells:
        assert same_structure(cell), cell


# -- property: the list nesting Jupyter shows is the nesting the site shows --------------------

WORDS = ["alpha", "beta", "gamma", "delta"]


def _random_cell(rng: random.Random) -> str:
    def text() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(3))

    def block(depth: int) -> list[str]:
        kind = rng.choice(["para", "para", "list", "list", "fence", "quote", "heading", "table"])
        if kind == "list" and depth < 3:
            return items(depth)
        return {
            "fence": ["```", "x = 1", "", "  y", "```"],
            "quote": [f"> {text()}"],
            "heading": ["## Head"],
            "table": ["| a | b |", "|---|---|", "| 1 | 2 |"],
        }.get(kind, [text() for _ in range(rng.choice([1, 2]))])

    def items(depth: int) -> list[str]:
        marker = rng.choice(["-", "*", "1.", "1)"])
        out: list[str] = []
        for number in range(1, rng.randint(2, 3) + 1):
            head = marker.replace("1", str(number)) + " " * rng.choice([1, 1, 2])
            lines = [head + text()]
            for _ in range(rng.choice([0, 1, 1, 2])):
                if rng.random() < 0.5:
                    lines.append("")
                lines += [" " * len(head) + line if line else "" for line in block(depth + 1)]
            out += lines
        return out

    lines: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if lines and rng.random() < 0.5:
            lines.append("")
        lines += block(0)
    return "\n".join(lines)


def test_random_cells_keep_their_nesting():
    rng = random.Random(20261120)
    cells = [_random_cell(rng) for _ in range(200)]
    broken = [
        cell
        for cell in cells
        if structure(JUPYTER.render(cell), LISTS) != structure(site(cell), LISTS)
    ]
    assert len(broken) > 50  # unconverted, many render with other lists: the samples matter
    different = [cell for cell in cells if not same_structure(cell)]
    assert not different, different[0]
