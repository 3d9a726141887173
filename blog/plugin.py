"""The MkDocs adapter: posts/ -> converted pages for mkdocs-material's blog plugin.

Kept deliberately thin (MkDocs 1.x is unmaintained; this is the part to port to another
generator). It asks :mod:`blog.cache` for each post and hands MkDocs ``File.generated`` objects
whose ``abs_src_path`` is the cached page, because Material's blog plugin opens posts from disk.
Nothing is written into ``posts/`` or the docs folder.
"""

from __future__ import annotations

import html
import logging
import os
import posixpath
import time
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel

from . import richjs
from .cache import PostCache
from .checks import check_post
from .convert import MORE, POST_SUFFIXES, Settings, skipped
from .demos import RUNTIME_DIR, RUNTIME_FILES, RUNTIME_PACKAGE, DemoIndex, replace_reports
from .errors import PostError, _display, each_error
from .links import rewrite_html_targets

log = logging.getLogger("mkdocs.plugins.notebook-posts")

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
BADGES = ("colab", "github", "binder", "download")
RICH_INIT = "assets/javascripts/rich-outputs.js"  # draws Vega and Plotly outputs


class NotebookPostsConfig(Config):
    posts_dir = c.Type(str, default="posts")  # the author's posts, relative to mkdocs.yml
    cache_dir = c.Type(str, default=".cache/blog")  # converted posts, relative to mkdocs.yml
    show_stderr = c.Type(bool, default=False)  # keep stderr outputs (warnings) in posts
    max_output_kb = c.Type(int, default=2048)  # one output larger than this fails the build
    repo = c.Optional(c.Type(str))  # "user/repo" for the badges; default: from repo_url
    branch = c.Type(str, default="main")  # the branch the badges point at
    badges = c.ListOfItems(c.Choice(BADGES), default=list(BADGES))  # which badges posts get
    mathjax = c.Type(str, default=MATHJAX_CDN)  # MathJax 3 script (a URL or a docs-relative path)
    models_dir = c.Type(str, default="models")  # exported model bundles, relative to mkdocs.yml
    demos_registry = c.Type(str, default="demos.json")  # written by `python -m demos deploy`
    # The local demo server (make preview sets DEMOS_URL): demo cards point there instead.
    demos_url = c.Optional(c.Type(str))
    # The in-browser demo pages' template, and the npm folder with ONNX Runtime Web and the
    # widget and chart scripts; each is looked for next to mkdocs.yml, then in the repository
    # this plugin comes from.
    demo_page_dir = c.Type(str, default="demos/web")
    node_modules = c.Type(str, default="node_modules")
    # A migrated fastpages blog: its old addresses (/CATEGORY/YYYY/MM/DD/slug.html) redirect to
    # the posts' new ones, so links from elsewhere keep working.
    fastpages_redirects = c.Type(bool, default=False)


class NotebookPostsPlugin(BasePlugin[NotebookPostsConfig]):
    """Convert posts/*.ipynb|*.md and add them where Material's blog plugin looks for posts."""

    def __init__(self):
        self.is_serve = False
        self.cache: PostCache | None = None
        self.posts: dict[Path, File] = {}
        self.sources: dict[str, Path] = {}  # a post page's src_uri -> its file in posts/
        self.aliases: dict[Path, list[str]] = {}
        self.rich_kinds: set[str] = set()  # widgets / vega / plotly: what the posts need
        self.requires: dict[str, list[str]] = {}  # a post page's src_uri -> the kinds it needs
        self.rich_local = False  # their scripts are served from the site (else from a CDN)
        self.hidden: list[tuple[File, object]] = []  # fastpages' `hide: true` posts
        self.build_errors: list[PostError | str] = []  # raised when the build ends

    def on_startup(self, *, command, dirty):
        self.is_serve = command == "serve"

    def on_config(self, config: MkDocsConfig):
        root = Path(config.config_file_path or ".").resolve().parent
        self.posts_dir = (root / self.config.posts_dir).resolve()
        if not self.posts_dir.is_dir():
            raise PluginError(
                f"notebook-posts: the posts folder {self.posts_dir} does not "
                "exist. Create it, or set `posts_dir` in mkdocs.yml."
            )
        repo = self.config.repo or _github_repo(config.repo_url)
        settings = Settings(
            show_stderr=self.config.show_stderr,
            max_output_kb=self.config.max_output_kb,
            repo=repo,
            branch=self.config.branch,
            posts_dir=os.path.relpath(self.posts_dir, root).replace(os.sep, "/"),
            badges=tuple(self.config.badges),
            posts_root=str(self.posts_dir),
            docs_root=str(Path(config.docs_dir).resolve()),
        )
        self.cache = PostCache(root / self.config.cache_dir, settings)
        self.root = root
        # MathJax reads the spans pymdownx.arithmatex (generic mode) leaves in the page.
        config.extra_javascript.append("assets/javascripts/mathjax-config.js")
        config.extra_javascript.append(self.config.mathjax)
        return config

    # Runs before Material's blog plugin (priority -50), which must find the posts as files.
    @event_priority(0)
    def _convert_posts(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        """Add every post, and what the posts link to, to the files MkDocs builds."""
        self._forget_posts()
        errors = self._add_demos(files, config)
        sources = self._post_sources()
        self._convert_changed(sources)
        seen: dict[tuple[str, str], Path] = {}  # addresses taken so far, for check_post
        for source in sources:
            if source.suffix in POST_SUFFIXES:
                errors.extend(self._add_post(files, config, source, seen))
            else:
                self._add_companion(files, config, source)
        self._add_rich_scripts(files, config)
        self._report(errors)
        return files

    def _forget_posts(self) -> None:
        """Start from nothing: under `mkdocs serve` every rebuild reads the posts again."""
        self.posts.clear()
        self.sources.clear()
        self.aliases.clear()
        self.hidden = []
        self.requires.clear()
        self.rich_kinds = set()

    def _add_demos(self, files: Files, config: MkDocsConfig) -> list[PostError | str]:
        """The bundles' demo pages and assets, and the Demos page; the problems found."""
        self.demos = DemoIndex(
            self.root / self.config.models_dir,
            self.root / self.config.demos_registry,
            os.environ.get("DEMOS_URL") or self.config.demos_url,
        )
        errors: list[PostError | str] = list(self.demos.problems)
        for uri, path in self.demos.published_assets().items():
            _add(files, File.generated(config, uri, abs_src_path=str(path)))
        errors.extend(self._add_demo_pages(files, config))
        if files.get_file_from_path("demos.md") is None:
            files.append(File.generated(config, "demos.md", content=self.demos.page()))
        return errors

    def _post_sources(self) -> list[Path]:
        """Every file under posts/ that is published: posts, and the files beside them."""
        return [
            s
            for s in sorted(self.posts_dir.rglob("*"))
            if s.is_file() and not skipped(s.relative_to(self.posts_dir))
        ]

    def _convert_changed(self, sources: list[Path]) -> None:
        """Convert new and edited posts in parallel, before they are added one by one."""
        assert self.cache is not None  # set in on_config, which MkDocs runs before on_files
        started = time.perf_counter()
        workers = self.cache.convert_missing([s for s in sources if s.suffix in POST_SUFFIXES])
        if workers:
            log.info(
                f"notebook-posts: converted new and edited posts on {workers} processes "
                f"in {time.perf_counter() - started:.1f} s"
            )

    def _add_companion(self, files: Files, config: MkDocsConfig, source: Path) -> None:
        """Images and data next to the posts, so the posts' relative links keep working."""
        rel = source.relative_to(self.posts_dir).as_posix()
        target = _material_posts_dir(config)
        _add(files, File.generated(config, f"{target}/{rel}", abs_src_path=str(source)))

    def _add_post(
        self, files: Files, config: MkDocsConfig, source: Path, seen: dict
    ) -> list[PostError | str]:
        """One post's page and assets, where Material's blog plugin looks; its problems."""
        assert self.cache is not None
        try:
            post = self.cache.get(source)
            for note in post.front.notes:
                log.info(f"notebook-posts: {_display(source)}: {note}")
            # Model reports are checked where they are rendered (on_page_markdown).
            check_post(source, post, seen, self.demos, reports=False)
        except PostError as err:
            if self.is_serve:
                self._add_error_page(files, config, source, err)
            return list(each_error(err))
        target = _material_posts_dir(config)
        rel = source.relative_to(self.posts_dir).as_posix()
        folder = posixpath.join(target, posixpath.dirname(rel))
        file = File.generated(
            config, posixpath.join(folder, f"{source.stem}.md"), abs_src_path=str(post.page)
        )
        if post.front.hidden and not post.front.draft:
            # Added after Material's blog plugin has collected its posts (see
            # _fix_asset_paths), so it is a page of its own that no list shows.
            self.hidden.append((file, post.front))
        else:
            _add(files, file)
        self.posts[source] = file
        self.sources[file.src_uri] = source
        self.rich_kinds.update(post.front.requires)
        self.requires[file.src_uri] = post.front.requires
        self.aliases[source] = list(post.front.aliases)
        if self.config.fastpages_redirects:
            self.aliases[source].append(fastpages_url(post.front, source))
        for name, path in post.assets.items():
            _add(
                files, File.generated(config, posixpath.join(folder, name), abs_src_path=str(path))
            )
        return []

    def _add_error_page(
        self, files: Files, config: MkDocsConfig, source: Path, err: PostError
    ) -> None:
        """Under `mkdocs serve`: show the problem where the post would be, and keep serving."""
        assert self.cache is not None
        log.error(str(err))
        # Material's blog plugin reads posts from disk, so the page is a file.
        page = self.cache.root / "errors" / f"{source.stem}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(self._error_page(source, err), "utf-8")
        self.cache.used.add("errors")
        target = _material_posts_dir(config)
        _add(files, File.generated(config, f"{target}/{source.stem}.md", abs_src_path=str(page)))

    def _report(self, errors: list[PostError | str]) -> None:
        if not self.is_serve:
            # Reported when the build ends (on_post_build), so that MkDocs' own checks of the
            # other pages (links outside the posts) come in the same run.
            self.build_errors = list(errors)
            return
        for problem in errors:
            if isinstance(problem, str):  # post errors were logged where they were found
                log.error(problem)

    # Runs after Material's blog plugin (priority -50), to mend what it does to asset paths.
    @event_priority(-100)
    def _fix_asset_paths(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        """Material's blog plugin removes the posts folder from the addresses of files next
        to the posts with ``str.replace``, which also rewrites any later folder whose name
        contains "posts" (fastpages' images/fastpages_posts/ became images/fastpages_./), and
        leaves static .html files where they were."""
        target = _material_posts_dir(config)
        root = posixpath.normpath(posixpath.dirname(target) or ".")
        for file in files:
            # Material moves media files only; an .html file next to the posts (an iframe's
            # page) must move with the images that sit beside it.
            if file.is_documentation_page() or not file.src_uri.startswith(target + "/"):
                continue
            dest = posixpath.normpath(posixpath.join(root, file.src_uri[len(target) + 1 :]))
            if file.dest_uri != dest:
                file.dest_uri = dest
                file.url = dest
                file.abs_dest_path = os.path.normpath(os.path.join(config.site_dir, dest))
        for file, front in self.hidden:
            url = _post_url(config, front)
            _add(files, file)
            file.dest_uri = url + "index.html" if config.use_directory_urls else url[:-1] + ".html"
            file.url = url if config.use_directory_urls else file.dest_uri
            file.abs_dest_path = os.path.normpath(os.path.join(config.site_dir, file.dest_uri))
            file.inclusion = InclusionLevel.NOT_IN_NAV  # on purpose: no "not in nav" note
        return files

    on_files = CombinedEvent(_convert_posts, _fix_asset_paths)

    def on_page_markdown(self, markdown, /, *, page, config, files):
        markdown = self._demo_markdown(markdown, page)
        if page.file.src_uri in self.sources:
            markdown = rewrite_html_targets(markdown, lambda t: _html_target(t, page, files))
        kinds = self.requires.get(page.file.src_uri)
        if kinds:
            # The page's scripts, for the template (site/overrides/main.html).
            root = "../" * page.url.count("/")
            page.meta["nb_scripts"] = [
                *richjs.scripts(kinds, root if self.rich_local else None),
                root + RICH_INIT,
            ]
        image = page.meta.get("image")
        if isinstance(image, str) and page.file.src_uri in self.sources:
            # The image is relative to the post; social sites need its absolute address.
            if image.startswith(("http://", "https://")):
                page.meta["og_image"] = image
            else:
                src = posixpath.normpath(
                    posixpath.join(posixpath.dirname(page.file.src_uri), image)
                )
                file = files.get_file_from_path(src)
                if file is not None:
                    page.meta["og_image"] = (config.site_url or "/").rstrip("/") + "/" + file.url
        return markdown

    def on_serve(self, server, /, *, config, builder):
        server.watch(str(self.posts_dir))
        return server

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.build_errors:
            errors, self.build_errors = self.build_errors, []
            count = f"{len(errors)} problem{'s' if len(errors) > 1 else ''} in the posts"
            raise PluginError(f"{count}:\n" + "\n".join(f"  {e}" for e in errors))
        self._write_aliases(config)
        if self.cache:
            self.cache.prune()

    # --- helpers -------------------------------------------------------------------------

    def _add_rich_scripts(self, files: Files, config: MkDocsConfig) -> None:
        """The browser files the posts' widgets and charts need: copied from node_modules
        (`npm ci`; the `node_modules` setting) into the site, or else loaded from the CDN that
        richjs names."""
        self.rich_local = False
        if not self.rich_kinds:
            return
        node_modules = _project_path(self.root, self.config.node_modules)
        self.rich_local = richjs.node_modules_ok(self.rich_kinds, node_modules)
        if self.rich_local:
            for vendor in richjs.files(self.rich_kinds):
                _add(
                    files,
                    File.generated(
                        config, vendor.site_path, abs_src_path=str(vendor.node_path(node_modules))
                    ),
                )
        else:
            log.info(
                "notebook-posts: widgets and charts load their scripts from "
                f"{richjs.CDN} (run `npm ci` to serve them from the site)"
            )
        _add(files, File.generated(config, RICH_INIT, content=richjs.INIT_JS))

    def _add_demo_pages(self, files: Files, config: MkDocsConfig) -> list[str]:
        """demos/NAME/: each bundle's in-browser demo, with ONNX Runtime Web from node_modules."""
        web_dir = _project_path(self.root, self.config.demo_page_dir)
        if not any(d.web_model for d in self.demos.demos.values()):
            return []
        if not (web_dir / "index.html").is_file():
            return [
                f"notebook-posts: the demo page's files are missing from {web_dir} "
                "(set `demo_page_dir` in mkdocs.yml to the template's demos/web folder)."
            ]
        node_modules = _project_path(self.root, self.config.node_modules)
        runtime = node_modules / RUNTIME_PACKAGE / "dist"
        missing = [f for f in RUNTIME_FILES if not (runtime / f).is_file()]
        if missing:
            return [
                f"notebook-posts: the in-browser demos need ONNX Runtime Web, but "
                f"{runtime} has no {', '.join(missing)}. Run `npm ci` next to "
                "package.json (it installs the pinned version), then build again."
            ]
        for file in RUNTIME_FILES:
            _add(
                files,
                File.generated(config, f"{RUNTIME_DIR}/{file}", abs_src_path=str(runtime / file)),
            )
        copied, written = self.demos.web_files(web_dir, RUNTIME_DIR)
        for uri, path in copied.items():
            _add(files, File.generated(config, uri, abs_src_path=str(path)))
        for uri, content in written.items():
            _add(files, File.generated(config, uri, content=content))
        return []

    def _demo_markdown(self, markdown: str, page) -> str:
        """The demo card at the top of a post, and model reports wherever they are asked for."""
        name = page.meta.get("demo")
        if isinstance(name, str) and name in self.demos.demos and MORE in markdown:
            card = self.demos.card(
                name, bool(page.meta.get("demo_embed")), posixpath.dirname(page.file.src_uri)
            )
            markdown = markdown.replace(MORE, f"{MORE}\n\n{card}", 1)
        source = self.sources.get(page.file.src_uri) or Path(
            page.file.abs_src_path or page.file.src_uri
        )

        def report(match):
            try:
                return self.demos.report(match[1], posixpath.dirname(page.file.src_uri), source)
            except PostError as err:
                if not self.is_serve:
                    self.build_errors.append(err)
                    return ""
                log.error(str(err))
                return f'!!! failure "Model report"\n\n    {html.escape(str(err))}\n'

        return replace_reports(markdown, report)

    def _error_page(self, source: Path, err: PostError) -> str:
        from .frontmatter import parse_filename

        try:
            date, slug = parse_filename(source)
        except PostError:
            date, slug = None, source.stem
        import datetime as dt

        date = date or dt.date.today()
        message = html.escape(str(err))
        return (
            f"---\ndate:\n  created: {date.isoformat()}\nslug: {slug}\n---\n\n"
            f"# Can't publish {source.name}\n\n<!-- more -->\n\n"
            f'!!! failure "This post has an error"\n\n    {message}\n\n'
            "    Fix the file and save it: this page reloads by itself.\n"
        )

    def _write_aliases(self, config: MkDocsConfig) -> None:
        """Old addresses (fastpages `permalink`, Quarto `aliases`) redirect to the post."""
        for source, aliases in self.aliases.items():
            file = self.posts.get(source)
            if not file or not aliases:
                continue
            target = "/" + file.url
            base = (config.site_url or "/").rstrip("/")
            site_dir = Path(config.site_dir).resolve()
            for alias in aliases:
                rel = alias.strip("/")
                if not rel:
                    continue
                name = rel if rel.endswith(".html") else f"{rel}/index.html"
                out = (site_dir / name).resolve()
                # An old address must stay inside the site and never replace a real page.
                if not out.is_relative_to(site_dir) or out.exists():
                    why = (
                        "is outside the site"
                        if not out.is_relative_to(site_dir)
                        else "is already a page of the site"
                    )
                    raise PluginError(
                        str(
                            PostError(
                                source,
                                f"the alias `{alias}` {why}.",
                                "Use the post's old address, e.g. `/2020/01/28/my-post.html`.",
                            )
                        )
                    )
                out.parent.mkdir(parents=True, exist_ok=True)
                url = html.escape(_join_site(base, target), quote=True)
                out.write_text(
                    f'<!doctype html><meta charset="utf-8"><title>Redirecting</title>'
                    f'<link rel="canonical" href="{url}">'
                    f'<meta http-equiv="refresh" content="0; url={url}">'
                    f'<a href="{url}">This post has moved.</a>\n',
                    "utf-8",
                )


def _post_url(config: MkDocsConfig, front) -> str:
    """The address Material's blog plugin gives a post (its post_url_format), ending in /."""
    blog = _blog_config(config)
    fmt, date_format, root = blog.post_url_format, blog.post_url_date_format, blog.blog_dir
    date = (
        date_format.replace("yyyy", f"{front.date:%Y}")
        .replace("MM", f"{front.date:%m}")
        .replace("dd", f"{front.date:%d}")
    )
    path = fmt.format(
        date=date,
        slug=front.slug,
        file=front.slug,
        categories="/".join(c.lower() for c in front.categories),
    )
    return posixpath.normpath(posixpath.join(root, path)).strip("/") + "/"


def _html_target(target: str, page, files: Files) -> str:
    """A raw-HTML src/href relative to the post's file, made relative to its page's address
    (a post in posts/ is served at YYYY/MM/DD/slug/)."""
    if not target or target.startswith(("#", "/", "{{")) or ":" in target.split("/")[0]:
        return target
    path, sep, rest = target.partition("#") if "#" in target else target.partition("?")
    src = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path))
    file = files.get_file_from_path(src)
    if file is None:
        return target
    return file.url_relative_to(page.file) + sep + rest


def fastpages_url(front, source: Path) -> str:
    """Where fastpages (Jekyll 4's default permalink) published a post:
    /CATEGORY/…/YYYY/MM/DD/TITLE.html, categories lower-cased and each once, TITLE the file
    name after its date with its case kept (Jekyll's "pretty" slug)."""
    import re
    from urllib.parse import quote

    categories: list[str] = []
    for category in front.categories:
        if category.lower() not in categories:
            categories.append(category.lower())
    name = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", source.stem)
    title = re.sub(r"[^A-Za-z0-9._~!$&'()+,;=@]+", "-", name).strip("-") or front.slug
    parts = [quote(c) for c in categories]
    return "/" + "/".join([*parts, f"{front.date:%Y/%m/%d}", f"{quote(title)}.html"])


def _join_site(base: str, path: str) -> str:
    from urllib.parse import urlparse

    prefix = urlparse(base).path.rstrip("/") if base.startswith("http") else ""
    return prefix + path


def _project_path(root: Path, rel: str) -> Path:
    """`rel` next to mkdocs.yml, or else in the repository that holds this package (a site
    folder made elsewhere still finds the template's demos/web and node_modules)."""
    here = root / rel
    if here.exists():
        return here
    home = Path(__file__).resolve().parent.parent / rel
    return home if home.exists() else here


def _add(files: Files, file: File) -> None:
    existing = files.get_file_from_path(file.src_uri)
    if existing is not None:
        files.remove(existing)
    files.append(file)


def _material_posts_dir(config: MkDocsConfig) -> str:
    """Where Material's blog plugin looks for posts, relative to the docs folder."""
    blog = _blog_config(config)
    return posixpath.normpath(blog.post_dir.format(blog=blog.blog_dir))


def _blog_config(config: MkDocsConfig):
    """The config of Material's blog plugin."""
    for name, plugin in config.plugins.items():
        if name.split("/")[-1] == "blog" and hasattr(plugin, "config"):
            return plugin.config
    raise PluginError(
        "notebook-posts needs mkdocs-material's blog plugin: add `- blog` "
        "after `- notebook-posts` under `plugins:` in mkdocs.yml."
    )


def _github_repo(repo_url: str | None) -> str | None:
    if repo_url and "github.com/" in repo_url:
        return repo_url.split("github.com/", 1)[1].strip("/").removesuffix(".git") or None
    return None
