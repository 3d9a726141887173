"""Front matter: read it in the three styles authors use and normalise it to one schema.

Styles:

- fastpages: the first Markdown cell of a notebook is ``# "Title"``, ``> "summary"`` and then
  ``- key: value`` lines (values are YAML: ``- categories: [fastai, vision]``).
- Quarto: the first cell of a notebook is a raw cell holding a ``---`` YAML block.
- Markdown posts: a ``---`` YAML block at the top of the file.

Whatever the style, the result is a :class:`FrontMatter` whose ``material_meta()`` is the
metadata mkdocs-material's blog plugin understands.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import PostError

# The keys a post may use, each mapped to its canonical name. Synonyms come from fastpages,
# Quarto and Jekyll, so a post moved from either works unchanged.
KEYS = {
    "title": "title",
    "description": "description",
    "summary": "description",
    "subtitle": "description",
    "date": "date",
    "categories": "categories",
    "category": "categories",  # Jekyll's singular form
    "tags": "tags",
    "author": "authors",
    "authors": "authors",
    "image": "image",
    "toc": "toc",
    "badges": "badges",
    "comments": "comments",
    "hide": "hide_post",  # fastpages: off the home page, still published at its address
    "draft": "draft",
    "search_exclude": "search_exclude",
    "pin": "pin",
    "sticky_rank": "pin",
    "permalink": "aliases",
    "aliases": "aliases",
    "redirect_from": "aliases",  # jekyll-redirect-from
    "published": "published",  # Jekyll: `published: false` keeps a post out of the site
    "slug": "slug",
    "demo": "demo",
    "demo_embed": "demo_embed",
    "layout": None,  # fastpages: always "post"
    "hide_binder_badge": "hide_binder_badge",
    "hide_colab_badge": "hide_colab_badge",
    "hide_github_badge": "hide_github_badge",
    "hide_download_badge": "hide_download_badge",
    "nb_path": None,  # fastpages internals
}

# Keys that fastpages, Jekyll or Quarto understand and that mean nothing for this site (themes,
# renderers, comments systems): accepted and ignored, so a migrated post needs no editing.
# Any other unknown key that looks like a typo of a known one is an error; the rest are ignored,
# as Jekyll and Quarto ignore them.
IGNORED = {
    # fastpages and Jekyll
    "branch",
    "use_math",
    "show_tags",
    "excerpt",
    "excerpt_separator",
    "last_modified_at",
    "mathjax",
    "header",
    "classes",
    "sidebar",
    "share",
    "related",
    "read_time",
    "lang",
    # Quarto document options, which only concern Quarto's own renderer
    "format",
    "jupyter",
    "execute",
    "editor",
    "engine",
    "date-format",
    "freeze",
    "number-sections",
    "code-tools",
    "code-fold",
    "bibliography",
    "reference-location",
    "title-block-banner",
    "title-block-style",
    "page-layout",
    "filters",
    "highlight-style",
    "fig-cap",
    "citation",
    "image-alt",
    "date-modified",
    "toc-depth",
    "toc-title",
    "toc-location",
    "lightbox",
    "keywords",
    "license",
    "copyright",
    "abstract",
    "listing",
    "appendix-style",
    "crossref",
    "cap-location",
    "fig-cap-location",
    "code-overflow",
    "code-line-numbers",
    "code-copy",
    "other-links",
    "draft-mode",
    "image-height",
    "image-width",
    "order",
    "description-meta",
    "twitter-card",
    "open-graph",
}

_FASTPAGES_TITLE = re.compile(r'^#\s+(?:"(?P<q>.*)"|(?P<p>.+?))\s*$')
_FASTPAGES_SUMMARY = re.compile(r'^>\s+(?:"(?P<q>.*)"|(?P<p>.+?))\s*$')
# fastpages read `- key: value` and `* key: value` bullets alike.
_FASTPAGES_KEY = re.compile(r"^\s*[-*]\s+(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*)$")
# A bullet that starts like a front-matter line but has no `key: value` shape (`- toc true`).
_FASTPAGES_BAD_KEY = re.compile(r"^\s*[-*]\s+(?P<key>[A-Za-z_][\w-]*)\b")
_YAML_BLOCK = re.compile(
    r"\A---[ \t]*\r?\n(?P<yaml>.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE
)


@dataclass
class FrontMatter:
    """Normalised front matter of one post."""

    title: str
    date: dt.date
    slug: str
    description: str = ""
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    image: str | None = None
    toc: bool = True
    badges: bool = True
    comments: bool = False
    draft: bool = False
    hidden: bool = False  # published, but listed nowhere (fastpages' `hide: true`)
    search_exclude: bool = False
    pin: bool = False
    aliases: list[str] = field(default_factory=list)
    demo: str | None = None
    demo_embed: bool = False
    hidden_badges: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)  # what was accepted but ignored, for the log
    requires: list[str] = field(default_factory=list)  # browser scripts (blog.richjs kinds)

    def material_meta(self) -> dict[str, Any]:
        """Metadata for mkdocs-material's blog plugin (and the RSS plugin)."""
        meta: dict[str, Any] = {"date": {"created": self.date}, "slug": self.slug}
        from .inline import plain_text

        # Titles and descriptions may hold HTML and Markdown (fastpages allowed it); where
        # only text fits (the title bar, <meta>, the feed) they are given as text.
        meta["title"] = plain_text(self.title)
        if self.description:
            meta["description"] = plain_text(self.description)
        if self.categories:
            meta["categories"] = self.categories
        if self.tags:
            meta["tags"] = self.tags
        if self.draft:
            meta["draft"] = True
        if self.pin:
            meta["pin"] = True
        if self.image:
            meta["image"] = self.image
        if self.search_exclude:
            meta["search"] = {"exclude": True}
        if not self.toc:
            meta["hide"] = ["toc"]
        if self.comments:
            meta["comments"] = True
        if self.demo:
            meta["demo"] = self.demo
            meta["demo_embed"] = self.demo_embed
        if self.authors:
            # Material's own author support needs an authors file with avatars; the post
            # template override shows these names instead.
            meta["post_authors"] = self.authors
        return meta


_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>[^/\\]+)$")


def parse_filename(path: Path) -> tuple[dt.date | None, str]:
    """Date and slug from ``YYYY-MM-DD-slug.ext``; (None, stem) when the name has no date."""
    # A Quarto post is a folder (posts/my-post/index.qmd): the folder names it.
    stem = path.parent.name if path.stem.lower() == "index" and path.parent.name else path.stem
    match = _NAME.match(stem)
    if not match:
        return None, slugify(stem)
    try:
        date = dt.date.fromisoformat(match["date"])
    except ValueError as err:
        raise PostError(
            path,
            f"the date in the file name ({match['date']}) is not a real date: {err}.",
            "Rename the file to YYYY-MM-DD-slug with a valid date.",
        ) from None
    return date, slugify(match["slug"])


def slugify(text: str) -> str:
    text = re.sub(r"[^\w\s-]", "", text.lower(), flags=re.UNICODE)
    return re.sub(r"[\s_-]+", "-", text).strip("-") or "post"


# --- reading the three styles ------------------------------------------------------------


def split_yaml_block(text: str) -> tuple[str | None, str]:
    """(the YAML between leading ``---`` lines, the rest), or (None, text) without a block."""
    match = _YAML_BLOCK.match(text.lstrip("\ufeff"))
    if not match:
        return None, text
    return match["yaml"], text.lstrip("\ufeff")[match.end() :]


def load_yaml(path: Path, text: str, *, cell: int | None = None, where: str = "") -> dict:
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1} of the block)" if mark else ""
        raise PostError(
            path,
            f"the front matter{where} is not valid YAML{line}: {getattr(err, 'problem', err)}.",
            "Check the quotes and indentation; quote values that contain ': '.",
            cell=cell,
        ) from None
    if not isinstance(data, dict):
        raise PostError(
            path,
            f"the front matter{where} must be `key: value` lines, not a {type(data).__name__}.",
            cell=cell,
        )
    return data


def parse_fastpages(path: Path, source: str, cell: int) -> tuple[dict, str] | None:
    """The fastpages header cell as (front matter, the rest of the cell), or None when the cell
    isn't one.

    A header starts with a level-1 heading, then the optional summary quote, then ``- key: value``
    (or ``* key: value``) lines. Prose after those lines stays in the post, as in fastpages. A
    heading followed by prose alone is an ordinary first cell, not a header.
    """
    lines = source.strip().splitlines()
    if not lines:
        return None
    title = _FASTPAGES_TITLE.match(lines[0])
    if not title:
        return None
    data: dict[str, Any] = {"title": title["q"] if title["q"] is not None else title["p"]}
    i = _skip_blank(lines, 1)
    if i < len(lines) and (summary := _FASTPAGES_SUMMARY.match(lines[i])):
        data["description"] = summary["q"] if summary["q"] is not None else summary["p"]
        i = _skip_blank(lines, i + 1)
    keys = 0
    while i < len(lines):
        line = lines[i]
        key = _FASTPAGES_KEY.match(line)
        bad = None if key else _FASTPAGES_BAD_KEY.match(line)
        # fastpages read every `- key: value` line as front matter; a bullet that merely starts
        # with a known key's name is a broken front-matter line.
        name = key["key"] if key else (bad["key"] if bad and bad["key"] in KEYS else None)
        if name is None:
            break  # prose (an ordinary list item, say): the rest of the cell stays in the post
        if key is None:
            raise PostError(
                path,
                f"the front-matter line `{line.strip()}` is not `- key: value`.",
                f"Write it as `- {name}: VALUE`, e.g. `- toc: true`.",
                cell=cell,
            )
        value = load_yaml(path, f"v: {key['value']}", cell=cell, where=f" line `{line.strip()}`")[
            "v"
        ]
        data[key["key"]] = value
        keys += 1
        i = _skip_blank(lines, i + 1)
    if keys == 0 and "description" not in data:
        return None
    return data, "\n".join(lines[i:])


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _unknown_key(key: str) -> str:
    """The note for a key this site doesn't use: ignored, as Jekyll and Quarto ignore it, with
    a did-you-mean when it looks like a typo of one it does use."""
    choices = sorted(k for k in KEYS if KEYS[k])
    close = difflib.get_close_matches(key.lower(), choices, n=1, cutoff=0.75)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    return f"front-matter key `{key}` is not one this site uses{hint}; it is ignored."


# --- normalising -------------------------------------------------------------------------


def normalise(
    path: Path, raw: dict, *, cell: int | None = None, fallback_title: str | None = None
) -> FrontMatter:
    """Check every key and value of raw front matter and build the :class:`FrontMatter`.

    ``fallback_title`` is used when the front matter has none (a post's first heading, or its
    file name), as Jekyll's titles_from_headings and Quarto do."""
    name_date, name_slug = parse_filename(path)
    canonical: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in raw.items():
        key = str(key)
        if key in IGNORED:
            continue
        if key not in KEYS:
            notes.append(_unknown_key(key))
            continue
        target = KEYS[key]
        if target is None:
            continue
        if target == "pin":
            value = _sticky(value) if key == "sticky_rank" else value
        if target == "aliases" or target == "authors":
            value = value if isinstance(value, list) else [value]
        if target == "published":
            target, value = "draft", not _bool(path, key, value, cell)
        canonical.setdefault(target, value)
        if key.startswith("hide_") and key.endswith("_badge") and _bool(path, key, value, cell):
            canonical.setdefault("hidden", set()).add(key[len("hide_") : -len("_badge")])

    title = canonical.get("title", fallback_title)
    if isinstance(title, (int, float)) and not isinstance(title, bool):
        title = str(title)  # `title: 2048` is a title, not a number
    if not isinstance(title, str) or not title.strip():
        raise PostError(path, "the post has no title.", _title_fix(path), cell=cell)
    date = _date(path, canonical.get("date"), name_date, cell)
    slug = canonical.get("slug") or name_slug
    if not isinstance(slug, str) or not re.fullmatch(r"[\w-]+", slug):
        raise PostError(
            path, f"slug `{slug}` may only contain letters, digits, - and _.", cell=cell
        )
    demo = canonical.get("demo")
    if demo is not None and (not isinstance(demo, str) or not re.fullmatch(r"[\w.-]+", demo)):
        raise PostError(
            path,
            f"`demo: {demo}` is not a demo name.",
            "Use the name of a folder in models/, e.g. `demo: digits`.",
            cell=cell,
        )
    return FrontMatter(
        title=title.strip(),
        date=date,
        slug=slug,
        description=_text(path, "description", canonical.get("description", ""), cell),
        categories=_strings(path, "categories", canonical.get("categories"), cell),
        tags=_strings(path, "tags", canonical.get("tags"), cell),
        authors=_authors(path, canonical.get("authors"), cell),
        image=_text(path, "image", canonical.get("image"), cell) or None,
        toc=_bool(path, "toc", canonical.get("toc", True), cell),
        badges=_bool(path, "badges", canonical.get("badges", True), cell),
        comments=_comments(path, canonical.get("comments", False), cell),
        draft=_bool(path, "draft", canonical.get("draft", False), cell),
        hidden=_bool(path, "hide", canonical.get("hide_post", False), cell),
        search_exclude=_bool(path, "search_exclude", canonical.get("search_exclude", False), cell),
        pin=_bool(path, "pin", canonical.get("pin", False), cell),
        aliases=_strings(path, "aliases", canonical.get("aliases"), cell),
        demo=demo,
        demo_embed=_bool(path, "demo_embed", canonical.get("demo_embed", False), cell),
        hidden_badges=canonical.get("hidden", set()),
        notes=notes,
    )


def _title_fix(path: Path) -> str:
    if path.suffix == ".ipynb":
        return (
            'Start the notebook with a Markdown cell `# "My Title"` (fastpages) or a raw cell '
            "holding `---` / `title: My Title` / `---` (Quarto)."
        )
    return "Start the file with `---` / `title: My Title` / `---`."


def _date(path: Path, value: Any, from_name: dt.date | None, cell: int | None) -> dt.date:
    if value is None:
        if from_name is None:
            raise PostError(
                path,
                "the post has no date.",
                "Name the file YYYY-MM-DD-slug or add `date: YYYY-MM-DD`.",
                cell=cell,
            )
        return from_name
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    date = _loose_date(str(value))
    if date is None:
        raise PostError(
            path,
            f"`date: {value}` is not a date.",
            "Write it as YYYY-MM-DD, e.g. `date: 2026-01-31`.",
            cell=cell,
        )
    return date


def _authors(path: Path, value: Any, cell: int | None) -> list[str]:
    """Author names; Quarto's `- name: ... / url: ...` entries become links."""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        names = []
        for entry in value:
            if not isinstance(entry, dict):
                names.extend(_strings(path, "author", [entry], cell))
                continue
            name = entry.get("name")
            if isinstance(name, dict):  # Quarto: name: {given: Ada, family: Lovelace}
                name = " ".join(str(name[k]) for k in ("given", "family") if name.get(k))
            if not isinstance(name, str) or not name.strip():
                raise PostError(
                    path,
                    f"an `author` entry has no `name`: {entry!r}.",
                    "Give each author a `name:` (and optionally a `url:`).",
                    cell=cell,
                )
            url = entry.get("url")
            names.append(
                f'<a href="{url}">{name.strip()}</a>' if isinstance(url, str) else name.strip()
            )
        return names
    return _strings(path, "author", value, cell)


_MONTHS = {
    name: i
    for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _loose_date(text: str) -> dt.date | None:
    """The date forms Quarto and Jekyll posts use besides ISO: 5/22/2021, May 22, 2021,
    22 May 2021, 2021-05-22 10:30:00 +0100."""
    text = text.strip()
    if text.lower() in {"today", "now", "last-modified"}:
        return dt.date.today()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})\b.*", text):
        parts = (int(m[1]), int(m[2]), int(m[3]))
    elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
        parts = (int(m[3]), int(m[1]), int(m[2]))  # Quarto's US order: month/day/year
    elif m := re.fullmatch(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", text):
        parts = (int(m[3]), _MONTHS.get(m[1].lower(), 0), int(m[2]))
    elif m := re.fullmatch(r"(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})", text):
        parts = (int(m[3]), _MONTHS.get(m[2].lower(), 0), int(m[1]))
    else:
        return None
    try:
        return dt.date(*parts)
    except ValueError:
        return None


def _comments(path: Path, value: Any, cell: int | None) -> bool:
    # Quarto configures its comment systems under the key (`comments: {utterances: ...}`).
    if isinstance(value, dict):
        return bool(value)
    return _bool(path, "comments", value, cell)


def _sticky(value: Any) -> bool:
    # fastpages' sticky_rank orders pinned posts; material only pins, so any rank pins.
    return value is not None and value is not False


def _bool(path: Path, key: str, value: Any, cell: int | None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "yes", "no"}:
        return value.lower() in {"true", "yes"}
    raise PostError(path, f"`{key}: {value}` must be true or false.", cell=cell)


def _text(path: Path, key: str, value: Any, cell: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    raise PostError(path, f"`{key}` must be text, not a {type(value).__name__}.", cell=cell)


def _strings(path: Path, key: str, value: Any, cell: int | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # fastpages allowed `categories: a, b` as well as a YAML list.
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise PostError(path, f"`{key}` must be a list like [a, b], not {value!r}.", cell=cell)
