"""`demos space`: the self-contained Hugging Face Space folder.

The folder is checked as files (YAML header, pins, Dockerfile), then run for real: its
app.py is started in a subprocess that can't import anything from this repository, and
predicts through gradio_client like any user of the Space would.
"""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from gradio_client import Client, handle_file

from demos import runtime
from demos.cli import main as cli_main
from demos.space import SpaceError, build_space

REPO = Path(__file__).resolve().parents[2]
SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
# What the Space's code may import: the standard library plus requirements.txt (and the
# `spaces` package Hugging Face preinstalls; torch only lazily, inside the torch backend).
ALLOWED_THIRD_PARTY = {"numpy", "PIL", "onnxruntime", "gradio", "spaces"} | {
    "torch",
    "torchvision",
    "safetensors",  # the PyTorch backend's lazy imports
}


@pytest.fixture(scope="module")
def space(tiny_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("spaces") / "colours-space"
    return build_space(tiny_bundle.name, out, models=tiny_bundle.parent, docker=True)


def _front_matter(readme: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", readme, re.S)
    assert match, "README.md must start with a YAML block"
    return yaml.safe_load(match[1])


def _requirements(folder: Path) -> dict[str, str]:
    pins = {}
    for line in (folder / "requirements.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name] = version
    return pins


def test_folder_holds_exactly_what_the_space_needs(space, tiny_bundle):
    assert set(space.files) == {
        ".dockerignore", "Dockerfile", "README.md", "app.py", "requirements.txt", "runtime.py",
        "model.json", "model.onnx",
        "examples/blue_0.png", "examples/green_0.png", "examples/red_0.png",
    }  # fmt: skip
    for file in ["model.json", "model.onnx", "examples/red_0.png"]:
        assert (space.path / file).read_bytes() == (tiny_bundle / file).read_bytes()
    # The runtime is a verbatim copy, so the Space behaves like `demos serve`.
    assert (space.path / "runtime.py").read_bytes() == Path(runtime.__file__).read_bytes()


def test_readme_has_valid_spaces_yaml(space):
    meta = _front_matter((space.path / "README.md").read_text())
    assert meta["title"] == "Colours"
    assert isinstance(meta["emoji"], str) and meta["emoji"]
    assert meta["colorFrom"] in SPACE_COLORS and meta["colorTo"] in SPACE_COLORS
    assert meta["sdk"] == "gradio"
    # The bundle records no gradio version: the Space gets the one the tests run with.
    assert meta["sdk_version"] == metadata.version("gradio")
    assert meta["app_file"] == "app.py" and (space.path / meta["app_file"]).is_file()
    assert meta["python_version"] == "{}.{}".format(*sys.version_info[:2])
    assert meta["license"] == "apache-2.0"
    assert 0 < len(meta["short_description"]) <= 60
    assert meta["suggested_hardware"] == "zero-a10g"
    assert "image-classification" in meta["tags"]
    assert all(isinstance(tag, str) for tag in meta["tags"])
    body = (space.path / "README.md").read_text()
    assert f'api_name="{runtime.API_NAME}"' in body


def test_requirements_pin_the_bundle_versions_without_torch(space, tiny_bundle):
    pins = _requirements(space.path)
    assert set(pins) == {"gradio", "onnxruntime", "numpy", "Pillow"}
    recorded = json.loads((tiny_bundle / "model.json").read_text())["versions"]
    assert pins["onnxruntime"] == recorded["onnxruntime"]
    assert pins["gradio"] == metadata.version("gradio")
    assert all(re.fullmatch(r"\d+(\.\d+)*", version) for version in pins.values())
    assert "torch" not in (space.path / "requirements.txt").read_text().lower()


def test_versions_recorded_in_the_bundle_win(make_bundle, tmp_path):
    versions = {"python": "3.12.4", "onnxruntime": "1.20.1", "numpy": "1.26.4",
                "Pillow": "10.4.0", "gradio": "5.9.1", "torch": "2.5.1+cu121"}  # fmt: skip
    bundle = make_bundle(tmp_path / "models", "pets", versions=versions,
                         description="A " + "very " * 30 + "long description.")  # fmt: skip
    folder = build_space("pets", tmp_path / "out", models=bundle.parent, hardware="cpu-basic")
    pins = {"gradio": "5.9.1", "onnxruntime": "1.20.1", "numpy": "1.26.4", "Pillow": "10.4.0"}
    assert _requirements(folder.path) == pins
    meta = _front_matter((folder.path / "README.md").read_text())
    assert meta["sdk_version"] == "5.9.1" and meta["python_version"] == "3.12"
    assert meta["suggested_hardware"] == "cpu-basic"
    assert len(meta["short_description"]) <= 60 and meta["short_description"].endswith("…")
    assert "Dockerfile" not in folder.files


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_space_code_imports_only_the_runtime_and_its_requirements(space):
    imported = _top_level_imports(space.path / "app.py") | _top_level_imports(
        space.path / "runtime.py"
    )
    outside = imported - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY - {"runtime"}
    assert outside == set()
    assert not imported & {"blog", "training", "demos"}


def test_dockerfile_runs_as_a_non_root_user_on_port_7860(space):
    dockerfile = (space.path / "Dockerfile").read_text()
    assert re.search(r"^FROM python:\d+\.\d+-slim$", dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+$", dockerfile, re.M)
    assert "EXPOSE 7860" in dockerfile and "GRADIO_SERVER_NAME=0.0.0.0" in dockerfile
    assert "${PORT:-7860}" in dockerfile
    # Dependencies are installed before the app is copied, so code edits reuse that layer.
    assert dockerfile.index("pip install") < dockerfile.index("COPY --chown=demo . .")
    assert "torch" not in dockerfile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Runs app.py the way `python app.py` would, but refuses any import of this repository's
# packages (they are importable here through the editable install, not on a Space).
LAUNCHER = textwrap.dedent(
    """
    import importlib.abc, runpy, sys

    class NoRepository(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"blog", "training", "demos"}:
                raise ImportError(f"the Space imported {name} from the repository")

    sys.meta_path.insert(0, NoRepository())
    sys.path[0] = "."
    runpy.run_path("app.py", run_name="__main__")
    """
)

# Stands in for the `spaces` package Hugging Face preinstalls: its GPU decorator records
# every call it wraps, so the test sees that predictions went through it.
FAKE_SPACES = textwrap.dedent(
    """
    import functools, os

    def GPU(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with open(os.environ["SPACES_GPU_CALLS"], "a") as log:
                log.write(fn.__name__ + "\\n")
            return fn(*args, **kwargs)
        return wrapper
    """
)


@pytest.mark.slow
def test_space_app_runs_alone_and_predicts_through_gradio_client(space, tmp_path):
    # A copy outside the repository, run with a cwd and PYTHONPATH that don't contain it.
    folder = tmp_path / "deployed"
    subprocess.run(["cp", "-r", str(space.path), str(folder)], check=True)
    (tmp_path / "site-packages" / "spaces").mkdir(parents=True)
    (tmp_path / "site-packages" / "spaces" / "__init__.py").write_text(FAKE_SPACES)
    calls = tmp_path / "gpu-calls.txt"
    port = _free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("GRADIO_", "PYTHON"))
    }
    env.update(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONPATH=str(tmp_path / "site-packages"),
        SPACES_GPU_CALLS=str(calls),
    )
    log = (tmp_path / "app.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER], cwd=folder, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "app.log").read_text()
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the Space app didn't start in 90 s"
                time.sleep(0.3)
        client = Client(url, verbose=False)
        for colour in ["red", "green", "blue"]:
            example = folder / "examples" / f"{colour}_0.png"
            result = client.predict(handle_file(str(example)), api_name=runtime.API_NAME)
            assert result["label"] == colour
            assert {c["label"] for c in result["confidences"]} == {"red", "green", "blue"}
        assert calls.read_text().split() == ["classify"] * 3
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
    assert "from the repository" not in (tmp_path / "app.log").read_text()


def test_without_spaces_the_prediction_runs_plainly(space, monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # `import spaces` raises ImportError
    monkeypatch.syspath_prepend(str(space.path))
    monkeypatch.delitem(sys.modules, "runtime", raising=False)
    try:
        namespace = __import__("runpy").run_path(str(space.path / "app.py"), run_name="space_app")
    finally:
        sys.modules.pop("runtime", None)
    assert namespace["spaces"] is None

    def predict(path):
        return path

    assert namespace["on_predict"](predict) is predict
    model = namespace["model"]
    assert model.backend == "onnx"
    assert (
        max(model.predict(space.path / "examples/green_0.png").items(), key=lambda kv: kv[1])[0]
        == "green"
    )


def test_rebuilding_replaces_the_folder(tiny_bundle, tmp_path):
    out = tmp_path / "space"
    build_space(tiny_bundle.name, out, models=tiny_bundle.parent, docker=True)
    (out / "stale.txt").write_text("from an older version")
    folder = build_space(tiny_bundle.name, out, models=tiny_bundle.parent)
    assert not (out / "stale.txt").exists() and not (out / "Dockerfile").exists()
    assert "app.py" in folder.files
    assert [p.name for p in tmp_path.iterdir()] == ["space"]  # no temporary folders left


def test_unknown_bundle_lists_the_known_ones(tiny_bundle, tmp_path):
    with pytest.raises(SpaceError, match=r"No bundle folder .*nope\. Bundles in .*: colours"):
        build_space("nope", tmp_path / "out", models=tiny_bundle.parent)
    assert not (tmp_path / "out").exists()


def test_broken_bundle_fails_before_writing(make_bundle, tmp_path):
    bundle = make_bundle(tmp_path / "models", remove=("model.onnx",))
    with pytest.raises(SpaceError, match="model.onnx"):
        build_space(bundle.name, tmp_path / "out", models=bundle.parent)
    assert not (tmp_path / "out").exists()


def test_refuses_to_overwrite_a_folder_it_did_not_write(tiny_bundle, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SpaceError, match="isn't a Space folder written by this command"):
        build_space(tiny_bundle.name, tmp_path / "mine", models=tiny_bundle.parent)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(SpaceError, match="inside the bundle"):
        build_space(tiny_bundle.name, tiny_bundle / "space", models=tiny_bundle.parent)


def test_cli_writes_the_folder_and_reports_errors_in_one_line(tiny_bundle, tmp_path, capsys):
    out = tmp_path / "cli-space"
    args = ["space", tiny_bundle.name, "--models", str(tiny_bundle.parent), "--out", str(out)]
    assert cli_main([*args, "--docker", "--hardware", "cpu-basic"]) == 0
    assert (out / "Dockerfile").is_file()
    assert str(out) in capsys.readouterr().out
    assert cli_main(["space", "nope", "--models", str(tiny_bundle.parent), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No bundle folder") and len(err.strip().splitlines()) == 1


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        cli_main(["space", "--help"])
    text = capsys.readouterr().out
    for option in ["--models", "--out", "--hardware", "--docker", "--license"]:
        assert option in text
    assert "default: models" in text and "python -m demos space" in text


def test_a_git_clone_is_never_replaced(tmp_path, tiny_bundle):
    out = tmp_path / "my-space"
    build_space(tiny_bundle.name, out, models=tiny_bundle.parent)
    (out / ".git").mkdir()  # the user cloned their Space here
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    with pytest.raises(SpaceError, match="git clone"):
        build_space(tiny_bundle.name, out, models=tiny_bundle.parent)
    assert (out / ".git" / "HEAD").is_file()


def test_replace_folder_puts_the_old_one_back_when_the_swap_fails(tmp_path, monkeypatch):
    from demos import space

    out, staging = tmp_path / "out", tmp_path / "staging"
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    staging.mkdir()
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        calls.append(src)
        if Path(src) == staging:
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(space.os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        space.replace_folder(staging, out)
    assert (out / "keep.txt").read_text() == "previous"
    assert not list(tmp_path.glob(".out-old-*"))
