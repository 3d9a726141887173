"""Fixtures shared by the demos tests: real tiny bundles, generated images, live servers."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

# Helper modules sit next to this file; make them importable (`bundle_factory`,
# `image_corpus`, `demo_servers`) whatever rootdir/import mode pytest runs with.
sys.path.insert(0, str(Path(__file__).parent))

from bundle_factory import make_bundle as _make_bundle
from demo_servers import free_port

# Gradio would otherwise try to phone home (no internet here) at launch.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    """A valid bundle folder (`simple_cnn` [8, 16], labels red/green/blue, 32x32).

    Shared by the whole session: tests must not modify it (copy it or use make_bundle).
    """
    return _make_bundle(tmp_path_factory.mktemp("bundles"), "colours")


@pytest.fixture
def make_bundle():
    """The `make_bundle(tmp_path, name="colours", *, remove=(), onnx_bytes=None, **fields)`
    helper from bundle_factory, for tests that need a broken or altered bundle."""
    return _make_bundle


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """A models/ folder with two valid bundles, `colours` and `colours-crop`."""
    root = tmp_path_factory.mktemp("models")
    _make_bundle(root, "colours")
    _make_bundle(root, "colours-crop", title="Colours (crop)", input={"resize": "crop"})
    return root


@pytest.fixture(scope="session")
def valid_images(tmp_path_factory):
    from image_corpus import valid_images

    return valid_images(tmp_path_factory.mktemp("valid-images"))


@pytest.fixture(scope="session")
def bad_images(tmp_path_factory):
    from image_corpus import bad_images

    return bad_images(tmp_path_factory.mktemp("bad-images"))


@pytest.fixture(scope="session")
def launched_app(tiny_bundle):
    """The colours app launched like a Space does (launch(prevent_thread_lock=True)); its URL."""
    from demos import runtime

    app = runtime.build_app(runtime.load(tiny_bundle))
    port = free_port()
    runtime.launch(
        app, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="session")
def served(models_dir):
    """demos.serve.create_app(models_dir) under uvicorn in a thread; its base URL."""
    import uvicorn

    from demos.serve import create_app

    app = create_app(models_dir)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
