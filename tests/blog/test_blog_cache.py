"""The post cache: posts converted in parallel processes, and one exporter reused per process."""

import base64
import os
import re
import sys

import pytest
from blog_helpers import PNG_1PX, new_code_cell, new_markdown_cell, new_output, notebook, write_nb

from blog import PostError, Settings, convert
from blog import cache as cache_mod
from blog.cache import PostCache

# convert_missing runs its pool (forked processes) on Linux only.
LINUX = pytest.mark.skipif(sys.platform != "linux", reason="the pool runs on Linux only")


def figure_notebook(n: int):
    out = new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"})
    return notebook(
        new_markdown_cell(f"Post number {n}."),
        new_code_cell(
            f"print({n})", outputs=[new_output("stream", name="stdout", text=f"{n}\n"), out]
        ),
        header=f'# "Post {n}"\n> "Summary {n}"',
    )


@LINUX
def test_missing_posts_are_converted_in_worker_processes(tmp_path, monkeypatch):
    posts = [
        write_nb(tmp_path / "posts" / f"2026-01-{n + 1:02d}-p{n}.ipynb", figure_notebook(n))
        for n in range(6)
    ]
    (tmp_path / "posts" / "2026-02-01-text.md").write_text("---\ntitle: T\n---\n\nText.\n")
    posts.append(tmp_path / "posts" / "2026-02-01-text.md")
    cache = PostCache(tmp_path / "cache", Settings())
    assert cache.convert_missing(posts, workers=2) == 2
    entries = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert len(entries) == 7 and not any(p.name.startswith(".") for p in entries)

    # Every post is now an entry: get() must not convert anything in this process.
    def no_convert(*args, **kwargs):
        raise AssertionError("get() converted a post the workers had converted")

    monkeypatch.setattr(cache_mod, "convert", no_convert)
    for n, source in enumerate(posts[:6]):
        got = cache.get(source)
        page = got.page.read_text("utf-8")
        assert f"Post number {n}." in page and "output_" in page
        [figure] = [p for name, p in got.assets.items() if name.endswith(".png")]
        assert figure.read_bytes() == base64.b64decode(PNG_1PX)
    # Nothing left to convert: no pool is started.
    assert cache.convert_missing(posts, workers=2) == 0


@LINUX
def test_a_broken_post_in_the_pool_is_reported_by_get(tmp_path):
    posts = [
        write_nb(tmp_path / f"2026-01-{n + 1:02d}-p{n}.ipynb", figure_notebook(n)) for n in range(4)
    ]
    broken = tmp_path / "2026-01-09-broken.ipynb"
    broken.write_text("{not json", "utf-8")
    cache = PostCache(tmp_path / "cache", Settings())
    assert cache.convert_missing([*posts, broken], workers=2) == 2
    for source in posts:
        assert cache.get(source).page.is_file()
    with pytest.raises(PostError, match=re.escape("2026-01-09-broken.ipynb: is not valid JSON")):
        cache.get(broken)


def test_too_few_posts_or_one_core_convert_in_process(tmp_path):
    posts = [
        write_nb(tmp_path / f"2026-01-{n + 1:02d}-p{n}.ipynb", figure_notebook(n)) for n in range(3)
    ]
    cache = PostCache(tmp_path / "cache", Settings())
    assert cache.convert_missing(posts, workers=8) == 0  # 3 posts: below the pool's minimum
    more = [*posts, write_nb(tmp_path / "2026-01-05-p4.ipynb", figure_notebook(4))]
    assert cache.convert_missing(more, workers=1) == 0
    assert not (tmp_path / "cache").exists()  # nothing converted: get() will do it


def test_the_reused_exporter_keeps_nothing_from_the_last_notebook(tmp_path):
    settings = Settings(max_output_kb=1)
    first = write_nb(tmp_path / "2026-01-01-first.ipynb", figure_notebook(1))
    big = notebook(
        new_code_cell(
            "print('x' * 5000)", outputs=[new_output("stream", name="stdout", text="x" * 5000)]
        )
    )
    second = write_nb(tmp_path / "2026-01-02-second.ipynb", big)
    assert "2026-01-01-first_files/output_1_1.png" in convert(first, settings).assets
    with pytest.raises(PostError) as err:
        convert(second, settings)
    assert "2026-01-02-second.ipynb" in str(err.value) and "first" not in str(err.value)
    # A third notebook gets its own figures only.
    third = convert(write_nb(tmp_path / "2026-01-03-third.ipynb", figure_notebook(3)), settings)
    assert sorted(third.assets) == [
        "2026-01-03-third.ipynb",
        "2026-01-03-third_files/output_1_1.png",
    ]


def _die(root, settings, source):
    os._exit(3)  # a worker killed mid-conversion (out of memory, say)


@LINUX
def test_a_dead_worker_falls_back_to_converting_in_process(tmp_path, monkeypatch):
    posts = [
        write_nb(tmp_path / f"2026-01-{n + 1:02d}-p{n}.ipynb", figure_notebook(n)) for n in range(4)
    ]
    cache = PostCache(tmp_path / "cache", Settings())
    monkeypatch.setattr(cache_mod, "_convert_one", _die)
    assert cache.convert_missing(posts, workers=2) == 0
    for n, source in enumerate(posts):
        assert f"Post number {n}." in cache.get(source).page.read_text("utf-8")


@LINUX
def test_the_pool_runs_while_other_threads_do(tmp_path):
    """A foreign thread (tqdm's monitor, mkdocs serve's server) no longer turns the pool off:
    the workers come from a fork server instead of a fork of this threaded process."""
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        posts = [
            write_nb(tmp_path / f"2026-01-{n + 1:02d}-p{n}.ipynb", figure_notebook(n))
            for n in range(4)
        ]
        cache = PostCache(tmp_path / "cache", Settings())
        assert cache.convert_missing(posts, workers=2) == 2
        for n, source in enumerate(posts):
            assert f"Post number {n}." in cache.get(source).page.read_text("utf-8")
    finally:
        stop.set()
        thread.join()
