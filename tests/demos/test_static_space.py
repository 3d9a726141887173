"""`python -m demos space NAME --static` and `deploy --static`: the in-browser page as a
Hugging Face static Space (sdk: static), served here the way the Space serves it, with its
cross-origin isolation headers, and deployed to the stand-in Hub."""

from __future__ import annotations

import json
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import yaml
from PIL import Image

from demos import space as space_folder
from demos.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _header(readme: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", readme, re.S)
    assert match, "README.md has no YAML header"
    return yaml.safe_load(match[1])


@pytest.fixture
def static_space(tiny_bundle, tmp_path):
    if not (ROOT / "node_modules" / "onnxruntime-web").is_dir():
        pytest.fail("node_modules is missing: run `npm ci` in the repository (make test does).")
    return space_folder.build_static_space(
        tiny_bundle.name, tmp_path / "static", models=tiny_bundle.parent
    )


def test_folder_is_the_page_the_runtime_and_the_model(static_space, tiny_bundle):
    meta = json.loads((tiny_bundle / "model.json").read_text())
    expected = {
        "README.md",
        "index.html",
        "demo.js",
        "demo.css",
        "preprocess.mjs",
        "model.json",
        "model.onnx",
        "ort/ort.wasm.min.mjs",
        "ort/ort-wasm-simd-threaded.mjs",
        "ort/ort-wasm-simd-threaded.wasm",
        *(e["file"] for e in meta["examples"]),
    }
    assert set(static_space.files) == expected
    assert "model.safetensors" not in static_space.files and "app.py" not in static_space.files
    page = (static_space.path / "index.html").read_text()
    config = json.loads(re.search(r'id="demo-config">(.*?)</script>', page, re.S)[1])
    assert config["ort"] == "ort/" and config["model"] == "model.onnx"
    assert config["bytes"] == (tiny_bundle / "model.onnx").stat().st_size
    assert "{{" not in page  # every setting filled in


def test_readme_is_a_static_space_with_isolation_headers(static_space):
    header = _header((static_space.path / "README.md").read_text())
    assert header["sdk"] == "static" and header["app_file"] == "index.html"
    assert header["custom_headers"] == {
        "cross-origin-embedder-policy": "require-corp",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "cross-origin",
    }
    assert "hardware" not in " ".join(header)  # nothing to choose: it runs in the browser
    assert len(header["short_description"]) <= 60


class _SpaceLikeHandler(SimpleHTTPRequestHandler):
    """Serves a folder with the static Space's custom_headers, as the Hub would."""

    headers_to_send: ClassVar[dict[str, str]] = {}

    def end_headers(self):
        for key, value in self.headers_to_send.items():
            self.send_header(key, value)
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.browser
@pytest.mark.slow
def test_space_page_runs_isolated_with_two_threads(static_space, tiny_bundle, tmp_path):
    """Served with its README's headers the page is cross-origin isolated, so ONNX Runtime Web
    may use two threads; it still predicts, and nothing leaves 127.0.0.1."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does).")
    header = _header((static_space.path / "README.md").read_text())
    handler = type("H", (_SpaceLikeHandler,), {"headers_to_send": header["custom_headers"]})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(static_space.path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    red = tmp_path / "red.png"
    Image.fromarray(np.full((40, 48, 3), (220, 40, 40), np.uint8)).save(red)
    outside: list[str] = []
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()

            def guard(route):
                if route.request.url.startswith("http://127.0.0.1:"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_selector("body[data-state=ready]", timeout=60_000)
            assert page.evaluate("self.crossOriginIsolated") is True
            page.locator("input[type=file]").set_input_files(str(red))
            page.wait_for_function("document.body.dataset.predictions == 1", timeout=30_000)
            best = page.locator("[data-testid=prediction] > li").first
            assert best.get_attribute("data-label") == "red"
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not outside


def test_cli_static_writes_the_folder(tiny_bundle, tmp_path, capsys):
    out = tmp_path / "space"
    code = cli_main(
        [
            "space",
            tiny_bundle.name,
            "--models",
            str(tiny_bundle.parent),
            "--out",
            str(out),
            "--static",
        ]
    )
    assert code == 0
    assert (out / "index.html").is_file()
    assert (out / "ort" / "ort-wasm-simd-threaded.wasm").is_file()
    assert "static Space" in capsys.readouterr().out


def test_without_onnxruntime_web_the_error_names_npm_ci(tiny_bundle, tmp_path, capsys):
    code = cli_main(
        [
            "space",
            tiny_bundle.name,
            "--models",
            str(tiny_bundle.parent),
            "--out",
            str(tmp_path / "space"),
            "--static",
            "--node-modules",
            str(tmp_path / "nowhere"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "npm ci" in err and "Traceback" not in err
    assert not (tmp_path / "space").exists()


def test_static_and_docker_are_refused_together(tiny_bundle, tmp_path, capsys):
    code = cli_main(
        [
            "space",
            tiny_bundle.name,
            "--models",
            str(tiny_bundle.parent),
            "--out",
            str(tmp_path / "space"),
            "--static",
            "--docker",
        ]
    )
    assert code == 2
    assert "--static and --docker" in capsys.readouterr().err


def test_blog_and_space_fill_the_page_alike():
    """The blog (which may not import demos) keeps its own copy of render_page: same output."""
    from blog.demos import render_page as blog_render

    template = (ROOT / "demos" / "web" / "index.html").read_text()
    meta = {"name": "x", "title": 'Cats <&> "dogs"', "description": "A </script> test"}
    config = {"ort": "ort/", "model": "model.onnx", "note": "</script><script>alert(1)"}
    ours = space_folder.render_page(template, meta, config, "./")
    assert ours == blog_render(template, meta, config, "./")
    assert "</script><script>alert" not in ours and "Cats &lt;&amp;&gt;" in ours
