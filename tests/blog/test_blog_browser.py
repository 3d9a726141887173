"""Headless Chromium on a built site: the home page, a post, its figure and its math."""

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from blog_helpers import ROOT, new_code_cell, new_markdown_cell, new_output, notebook, write_nb

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"

# A real 8x8 PNG (a red square), so the browser has something to decode.
RED_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQS"
           "ACj/P8Fu7N9hAAAAAElFTkSuQmCC")


@pytest.fixture
def served(site):
    """The built site over HTTP on a free port, with MathJax served locally (no network here)."""
    if not MATHJAX.is_dir():
        pytest.fail("MathJax is missing: run `npm ci` in the repository (make test does).")
    shutil.copytree(MATHJAX, site.root / "site" / "assets" / "mathjax")
    config = (site.root / "mkdocs.yml").read_text("utf-8")
    config = config.replace("  - notebook-posts:\n",
                            "  - notebook-posts:\n      mathjax: assets/mathjax/tex-mml-chtml.js\n")
    (site.root / "mkdocs.yml").write_text(config, "utf-8")
    write_nb(site.posts / "2026-03-04-bears.ipynb", notebook(
        new_markdown_cell("The loss is $\\sum_{i=1}^n (y_i - \\hat{y}_i)^2$."),
        new_code_cell("plot()", outputs=[new_output(
            "display_data", data={"image/png": RED_PNG, "text/plain": "<Figure>"})]),
        header='# "Is it a bear?"\n> "A classifier"'))
    site.build()
    handler = partial(_QuietHandler, directory=str(site.public))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_home_post_image_and_math(served):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does).")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(served)
            page.locator("a[href$='2026/03/04/bears/']").first.click()
            page.wait_for_url("**/2026/03/04/bears/")
            image = page.locator("article img[alt=png]")
            image.wait_for()
            assert image.evaluate("img => img.complete && img.naturalWidth") == 8
            page.locator("article mjx-container").first.wait_for(timeout=20_000)
            assert "\\sum" not in page.locator("article").inner_text()  # TeX was typeset
        finally:
            browser.close()
