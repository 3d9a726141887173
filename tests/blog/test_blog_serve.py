"""`mkdocs serve`: a broken post shows its error on the page, and fixing it reloads the site."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(url: str, text: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    body = None
    while time.monotonic() < deadline:
        body = fetch(url)
        if body and text in body:
            return body
        time.sleep(0.5)
    raise AssertionError(f"{url} never showed {text!r}; last body: {(body or '')[:500]}")


@pytest.fixture
def serve(site):
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": base}
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=site.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield site, base, process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_error_page_then_live_fix(serve):
    site, base, process = serve
    post = site.posts / "2026-01-02-hello.md"
    post.write_text("---\ntitle: Hello\ndate: soon\n---\n\nFixed body.\n", "utf-8")
    # The server starts in spite of the broken post and shows the error where the post would be.
    page = wait_for(base + "2026/01/02/hello/", "Can't publish")
    assert "<code>date: soon</code> is not a date" in page
    assert process.poll() is None
    # Saving the fixed file rebuilds the site (posts/ is watched).
    post.write_text("---\ntitle: Hello\n---\n\nFixed body.\n", "utf-8")
    page = wait_for(base + "2026/01/02/hello/", "Fixed body.")
    assert "Can't publish" not in page
    assert process.poll() is None


def test_drafts_show_in_serve(serve):
    site, base, _ = serve
    (site.posts / "2026-01-03-wip.md").write_text(
        "---\ntitle: Work in progress\ndraft: true\n---\n\nNot yet.\n", "utf-8"
    )
    wait_for(base + "2026/01/03/wip/", "Not yet.")
