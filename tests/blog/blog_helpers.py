"""Helpers for the blog tests: notebooks built in memory, sites built for real in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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

    def build(
        self, *extra: str, check: bool = True, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "SITE_URL": "https://jane.github.io/blog/",
            **(env or {}),
        }
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", *extra],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"mkdocs build failed:\n{result.stdout}\n{result.stderr}")
        return result

    def page(self, url_path: str) -> str:
        return (self.public / url_path / "index.html").read_text("utf-8")


def make_site(root: Path) -> Site:
    """A copy of the project's site (mkdocs.yml, site/) with an empty posts/ folder."""
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "site", root / "site")
    (root / "posts").mkdir()
    return Site(root)


__all__ = ["PNG_1PX", "new_code_cell", "new_markdown_cell", "new_output", "notebook", "write_nb"]
