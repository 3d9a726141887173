"""`python -m demos serve`: every bundle in one process, index at /, each app at /NAME/."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from demo_servers import free_port
from gradio_client import Client, handle_file

from demos import runtime
from demos.errors import DemosError
from demos.serve import create_app

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def test_index_lists_every_demo(served):
    page = _get(served + "/")
    assert '<a href="/colours/">Colours</a>' in page
    assert '<a href="/colours-crop/">Colours (crop)</a>' in page
    assert "100.0% accuracy" in page


@pytest.mark.parametrize("name", ["colours", "colours-crop"])
def test_each_app_predicts_at_its_path(name, served, models_dir):
    client = Client(f"{served}/{name}/", verbose=False)
    for label in ("red", "blue"):
        image = models_dir / name / "examples" / f"{label}_0.png"
        result = client.predict(handle_file(str(image)), api_name=runtime.API_NAME)
        assert result["label"] == label


@pytest.mark.parametrize("name", ["colours", "colours-crop"])
def test_a_clicked_example_is_served_under_the_mount_path(name, served, models_dir):
    """Clicking an example runs Gradio's load_example event outside the queue; the file URL
    it returns must keep /NAME/ (it used to be /gradio_api/file=..., a 404)."""
    import json

    request = urllib.request.Request(
        f"{served}/{name}/gradio_api/run/load_example",
        data=json.dumps({"data": [1]}).encode(),  # the second example, green_0.png
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        value = json.load(response)["data"][0]["value"]
    assert value["orig_name"] == "green_0.png"
    assert value["url"].startswith(f"{served}/{name}/gradio_api/file="), value["url"]
    with urllib.request.urlopen(value["url"], timeout=30) as response:
        assert response.read() == (models_dir / name / "examples" / "green_0.png").read_bytes()


def test_bad_input_on_a_mounted_app(served, bad_images, models_dir):
    client = Client(f"{served}/colours/", verbose=False)
    path, phrase = bad_images["text_named_png"]
    with pytest.raises(Exception, match=phrase):
        client.predict(handle_file(str(path)), api_name=runtime.API_NAME)
    good = models_dir / "colours" / "examples" / "green_0.png"
    assert client.predict(handle_file(str(good)), api_name=runtime.API_NAME)["label"] == "green"


def test_named_selection_and_did_you_mean(models_dir):
    app = create_app(models_dir, ["colours-crop"])
    assert list(app.state.demos) == ["colours-crop"]
    with pytest.raises(DemosError, match=r'Unknown demo "colour".*did you mean "colours"'):
        create_app(models_dir, ["colour"])


def test_broken_bundle_fails_at_startup_naming_the_file(make_bundle, tmp_path):
    make_bundle(tmp_path, "good")
    broken = make_bundle(tmp_path, "broken", remove=("model.onnx",))
    with pytest.raises(runtime.BundleError, match=str(broken / "model.onnx")):
        create_app(tmp_path)
    with pytest.raises(DemosError, match="no bundles"):
        create_app(tmp_path / "good" / "examples")


def _demos(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.run(
        [sys.executable, "-m", "demos", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        **kwargs,
    )


def test_cli_errors_are_one_line_without_traceback(models_dir, make_bundle, tmp_path):
    result = _demos("serve", "colour", "--models", str(models_dir))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f'error: Unknown demo "colour" in {models_dir}, did you mean "colours"? '
        "Available: colours, colours-crop"
    ]
    shutil.copytree(models_dir / "colours", tmp_path / "mislabelled")
    (tmp_path / "mislabelled" / "model.json").write_text(
        (tmp_path / "mislabelled" / "model.json").read_text().replace("model-bundle/1", "v2")
    )
    result = _demos("serve", "mislabelled", "--models", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'mislabelled' / 'model.json'}: field 'format'" in result.stderr


def test_cli_refuses_a_busy_port(served, models_dir):
    port = served.rsplit(":", 1)[1]
    result = _demos("serve", "--models", str(models_dir), "--port", port)
    assert result.returncode == 2
    assert f"can't listen on 127.0.0.1:{port}" in result.stderr


def test_cli_serves_until_ctrl_c(models_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen(
        [sys.executable, "-m", "demos", "serve", "--models", str(models_dir), "--port", str(port)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                page = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert "/colours-crop/" in page
        client = Client(f"http://127.0.0.1:{port}/colours/", verbose=False)
        image = models_dir / "colours" / "examples" / "red_0.png"
        assert client.predict(handle_file(str(image)), api_name="/predict")["label"] == "red"
        empty = tmp_path / "empty.png"
        empty.write_bytes(b"")
        with pytest.raises(Exception, match="is empty"):
            client.predict(handle_file(str(empty)), api_name="/predict")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        stderr = process.stderr.read()
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr  # not even for the bad upload
        assert f"Serving 2 demo(s) at http://127.0.0.1:{port}/" in stderr
        assert stderr.rstrip().endswith("Stopped.")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_weightless_and_hidden_bundles_are_skipped_unless_named(tmp_path, capsys):
    from bundle_factory import make_bundle

    from demos.bundles import select_bundles

    make_bundle(tmp_path, "complete")
    make_bundle(tmp_path, "cloned", remove=("model.onnx", "model.safetensors"))
    make_bundle(tmp_path, ".complete.tmp-123")  # an interrupted export's leftover
    assert list(select_bundles(tmp_path)) == ["complete"]
    assert "skipping" in capsys.readouterr().err and "cloned" not in str(select_bundles(tmp_path))
    # Asked for by name, a bundle without weights fails at load, naming the file.
    with pytest.raises(runtime.BundleError, match=re.escape("model.onnx")):
        create_app(tmp_path, ["cloned"])


def test_port_in_time_wait_is_free(tmp_path):
    """Restarting right after a served request must not say the port is taken."""
    import socket

    from demos.serve import _check_port

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.listen()
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()  # the server side closes first: its end waits in TIME_WAIT
    client.close()
    server.close()
    _check_port("127.0.0.1", port)
