"""The in-browser demo page (demos/web/) in a real site build, in headless Chromium.

The digits sample is trained for real, the blog is built with `mkdocs build --strict` and
served on 127.0.0.1, and the page runs the bundle's ONNX model with ONNX Runtime Web. Every
request to another host is blocked and counted. The page's answers are checked against
`demos.runtime` (ONNX Runtime in Python) on the same images.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TOLERANCE = {"fp32": 1e-3, "int8": 0.03}
SPACE = "https://huggingface.co/spaces/jane/digits"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(digits_bundle, tmp_path_factory):
    """The template's site with the trained digits bundle, built and served; (url, root)."""
    if not (ROOT / "node_modules" / "onnxruntime-web").is_dir():
        pytest.fail("node_modules is missing: run `npm ci` in the repository (make test does).")
    root = tmp_path_factory.mktemp("web-site")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "site", root / "site")
    (root / "posts").mkdir()
    (root / "posts" / "2026-02-01-digits.md").write_text(
        "---\ntitle: Digits\ndemo: digits\ndemo_embed: true\n---\n\nA model.\n", "utf-8"
    )
    shutil.copytree(digits_bundle, root / "models" / "digits")
    (root / "demos.json").write_text(json.dumps({"digits": {"space": "jane/digits", "url": SPACE}}))
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(root),
            "NO_MKDOCS_2_WARNING": "1",
            "SITE_URL": "http://127.0.0.1/blog/",
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root / "public")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does).")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _context(browser):
    """A browser context in which every request to another host is refused and listed."""
    context = browser.new_context()
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context, outside


@pytest.fixture
def demo_page(site, browser):
    """The digits demo page, loaded and ready; requests to other hosts are refused and listed."""
    url, _ = site
    context, outside = _context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "demos/digits/")
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    yield page, outside, errors
    context.close()


def test_without_webassembly_the_page_says_so_and_links_the_space(site, browser):
    url, _ = site
    context, outside = _context(browser)
    context.add_init_script("delete globalThis.WebAssembly")
    page = context.new_page()
    page.goto(url + "demos/digits/")
    page.wait_for_selector("body[data-state=unsupported]", timeout=30_000)
    status = page.locator("#status")
    assert "no WebAssembly" in status.inner_text()
    assert status.locator("a").get_attribute("href") == SPACE
    context.close()
    assert not outside


def test_a_model_that_fails_to_load_says_so_and_links_the_space(site, browser):
    url, _ = site
    context, _ = _context(browser)
    page = context.new_page()
    page.route("**/model*.onnx", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(url + "demos/digits/")
    page.wait_for_selector("body[data-state=unsupported]", timeout=30_000)
    status = page.locator("#status")
    assert "could not be loaded" in status.inner_text() and "HTTP 404" in status.inner_text()
    assert status.locator("a").get_attribute("href") == SPACE
    context.close()


def test_a_big_model_waits_for_the_reader_and_shows_its_progress(site, browser):
    """Over the size limit (lowered here to 1 kB) the page shows the download size and a
    button, then a progress bar while the model downloads."""
    url, _ = site
    context, _ = _context(browser)
    page = context.new_page()

    def smaller_limit(route):
        response = route.fetch()
        body = response.text().replace('"ort":', '"ask_above": 1000, "ort":', 1)
        route.fulfill(response=response, body=body)

    page.route("**/demos/digits/", smaller_limit)
    page.goto(url + "demos/digits/")
    page.wait_for_selector("body[data-state=ready-to-load]", timeout=30_000)
    assert "MB download" in page.locator("#status").inner_text()
    load = page.locator("#load")
    assert load.is_visible() and "MB)" in load.inner_text()
    assert page.locator("input[type=file]").is_disabled()
    load.click()
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    assert page.evaluate("document.getElementById('progress').value") == 1
    context.close()


def predictions(page) -> list[tuple[str, float]]:
    items = page.locator("[data-testid=prediction] > li")
    return [
        (
            items.nth(i).get_attribute("data-label"),
            float(items.nth(i).get_attribute("data-probability")),
        )
        for i in range(items.count())
    ]


def upload(page, path: Path) -> None:
    """Choose `path` in the page's one file input and wait for its prediction or its error."""
    count = int(page.evaluate("document.body.dataset.predictions || 0"))
    page.locator("input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        f"Number(document.body.dataset.predictions || 0) > {count}", timeout=30_000
    )


def validation_images(bundle: Path) -> list[Path]:
    """The sample's validation split, as training made it (recipe: seed and valid_pct)."""
    from training.data import items_from_folders, split

    recipe = json.loads((bundle / "model.json").read_text())["recipe"]
    # The digits_bundle fixture keeps its data at ROOT/data/digits beside ROOT/models/digits.
    items, _ = items_from_folders(bundle.parent.parent / "data" / "digits")
    _, valid = split(items, recipe["valid_pct"], recipe["seed"])
    return [Path(item.path) for item in valid]


def test_page_agrees_with_the_python_runtime(demo_page, digits_bundle):
    from demos import runtime

    page, outside, errors = demo_page
    model = runtime.load(digits_bundle)
    precision = "int8" if model.weights.endswith("int8.onnx") else "fp32"
    config = json.loads(page.locator("#demo-config").text_content())
    assert config["model"] == model.weights  # the page and the Space runtime run one file
    assert page.locator("input[type=file]").count() == 1
    images = validation_images(digits_bundle)[::9]  # 40 of the 359, every label
    assert len(images) >= 30
    worst = 0.0
    for path in images:
        upload(page, path)
        got = predictions(page)
        expected = sorted(model.predict(path).items(), key=lambda kv: -kv[1])
        assert got[0][0] == expected[0][0], path
        assert sorted(label for label, _ in got) == sorted(model.labels)
        assert [p for _, p in got] == sorted((p for _, p in got), reverse=True)  # best first
        probs = dict(expected)
        worst = max(worst, max(abs(p - probs[label]) for label, p in got))
    # data-probability has four decimals: 5e-5 of the gap is rounding.
    assert worst <= TOLERANCE[precision] + 5e-5, f"{precision}: largest gap {worst:.5f}"
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not errors


def test_a_broken_file_gets_a_message_and_the_next_upload_works(demo_page, digits_bundle, tmp_path):
    page, outside, _ = demo_page
    broken = tmp_path / "holiday.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    upload(page, broken)
    assert page.evaluate("document.body.dataset.state") == "error"
    message = page.locator("#status").inner_text()
    assert '"holiday.jpg" is not an image this demo can read' in message
    assert page.locator("[data-testid=prediction] > li").count() == 0
    assert page.locator("input[type=file]").input_value() == ""  # cleared
    good = digits_bundle / "examples" / "7_0.png"
    upload(page, good)
    assert page.evaluate("document.body.dataset.state") == "done"
    assert predictions(page)[0][0] == "7"
    assert not outside


def test_example_thumbnails_predict_without_giving_the_answer(demo_page, digits_bundle):
    page, _, _ = demo_page
    meta = json.loads((digits_bundle / "model.json").read_text())
    thumbs = page.locator("#examples button img")
    assert thumbs.count() == len(meta["examples"])
    for i in range(thumbs.count()):
        assert thumbs.nth(i).get_attribute("alt") == f"Example {i + 1}"
    page.wait_for_function(
        "[...document.querySelectorAll('#examples img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    count = int(page.evaluate("document.body.dataset.predictions || 0"))
    page.locator("#examples button").nth(0).click()
    page.wait_for_function(f"Number(document.body.dataset.predictions) > {count}")
    assert predictions(page)[0][0] == meta["examples"][0]["label"]
    # The model card: the bundle's metrics and its report.
    card = page.locator(".card").inner_text()
    assert f"{meta['metrics']['accuracy']:.2%}" in card
    assert page.locator("#report-images img").count() >= 1


def _odd_images(folder: Path) -> dict[str, Path]:
    """Images a browser and Pillow must decode alike: CMYK, 16-bit, alpha, EXIF, GIF, 1x1."""
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), "RGB")
    out = {}

    def save(name, image, **kwargs):
        out[name] = folder / name
        image.save(out[name], **kwargs)

    save("cmyk.jpg", photo.convert("CMYK"), quality=95)
    grey16 = (rng.integers(0, 65536, (29, 31))).astype(np.uint16)
    save("grey16.png", Image.fromarray(grey16))
    rgba = np.dstack([np.asarray(photo), rng.integers(0, 256, (37, 53), dtype=np.uint8)])
    save("alpha.png", Image.fromarray(rgba.astype(np.uint8), "RGBA"))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise when shown
    save("rotated.jpg", photo, quality=95, exif=exif.tobytes())
    frames = [Image.fromarray(np.full((20, 24, 3), c, np.uint8), "RGB") for c in (30, 200)]
    save("animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=100)
    save("one.png", Image.new("RGB", (1, 1), (250, 10, 100)))
    return out


def test_odd_images_become_the_same_tensor_as_in_python(demo_page, digits_bundle, tmp_path):
    """Decoding in the browser (EXIF, first frame, alpha, 16-bit, CMYK) then preprocess.mjs
    gives the tensor demos.runtime gives, within 1/255 of a pixel after resize."""
    from demos import runtime

    page, _, _ = demo_page
    spec = json.loads((digits_bundle / "model.json").read_text())["input"]
    one_level = 1 / 255 / min(spec["std"]) + 1e-5
    report = {}
    for name, path in _odd_images(tmp_path).items():
        expected = runtime.preprocess(runtime.open_image(path), spec).ravel()
        got = np.array(
            page.evaluate(
                "async ([bytes]) => Array.from(await window.demo.preprocess("
                "new Blob([new Uint8Array(bytes)])))",
                [list(path.read_bytes())],
            ),
            dtype=np.float32,
        )
        assert got.shape == expected.shape, name
        report[name] = float(np.abs(got - expected).max())
    bad = {k: v for k, v in report.items() if v > one_level}
    assert not bad, f"more than one grey level apart: {bad} (all: {report})"


def test_post_links_and_embeds_the_page(site):
    _, root = site
    post = (root / "public" / "2026" / "02" / "01" / "digits" / "index.html").read_text()
    # The post is served at 2026/02/01/digits/; the page at demos/digits/.
    card = post[post.index('<div class="demo-card">') :]
    card = card[: card.index("</div>")]
    assert re.search(r'href="../../../../demos/digits/"[^>]*>Handwritten digits</a>', card)
    assert '<iframe class="demo-embed" src="../../../../demos/digits/"' in post
    demos = (root / "public" / "demos" / "index.html").read_text()
    assert re.search(r'href="digits/"[^>]*>Try it in your browser', demos)
    # Only the WebAssembly build of ONNX Runtime Web is published.
    runtime_files = sorted(p.name for p in (root / "public/assets/onnxruntime-web").iterdir())
    assert runtime_files == sorted(
        ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
    )


def test_build_without_node_modules_names_npm_ci(digits_bundle, tmp_path):
    root = tmp_path
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "site", root / "site")
    (root / "posts").mkdir()
    shutil.copytree(digits_bundle, root / "models" / "digits")
    config = (
        (root / "mkdocs.yml")
        .read_text()
        .replace(
            "      posts_dir: posts\n", "      posts_dir: posts\n      node_modules: nowhere\n"
        )
    )
    (root / "mkdocs.yml").write_text(config)
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "npm ci" in done.stderr and "onnxruntime-web" in done.stderr
