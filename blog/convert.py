"""One post file in, one :class:`Post` out: front matter + Markdown + assets.

Notebooks go through nbconvert's MarkdownExporter with our preprocessors and the ``post``
template; Markdown posts only get their front matter normalised and the callouts rewritten.
Nothing here knows about MkDocs, so the converter can move to another site generator as is.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .callouts import convert_callouts
from .errors import PostError
from .frontmatter import (
    FrontMatter,
    load_yaml,
    normalise,
    parse_fastpages,
    split_yaml_block,
)

TEMPLATES = Path(__file__).parent / "templates"
POST_SUFFIXES = (".ipynb", ".md")
MORE = "<!-- more -->"


def skipped(rel: Path) -> bool:
    """Files in posts/ that are never published: hidden ones (checkpoints included) and any
    under a name starting with "_" (work kept out of the site)."""
    return any(part.startswith((".", "_")) for part in rel.parts)


@dataclass
class Settings:
    """Site-wide conversion settings (the plugin fills them from mkdocs.yml)."""

    show_stderr: bool = False  # warnings and progress bars are noise in a post
    max_output_kb: int = 2048  # one output larger than this fails the post
    repo: str | None = None  # "user/repo" on GitHub, for the badges
    branch: str = "main"  # the branch the badges link to
    posts_dir: str = "posts"  # where posts live in the repository, for the badges
    badges: tuple[str, ...] = ("colab", "github", "binder", "download")  # which badges to show

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, default=list)


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
        raise PostError(path, f"`{path.suffix}` is not a post format.",
                        "Posts are .ipynb notebooks or .md Markdown files.")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PostError(path, f"can't be read: {err.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PostError(path, f"is not UTF-8 (byte {err.start} is {raw[err.start]:#04x}).",
                        "Save it as UTF-8 (in VS Code: 'Save with Encoding').") from None
    if path.suffix == ".ipynb":
        return _convert_notebook(path, text, settings)
    return _convert_markdown(path, text, settings)


# --- Markdown posts ----------------------------------------------------------------------

def _convert_markdown(path: Path, text: str, settings: Settings) -> Post:
    block, body = split_yaml_block(text)
    if block is None:
        raise PostError(path, "has no front matter.",
                        "Start the file with `---` / `title: My Title` / `---`.")
    front = normalise(path, load_yaml(path, block))
    body = _strip_title(body, front.title)
    return Post(path, front, _page(front, convert_callouts(body), settings, path))


def _strip_title(body: str, title: str) -> str:
    """Drop a leading ``# Title`` that repeats the front matter's title (the page adds one)."""
    lines = body.lstrip("\n").splitlines()
    if lines and lines[0].lstrip("# ").strip() == title and lines[0].startswith("# "):
        return "\n".join(lines[1:])
    return body


# --- notebooks ---------------------------------------------------------------------------

def _read_notebook(path: Path, text: str):
    import nbformat  # here, not at the top: a build whose posts are all cached never needs it

    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise PostError(path, f"is not valid JSON (line {err.lineno}, column {err.colno}: "
                        f"{err.msg}).",
                        "Open it in Jupyter and save it again, or restore it from git.") from None
    if not isinstance(data, dict) or "cells" not in data:
        raise PostError(path, "is JSON but not a notebook (no `cells`).")
    major = data.get("nbformat")
    if major not in (3, 4):
        raise PostError(path, f"uses nbformat {major}; versions 3 and 4 are supported.",
                        "Open it in a current Jupyter and save it again.")
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
            raise PostError(path, f"is not a valid notebook at {where}: {err.message}.",
                            "Open it in Jupyter and save it again.") from None
        except Exception as err:  # noqa: BLE001  (a shape the reader itself trips over)
            raise PostError(path, f"is not a valid notebook ({type(err).__name__}: {err}).",
                            "Open it in Jupyter and save it again.") from None
    return nb


def _take_front_matter(path: Path, nb) -> FrontMatter:
    """Read and remove the front-matter cell (Quarto raw cell or fastpages Markdown cell)."""
    for index, cell in enumerate(nb.cells):
        if not cell.source.strip():
            continue
        number = cell.metadata.get("blog_cell", index + 1)
        if cell.cell_type == "raw":
            block, rest = split_yaml_block(cell.source.lstrip())
            if block is not None:
                front = normalise(path, load_yaml(path, block, cell=number), cell=number)
                cell.source = rest
                if not rest.strip():
                    del nb.cells[index]
                return front
        if cell.cell_type == "markdown":
            raw = parse_fastpages(path, cell.source, number)
            if raw is not None:
                front = normalise(path, raw, cell=number)
                del nb.cells[index]
                return front
        break
    # No header cell: the title must then come from nowhere else, so this names the fix.
    return normalise(path, {}, cell=None)


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

    from .preprocessors import CalloutPreprocessor, DirectivePreprocessor, OutputPreprocessor

    # nbconvert's own output extraction would run before our directives and publish the
    # figures of hidden cells: ours runs after them instead.
    config = Config()
    config.ExtractOutputPreprocessor.enabled = False
    # Validate the notebook once after all preprocessors, not after each of them.
    config.MarkdownExporter.optimistic_validation = True
    exporter = MarkdownExporter(config=config, extra_template_basedirs=[str(TEMPLATES)],
                                template_name="post")
    # Compiled templates kept between builds (Jinja's own per-user folder in the temp dir):
    # a rebuild that converts one notebook doesn't compile the templates again.
    # Without a usable temp folder, they are compiled every time.
    with contextlib.suppress(OSError, RuntimeError):
        exporter.environment.bytecode_cache = jinja2.FileSystemBytecodeCache()
    exporter.register_preprocessor(DirectivePreprocessor(), enabled=True)
    outputs = OutputPreprocessor(show_stderr=settings.show_stderr,
                                 max_output_kb=settings.max_output_kb)
    exporter.register_preprocessor(outputs, enabled=True)
    # After stderr is gone, stdout pieces printed between progress bars join into one block.
    exporter.register_preprocessor(CoalesceStreamsPreprocessor(), enabled=True)
    exporter.register_preprocessor(CalloutPreprocessor(), enabled=True)
    exporter.register_preprocessor(
        ExtractOutputPreprocessor(output_filename_template="output_{cell_index}_{index}{extension}"),
        enabled=True)
    exporter.register_preprocessor(ExtractAttachmentsPreprocessor(), enabled=True)
    _EXPORTERS[key] = (exporter, outputs)
    return exporter, outputs


def _convert_notebook(path: Path, text: str, settings: Settings) -> Post:
    nb = copy.deepcopy(_read_notebook(path, text))
    for number, cell in enumerate(nb.cells, start=1):
        cell.metadata["blog_cell"] = number  # error messages name the cell as the author sees it
    front = _take_front_matter(path, nb)

    resources: dict[str, Any] = {
        "unique_key": path.stem,
        "output_files_dir": f"{path.stem}_files",
    }
    try:
        with _EXPORTER_LOCK:  # one exporter per settings: one notebook at a time through it
            exporter, outputs = _exporter(settings)
            outputs.path = str(path)
            body, resources = exporter.from_notebook_node(nb, resources=resources)
    except PostError:
        raise
    except Exception as err:  # nbconvert raises many types; the author needs the file name
        raise PostError(path, f"could not be converted: {type(err).__name__}: {err}.") from err
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
    parts = [f"---\n{meta}---\n", f"# {front.title}\n"]
    if front.description:
        parts.append(f'<p class="post-description">{_escape(front.description)}</p>\n')
    if MORE not in body:
        parts.append(f"{MORE}\n")
    if front.authors:
        parts.append(f'<p class="post-authors">By {_escape(", ".join(front.authors))}</p>\n')
    badges = _badges(front, settings, path)
    if badges:
        parts.append(badges)
    parts.append(_tidy(body))
    return "\n".join(parts)


def _tidy(body: str) -> str:
    """Collapse the runs of blank lines the templates leave, except inside fenced code."""
    out: list[str] = []
    fence = None
    blank = 0
    for line in body.strip("\n").splitlines():
        marker = line.strip()[:3]
        if marker in ("```", "~~~"):
            fence = None if fence == marker else (fence or marker)
        if not line.strip() and fence is None:
            blank += 1
            if blank > 1:
                continue
            line = ""
        else:
            blank = 0
        out.append(line)
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
            "binder": ("Launch Binder", f"https://mybinder.org/v2/gh/{settings.repo}/"
                       f"{settings.branch}?labpath={repo_path}"),
        }
        links += [urls[b] for b in wanted if b in urls]
    if "download" in wanted:
        links.append(("Download the notebook", path.name))
    if not links:
        return ""
    buttons = " ".join(f'[{label}]({url}){{ .md-button .badge }}' for label, url in links)
    return f'<div class="post-badges" markdown>\n{buttons}\n</div>\n'
