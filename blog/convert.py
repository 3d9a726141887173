"""One post file in, one :class:`Post` out: front matter + Markdown + assets.

Notebooks go through nbconvert's MarkdownExporter with our preprocessors and the ``post``
template; Markdown posts only get their front matter normalised and the callouts rewritten.
Nothing here knows about MkDocs, so the converter can move to another site generator as is.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .callouts import convert_callouts
from .errors import PostError, Problems
from .fences import MATH, code_lines
from .frontmatter import (
    FrontMatter,
    load_yaml,
    normalise,
    parse_fastpages,
    split_yaml_block,
)
from .inline import inline_html, plain_text
from .links import Resolver, fix_image, fix_links
from .mathtext import fix_math

TEMPLATES = Path(__file__).parent / "templates"
POST_SUFFIXES = (".ipynb", ".md", ".qmd")
MORE = "<!-- more -->"
# Files that sit in blog folders without being posts (fastpages' _posts/README.md, a copied
# repository's LICENSE): never published, never an error.
NOT_POSTS = {"readme", "license", "licence", "changelog", "contributing", "code_of_conduct"}
METADATA_FILES = ("_metadata.yml", "_metadata.yaml")  # Quarto's folder-wide front matter


def skipped(rel: Path) -> bool:
    """Files in posts/ that are never published: hidden ones (checkpoints included), any under
    a name starting with "_" (work kept out of the site, Quarto's _metadata.yml) and READMEs."""
    if any(part.startswith((".", "_")) for part in rel.parts):
        return True
    return rel.stem.lower() in NOT_POSTS and rel.suffix.lower() in ("", ".md", ".txt", ".qmd")


def metadata_files(path: Path, root: Path | None) -> list[Path]:
    """Quarto's ``_metadata.yml`` files that apply to a post: those of its folder and of every
    folder above it up to the posts folder, outermost first."""
    if root is None:
        root = path.parent
    root = root.resolve()
    folder = path.parent.resolve()
    if not folder.is_relative_to(root):
        return []
    chain = [folder, *[f for f in folder.parents if f.is_relative_to(root)]]
    found: list[Path] = []
    for directory in reversed(chain):
        found.extend(directory / name for name in METADATA_FILES if (directory / name).is_file())
    return found


def _defaults(files: list[Path]) -> dict:
    """The front matter a post's folders give it (their _metadata.yml files), merged."""
    merged: dict = {}
    for file in files:
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise PostError(file, f"can't be read: {err}.") from None
        merged.update(load_yaml(file, text, where=" of the folder"))
    return merged


@dataclass
class Settings:
    """Site-wide conversion settings (the plugin fills them from mkdocs.yml)."""

    show_stderr: bool = False  # warnings and progress bars are noise in a post
    max_output_kb: int = 2048  # one output larger than this fails the post
    repo: str | None = None  # "user/repo" on GitHub, for the badges
    branch: str = "main"  # the branch the badges link to
    posts_dir: str = "posts"  # where posts live in the repository, for the badges
    badges: tuple[str, ...] = ("colab", "github", "binder", "download")  # which badges to show
    posts_root: str = ""  # the posts folder, for site-absolute links; default: the post's folder
    docs_root: str = ""  # the docs folder, to check links that leave the posts folder

    def key(self) -> str:
        # The folder's location changes no conversion (links are rewritten relative to it).
        data = {k: v for k, v in self.__dict__.items() if k not in ("posts_root", "docs_root")}
        return json.dumps(data, sort_keys=True, default=list)

    def root(self) -> Path | None:
        return Path(self.posts_root) if self.posts_root else None

    def resolver(self, path: Path) -> Resolver:
        return Resolver(path, self.root(), Path(self.docs_root) if self.docs_root else None)


@dataclass
class Post:
    """A converted post: what a site generator needs, nothing it has to parse again."""

    source: Path
    front: FrontMatter
    markdown: str  # the full page: YAML front matter for mkdocs-material, then the body
    assets: dict[str, bytes] = field(default_factory=dict)  # relative path -> content


def convert(path: str | Path, settings: Settings | None = None) -> Post:
    """Convert one post file (``.ipynb`` or ``.md``); raises :class:`PostError` on bad input."""
    path = Path(path)
    settings = settings or Settings()
    if path.suffix not in POST_SUFFIXES:
        raise PostError(
            path,
            f"`{path.suffix}` is not a post format.",
            "Posts are .ipynb notebooks, .md Markdown or .qmd Quarto files.",
        )
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PostError(path, f"can't be read: {err.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PostError(
            path,
            f"is not UTF-8 (byte {err.start} is {raw[err.start]:#04x}).",
            "Save it as UTF-8 (in VS Code: 'Save with Encoding').",
        ) from None
    try:
        if path.suffix == ".ipynb":
            return _convert_notebook(path, text, settings)
        return _convert_markdown(path, text, settings)
    except PostError:
        raise
    except Exception as err:  # a converter bug must still name the post
        raise PostError(
            path,
            f"could not be converted ({type(err).__name__}: {err}).",
            "This is a bug in the converter, not in the post: please report it "
            "with the file. Meanwhile `#hide` the cell or simplify its Markdown.",
        ) from err


# --- Markdown posts ----------------------------------------------------------------------


def _convert_markdown(path: Path, text: str, settings: Settings) -> Post:
    problems = Problems()
    block, body = split_yaml_block(text)
    raw = problems.run(load_yaml, path, block, default={}) if block is not None else {}
    metadata = metadata_files(path, settings.root())
    raw = {**_defaults(metadata), **raw}
    executable = 0
    if path.suffix == ".qmd":
        from .quarto import qmd_code_cells

        body, executable = qmd_code_cells(body)
    heading = None if "title" in raw else first_heading(body)
    # A front-matter problem doesn't stop the checks of the body: one run reports them all.
    front = problems.run(
        normalise, path, raw, fallback_title=heading or title_from_name(path)
    ) or _stand_in(path)
    body = remove_first_heading(body) if heading else _strip_title(body, front.title)
    resolver = settings.resolver(path)
    _fix_front_image(front, resolver, path)
    body = _markdown_text(
        body,
        path,
        None,
        resolver,
        problems,
        notebook=False,
        figures=_is_quarto(path, metadata, path.suffix == ".qmd"),
    )
    if executable:
        cells = f"{executable} code cell{'s' if executable > 1 else ''}"
        body = (
            '!!! info "Code shown, not run"\n\n    The code in this post is shown without '
            "its output.\n\n" + body
        )
        front.notes.append(
            f"has {cells} that Quarto would run; they are shown, not run, here. To publish "
            "their output, make the post a notebook (`quarto convert`), run it and save it."
        )
    problems.raise_any()
    return Post(path, front, _page(front, body, settings, path))


def _markdown_text(
    text: str,
    path: Path,
    cell: int | None,
    resolver: Resolver,
    problems: Problems,
    *,
    notebook: bool,
    quarto: bool = True,
    figures: bool = False,
) -> str:
    """One Markdown text (a post's body or a notebook cell) in the site's Markdown dialect:
    fastpages' Liquid, Quarto's divs and shortcodes, Jupyter's CommonMark, call-outs, links.
    ``quarto=False`` leaves Quarto's divs for a pass over the whole page."""
    from .liquid import render_liquid
    from .quarto import render_quarto

    text = problems.run(render_liquid, text, path, cell=cell, default=text)
    if "```{" in text or "~~~{" in text:
        # Quarto's diagram blocks in a notebook's Markdown ({mermaid}) draw as diagrams.
        text = _DIAGRAM_FENCE.sub(r"\1\2", text)
    if quarto:
        text = problems.run(render_quarto, text, path, cell=cell, default=text)
    if figures:
        from .quarto import implicit_figures

        text = implicit_figures(text)
    if notebook:
        from .jupyter_markdown import commonmark_to_python_markdown

        text = commonmark_to_python_markdown(text)
    text = fix_math(text, notebook=notebook)
    text = convert_callouts(text)
    text, broken = fix_links(text, resolver, path, cell)
    problems.errors.extend(broken)
    return text


_DIAGRAM_FENCE = re.compile(r"(?m)^([ \t]*(?:`{3,}|~{3,}))\{(mermaid|dot)\}[ \t]*$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")


def first_heading(text: str) -> str | None:
    """The text of the first ATX heading outside code, any level (a plain post's title)."""
    lines = text.splitlines()
    for line, code in zip(lines, code_lines(lines), strict=True):
        if not code and (match := _HEADING.match(line)):
            title = match["text"].strip()
            if len(title) > 1 and title[0] == title[-1] and title[0] in "\"'":
                title = title[1:-1]  # fastpages quoted its titles
            return title or None
    return None


def remove_first_heading(text: str) -> str:
    """The text without the line of its first heading (the one first_heading found)."""
    lines = text.split("\n")
    for i, (line, code) in enumerate(zip(lines, code_lines(lines), strict=True)):
        if not code and _HEADING.match(line) and first_heading(line):
            return "\n".join(lines[:i] + lines[i + 1 :])
    return text


def title_from_name(path: Path) -> str:
    """``2026-01-02-my-first-model.ipynb`` -> "My first model"."""
    from .frontmatter import parse_filename

    _, slug = parse_filename(path)
    words = slug.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else path.stem


def _strip_title(body: str, title: str) -> str:
    """Drop a leading heading that repeats the title (the page adds one)."""
    lines = body.lstrip("\n").splitlines()
    if lines and (match := _HEADING.match(lines[0])):
        heading = match["text"].strip().strip("\"'").strip()
        if heading == title.strip() or plain_text(heading) == plain_text(title):
            return "\n".join(lines[1:])
    return body


# --- notebooks ---------------------------------------------------------------------------


def _read_notebook(path: Path, text: str):
    import nbformat  # here, not at the top: a build whose posts are all cached never needs it

    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise PostError(
            path,
            f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}).",
            "Open it in Jupyter and save it again, or restore it from git.",
        ) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise PostError(path, "is JSON but not a notebook (no `cells`).")
    major = data.get("nbformat")
    if major not in (3, 4):
        raise PostError(
            path,
            f"uses nbformat {major}; versions 3 and 4 are supported.",
            "Open it in a current Jupyter and save it again.",
        )
    with warnings.catch_warnings():
        # nbformat warns about missing cell ids in old notebooks; they don't matter here.
        warnings.simplefilter("ignore")
        try:
            # The reader joins multi-line sources; convert() upgrades version 3 notebooks.
            # (nbformat.reads() would validate too, and only log what it finds.)
            nb = nbformat.convert(nbformat.reader.reads(text), 4)
            # The strict schema: it also checks the types of output data and attachments.
            nbformat.validate(nb)
        except nbformat.ValidationError as err:
            where = " / ".join(str(p) for p in err.absolute_path) or "the notebook"
            raise PostError(
                path,
                f"is not a valid notebook at {where}: {err.message}.",
                "Open it in Jupyter and save it again.",
            ) from None
        except Exception as err:  # a shape the reader itself trips over
            raise PostError(
                path,
                f"is not a valid notebook ({type(err).__name__}: {err}).",
                "Open it in Jupyter and save it again.",
            ) from None
    return nb


def _take_front_matter(path: Path, nb, defaults: dict) -> FrontMatter:
    """Read and remove the front-matter cell (Quarto raw cell or fastpages Markdown cell); a
    plain notebook takes its title from its first heading, or else from its file name."""
    raw: dict = {}
    number = None
    for index, cell in enumerate(nb.cells):
        if not cell.source.strip():
            continue
        number = cell.metadata.get("blog_cell", index + 1)
        if cell.cell_type == "raw":
            block, rest = split_yaml_block(cell.source.lstrip())
            if block is not None:
                raw = load_yaml(path, block, cell=number)
                cell.source = rest
                if not rest.strip():
                    del nb.cells[index]
        elif cell.cell_type == "markdown":
            header = parse_fastpages(path, cell.source, number)
            if header is not None:
                raw, rest = header
                if rest.strip():
                    cell.source = rest  # prose after the front matter stays in the post
                else:
                    del nb.cells[index]
        break
    raw = {**defaults, **raw}
    markdown = [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip()]
    heading, titled = None, None  # the first heading, and the cell it is in
    if "title" not in raw:
        heading, titled = next(
            ((h, c) for c in markdown if (h := first_heading(c.source))), (None, None)
        )
    front = normalise(
        path, raw, cell=number if raw else None, fallback_title=heading or title_from_name(path)
    )
    if heading:
        # The heading became the title, which the page shows: it isn't shown twice.
        assert titled is not None  # found together with the heading
        titled.source = remove_first_heading(titled.source)
    else:
        # A first cell that opens with the title's heading loses it.
        first = next((c for c in nb.cells if c.source.strip()), None)
        if first is not None and first.cell_type == "markdown":
            first.source = _strip_title(first.source, front.title)
    return front


def _fix_front_image(front: FrontMatter, resolver: Resolver, path: Path) -> None:
    """The `image` path as it exists here; a missing file is noted and left out (fastpages and
    Quarto built such posts too), so a notebook's first figure stands in for it."""
    try:
        front.image = fix_image(front.image, resolver, path)
    except PostError as err:
        front.notes.append(f"{err.problem} It is left out.")
        front.image = None


def _is_quarto(path: Path, metadata: list[Path], quarto_front_matter: bool) -> bool:
    """Whether a post comes from a Quarto blog, whose images alone in a paragraph are captioned
    figures: a .qmd file, a notebook with a raw-cell header, a post folder, _metadata.yml."""
    return quarto_front_matter or path.stem.lower() == "index" or bool(metadata)


def _stand_in(path: Path) -> FrontMatter:
    """Front matter to go on checking a post whose own front matter is broken."""
    import datetime as dt

    return FrontMatter(title=title_from_name(path), date=dt.date.today(), slug="post")


_EXPORTERS: dict[str, tuple[Any, Any]] = {}  # settings key -> (exporter, output preprocessor)
_EXPORTER_LOCK = threading.Lock()


def _exporter(settings: Settings):
    """The MarkdownExporter for these settings, built once per process: building one compiles
    its Jinja templates, which would otherwise cost more than converting a notebook."""
    key = settings.key()
    if key in _EXPORTERS:
        return _EXPORTERS[key]
    # nbconvert takes ~0.3 s to import: only builds that convert a notebook pay for it.
    import jinja2
    from nbconvert.exporters import MarkdownExporter
    from nbconvert.preprocessors import (
        CoalesceStreamsPreprocessor,
        ExtractAttachmentsPreprocessor,
        ExtractOutputPreprocessor,
    )
    from traitlets.config import Config

    from .preprocessors import DirectivePreprocessor, OutputPreprocessor
    from .preprocessors.widgets import WidgetPreprocessor

    # nbconvert's own output extraction would run before our directives and publish the
    # figures of hidden cells: ours runs after them instead.
    config = Config()
    config.ExtractOutputPreprocessor.enabled = False
    # Validate the notebook once after all preprocessors, not after each of them.
    config.MarkdownExporter.optimistic_validation = True
    exporter = MarkdownExporter(
        config=config, extra_template_basedirs=[str(TEMPLATES)], template_name="post"
    )
    # Compiled templates kept between builds (Jinja's own per-user folder in the temp dir):
    # a rebuild that converts one notebook doesn't compile the templates again.
    # Without a usable temp folder, they are compiled every time.
    with contextlib.suppress(OSError, RuntimeError):
        exporter.environment.bytecode_cache = jinja2.FileSystemBytecodeCache()
    exporter.register_preprocessor(DirectivePreprocessor(), enabled=True)
    # Widgets, Altair and Plotly before the output filter, which drops what a page can't run.
    exporter.register_preprocessor(WidgetPreprocessor(), enabled=True)
    outputs = OutputPreprocessor(
        show_stderr=settings.show_stderr, max_output_kb=settings.max_output_kb
    )
    exporter.register_preprocessor(outputs, enabled=True)
    # After stderr is gone, stdout pieces printed between progress bars join into one block.
    exporter.register_preprocessor(CoalesceStreamsPreprocessor(), enabled=True)
    exporter.register_preprocessor(
        ExtractOutputPreprocessor(
            output_filename_template="output_{cell_index}_{index}{extension}"
        ),
        enabled=True,
    )
    exporter.register_preprocessor(ExtractAttachmentsPreprocessor(), enabled=True)
    _EXPORTERS[key] = (exporter, outputs)
    return exporter, outputs


def _convert_notebook(path: Path, text: str, settings: Settings) -> Post:
    nb = copy.deepcopy(_read_notebook(path, text))
    for number, cell in enumerate(nb.cells, start=1):
        cell.metadata["blog_cell"] = number  # error messages name the cell as the author sees it
    problems = Problems()
    first = next((c for c in nb.cells if c.source.strip()), None)
    metadata = metadata_files(path, settings.root())
    quarto = _is_quarto(
        path,
        metadata,
        first is not None
        and first.cell_type == "raw"
        and split_yaml_block(first.source.lstrip())[0] is not None,
    )
    # A front-matter problem doesn't stop the checks of the cells: one run reports them all.
    front = problems.run(_take_front_matter, path, nb, _defaults(metadata)) or _stand_in(path)
    resolver = settings.resolver(path)
    _fix_front_image(front, resolver, path)
    from .quarto import div_balance, render_quarto

    # A Quarto div that one cell opens and another closes (a tab set around code cells) is
    # rewritten once the cells are one page; other divs cell by cell, so errors name the cell.
    across = any(div_balance(c.source) for c in nb.cells if c.cell_type == "markdown")
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and not {"remove-cell", "remove_cell"} & set(tags):
            cell.source = _markdown_text(
                cell.source,
                path,
                cell.metadata["blog_cell"],
                resolver,
                problems,
                notebook=True,
                quarto=not across,
                figures=quarto,
            )
    problems.raise_any()

    resources: dict[str, Any] = {
        "unique_key": path.stem,
        "output_files_dir": f"{path.stem}_files",
    }
    try:
        with _EXPORTER_LOCK:  # one exporter per settings: one notebook at a time through it
            exporter, outputs = _exporter(settings)
            outputs.path = str(path)
            with warnings.catch_warnings():
                # An output only a live notebook can show (Bokeh's JavaScript) renders as
                # nothing, and nbconvert says so with a stack trace that looks like a crash.
                warnings.filterwarnings("ignore", "Your element with mimetype", UserWarning)
                body, resources = exporter.from_notebook_node(nb, resources=resources)
    except PostError:
        raise
    except Exception as err:  # nbconvert raises many types; the author needs the file name
        raise PostError(path, f"could not be converted: {type(err).__name__}: {err}.") from err
    if across:
        body = render_quarto(body, path)
    # The browser scripts its widgets and charts need, for the site generator.
    front.requires = sorted(resources.get("blog_requires") or ())
    assets = dict(resources.get("outputs", {}))
    assets[path.name] = text.encode("utf-8")  # the "download" badge links to the notebook
    if front.image is None:
        # A figure of the post stands for it in social previews and the feed.
        first = next((name for name in assets if name.endswith((".png", ".jpg", ".jpeg"))), None)
        front.image = first
    return Post(path, front, _page(front, body, settings, path), assets)


# --- the page ----------------------------------------------------------------------------


def _page(front: FrontMatter, body: str, settings: Settings, path: Path) -> str:
    meta = yaml.safe_dump(front.material_meta(), sort_keys=False, allow_unicode=True)
    parts = [f"---\n{meta}---\n", f"# {inline_html(front.title)}\n"]
    if front.description:
        parts.append(
            f'<p class="post-description" markdown="span">{inline_html(front.description)}</p>\n'
        )
    if front.authors:
        # Under the title, as in fastpages' and Quarto's title blocks (and their post lists).
        parts.append(
            '<p class="post-authors" markdown="span">'
            f"By {inline_html(', '.join(front.authors))}</p>\n"
        )
    body = demote_headings(body)
    if MORE not in body:
        # The post list shows everything above this mark: the description, or else the
        # post's opening paragraph (as Quarto's listings do), but never the buttons.
        lead, body = ("", body) if front.description else _opening_paragraph(body)
        if lead:
            parts.append(lead + "\n")
        parts.append(f"{MORE}\n")
    badges = _badges(front, settings, path)
    if badges:
        parts.append(badges)
    parts.append(_tidy(body))
    return "\n".join(parts)


def _opening_paragraph(body: str) -> tuple[str, str]:
    """(the body's opening up to its first paragraph of prose, the rest), or ("", body).

    The opening is that paragraph, with the section headings right above it when the body
    starts with a heading (a notebook's "## Introduction"): the post list then shows the
    first words the reader would read, in their place."""
    lines = body.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    at, headings = start, 0
    while at < len(lines) and (not lines[at].strip() or re.match(r"#{1,6}\s", lines[at])):
        headings += bool(lines[at].strip())
        at += 1
    if headings > 2 or at == len(lines) or lines[at].startswith((" ", "\t")):
        return "", body
    first = lines[at].lstrip()
    if first[0] in "#`~<!|>-*+=:$[{\\" or re.match(r"\d+[.)]\s", first):
        return "", body  # code, HTML, a list, a call-out, math: not an excerpt
    end = at
    while end < len(lines) and lines[end].strip():
        end += 1
    return "\n".join(lines[start:end]), "\n".join(lines[end:])


def demote_headings(body: str) -> str:
    """One level down for every heading when the body has a level-1 heading.

    Notebooks often use `#` for their sections; next to the page's own `# Title` these would be
    several H1s, and Material's table of contents keeps only the first H1's children. As
    Quarto's shift-heading-level-by does, the sections become H2s and the title stays the one H1.
    markdown-it-py finds the headings, so `#` lines inside code and `===` underlines are right.
    """
    if "#" not in body and "==" not in body:
        return body
    from markdown_it import MarkdownIt

    # Display math is no Markdown: a line "  =" inside $$ … $$ is no setext underline. Its
    # lines are masked, one for one, so the token's line numbers still fit the body.
    masked = MATH.sub(lambda m: "\n".join("M" * bool(line) for line in m[0].split("\n")), body)
    tokens = MarkdownIt("commonmark").parse(masked)
    headings = [t for t in tokens if t.type == "heading_open" and t.map]
    if not any(t.tag == "h1" for t in headings):
        return body
    lines = body.split("\n")
    dropped: set[int] = set()  # the underlines of setext headings
    for token in headings:
        assert token.map is not None  # `headings` keeps only tokens with one
        start, end = token.map
        level = int(token.tag[1])
        if level == 6:
            continue
        if token.markup.startswith("#"):
            lines[start] = re.sub(r"^( {0,3})#", r"\1##", lines[start], count=1)
        else:  # a setext heading: its underline is the last line of the token
            text = " ".join(line.strip() for line in lines[start : end - 1])
            lines[start] = "#" * (level + 1) + " " + text
            dropped.update(range(start + 1, end))
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


def _tidy(body: str) -> str:
    """Collapse the runs of blank lines the templates leave, except inside fenced code."""
    out: list[str] = []
    blank = 0
    lines = body.strip("\n").splitlines()
    for line, code in zip(lines, code_lines(lines), strict=True):
        if not line.strip() and not code:
            blank += 1
            if blank > 1:
                continue
            line = ""
        else:
            blank = 0
        out.append(line)
    return "\n".join(out) + "\n"


def _badges(front: FrontMatter, settings: Settings, path: Path) -> str:
    """Links to run or read the notebook elsewhere, as buttons (no remote badge images)."""
    if path.suffix != ".ipynb" or not front.badges:
        return ""
    wanted = [b for b in settings.badges if b not in front.hidden_badges]
    links = []
    repo_path = f"{settings.posts_dir.strip('/')}/{path.name}"
    if settings.repo:
        gh = f"{settings.repo}/blob/{settings.branch}/{repo_path}"
        urls = {
            "colab": ("Open in Colab", f"https://colab.research.google.com/github/{gh}"),
            "github": ("View on GitHub", f"https://github.com/{gh}"),
            "binder": (
                "Launch Binder",
                f"https://mybinder.org/v2/gh/{settings.repo}/{settings.branch}?labpath={repo_path}",
            ),
        }
        links += [urls[b] for b in wanted if b in urls]
    if "download" in wanted:
        links.append(("Download the notebook", path.name))
    if not links:
        return ""
    buttons = " ".join(f"[{label}]({url}){{ .md-button .badge }}" for label, url in links)
    return f'<div class="post-badges" markdown>\n{buttons}\n</div>\n'
