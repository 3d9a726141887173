"""Links and images as fastpages and Quarto resolved them, checked before MkDocs sees them.

A migrated post keeps the paths its author wrote. fastpages served the repository's ``images/``
folder at the site root, so posts wrote ``/images/x.png``, ``{{ site.baseurl }}/images/x.png``
(which the Liquid pass turns into the former) or, from ``_notebooks/``, ``../images/x.png``; its
notebook front matter named figures as ``images/copied_from_nb/<path next to the notebook>``.
Jupyter readers write ``[text](www.example.com)`` and expect it to work. Each such target is
rewritten to the path that exists here, relative to the post; a relative target that exists
nowhere is a problem naming the post, the cell and the fix, reported with the post's others.

Targets outside the posts folder (``../about.md``) and site-absolute ones that match no file are
left for MkDocs, which checks the first kind itself.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

from .errors import PostError
from .fences import edit_outside_code

# [text](target "title") and ![alt](target): the target is group 2.
_INLINE = re.compile(
    r"(!?\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\(\s*)"
    r"(<[^>\n]*>|[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)"
)
# [label]: target
_REFERENCE = re.compile(r"^(\s{0,3}\[(?!\^)[^\]\n]+\]:\s*)(<[^>\n]*>|\S+)", re.M)
# src= / href= attributes of raw HTML that points at files.
_HTML = re.compile(
    r"""(<(?:img|a|source|video|audio|iframe|embed)\b[^>]*?\s(?:src|href)\s*=\s*)"""
    r"""(["'])(.*?)\2""",
    re.I | re.S,
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

COPIED_FROM_NB = "images/copied_from_nb/"  # where fastpages copied a notebook's figures
GENERATED_PAGES = {"demos.md"}  # pages the site plugin makes, not files in the docs folder


class Resolver:
    """Finds the file a post's link target means; ``root`` is the posts folder."""

    def __init__(self, post: Path, root: Path | None = None, docs: Path | None = None):
        self.post = post
        self.folder = post.parent
        self.root = (root or post.parent).resolve()
        # The docs folder, where the posts folder's pages sit in posts/: targets outside the
        # posts folder are checked there, as MkDocs will (without it they are left to MkDocs).
        self.docs = docs

    def resolve(self, target: str) -> str | None:
        """The target to publish: the same one, a rewritten one, or None when it is broken."""
        if not target or target.startswith(("#", "//", "{{", "attachment:")):
            return target
        if target.lower().startswith("www."):
            return "https://" + target  # Jupyter readers' habit: it is a web address
        if _SCHEME.match(target):
            return target
        path, sep, rest = _split(target)
        if not path:
            return target
        for candidate in self._candidates(unquote(path)):
            candidate = _page_of(candidate)
            if (
                candidate.exists() and candidate.resolve().is_relative_to(self.root)
            ) or _is_post_page(candidate):
                rel = os.path.relpath(candidate, self.folder).replace(os.sep, "/")
                if rel == unquote(path):
                    return target  # unchanged (keeps its original quoting)
                return rel + sep + rest
        if path.startswith("/"):
            return target  # a site page or an old address, which MkDocs leaves as it is
        if not (self.folder / path).resolve().is_relative_to(self.root):
            if self.docs is None:
                return target  # outside the posts folder: MkDocs checks it against the docs
            inside = (
                self.docs / "posts" / self.folder.resolve().relative_to(self.root) / unquote(path)
            )
            inside = Path(os.path.normpath(inside))
            known = inside.exists() or inside.name in GENERATED_PAGES
            return target if known and inside.is_relative_to(self.docs.resolve()) else None
        return None

    def _candidates(self, path: str):
        if path.startswith("/"):
            yield self.root / path.lstrip("/")
            return
        yield self.folder / path
        if path.startswith(COPIED_FROM_NB):
            yield self.folder / path[len(COPIED_FROM_NB) :]
        stripped = path
        while stripped.startswith("../"):
            stripped = stripped[3:]
        if stripped != path:
            # fastpages' _notebooks/../images/x.png: the images folder is now posts/images.
            yield self.root / stripped
        # Site-root-relative paths in front matter (`image: images/x.png`) from a post in a
        # sub-folder.
        yield self.root / path


def _page_of(candidate: Path) -> Path:
    """A link to another post's notebook or Quarto file, or to its folder, means its page
    (``x.md`` in the docs, which MkDocs turns into the post's address)."""
    if candidate.suffix in (".ipynb", ".qmd") and candidate.is_file():
        return candidate.with_suffix(".md")
    if candidate.is_dir():
        # Quarto links a post by its folder (`../lecture-1`): the page is its index.
        for name in ("index.qmd", "index.ipynb", "index.md"):
            if (candidate / name).is_file():
                return candidate / "index.md"
    return candidate


def _is_post_page(candidate: Path) -> bool:
    """``x.md`` that exists only as a converted post (from ``x.ipynb`` or ``x.qmd``)."""
    return candidate.suffix == ".md" and any(
        candidate.with_suffix(suffix).is_file() for suffix in (".ipynb", ".qmd")
    )


def _split(target: str) -> tuple[str, str, str]:
    """(path, separator, query-or-fragment) of a link target."""
    cut = min((i for i in (target.find("#"), target.find("?")) if i >= 0), default=-1)
    if cut < 0:
        return target, "", ""
    return target[:cut], target[cut], target[cut + 1 :]


def fix_links(
    markdown: str, resolver: Resolver, path: Path, cell: int | None = None
) -> tuple[str, list[PostError]]:
    """Rewrite the link targets of one Markdown text; return it with the broken ones."""
    if "](" not in markdown and "]:" not in markdown and "<" not in markdown:
        return markdown, []
    problems: list[PostError] = []

    def fixed(target: str) -> str:
        bracketed = target.startswith("<") and target.endswith(">")
        inner = target[1:-1] if bracketed else target
        new = resolver.resolve(inner)
        if new is None:
            problems.append(
                PostError(
                    path,
                    f"links to `{inner}`, which doesn't exist.",
                    "Check the path: it is relative to the post's folder "
                    f"({posixpath.basename(str(resolver.folder)) or '.'}/), or starts with / "
                    "for the posts folder, where fastpages' images/ folder goes.",
                    cell=cell,
                )
            )
            return target
        return f"<{new}>" if bracketed else new

    return edit_outside_code(markdown, lambda text: _fix_line(text, fixed)), problems


def _fix_line(text: str, fixed) -> str:
    text = _INLINE.sub(lambda m: m[1] + fixed(m[2]), text)
    text = _REFERENCE.sub(lambda m: m[1] + fixed(m[2]), text)
    return _HTML.sub(lambda m: m[1] + m[2] + fixed(m[3]) + m[2], text)


def fix_image(
    value: str | None, resolver: Resolver, path: Path, cell: int | None = None
) -> str | None:
    """The front matter's `image`, resolved like a link; a missing file is a PostError."""
    if not value:
        return value
    new = resolver.resolve(value)
    if new is None:
        raise PostError(
            path,
            f"`image: {value}` names a file that doesn't exist.",
            "Give the path relative to the post, or remove `image:`.",
            cell=cell,
        )
    return new


def rewrite_html_targets(markdown: str, rewrite) -> str:
    """``rewrite(target)`` for the src/href of raw HTML outside code. MkDocs rewrites the
    Markdown links of a page for its final address but not raw HTML, which the site
    generator's adapter does with this."""
    if "<" not in markdown:
        return markdown
    return edit_outside_code(
        markdown, lambda text: _HTML.sub(lambda m: m[1] + m[2] + rewrite(m[3]) + m[2], text)
    )
