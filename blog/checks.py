"""The checks a post gets beyond its own conversion, made alike by the build (blog.plugin)
and by `python -m blog check`, so that the two fail on exactly the same posts."""

from __future__ import annotations

from pathlib import Path

from .demos import DemoIndex, replace_reports
from .errors import PostError, _display


def check_post(
    source: Path, post, seen: dict[tuple[str, str], Path], demos: DemoIndex, *, reports: bool = True
) -> None:
    """Raise PostError when `post` (converted from `source`) would share an address with a
    post in `seen` (which it then joins), or names a demo or model report that doesn't exist.

    `reports=False` leaves the model reports to the caller (the build checks them where it
    renders them)."""
    key = (post.front.date.isoformat(), post.front.slug)
    if key in seen:
        raise PostError(
            source,
            f"has the same date and slug `{post.front.slug}` as "
            f"{_display(seen[key])}, so both would be published at one address.",
            "Rename one of the files or set `slug:` in its front matter.",
        )
    seen[key] = source
    if post.front.demo:
        demos.check(source, post.front.demo)
    if reports:
        replace_reports(post.markdown, lambda match: demos.report(match[1], "", source))
