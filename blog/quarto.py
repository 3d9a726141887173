"""Quarto's Markdown in MkDocs: fenced divs, call-outs, shortcodes and executable cells.

Quarto writes blocks as pandoc fenced divs (``::: {.callout-tip}`` ... ``:::``) and inserts
content with shortcodes (``{{< video URL >}}``). :func:`render_quarto` rewrites both into the
Markdown that Python-Markdown renders with the site's extensions (admonition, details,
md_in_html, tabbed): call-outs become admonitions, other divs ``<div markdown>`` blocks,
tab sets tabs. :func:`qmd_code_cells` turns a ``.qmd`` file's executable cells into plain
fenced code. Code (fenced, indented, inline) is left alone, so a tutorial can show the syntax.
Pure text transforms: nothing here knows about MkDocs.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .callouts import _youtube_id
from .errors import PostError, Problems, _display

SHORTCODES = ("video", "include", "pagebreak", "kbd", "tweet")
INCLUDE_DEPTH = 10  # deeper than this is a file including itself, directly or not

# Quarto's call-out types -> (Material admonition type, title when the call-out has none).
# Material has note/tip/warning/caution; "important" has no style of its own and borrows
# "danger", titled so readers still see the word Quarto shows (as in blog/callouts.py).
_ADMONITION = {
    "note": ("note", None),
    "tip": ("tip", None),
    "warning": ("warning", None),
    "caution": ("caution", None),
    "important": ("danger", "Important"),
}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# A div opens with 3+ colons and attributes: {…} or one bare class word, maybe more colons.
_DIV_OPEN = re.compile(
    r"""^(?P<indent>[ \t]*):{3,}[ \t]*
    (?P<attrs>\{(?:[^{}"']|"(?:[^"\\]|\\.)*"|'[^']*')*\}|[^\s{}:`]+)[ \t]*:*[ \t]*$""",
    re.X,
)
_DIV_CLOSE = re.compile(r"^[ \t]*:{3,}[ \t]*$")
_ATTR = re.compile(
    r"""[ \t]*(?:\#(?P<id>[^\s}]+)|\.(?P<cls>[^\s}]+)
    |(?P<key>[\w:.-]+)=(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'}]+)))""",
    re.X,
)
_HEADING = re.compile(r"^[ \t]{0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_HEADING_ATTRS = re.compile(r"[ \t]*\{[^{}]*\}[ \t]*$")  # "## Title {#sec-x .unnumbered}"
_CONTAINER = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|!!!|\?\?\?|===)")
# A shortcode may span lines (video's arguments often do), never a blank line or another one.
_INSIDE = r"(?:(?!\{\{<|\n[ \t]*\n).)*?"
_SHORTCODE = re.compile(
    rf"(?P<escaped>\{{\{{\{{<(?P<ebody>{_INSIDE})>\}}\}}\}})"
    rf"|\{{\{{<(?P<body>{_INSIDE})>\}}\}}",
    re.S,
)
_ARG = re.compile(r"""(?:(?P<key>[A-Za-z_][\w-]*)=)?(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|\S+)""")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_CELL = re.compile(
    r"""^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*
    (?P<open>\{\{?)(?P<lang>[A-Za-z][\w+-]*)(?P<rest>[^{}]*)(?P<close>\}\}?)[ \t]*$""",
    re.X,
)
_OPTION = re.compile(r"^[ \t]*(?:#|//|%%|--)\|[ \t]?(?P<text>.*)$")
_DIAGRAMS = {"mermaid", "dot"}  # rendered by Quarto, not executed: not counted as cells
_HIGHLIGHT = {"ojs": "javascript"}  # Pygments has no lexer for Observable JS
_FALSE = {"false", "no", "f"}  # YAML and R spellings of false in cell options


def render_quarto(text: str, path: Path, *, cell: int | None = None) -> str:
    """Rewrite Quarto fenced divs and shortcodes in one Markdown text.

    ``path`` is the post (includes resolve next to it, errors name it); ``cell`` the notebook
    cell the text comes from. Raises :class:`PostError` for what can't be shown as Quarto
    shows it (an unknown shortcode, a missing include, an unclosed div), all of them at once.
    """
    if ":::" not in text and "{{<" not in text:
        return text  # the common case, byte for byte
    path = Path(path)
    problems = Problems()
    quarto = _Quarto(path, cell, problems)
    lines = text.replace("\r\n", "\n").split("\n")
    lines = quarto.includes(lines)
    lines = quarto.divs(lines)
    out = quarto.shortcodes(lines)
    problems.raise_any()
    return out


def qmd_code_cells(text: str) -> tuple[str, int]:
    """A .qmd body's executable cells (```{python} ...```, also {r}, {julia}, {ojs}, with `#|`
    option lines) as plain fenced code (```python), returning the new text and how many
    executable cells there were. `#| echo: false` / `#| include: false` cells are dropped
    (nothing would be shown: they are not run). The `#|` option lines never appear in the
    output.

    ```{{python}} (Quarto's way to show a cell without running it) becomes a code block that
    shows the cell with its fences, as Quarto shows it; diagram cells ({mermaid}, {dot}) become
    plain code of their language and are not counted.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    count = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _CELL.match(line)
        plain = None if opening else _FENCE.match(line)
        if plain and not (plain["fence"][0] == "`" and "`" in plain["info"]):
            end = _fence_end(lines, i, plain["fence"])  # other code, examples included: as is
            end = len(lines) - 1 if end is None else end
            out.extend(lines[i : end + 1])
            i = end + 1
            continue
        if not opening:
            out.append(line)
            i += 1
            continue
        end = _fence_end(lines, i, opening["fence"])
        body = lines[i + 1 : end] if end is not None else lines[i + 1 :]
        closing = [lines[end]] if end is not None else []
        i = len(lines) if end is None else end + 1
        indent, fence, lang = opening["indent"], opening["fence"], opening["lang"]
        if opening["open"] == "{{" and opening["close"] == "}}":
            out.extend(_verbatim_cell(indent, fence, f"{{{lang}{opening['rest']}}}", body))
            continue
        options = _cell_options(opening["rest"])
        while body and (option := _OPTION.match(body[0])):
            match = re.match(r"\s*([\w.-]+)\s*:\s*(.*?)\s*$", option["text"])
            if match:
                options[match[1].lower()] = match[2].strip("\"'")
            body = body[1:]
        if lang.lower() not in _DIAGRAMS:
            count += 1
        echo = options.get("echo", "true").lower()
        if options.get("include", "true").lower() in _FALSE or echo in _FALSE:
            continue  # Quarto would show only the output, and the cell is not run here
        if echo == "fenced":
            out.extend(_verbatim_cell(indent, fence, f"{{{lang}}}", body))
            continue
        header = _HIGHLIGHT.get(lang.lower(), lang)
        if options.get("filename"):  # pymdownx.highlight shows it as the block's title
            header += ' title="{}"'.format(options["filename"].replace('"', "'"))
        out.extend([f"{indent}{fence}{header}", *body, *(closing or [f"{indent}{fence}"])])
    return "\n".join(out), count


# --- the parts ---------------------------------------------------------------------------


@dataclass
class _Div:
    indent: str
    attrs: _Attrs
    fence: str  # the opening line, for messages
    where: str  # "line 4" or "line 2 of _intro.md", for messages
    body: list = field(default_factory=list)  # str lines, _Code lines and _Div children


@dataclass
class _Attrs:
    id: str | None = None
    classes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


class _Code(str):
    """A line that is code (fenced or indented): never a fence, heading or shortcode."""


class _Open(str):
    """A ``<div … markdown>`` line this module writes (see :func:`_md_in_html`)."""


class _Blank(str):
    """A blank line this module adds around a block; dropped next to another blank line."""


_B = _Blank("")


class _Quarto:
    def __init__(self, path: Path, cell: int | None, problems: Problems):
        self.path = path
        self.cell = cell
        self.problems = problems
        self.where: list[str] = []  # where each line of the expanded text comes from

    def error(self, problem: str, fix: str = "") -> None:
        self.problems.errors.append(PostError(self.path, problem, fix, cell=self.cell))

    # -- includes: textual, first, because included files may hold divs and shortcodes --

    def includes(self, lines: list[str]) -> list[str]:
        lines, self.where = self._expand(lines, [self.path.resolve()], 0, "")
        return lines

    def _expand(
        self, lines: list[str], chain: list[Path], depth: int, origin: str
    ) -> tuple[list[str], list[str]]:
        """The lines with their includes replaced, and where each line comes from."""
        out: list[str] = []
        where: list[str] = []
        code = _code_lines(lines)
        for number, line in enumerate(lines, 1):
            here = f"line {number}{origin}"
            pieces = [] if code[number - 1] or "include" not in line else _split_shortcodes(line)
            if not any(
                kind == "shortcode" and _shortcode_name(body) == "include" for kind, body in pieces
            ):
                out.append(line)
                where.append(here)
                continue
            # Alone on its line (as Quarto wants it), the file is a block: each of its lines
            # keeps the include's indentation, so it works in lists and call-outs too.
            alone = all(not body.strip() for kind, body in pieces if kind == "text")
            lead = re.match(r"[ \t]*", line)
            assert lead is not None  # the pattern matches the empty string
            indent = lead[0]
            text = ""
            for kind, body in pieces:
                if kind == "text":
                    text += body
                elif _shortcode_name(body) != "include":
                    text += "{{<" + body + ">}}"
                else:
                    included, inner_where = self.include(body, chain, depth)
                    if alone:
                        out.extend(indent + inner if inner.strip() else "" for inner in included)
                        where.extend(inner_where)
                    else:
                        text += "\n".join(included).strip("\n")
            if not alone:
                out.extend(text.split("\n"))
                where.extend([here] * (text.count("\n") + 1))
        return out, where

    def include(self, body: str, chain: list[Path], depth: int) -> tuple[list[str], list[str]]:
        args, _ = _arguments(body)
        name = args[1] if len(args) > 1 else ""
        if not name:
            self.error(
                "has {{< include >}} without a file name.",
                "Name the file: {{< include _intro.md >}}.",
            )
            return [], []
        if depth >= INCLUDE_DEPTH:
            self.error(
                f"includes files more than {INCLUDE_DEPTH} deep (at {name}).",
                "Check that no included file includes itself.",
            )
            return [], []
        base = self.path.parent
        if name.startswith("/"):  # Quarto: relative to the project's root
            base = _project_root(self.path)
        target = (base / name.lstrip("/")).resolve()
        if target in chain:
            self.error(
                f"{{{{< include {name} >}}}} includes itself (through "
                f"{' -> '.join(p.name for p in chain)}).",
                "Remove the include that goes back to a file already included.",
            )
            return [], []
        try:
            content = target.read_text("utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.error(
                f"{{{{< include {name} >}}}} names {_display(target)}, which does not exist.",
                "Create the file or correct its name; as in Quarto it is read relative "
                f"to the post's folder ({_display(base)}), and its name starts with _ "
                "(_intro.md) so that it is not published as a post of its own.",
            )
            return [], []
        except (OSError, UnicodeDecodeError) as err:
            self.error(
                f"{{{{< include {name} >}}}}: {_display(target)} can't be read ({err}).",
                "Save it as a UTF-8 text file.",
            )
            return [], []
        content = _FRONT_MATTER.sub("", content.replace("\r\n", "\n"), count=1)
        content, _ = qmd_code_cells(content)  # Quarto pastes it: its cells are cells
        if content.endswith("\n"):
            content = content[:-1]
        return self._expand(content.split("\n"), [*chain, target], depth + 1, f" of {name}")

    # -- fenced divs --------------------------------------------------------------------

    def divs(self, lines: list[str]) -> list[str]:
        """The lines with divs rendered; code lines come back as :class:`_Code`."""
        code = _code_lines(lines)
        if not any(":::" in line for line in lines):
            return [
                _Code(line) if is_code else line for line, is_code in zip(lines, code, strict=True)
            ]
        root: list = []
        stack: list[_Div] = []
        for i, line in enumerate(lines):
            body = stack[-1].body if stack else root
            where = self.where[i] if i < len(self.where) else f"line {i + 1}"
            if code[i]:
                body.append(_Code(line))
            elif _DIV_CLOSE.match(line):
                if stack:
                    stack.pop()  # pandoc: any fence of 3+ colons closes the innermost div
                else:
                    self.error(
                        f"the line `{line.strip()}` ({where}) closes no fenced div.",
                        "Delete it, or open the div above it with a line like "
                        "::: {.callout-note} (in a notebook, in the same cell).",
                    )
            elif opening := _DIV_OPEN.match(line):
                attrs = _parse_attrs(opening["attrs"])
                if attrs is None:
                    self.error(
                        f"can't read the attributes of `{line.strip()}` ({where}).",
                        'Write them as pandoc does: ::: {.callout-tip title="Tip"}, '
                        "classes with a dot, values quoted.",
                    )
                    attrs = _Attrs()
                div = _Div(opening["indent"], attrs, line.strip(), where)
                body.append(div)
                stack.append(div)
            else:
                body.append(line)
        for div in stack:
            self.error(
                f"the fenced div `{div.fence}` ({div.where}) is never closed.",
                "Add a line ::: after its content (in a notebook, in the same "
                "Markdown cell: a div can't span cells).",
            )
        return _md_in_html(_collapse(_render(root)))

    # -- shortcodes, last: over the final text, code left alone ----------------------------

    def shortcodes(self, lines: list[str]) -> str:
        out: list[str] = []
        prose: list[str] = []
        for line in lines:
            if isinstance(line, _Code):
                if prose:
                    out.append(self._prose_shortcodes("\n".join(prose)))
                    prose = []
                out.append(line)
            else:
                prose.append(line)
        if prose:
            out.append(self._prose_shortcodes("\n".join(prose)))
        return "\n".join(out)

    def _prose_shortcodes(self, text: str) -> str:
        if "{{<" not in text:
            return text
        spans = _code_spans(text)
        out: list[str] = []
        pos = 0
        while (match := _SHORTCODE.search(text, pos)) is not None:
            inside = _span_end(spans, match.start())
            if inside is not None:  # `{{< video x >}}` in a code span is shown as is
                out.append(text[pos:inside])
                pos = inside
                continue
            replacement = None if match["escaped"] else self.shortcode(match["body"])
            if replacement is None or not replacement.block:
                out.append(text[pos : match.start()])
                pos = match.end()
                if match["escaped"]:  # {{{< x >}}} shows {{< x >}}; &lt; keeps "<x" no tag
                    out.append("{{&lt;" + html.escape(match["ebody"], quote=False) + "&gt;}}")
                else:
                    out.append(match[0] if replacement is None else replacement.html)
                continue
            # A video or a page break is a block: a paragraph of its own with blank lines
            # around, at the indentation of its line (so it stays in its list or call-out).
            line_start = text.rfind("\n", 0, match.start()) + 1
            start = max(line_start, pos)
            lead = re.match(r"[ \t]*", text[line_start:])
            assert lead is not None  # the pattern matches the empty string
            indent = lead[0]
            out.append(text[pos:start])
            before = text[start : match.start()]
            if before.strip() or start > line_start:  # after text: end that paragraph
                out.append(before.rstrip() + "\n\n" + indent)
            elif line_start and text[: line_start - 1].rsplit("\n", 1)[-1].strip():
                out.append("\n" + indent)  # the line above is text: a blank line between
            else:
                out.append(indent)
            out.append(replacement.html)
            end = text.find("\n", match.end())
            end = len(text) if end < 0 else end
            after = text[match.end() : end]
            if after.strip():  # text after it goes on as a paragraph of its own
                out.append("\n\n" + indent)
                pos = match.end() + len(after) - len(after.lstrip())
                continue
            pos = end
            following = text[end + 1 :].split("\n", 1)[0]
            if end < len(text) and following.strip():
                out.append("\n")
        out.append(text[pos:])
        return "".join(out)

    def shortcode(self, body: str) -> _Html | None:
        args, kwargs = _arguments(body)
        name = args[0] if args else ""
        if name == "video":
            return self.video(args[1:], kwargs)
        if name == "pagebreak":
            return _Html('<div style="page-break-after: always;"></div>', block=True)
        if name == "kbd":
            return self.kbd(args[1:], kwargs)
        if name == "tweet":
            return self.tweet(args[1:], kwargs)
        shown = "{{< " + " ".join(body.split()) + " >}}"
        if name == "include":  # the include pass reads them line by line
            self.error(
                f"has {shown} over several lines.",
                "Write the include on one line of its own, as Quarto wants it.",
            )
            return None
        hint = {
            "meta": " Write the value itself (the title, the date) in the text.",
            "var": " Write the value itself: _variables.yml is not read here.",
            "env": " Write the value itself: environment variables are not read here.",
            "embed": " Copy the cell's code or output into the post.",
        }.get(name, "")
        self.error(
            f"uses the shortcode {shown}, which this blog can't render.",
            f"Shortcodes that work here: {', '.join(SHORTCODES)}.{hint} To show the "
            "shortcode itself, escape it: {{{< " + (name or "name") + " >}}}.",
        )
        return _Html(html.escape(shown, quote=False))

    def tweet(self, args: list[str], kwargs: dict[str, str]) -> _Html | None:
        """{{< tweet ID >}} / {{< tweet user=NAME id=ID >}} (Hugo's, kept by blogs that moved
        to Quarto, and the quarto-ext/twitter extension's): the same embed as fastpages'."""
        from .callouts import _embed

        ident = kwargs.get("id") or next((a for a in args if a.isdigit()), "")
        user = kwargs.get("user") or next((a for a in args if not a.isdigit()), "i")
        if not ident.isdigit():
            self.error(
                "has a {{< tweet >}} shortcode without the post's number.",
                "Write {{< tweet user=NAME id=1234567890 >}}.",
            )
            return None
        return _Html(
            "".join(_embed("twitter", f"https://twitter.com/{user}/status/{ident}")), block=True
        )

    def video(self, args: list[str], kwargs: dict[str, str]) -> _Html:
        url = kwargs.get("src") or (args[0] if args else "")
        if not url:
            self.error(
                "has a {{< video >}} shortcode without a URL.",
                "Give the video's address: {{< video https://youtu.be/ID >}}.",
            )
            return _Html("")
        ratio = {"1x1": "100%", "4x3": "75%", "16x9": "56.25%", "21x9": "42.86%"}
        style = ratio.get(kwargs.get("aspect-ratio", ""), "")
        wrapper = '<div class="video-embed"{}>'.format(
            f' style="padding-bottom: {style};"' if style else ""
        )
        host = urlparse(url).netloc.lower().removeprefix("www.")
        title = kwargs.get("title")
        if host.endswith(("youtube.com", "youtu.be", "youtube-nocookie.com")):
            path = urlparse(url).path
            video = (
                path.split("/")[2] or None
                if host.endswith("youtube-nocookie.com") and path.startswith("/embed/")
                else _youtube_id(url)
            )
            if not video:
                self.error(
                    f"can't find the video in the YouTube address {url}.",
                    "Use the video's own address: https://www.youtube.com/watch?v=ID "
                    "or https://youtu.be/ID.",
                )
                return _Html("")
            src = f"https://www.youtube-nocookie.com/embed/{video}"
            if kwargs.get("start", "").isdigit():
                src += f"?start={kwargs['start']}"
            frame = _iframe(src, title or "YouTube video")
        elif host.endswith("vimeo.com"):
            video = next(
                (part for part in reversed(urlparse(url).path.split("/")) if part.isdigit()), None
            )
            if not video:
                self.error(
                    f"can't find the video in the Vimeo address {url}.",
                    "Use the video's own address: https://vimeo.com/NUMBER.",
                )
                return _Html("")
            frame = _iframe(f"https://player.vimeo.com/video/{video}", title or "Vimeo video")
        elif host.endswith("brightcove.net"):  # its player page is what Quarto embeds
            frame = _iframe(url, title or "Video")
        else:
            label = f' title="{html.escape(title)}"' if title else ""
            frame = (
                f'<video controls preload="metadata" src="{html.escape(url)}"{label} '
                'style="position: absolute; inset: 0; width: 100%; height: 100%;">'
                "</video>"
            )
        return _Html(f"{wrapper}{frame}</div>", block=True)

    def kbd(self, args: list[str], kwargs: dict[str, str]) -> _Html:
        # Quarto shows the reader's own platform with JavaScript; a static page shows the
        # default keys, then each platform's when they differ (as Quarto prints them).
        systems = {"mac": "macOS", "win": "Windows", "linux": "Linux"}
        keys = [f"<kbd>{html.escape(key)}</kbd>" for key in args]
        named = [
            f"<kbd>{html.escape(kwargs[os])}</kbd> ({label})"
            for os, label in systems.items()
            if kwargs.get(os)
        ]
        if not keys and not named:
            self.error(
                "has a {{< kbd >}} shortcode without keys.",
                "Name the keys: {{< kbd Ctrl-C >}} or "
                "{{< kbd mac=Command-C win=Ctrl-C linux=Ctrl-C >}}.",
            )
            return _Html("")
        shown = [" ".join(keys)] if keys else []
        return _Html(" / ".join(shown + named))


@dataclass
class _Html:
    html: str
    block: bool = False  # a block (video, page break): never inside a paragraph


# --- rendering the div tree --------------------------------------------------------------


def _render(body: list) -> list[str]:
    out: list[str] = []
    for item in body:
        if isinstance(item, _Div):
            out.extend(_render_div(item))
        else:
            out.append(item)
    return out


def _render_div(div: _Div) -> list[str]:
    """The div as lines at its own indentation (a list item's); children are rendered first."""
    classes = div.attrs.classes
    callout = next((c for c in classes if c == "callout" or c.startswith("callout-")), None)
    if callout:
        lines = _callout(div, callout)
    elif "panel-tabset" in classes:
        lines = _tabset(div)
    elif "content-visible" in classes or "content-hidden" in classes:
        shown = _html_format_shown(div.attrs.values)
        if "content-hidden" in classes:
            shown = not shown
        lines = [_B, *_lines(div.body, div.indent), _B] if shown else []
    else:
        lines = _plain_div(div)
    return [_pad(div.indent, line) for line in lines]


def _plain_div(div: _Div) -> list:
    """Any other div: an HTML div whose content stays Markdown (md_in_html), classes kept."""
    return [
        _B,
        _Open(f"<div{_html_attrs(div.attrs)} markdown>"),
        _B,
        *_lines(div.body, div.indent),
        _B,
        "</div>",
        _B,
    ]


def _lines(items: list, indent: str) -> list[str]:
    """Body items rendered, relative to the div's indentation."""
    return [_dedent(line, indent) for line in _render(items)]


def _heading(item, indent: str) -> re.Match | None:
    if isinstance(item, _Code) or not isinstance(item, str):
        return None
    return _HEADING.match(_dedent(item, indent))


def _callout(div: _Div, callout: str) -> list[str]:
    kind = callout.removeprefix("callout").removeprefix("-") or "note"
    admonition, default_title = _ADMONITION.get(kind, ("note", None))
    body = div.body
    title: str | None = div.attrs.values.get("title", "").strip()
    if not title:
        # Quarto: a heading that comes first in the call-out is its title.
        first = next(
            (i for i, item in enumerate(body) if not (isinstance(item, str) and not item.strip())),
            None,
        )
        if first is not None and (heading := _heading(body[first], div.indent)):
            title = _HEADING_ATTRS.sub("", heading["text"]).strip()
            body = body[first + 1 :]
    title = title or default_title
    collapse = div.attrs.values.get("collapse", "").lower()
    marker = {"true": "???", "false": "???+"}.get(collapse, "!!!")
    header = f'{marker} {admonition} "{title}"' if title else f"{marker} {admonition}"
    return [_B, header, _B, *_indent(_lines(body, div.indent)), _B]


def _tabset(div: _Div) -> list[str]:
    """pymdownx.tabbed tabs, one per heading of the level of the set's first heading."""
    first = next((m for item in div.body if (m := _heading(item, div.indent))), None)
    if first is None:  # no headings to make tabs of: an ordinary div
        return _plain_div(div)
    level = len(first["hashes"])
    before: list = []
    tabs: list[tuple[str, list]] = []
    for item in div.body:
        heading = _heading(item, div.indent)
        if heading and len(heading["hashes"]) == level:
            tabs.append((_HEADING_ATTRS.sub("", heading["text"]).strip(), []))
        elif tabs:
            tabs[-1][1].append(item)
        else:
            before.append(item)
    out = [_B, *_lines(before, div.indent), _B]
    for number, (title, content) in enumerate(tabs):
        # "===!" starts a new set, so two tab sets in a row don't merge into one.
        marker = "===!" if number == 0 else "==="
        out.extend([f'{marker} "{title}"', _B, *_indent(_lines(content, div.indent)), _B])
    return out


def _indent(lines: list[str]) -> list[str]:
    return [_pad("    ", line) for line in lines]


def _pad(prefix: str, line: str) -> str:
    """The line indented by ``prefix``; blank lines stay empty (and keep their kind)."""
    if line.strip():
        return _same_kind(line, prefix + line)
    return line if isinstance(line, _Blank) else ""


def _collapse(lines: list[str]) -> list[str]:
    """Drop the added blank lines that would double a blank line: in each run of blank
    lines the author's are kept, or a single added one; none at the start of the text."""
    out: list[str] = []
    run: list[str] = []
    for line in [*lines, None]:
        if line is not None and not line.strip():
            run.append(line)
            continue
        if run:
            mine = [blank for blank in run if not isinstance(blank, _Blank)]
            out.extend(mine or ([] if not out else [""]))
            run = []
        if line is not None:
            out.append(line)
    return out


def _dedent(line: str, indent: str) -> str:
    if not line.strip():
        return line if isinstance(line, _Blank) else ""
    # A lazy line, less indented than the fence, loses what it has.
    stripped = line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t")
    return _same_kind(line, stripped)


def _same_kind(line: str, new: str) -> str:
    return type(line)(new) if isinstance(line, _Code | _Open) else new


def _md_in_html(lines: list[str]) -> list[str]:
    """md_in_html reads ``markdown`` only on HTML blocks at the left margin; indented (in a
    list or a call-out) the div is kept as written, its content still parsed as Markdown
    because blank lines separate them, so the attribute would only be left in the page."""
    return [
        line.replace(" markdown>", ">") if isinstance(line, _Open) and line[:1] in " \t" else line
        for line in lines
    ]


def _html_attrs(attrs: _Attrs) -> str:
    """The div's attributes in HTML; Quarto's layout attributes become inline grid styles."""
    classes = list(attrs.classes)
    styles: list[str] = []
    values = dict(attrs.values)
    columns = values.pop("layout-ncol", "")
    widths = _layout_widths(values.pop("layout", ""))
    if columns.isdigit() and int(columns) > 0:
        styles.append(
            f"display:grid;grid-template-columns:repeat({columns},minmax(0,1fr));gap:1rem"
        )
    elif widths:
        styles.append(
            "display:grid;grid-template-columns:"
            + " ".join(f"minmax(0,{w}fr)" for w in widths)
            + ";gap:1rem"
        )
    if "columns" in classes:
        styles.append("display:flex;gap:1rem")
    if "column" in classes:
        width = values.pop("width", "")
        styles.append(f"width:{width}" if width else "flex:1")
    if "style" in values:
        styles.append(values.pop("style").rstrip(";"))
    out = ""
    if attrs.id:
        out += f' id="{html.escape(attrs.id)}"'
    if classes:
        out += f' class="{html.escape(" ".join(classes))}"'
    if styles:
        out += f' style="{html.escape(";".join(styles))}"'
    for key, value in values.items():
        # pandoc's HTML writer: attributes that aren't HTML's own become data-*.
        out += f' data-{html.escape(key)}="{html.escape(value)}"'
    if "hidden" in classes:
        out += " hidden"
    return out


def _layout_widths(layout: str) -> list[str]:
    """``[40,60]`` or ``[[40,60]]`` (one row of relative widths) -> ["40", "60"]; rows of
    different shapes are left to the stylesheet."""
    cells = re.fullmatch(r"\s*\[?\s*\[([\d.,\s]+)\]\s*\]?\s*", layout)
    if not cells:
        return []
    widths = [w.strip() for w in cells[1].split(",") if w.strip()]
    return widths if all(re.fullmatch(r"\d+(?:\.\d+)?", w) for w in widths) else []


def _html_format_shown(values: dict[str, str]) -> bool:
    """Whether a content-visible div's condition holds for this site's format (HTML)."""
    html_formats = {"html", "html:js", "html4", "html5"}
    when = values.get("when-format")
    unless = values.get("unless-format")
    if when is not None and when.lower() not in html_formats:
        return False
    return not (unless is not None and unless.lower() in html_formats)


# --- small parsers -----------------------------------------------------------------------


def _parse_attrs(text: str) -> _Attrs | None:
    """Pandoc attributes: ``{#id .class key=value key="a value"}`` or one bare class."""
    if not text.startswith("{"):
        return _Attrs(classes=[text])
    inner = text[1:-1]
    attrs = _Attrs()
    pos = 0
    while pos < len(inner):
        if not inner[pos:].strip():
            break
        match = _ATTR.match(inner, pos)
        if not match or match.end() == pos:
            return None
        if match["id"]:
            attrs.id = match["id"]
        elif match["cls"]:
            attrs.classes.append(match["cls"])
        else:
            value = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
            if match["dq"] is not None:
                value = re.sub(r"\\(.)", r"\1", value)  # pandoc: \" in a quoted value
            attrs.values[match["key"].lower()] = value
        pos = match.end()
    return attrs


def _arguments(body: str) -> tuple[list[str], dict[str, str]]:
    """A shortcode's positional arguments (its name first) and key=value ones."""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    for match in _ARG.finditer(body):
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace('\\"', '"')
        if match["key"]:
            kwargs[match["key"].lower()] = value
        else:
            args.append(value)
    return args, kwargs


def _shortcode_name(body: str) -> str:
    args, _ = _arguments(body)
    return args[0] if args else ""


def _split_shortcodes(line: str) -> list[tuple[str, str]]:
    """A line as ("text", …) and ("shortcode", body) pieces; escaped shortcodes and code
    spans stay text."""
    spans = _code_spans(line)
    pieces: list[tuple[str, str]] = []
    pos = 0
    text_start = 0
    while (match := _SHORTCODE.search(line, pos)) is not None:
        inside = _span_end(spans, match.start())
        if inside is not None:
            pos = inside
            continue
        pos = match.end()
        if match["escaped"]:
            continue
        pieces.append(("text", line[text_start : match.start()]))
        pieces.append(("shortcode", match["body"]))
        text_start = pos
    pieces.append(("text", line[text_start:]))
    return [piece for piece in pieces if piece != ("text", "")]


def _span_end(spans: list[tuple[int, int]], position: int) -> int | None:
    """Where the code span around ``position`` ends; None outside code spans."""
    i = bisect.bisect_right(spans, (position, float("inf"))) - 1
    return spans[i][1] if i >= 0 and spans[i][0] <= position < spans[i][1] else None


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where the inline code spans are: a run of N backticks up to the next run of N."""
    runs = [
        m for m in re.finditer(r"`+", text) if not (m.start() > 0 and text[m.start() - 1] == "\\")
    ]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        closer = next(
            (j for j in range(i + 1, len(runs)) if len(runs[j][0]) == len(runs[i][0])), None
        )
        if closer is None:
            i += 1  # an unmatched run is literal backticks
            continue
        spans.append((runs[i].start(), runs[closer].end()))
        i = closer + 1
    return spans


def _code_lines(lines: list[str]) -> list[bool]:
    """Which lines are code: fenced blocks (``` or ~~~, any length, at any indentation, so in
    lists too) and indented blocks (4+ spaces after a blank line, outside lists and
    admonitions, which indent their own content)."""
    code = [False] * len(lines)
    context = _Containers()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence and not (fence["fence"][0] == "`" and "`" in fence["info"]):
            end = _fence_end(lines, i, fence["fence"])
            end = len(lines) - 1 if end is None else end
            for j in range(i, end + 1):
                code[j] = True
                context.see(lines[j])
            i = end + 1
            continue
        indent = _indentation(lines[i])
        if (
            indent >= 4
            and lines[i].strip()
            and (
                i == 0
                or not lines[i - 1].strip()
                or code[i - 1]
                or _DIV_OPEN.match(lines[i - 1])
                or _DIV_CLOSE.match(lines[i - 1])
            )
            and not context.inside(indent)
        ):
            code[i] = True
        context.see(lines[i])
        i += 1
    return code


class _Containers:
    """Whether an indented line belongs to a list item or an admonition above it (which
    makes it content, not an indented code block): the nearest line above that is less
    indented and is a list item or an admonition says yes, a paragraph at the margin no.
    Kept per indentation while reading forward, so long files stay linear."""

    DEEPEST = 64

    def __init__(self):
        self.state = [False] * (self.DEEPEST + 1)

    def see(self, line: str) -> None:
        if not line.strip():
            return
        indent = min(_indentation(line), self.DEEPEST)
        if _CONTAINER.match(line):
            for deeper in range(indent + 1, self.DEEPEST + 1):
                self.state[deeper] = True
        elif indent == 0:
            self.state = [False] * (self.DEEPEST + 1)

    def inside(self, indent: int) -> bool:
        return self.state[min(indent, self.DEEPEST)]


def _fence_end(lines: list[str], start: int, fence: str) -> int | None:
    """The closing line of a code fence opened at ``start``; None when it is never closed
    (then, as in CommonMark, the code goes on to the end)."""
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    for j in range(start + 1, len(lines)):
        if closing.match(lines[j]):
            return j
    return None


def _indentation(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _iframe(src: str, title: str) -> str:
    return (
        f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" loading="lazy" '
        "allowfullscreen></iframe>"
    )


def _cell_options(rest: str) -> dict[str, str]:
    """Options in a cell's header, knitr style: ``{r label, echo=FALSE}``."""
    return {
        key.lower(): value.strip("\"'")
        for key, value in re.findall(r"([\w.-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^,\s]+)", rest)
    }


def _verbatim_cell(indent: str, fence: str, header: str, body: list[str]) -> list[str]:
    """A cell shown with its own fences (```{python} … ```), in a longer fence."""
    outer = fence[0] * (len(fence) + 1)
    return [
        f"{indent}{outer}markdown",
        f"{indent}{fence}{header}",
        *body,
        f"{indent}{fence}",
        f"{indent}{outer}",
    ]


def _project_root(path: Path) -> Path:
    """Quarto's project root (where _quarto.yml is), for includes written as /path."""
    for folder in path.resolve().parents:
        if (folder / "_quarto.yml").is_file() or (folder / "mkdocs.yml").is_file():
            return folder
    return Path.cwd()


def div_balance(text: str) -> int:
    """Fenced divs opened minus closed in a text (code aside): not 0 in a notebook cell that
    opens a div another cell closes (a tab set around code cells, say)."""
    if ":::" not in text:
        return 0
    balance = 0
    fence = None
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if marker:
            token = marker["fence"][0] * 3
            fence = None if fence == token else (fence or token)
            continue
        if fence:
            continue
        if _DIV_OPEN.match(line):
            balance += 1
        elif _DIV_CLOSE.match(line):
            balance -= 1
    return balance


# An image alone in its paragraph, with alt text (and maybe {attributes}): pandoc's implicit
# figure, whose alt text Quarto shows as the caption.
_FIGURE = re.compile(
    r"^!\[(?P<alt>(?:[^\[\]\n]|\[[^\]\n]*\])+)\](?P<rest>\([^)\n]+\)"
    r"(?:\{[^}\n]*\})?)[ \t]*$"
)


def implicit_figures(text: str) -> str:
    """Quarto's captioned figures: an image alone in a paragraph becomes a <figure> whose
    caption is its alt text (md_in_html keeps the image Markdown, so its path is resolved)."""
    if "![" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    fence = None
    for i, line in enumerate(lines):
        marker = _FENCE.match(line)
        if marker:
            token = marker["fence"][0] * 3
            fence = None if fence == token else (fence or token)
        figure = None if fence or marker else _FIGURE.match(line)
        alone = (i == 0 or not lines[i - 1].strip()) and (
            i + 1 == len(lines) or not lines[i + 1].strip()
        )
        if figure and alone:
            from .inline import plain_text

            # The caption keeps its Markdown (a link, say); the image's alt text is its words.
            alt = plain_text(figure["alt"]).replace("[", "").replace("]", "")
            out.extend(
                [
                    '<figure markdown="span">',
                    f"![{alt}]{figure['rest']}",
                    f'<figcaption markdown="span">{figure["alt"]}</figcaption>',
                    "</figure>",
                ]
            )
        else:
            out.append(line)
    return "\n".join(out)
