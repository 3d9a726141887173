"""The demo page in a real browser: Debian's headless chromium driven by Playwright."""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def page():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_upload_shows_the_predicted_label(page, launched_app, tiny_bundle, bad_images):
    page.goto(launched_app, wait_until="domcontentloaded")
    page.get_by_text("Colours").first.wait_for(timeout=60_000)
    prediction = page.locator("#prediction")

    page.locator("#image input[type=file]").set_input_files(
        str(tiny_bundle / "examples" / "blue_0.png")
    )
    prediction.get_by_text("blue").first.wait_for(timeout=30_000)
    assert "blue" in prediction.inner_text()

    # A bad file: a short message on the page, no traceback, and the page keeps working.
    page.reload(wait_until="domcontentloaded")
    page.locator("#image input[type=file]").set_input_files(str(bad_images["text_named_png"][0]))
    toast = page.get_by_text("is not an image this demo can read").first
    toast.wait_for(timeout=30_000)
    assert "Traceback" not in page.content()
    page.reload(wait_until="domcontentloaded")
    page.locator("#image input[type=file]").set_input_files(
        str(tiny_bundle / "examples" / "red_0.png")
    )
    prediction.get_by_text("red").first.wait_for(timeout=30_000)
