"""A content-hash cache of converted posts, kept across builds (and restored in CI).

An entry is a folder named after the hash of the post's bytes, the conversion settings and the
converter's own source, holding the Markdown page, its assets and ``post.json``. The page files
stay in the cache: the MkDocs plugin points ``File.generated(abs_src_path=...)`` at them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .convert import Settings, convert
from .frontmatter import FrontMatter


@cache
def _converter_hash() -> str:
    """Hash of this package's converter sources: a new converter invalidates every entry."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in {".py", ".j2", ".json"} and path.name != "plugin.py":
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class CachedPost:
    """A converted post on disk: ``page`` is the Markdown file, ``assets`` map to files."""

    source: Path
    front: FrontMatter
    page: Path
    assets: dict[str, Path]


class PostCache:
    def __init__(self, root: str | Path, settings: Settings):
        self.root = Path(root)
        self.settings = settings
        self.used: set[str] = set()

    def key(self, source: Path, data: bytes) -> str:
        digest = hashlib.sha256()
        for part in (_converter_hash(), self.settings.key(), source.name):
            digest.update(part.encode())
            digest.update(b"\0")
        digest.update(data)
        # Quarto's _metadata.yml files give the post default front matter.
        from .convert import metadata_files

        for meta in metadata_files(source, self.settings.root()):
            digest.update(b"\0" + meta.read_bytes())
        return digest.hexdigest()[:24]

    def get(self, source: Path) -> CachedPost:
        """The converted post, from the cache or converted now (raises PostError)."""
        key = self.key(source, source.read_bytes())
        self.used.add(key)
        entry = self.root / key
        manifest = entry / "post.json"
        if manifest.is_file():
            cached = self._load(source, entry, json.loads(manifest.read_text("utf-8")))
            if cached.page.is_file() and all(p.is_file() for p in cached.assets.values()):
                return cached
            shutil.rmtree(entry, ignore_errors=True)  # damaged (an interrupted prune): redo it
        post = convert(source, self.settings)
        # Written to a temporary folder and renamed, so a build killed half-way never leaves
        # an entry that looks complete.
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
        try:
            (tmp / f"{source.stem}.md").write_text(post.markdown, "utf-8")
            for name, content in post.assets.items():
                target = tmp / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            record = {
                "front": _front_to_json(post.front),
                "page": f"{source.stem}.md",
                "assets": sorted(post.assets),
            }
            (tmp / "post.json").write_text(json.dumps(record, indent=1), "utf-8")
            try:
                os.replace(tmp, entry)
            except OSError:  # another build wrote the same entry meanwhile: theirs is as good
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self._load(source, entry, record)

    def convert_missing(self, sources: list[Path], workers: int | None = None) -> int:
        """Convert the posts that have no entry yet in parallel processes, so that the
        ``get`` calls that follow find them; returns how many processes ran (0: none did).

        A cold build of many notebooks is mostly nbconvert's work, which a process pool
        spreads over the cores (on Linux; elsewhere, and for a post or two, ``get`` converts
        them one by one). Forked workers start fastest, inheriting the imported modules, but
        forking a process that runs other threads (``mkdocs serve``'s server, tqdm's monitor)
        risks a deadlock on a lock one of them held: then a fork server, started afresh,
        makes the workers. A post that fails here is left for ``get``, which raises its error.
        """
        missing = []
        for source in sources:
            key = self.key(source, source.read_bytes())
            if not (self.root / key / "post.json").is_file():
                missing.append(source)
        workers = min(workers or _cores(), len(missing))
        if workers < 2 or len(missing) < MIN_PARALLEL or sys.platform != "linux":
            return 0
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if any(s.suffix == ".ipynb" for s in missing):
            import nbconvert  # noqa: F401  (imported once here, shared by the forked workers)
        context: multiprocessing.context.BaseContext
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["blog.cache"])
        try:
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                list(
                    pool.map(
                        _convert_one,
                        [self.root] * len(missing),
                        [self.settings] * len(missing),
                        missing,
                    )
                )
        except (BrokenProcessPool, OSError):
            # A worker died (out of memory, killed) or none could start: get() converts
            # whatever is still missing, one by one, and reports any error itself.
            return 0
        return workers

    def _load(self, source: Path, entry: Path, record: dict) -> CachedPost:
        return CachedPost(
            source=source,
            front=_front_from_json(record["front"]),
            page=entry / record["page"],
            assets={name: entry / name for name in record["assets"]},
        )

    def prune(self) -> None:
        """Remove the entries this build didn't use (edited or deleted posts)."""
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            # Dot-folders are entries another build is writing right now.
            if entry.is_dir() and entry.name not in self.used and not entry.name.startswith("."):
                shutil.rmtree(entry, ignore_errors=True)


MIN_PARALLEL = 4  # fewer posts than this to convert: a pool costs more than it saves


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, CI)
    except AttributeError:
        return os.cpu_count() or 1


def _convert_one(root: Path, settings: Settings, source: Path) -> bool:
    """A pool worker: write one post's entry; False when it failed (get() raises it again)."""
    try:
        PostCache(root, settings).get(source)
    except Exception:  # PostError doesn't pickle; the parent reports it
        return False
    return True


def _front_to_json(front: FrontMatter) -> dict:
    data = dict(front.__dict__)
    data["date"] = front.date.isoformat()
    data["hidden_badges"] = sorted(front.hidden_badges)
    return data


def _front_from_json(data: dict) -> FrontMatter:
    data = dict(data)
    data["date"] = dt.date.fromisoformat(data["date"])
    data["hidden_badges"] = set(data["hidden_badges"])
    return FrontMatter(**data)
