"""python -m blog: convert, check and start posts without MkDocs.

python -m blog convert posts/2026-01-31-my-model.ipynb    # prints the Markdown
python -m blog check                                       # validates every post
python -m blog new "My first model"                        # a dated notebook to start from
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import nbformat

from .checks import check_post
from .convert import POST_SUFFIXES, Settings, convert, skipped
from .demos import DemoIndex
from .errors import PostError
from .frontmatter import slugify


def cmd_convert(args) -> int:
    """Print the Markdown page of one post (front matter included); --assets DIR writes its
    figures too."""
    post = convert(args.post, Settings(show_stderr=args.show_stderr))
    sys.stdout.write(post.markdown)
    if args.assets:
        for name, content in post.assets.items():
            target = Path(args.assets) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        print(f"wrote {len(post.assets)} asset(s) to {args.assets}", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    """Convert every post in the folder and report each problem, the demos and model reports
    they name included; exit 1 if there is any."""
    docs, site = _site_settings(Path(args.config))
    folder = Path(args.posts_dir or site.get("posts_dir") or "posts")
    models = Path(args.models or site.get("models_dir") or "models")
    registry = Path(args.registry or site.get("demos_registry") or "demos.json")
    if not folder.is_dir():
        raise PostError(folder, "is not a folder.", "Pass the folder that holds your posts.")
    sources = [
        p
        for p in sorted(folder.rglob("*"))
        if p.suffix in POST_SUFFIXES and p.is_file() and not skipped(p.relative_to(folder))
    ]
    problems = 0
    seen: dict[tuple[str, str], Path] = {}
    demos = DemoIndex(models, registry)
    for problem in demos.problems:
        problems += 1
        print(f"error: {problem}", file=sys.stderr)
    for source in sources:
        try:
            post = convert(source, Settings(posts_root=str(folder), docs_root=docs))
            check_post(source, post, seen, demos)
        except PostError as err:
            problems += 1
            print(f"error: {err}", file=sys.stderr)
        else:
            state = " (draft)" if post.front.draft else ""
            print(f"ok     {source}  ->  {post.front.date:%Y/%m/%d}/{post.front.slug}{state}")
            for note in post.front.notes:
                print(f"note:  {source}: {note}", file=sys.stderr)
    print(f"{len(sources)} post(s), {problems} with problems.")
    return 1 if problems else 0


def _site_settings(config: Path) -> tuple[str, dict]:
    """The docs folder mkdocs.yml names (links that leave the posts folder point into it; ""
    without a config: then such links are left to the build), and the notebook-posts
    plugin's settings there (posts_dir, models_dir, demos_registry), as the build reads them."""
    import yaml

    class _Loader(yaml.SafeLoader):  # mkdocs.yml's !ENV and !!python/name tags read as null
        pass

    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        data = yaml.load(config.read_text("utf-8"), _Loader) or {}
    except (OSError, yaml.YAMLError):
        return "", {}
    plugin: dict = {}
    for entry in data.get("plugins") or []:
        if isinstance(entry, dict) and isinstance(entry.get("notebook-posts"), dict):
            plugin = entry["notebook-posts"]
    docs = str((config.parent / str(data.get("docs_dir") or "docs")).resolve())
    # Folders in the plugin's settings are relative to mkdocs.yml.
    settings = {
        key: str(config.parent / str(plugin[key]))
        for key in ("posts_dir", "models_dir", "demos_registry")
        if plugin.get(key)
    }
    return docs, settings


def cmd_new(args) -> int:
    """Create posts/YYYY-MM-DD-slug.ipynb with fastpages front matter, ready to open in Jupyter."""
    try:
        date = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    except ValueError:
        raise PostError(
            Path(args.posts_dir),
            f"--date {args.date} is not a date.",
            "Write it as YYYY-MM-DD, e.g. --date 2026-01-31.",
        ) from None
    path = Path(args.posts_dir) / f"{date.isoformat()}-{slugify(args.title)}.ipynb"
    if path.exists():
        raise PostError(path, "already exists.", "Choose another title or remove the file.")
    header = "\n".join(
        [
            f'# "{args.title}"',
            '> "One sentence that says what this post is about."',
            "",
            "- toc: true",
            "- badges: true",
            "- categories: [" + ", ".join(args.category or ["notes"]) + "]",
        ]
    )
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(header),
            nbformat.v4.new_markdown_cell("Write your introduction here."),
            nbformat.v4.new_code_cell("#hide\n# Setup code that readers don't need to see."),
            nbformat.v4.new_code_cell("print('Hello, blog!')"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blog",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "convert", help="print one post as Markdown", description=cmd_convert.__doc__
    )
    p.add_argument("post", help="a .ipynb or .md file")
    p.add_argument("--assets", metavar="DIR", help="also write figures to DIR (default: don't)")
    p.add_argument("--show-stderr", action="store_true", help="keep stderr outputs (default: drop)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("check", help="validate every post", description=cmd_check.__doc__)
    p.add_argument(
        "posts_dir",
        nargs="?",
        default=None,
        help="folder of posts (default: the plugin's posts_dir in --config, else posts)",
    )
    p.add_argument(
        "--models",
        default=None,
        help="bundles that `demo:` and model_report may name (default: the plugin's "
        "models_dir in --config, else models)",
    )
    p.add_argument(
        "--registry",
        default=None,
        help="deployed demos, written by `python -m demos deploy` (default: the "
        "plugin's demos_registry in --config, else demos.json)",
    )
    p.add_argument(
        "--config",
        default="mkdocs.yml",
        help="the site's config: its docs folder (for links from posts to its other "
        "pages) and the notebook-posts plugin's settings (default: mkdocs.yml)",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("new", help="start a new notebook post", description=cmd_new.__doc__)
    p.add_argument("title", help='the post\'s title, e.g. "Is it a bear?"')
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--category", action="append", help="a category (repeatable; default: notes)")
    p.add_argument("--posts-dir", default="posts", help="where to create it (default: posts)")
    p.set_defaults(func=cmd_new)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PostError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
