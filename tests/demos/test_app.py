"""The Gradio app, launched on a free port and called through gradio_client like users do."""

from __future__ import annotations

import numpy as np
import pytest
from demo_servers import free_port
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from demos import runtime

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(launched_app):
    return Client(launched_app, verbose=False)


def _top(result: dict) -> tuple[str, float]:
    return result["label"], max(c["confidence"] for c in result["confidences"])


def test_api_name_is_the_documented_one(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert list(endpoints) == [runtime.API_NAME]


def test_examples_through_the_api(client, tiny_bundle):
    for label in ("red", "green", "blue"):
        result = client.predict(
            handle_file(str(tiny_bundle / "examples" / f"{label}_0.png")), api_name=runtime.API_NAME
        )
        top, confidence = _top(result)
        assert top == label and confidence > 0.9
        assert {c["label"] for c in result["confidences"]} == {"red", "green", "blue"}


def _many_labels_bundle(make_bundle, tmp_path, labels):
    """The tiny bundle with a randomly initialised `simple_cnn` head for `labels` (ONNX)."""
    import io

    import torch
    from bundle_factory import WIDTHS, export_onnx, simple_cnn

    torch.manual_seed(0)
    network = simple_cnn(WIDTHS, len(labels)).eval()
    buffer = io.BytesIO()
    export_onnx(network, buffer)
    return make_bundle(
        tmp_path,
        "letters",
        labels=labels,
        architecture={"num_classes": len(labels)},
        onnx_bytes=buffer.getvalue(),
    )


def test_confidences_hold_every_label_best_first(make_bundle, tmp_path):
    """The API returns all the labels (models/README.md, demos/README.md), not the page's
    top 5, sorted by confidence, with the model's exact probabilities."""
    import gradio as gr

    labels = [f"class {c}" for c in "abcdefghijkl"]
    model = runtime.load(_many_labels_bundle(make_bundle, tmp_path, labels))
    app = runtime.build_app(model)
    port = free_port()
    runtime.launch(
        app, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        image = tmp_path / "letters" / "examples" / "blue_0.png"
        result = client.predict(handle_file(str(image)), api_name=runtime.API_NAME)
    finally:
        app.close()
    confidences = result["confidences"]
    assert sorted(c["label"] for c in confidences) == sorted(labels)
    values = [c["confidence"] for c in confidences]
    assert values == sorted(values, reverse=True)
    assert result["label"] == confidences[0]["label"]
    expected = model.predict(image)
    assert {c["label"]: c["confidence"] for c in confidences} == pytest.approx(expected, abs=1e-9)
    # The page itself still shows the top 5.
    labels_shown = [b for b in app.blocks.values() if isinstance(b, gr.Label) and b.visible]
    assert [b.num_top_classes for b in labels_shown] == [5]


def test_unusual_but_valid_images(client, valid_images):
    for case, (path, expected) in valid_images.items():
        result = client.predict(handle_file(str(path)), api_name=runtime.API_NAME)
        if expected is not None:
            assert result["label"] == expected, case


def test_api_matches_the_library(client, tiny_bundle, tmp_path):
    """The numbers that come over HTTP are the library's (sklearn's digits as real scans)."""
    from sklearn.datasets import load_digits

    model = runtime.load(tiny_bundle)
    for i in range(3):
        path = tmp_path / f"digit_{i}.png"
        Image.fromarray((load_digits().images[i] * 16).astype(np.uint8), "L").save(path)
        result = client.predict(handle_file(str(path)), api_name=runtime.API_NAME)
        expected = model.predict(path)
        got = {c["label"]: c["confidence"] for c in result["confidences"]}
        assert got == pytest.approx(expected, abs=1e-9)


# As in production (demos.runtime sets this filter at import; pytest resets filters per test).
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    "case", ["text_named_png", "zero_bytes", "truncated_jpeg", "decompression_bomb", "20000x20000"]
)
def test_bad_input_gets_a_message_and_the_server_lives_on(case, client, bad_images, tiny_bundle):
    path, phrase = bad_images[case]
    with pytest.raises(AppError) as caught:
        client.predict(handle_file(str(path)), api_name=runtime.API_NAME)
    message = str(caught.value)
    assert phrase in message and path.name in message
    assert "Traceback" not in message and len(message) < 200
    # The next request works.
    result = client.predict(
        handle_file(str(tiny_bundle / "examples" / "green_0.png")), api_name=runtime.API_NAME
    )
    assert result["label"] == "green"


def test_upload_over_the_size_limit_is_refused(client, tmp_path, tiny_bundle):
    big = tmp_path / "big.png"
    with open(big, "wb") as file:  # just over MAX_FILE_SIZE (20 MB); content doesn't matter
        file.truncate(20 * 1024 * 1024 + 1)
    with pytest.raises(Exception, match=r"(?i)file size|too large|exceeds"):
        client.predict(handle_file(str(big)), api_name=runtime.API_NAME)
    result = client.predict(
        handle_file(str(tiny_bundle / "examples" / "blue_0.png")), api_name=runtime.API_NAME
    )
    assert result["label"] == "blue"


def test_on_predict_hook_wraps_the_model_call(tiny_bundle):
    """build_app(on_predict=...) decorates the function that runs the model (spaces.GPU)."""
    calls = []

    def decorator(fn):
        def wrapped(image):
            calls.append(image)
            if len(calls) == 2:
                raise RuntimeError("the GPU fell off the bus")
            return fn(image)

        return wrapped

    app = runtime.build_app(runtime.load(tiny_bundle), on_predict=decorator)
    port = free_port()
    runtime.launch(
        app, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    red = handle_file(str(tiny_bundle / "examples" / "red_0.png"))
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict(red, api_name=runtime.API_NAME)["label"] == "red"
        assert len(calls) == 1 and isinstance(calls[0], Image.Image) and calls[0].mode == "RGB"
        # An unexpected error: one line for the user, the details stay in the server log.
        with pytest.raises(AppError, match=r"^Something went wrong") as caught:
            client.predict(red, api_name=runtime.API_NAME)
        assert "GPU" not in str(caught.value)
        # Bad input never reaches the (GPU) function.
        with pytest.raises(AppError, match="not an image"):
            client.predict(handle_file(str(tiny_bundle / "model.json")), api_name="/predict")
        assert len(calls) == 2
        assert client.predict(red, api_name=runtime.API_NAME)["label"] == "red"
    finally:
        app.close()


def test_page_shows_title_description_metrics_and_post(make_bundle, tmp_path):
    import gradio as gr

    folder = make_bundle(tmp_path, post="https://example.org/posts/colours/")
    app = runtime.build_app(runtime.load(folder))
    texts = [b.value for b in app.blocks.values() if isinstance(b, gr.Markdown)]
    page = "\n".join(texts)
    assert "# Colours" in page
    assert "tells red, green and blue" in page
    assert "Validation on 30 validation images: accuracy **100.0%**" in page
    assert "(https://example.org/posts/colours/)" in page
    # Anything but an http(s) URL would be a link that runs script or goes nowhere.
    folder = make_bundle(tmp_path, post="javascript:alert(1)")
    assert runtime.load(folder).post is None
    examples = [b for b in app.blocks.values() if isinstance(b, gr.Dataset)]
    assert len(examples) == 1 and len(examples[0].samples) == 3
