"""The demo page in a real browser: Debian's headless chromium driven by Playwright."""

from __future__ import annotations

import shutil

import pytest

from demos import runtime

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# gr.Label's headline: the top class, as the visitor reads it.
TOP_LABEL = "#prediction [data-testid=label-output-value]"
# The image in the input, once there is one (the empty input shows icons, no <img>).
INPUT_IMAGE = "#image img"
THUMBNAILS = "#examples img"
TOAST = "[data-testid=toast-body]"
MESSAGE = "#message [role=alert]"
# The tiny bundle's examples, in model.json's order.
EXAMPLES = ["red", "green", "blue"]


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


def _open(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Colours").first).to_be_visible(timeout=60_000)


def _wait_until_loaded(page, image, timeout: float = 30_000) -> None:
    """Wait until an <img> shows a real picture; a 404 leaves naturalWidth 0 (a timeout)."""
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=timeout
    )


def test_upload_shows_the_predicted_label(page, launched_app, tiny_bundle, bad_images):
    from playwright.sync_api import expect

    _open(page, launched_app)
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


@pytest.mark.parametrize("where", ["launched", "colours", "colours-crop"])
def test_examples_are_thumbnails_that_load_into_the_input(where, page, request):
    """Image thumbnails without captions (a caption would give the answer away); a click
    puts the picture in the input, which loads, as a Space runs the app and under
    `python -m demos serve` at /NAME/ (where it used to ask for /gradio_api/file=... and
    get a 404), and classifies it."""
    from playwright.sync_api import expect

    if where == "launched":
        url = prefix = request.getfixturevalue("launched_app")
    else:
        url = prefix = f"{request.getfixturevalue('served')}/{where}/"
    _open(page, url)
    thumbnails = page.locator(THUMBNAILS)
    expect(thumbnails).to_have_count(len(EXAMPLES), timeout=30_000)
    for i in range(len(EXAMPLES)):
        _wait_until_loaded(page, thumbnails.nth(i))
        assert thumbnails.nth(i).get_attribute("src").startswith(prefix)
    shown = page.locator("#examples").inner_text().lower()
    attributes = " ".join(
        thumbnails.nth(i).get_attribute(name) or ""
        for i in range(len(EXAMPLES))
        for name in ("alt", "title", "aria-label")
    ).lower()
    for answer in EXAMPLES:
        assert answer not in shown and answer not in attributes, answer

    for i, answer in enumerate(EXAMPLES):
        thumbnails.nth(i).click()
        expect(page.locator(TOP_LABEL)).to_have_text(answer, timeout=30_000)
        image = page.locator(INPUT_IMAGE)
        expect(image).to_have_count(1, timeout=30_000)
        assert image.get_attribute("src").startswith(prefix)
        _wait_until_loaded(page, image)


def test_each_bad_upload_gets_one_titled_message_and_is_cleared(
    page, launched_app, tiny_bundle, bad_images
):
    """Good, then bad, then bad again (the same file, then another): each bad upload shows
    one message, with its title, in place of the previous one; no "Error (2)" toast; the
    input is emptied; a good upload afterwards removes the message."""
    from playwright.sync_api import expect

    _open(page, launched_app)
    upload = page.locator("#image input[type=file]")
    upload.set_input_files(str(tiny_bundle / "examples" / "blue_0.png"))
    expect(page.locator(TOP_LABEL)).to_have_text("blue", timeout=30_000)

    notes, empty = bad_images["text_named_png"][0], bad_images["zero_bytes"][0]
    for bad, text in [
        (notes, '"notes.png" is not an image this demo can read'),
        (notes, '"notes.png" is not an image this demo can read'),
        (empty, '"empty.png" is empty (0 bytes)'),
    ]:
        with page.expect_response(lambda r: "/queue/join" in r.url, timeout=30_000):
            upload.set_input_files(str(bad))
        message = page.locator(MESSAGE)
        expect(message).to_have_count(1, timeout=30_000)
        expect(message).to_contain_text(text, timeout=30_000)
        expect(page.locator(INPUT_IMAGE)).to_have_count(0, timeout=30_000)
        expect(page.locator(TOP_LABEL)).to_have_count(0)
        page.wait_for_timeout(1000)  # a late duplicate event would show up by now
        expect(message).to_have_count(1)
        assert message.inner_text().count(runtime.BAD_IMAGE_TITLE) == 1
        assert message.inner_text().count(text) == 1
        expect(page.get_by_text(runtime.BAD_IMAGE_TITLE)).to_have_count(1)
        expect(page.locator(TOAST)).to_have_count(0)
        expect(page.locator(INPUT_IMAGE)).to_have_count(0)
    assert "Traceback" not in page.content()

    upload.set_input_files(str(tiny_bundle / "examples" / "red_0.png"))
    expect(page.locator(TOP_LABEL)).to_have_text("red", timeout=30_000)
    expect(page.locator(MESSAGE)).to_have_count(0)
