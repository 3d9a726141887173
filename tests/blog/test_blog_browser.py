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
RED_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQS"
    "ACj/P8Fu7N9hAAAAAElFTkSuQmCC"
)


@pytest.fixture
def served(site):
    """The built site over HTTP on a free port, with MathJax served locally (no network here)."""
    if not MATHJAX.is_dir():
        pytest.fail("MathJax is missing: run `npm ci` in the repository (make test does).")
    shutil.copytree(MATHJAX, site.root / "site" / "assets" / "mathjax")
    config = (site.root / "mkdocs.yml").read_text("utf-8")
    config = config.replace(
        "  - notebook-posts:\n",
        "  - notebook-posts:\n      mathjax: assets/mathjax/tex-mml-chtml.js\n",
    )
    (site.root / "mkdocs.yml").write_text(config, "utf-8")
    write_nb(
        site.posts / "2026-03-04-bears.ipynb",
        notebook(
            new_markdown_cell("The loss is $\\sum_{i=1}^n (y_i - \\hat{y}_i)^2$."),
            new_code_cell(
                "plot()",
                outputs=[
                    new_output(
                        "display_data", data={"image/png": RED_PNG, "text/plain": "<Figure>"}
                    )
                ],
            ),
            header='# "Is it a bear?"\n> "A classifier"',
        ),
    )
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


def test_post_with_callouts_widgets_table_footnote_and_chart(site, tmp_path):
    """A migrated-style post, built for real and opened in Chromium: every construct shows as
    in Jupyter or fastpages, with no request leaving 127.0.0.1 (the widget and chart scripts
    are the site's copies from the template's node_modules)."""
    from test_blog_widgets import (
        SLIDER_REPR,
        fixture_altair_outputs,
        slider_models,
        tqdm_models,
        view,
        with_state,
    )

    sync_api = pytest.importorskip("playwright.sync_api")
    if not (ROOT / "node_modules" / "@jupyter-widgets" / "html-manager").is_dir():
        pytest.fail("node_modules is missing: run `npm ci` in the repository (make test does).")
    nb = notebook(
        new_markdown_cell(
            "Steps:\n- train\n  > Tip: start small\n- export\n\n"
            "{% include important.html content='Mind the learning rate.' %}\n\n"
            "A claim{% fn 1 %}.\n\n{{ 'The source.' | fndetail: 1 }}"
        ),
        new_code_cell("for epoch in tqdm(range(10)): ...", outputs=[view("t-box", "HBox()")]),
        new_code_cell("slider", outputs=[view("s-slider", SLIDER_REPR)]),
        new_code_cell(
            "df",
            outputs=[
                new_output(
                    "execute_result",
                    data={
                        "text/html": '<table class="dataframe"><thead><tr><th>epoch</th>'
                        "<th>loss</th></tr></thead><tbody><tr><td>0</td><td>0.52</td></tr></tbody></table>",
                        "text/plain": "df",
                    },
                )
            ],
        ),
        new_code_cell("alt.Chart(df).mark_point()", outputs=[fixture_altair_outputs()[0]]),
        header='# "Everything at once"\n> "Call-outs, widgets, a table and a footnote"',
    )
    write_nb(
        site.posts / "2026-03-05-everything.ipynb",
        with_state(nb, {**slider_models(), **tqdm_models()}),
    )
    site.build()
    handler = partial(_QuietHandler, directory=str(site.public))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    outside: list[str] = []
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1000, "height": 800})

                def route(request):
                    if not request.request.url.startswith(base):
                        outside.append(request.request.url)
                        return request.abort()
                    return request.continue_()

                page.route("**/*", route)
                page.goto(base + "2026/03/05/everything/", wait_until="load")
                article = page.locator("article")
                # The tip sits inside the first list item; the include became a call-out.
                assert page.locator("article li .admonition.tip").count() == 1
                assert page.locator("article .admonition.danger").is_visible()
                # The slider rendered from its saved state; the progress bar left nothing.
                page.locator("article .widget-slider").first.wait_for(timeout=20_000)
                assert page.locator("article .widget-hprogress, article progress").count() == 0
                text = article.inner_text()
                for leak in ("HBox(", "IntSlider(", "{%", "{{", "fndetail"):
                    assert leak not in text
                # The table is styled apart; the footnote links to its note.
                cell = page.locator("article .nb-output table.dataframe td").first
                assert cell.is_visible()
                assert page.locator("article .footnote li").count() == 1
                # The Altair chart drew with the site's vega-embed.
                page.locator("article .nb-vega canvas, article .nb-vega svg").first.wait_for(
                    timeout=20_000
                )
                shot = tmp_path / "post.png"
                article.screenshot(path=str(shot))
                assert shot.stat().st_size > 20_000  # a real picture, not a blank page
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    # MathJax is the one script the site itself takes from a CDN (see the fixture above).
    assert [url for url in outside if "/mathjax@" not in url] == []
