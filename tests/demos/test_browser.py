"""The demo page in a real browser: Debian's headless chromium driven by Playwright."""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# gr.Label's headline: the top class, as the visitor reads it.
TOP_LABEL = "#prediction [data-testid=label-output-value]"


@pytest.fixture(scope="module")
def page():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_upload_shows_the_predicted_label(page, launched_app, tiny_bundle, bad_images):
    from playwright.sync_api import expect

    page.goto(launched_app, wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Colours")).to_be_visible(timeout=60_000)
    upload = page.locator("#image input[type=file]")

    upload.set_input_files(str(tiny_bundle / "examples" / "blue_0.png"))
    expect(page.locator(TOP_LABEL)).to_have_text("blue", timeout=30_000)

    # A bad file: a short message on the page, no traceback, and the page keeps working.
    page.reload(wait_until="domcontentloaded")
    upload.set_input_files(str(bad_images["text_named_png"][0]))
    expect(page.get_by_text('"notes.png" is not an image this demo can read').first).to_be_visible(
        timeout=30_000
    )
    assert "Traceback" not in page.content()
    page.reload(wait_until="domcontentloaded")
    upload.set_input_files(str(tiny_bundle / "examples" / "red_0.png"))
    expect(page.locator(TOP_LABEL)).to_have_text("red", timeout=30_000)

    # The bundle's examples are clickable and classify at once.
    page.reload(wait_until="domcontentloaded")
    page.get_by_role("button", name="green").first.click()
    expect(page.locator(TOP_LABEL)).to_have_text("green", timeout=30_000)
