"""Helpers for the blog tests: notebooks built in memory, sites built for real in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import jinja2
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[2]
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5"
    "ErkJggg=="
)


def notebook(*cells, header='# "A post"\n> "Its summary"', **metadata):
    """A notebook with a fastpages header cell followed by `cells`."""
    first = [new_markdown_cell(header)] if header else []
    nb = new_notebook(cells=first + list(cells))
    nb.metadata.update({"language_info": {"name": "python"}, **metadata})
    return nb


def write_nb(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


class Site:
    def __init__(self, root: Path):
        self.root = root
        self.posts = root / "posts"
        self.public = root / "public"

    def build(self, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """`mkdocs build --strict` in the site's folder, through MkDocs' own command line.

        In this process, with click's CliRunner, rather than in a new Python: the same
        command, options, plugins and logging, minus half a second of start-up per build
        (a third of the blog tests' time). What a subprocess would print is what comes back:
        MkDocs' log and our plugin's output, and a traceback if the build crashed.
        """
        env = {
            "NO_MKDOCS_2_WARNING": "1",
            "SITE_URL": "https://jane.github.io/blog/",
            **(env or {}),
        }
        result = run_mkdocs(self.root, ["build", "--strict"], env)
        if check and result.returncode != 0:
            raise AssertionError(f"mkdocs build failed:\n{result.stdout}\n{result.stderr}")
        return result

    def page(self, url_path: str) -> str:
        return (self.public / url_path / "index.html").read_text("utf-8")


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled Jinja templates kept in memory, for every build in this process."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _CompiledTemplates()


def run_mkdocs(root: Path, args: list[str], env: dict) -> subprocess.CompletedProcess:
    """`mkdocs ARGS` run in this process, in `root`, with what a subprocess would return."""
    import logging
    import traceback

    from click.testing import CliRunner
    from mkdocs import __main__ as mkdocs_main
    from mkdocs.commands import build as mkdocs_build
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.theme import Theme

    # MkDocs keeps plugin instances between builds in one process (for `mkdocs serve`);
    # a new command starts with none, as a new process would.
    MkDocsConfig.__dict__["plugins"].plugin_cache.clear()
    # Each run adds a log handler (bound to that run's captured stderr) and a filter that
    # drops repeated messages; both would outlive the run and touch the next one.
    logger = logging.getLogger("mkdocs")
    handlers, filters = list(logger.handlers), list(mkdocs_build.log.filters)
    wrapper = mkdocs_main.ColorFormatter.text_wrapper
    width, wrapper.width = wrapper.width, 0  # a pipe has no terminal width: no wrapping
    # Every build compiles the theme's templates afresh, half its time here; Jinja's own
    # bytecode cache (keyed by each template's name and source) shares the compiled code.
    get_env = Theme.get_env

    def get_cached_env(theme):
        jinja = get_env(theme)
        jinja.bytecode_cache = _TEMPLATES
        return jinja

    Theme.get_env = get_cached_env  # type: ignore[method-assign]
    here = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(mkdocs_main.cli, args, env=env)
    finally:
        os.chdir(here)
        Theme.get_env = get_env  # type: ignore[method-assign]
        wrapper.width = width
        logger.handlers[:] = handlers
        mkdocs_build.log.filters[:] = filters
    stderr = result.stderr
    if result.exc_info and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))  # as Python prints it
    return subprocess.CompletedProcess(["mkdocs", *args], result.exit_code, result.stdout, stderr)


def make_site(root: Path) -> Site:
    """A copy of the project's site (mkdocs.yml, site/) with an empty posts/ folder."""
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "site", root / "site")
    (root / "posts").mkdir()
    return Site(root)


__all__ = ["PNG_1PX", "new_code_cell", "new_markdown_cell", "new_output", "notebook", "write_nb"]
