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
import runpy
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from gradio_client import Client, handle_file

from demos import runtime
from demos.cli import main as cli_main
from demos.space import SpaceError, build_space, space_python

REPO = Path(__file__).resolve().parents[2]
SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
# What the Hub documents, copied here so the tests check the folder against the documentation
# rather than against demos/space.py's own constants.
# https://huggingface.co/docs/hub/spaces-config-reference: every field a header may hold ...
CONFIG_FIELDS = {
    "title",
    "emoji",
    "colorFrom",
    "colorTo",
    "sdk",
    "python_version",
    "sdk_version",
    "suggested_hardware",
    "suggested_storage",
    "app_file",
    "app_build_command",
    "app_port",
    "base_path",
    "fullWidth",
    "header",
    "short_description",
    "models",
    "datasets",
    "tags",
    "thumbnail",
    "pinned",
    "hf_oauth",
    "hf_oauth_scopes",
    "hf_oauth_expiration_minutes",
    "hf_oauth_authorized_org",
    "disable_embedding",
    "startup_duration_timeout",
    "custom_headers",
    "preload_from_hub",
    "license",  # license: the model-card field
}
# ... and the values suggested_hardware accepts ("Current valid hardware flavors").
SUGGESTED_HARDWARE = {
    "cpu-basic",
    "cpu-upgrade",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
}
# https://huggingface.co/docs/hub/spaces-zerogpu, "Supported Versions": Gradio 4+ and these.
ZEROGPU_PYTHONS = {"3.12.12", "3.10.13"}
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
    return build_space(tiny_bundle.name, out, models=tiny_bundle.parent)


@pytest.fixture(scope="module")
def docker_space(tiny_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("spaces") / "colours-docker"
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


def test_folder_holds_exactly_what_the_space_needs(space, docker_space, tiny_bundle):
    assert set(space.files) == {
        "README.md", "app.py", "requirements.txt", "runtime.py",
        "model.json", "model.onnx",
        "examples/blue_0.png", "examples/green_0.png", "examples/red_0.png",
    }  # fmt: skip
    assert set(docker_space.files) == set(space.files) | {"Dockerfile", ".dockerignore"}
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
    # numpy 2.4 and onnxruntime 1.32 (the pins here) have no wheels for ZeroGPU's 3.10.13.
    assert meta["python_version"] == "3.12.12"
    assert meta["license"] == "apache-2.0"
    assert 0 < len(meta["short_description"]) <= 60
    assert "suggested_hardware" not in meta  # the reference has no value for ZeroGPU
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
    assert meta["sdk_version"] == "5.9.1" and meta["python_version"] == "3.12.12"
    assert meta["suggested_hardware"] == "cpu-basic"
    assert len(meta["short_description"]) <= 60 and meta["short_description"].endswith("…")
    assert "Dockerfile" not in folder.files


@pytest.mark.parametrize("hardware", ["zero-a10g", "cpu-basic"])
def test_gradio_yaml_fits_the_config_reference_and_zerogpu(tiny_bundle, tmp_path, hardware):
    folder = build_space(
        tiny_bundle.name, tmp_path / "out", models=tiny_bundle.parent, hardware=hardware
    )
    meta = _front_matter((folder.path / "README.md").read_text())
    assert set(meta) <= CONFIG_FIELDS
    assert meta["sdk"] == "gradio" and int(meta["sdk_version"].split(".")[0]) >= 4
    # A Space on CPU gets a ZeroGPU Python too, so it can be moved to ZeroGPU in its settings.
    assert meta["python_version"] in ZEROGPU_PYTHONS
    if hardware == "zero-a10g":
        assert "suggested_hardware" not in meta
    else:
        assert meta["suggested_hardware"] == hardware and hardware in SUGGESTED_HARDWARE


def test_docker_yaml_is_a_docker_space_on_the_dockerfiles_port(docker_space, tiny_bundle, tmp_path):
    meta = _front_matter((docker_space.path / "README.md").read_text())
    assert set(meta) <= CONFIG_FIELDS
    assert meta["sdk"] == "docker" and meta["app_port"] == 7860
    assert not {"sdk_version", "app_file", "python_version"} & set(meta)
    assert meta["suggested_hardware"] == "cpu-basic"  # ZeroGPU runs Gradio Spaces only
    assert "EXPOSE 7860" in (docker_space.path / "Dockerfile").read_text()
    with pytest.raises(SpaceError, match="ZeroGPU runs Gradio Spaces only"):
        build_space(
            tiny_bundle.name,
            tmp_path / "out",
            models=tiny_bundle.parent,
            docker=True,
            hardware="zero-a10g",
        )


@pytest.mark.parametrize(
    ("pins", "python"),
    [
        ({"numpy": "2.4.6", "onnxruntime": "1.32.0", "Pillow": "12.3.0"}, "3.12.12"),
        ({"numpy": "1.26.4", "onnxruntime": "1.17.0", "Pillow": "10.0.0"}, "3.12.12"),
        # No cp312 wheels for these (pip download --python-version 3.12 finds none): 3.10.
        ({"numpy": "1.25.2", "onnxruntime": "1.18.0", "Pillow": "10.4.0"}, "3.10.13"),
        ({"numpy": "2.2.6", "onnxruntime": "1.16.3", "Pillow": "10.4.0"}, "3.10.13"),
        ({"numpy": "1.26.4", "onnxruntime": "1.18.0", "Pillow": "9.5.0"}, "3.10.13"),
    ],
)
def test_python_version_is_one_zerogpu_runs_with_wheels_for_every_pin(pins, python):
    assert space_python({"gradio": "6.31.0", **pins}) == python


def test_pins_without_wheels_for_any_zerogpu_python_are_refused(make_bundle, tmp_path):
    # numpy 2.3 has no 3.10 wheels, onnxruntime 1.16 no 3.12 wheels.
    bundle = make_bundle(tmp_path / "models", versions={"numpy": "2.3.0", "onnxruntime": "1.16.3"})
    with pytest.raises(
        SpaceError,
        match=r"model\.json: .*onnxruntime==1\.16\.3, "
        r"numpy==2\.3\.0.*3\.12\.12, 3\.10\.13",
    ):
        build_space(bundle.name, tmp_path / "out", models=bundle.parent)
    assert not (tmp_path / "out").exists()


def test_readme_metrics_are_formatted_like_the_model_report(make_bundle, tmp_path):
    metrics = {
        "accuracy": 0.9916434540389972,
        "error_rate": 0.008356545961002786,
        "valid_loss": 0.14037658274173737,
        "n_valid": 359,
    }
    bundle = make_bundle(tmp_path / "models", metrics=metrics)
    folder = build_space(bundle.name, tmp_path / "out", models=bundle.parent)
    body = (folder.path / "README.md").read_text().split("\n---\n", 1)[1]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", body, re.M)[2:]  # after the header rows
    assert rows == [
        ("Accuracy", "99.16%"),
        ("Error rate", "0.84%"),
        ("Validation loss", "0.1404"),
        ("Validation images", "359"),
    ]
    assert "0.99164" not in body


def test_every_file_is_readable_by_everyone_and_writable_by_its_owner_only(make_bundle, tmp_path):
    # The Docker image keeps the files root's and runs the app as uid 1000: a bundle file
    # written private (mkstemp makes 0600) would be unreadable there.
    bundle = make_bundle(tmp_path / "models")
    (bundle / "model.onnx").chmod(0o600)
    (bundle / "examples" / "red_0.png").chmod(0o666)
    folder = build_space(bundle.name, tmp_path / "out", models=bundle.parent, docker=True)
    for path in [folder.path, *folder.path.rglob("*")]:
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path


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


def test_dockerfile_runs_as_a_non_root_user_on_root_owned_files(docker_space):
    dockerfile = (docker_space.path / "Dockerfile").read_text()
    assert re.search(r"^FROM python:\d+\.\d+-slim$", dockerfile, re.M)
    assert re.search(r"^RUN useradd .*--uid 1000 demo$", dockerfile, re.M)
    assert "EXPOSE 7860" in dockerfile and "GRADIO_SERVER_NAME=0.0.0.0" in dockerfile
    assert "${PORT:-7860}" in dockerfile
    # The app's files are copied as root's (no --chown): the user running it can't change them.
    assert "--chown" not in dockerfile and re.search(r"^COPY \. \.$", dockerfile, re.M)
    # Dependencies are installed before the app is copied, so code edits reuse that layer,
    # and the user switch comes after every copy.
    assert (
        dockerfile.index("pip install")
        < dockerfile.index("COPY . .")
        < dockerfile.index("USER demo")
    )
    assert "torch" not in dockerfile and "curl" not in dockerfile


def _healthcheck(dockerfile: str) -> list[str]:
    match = re.search(r"^HEALTHCHECK (.*?)\\\n\s+CMD (\[.*\])$", dockerfile, re.M)
    assert match, "the Dockerfile has no HEALTHCHECK ... CMD [...]"
    assert "--start-period=" in match[1] and "--timeout=" in match[1]
    return json.loads(match[2])


def test_healthcheck_asks_the_gradio_port_with_the_standard_library(docker_space, launched_app):
    command = _healthcheck((docker_space.path / "Dockerfile").read_text())
    assert command[0] == "python"
    port = launched_app.rstrip("/").rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    # $PORT set (Cloud Run, Render) and unset (7860, refused here: nothing listens on it).
    ok = subprocess.run(
        [sys.executable, *command[1:]], env={**env, "PORT": port}, capture_output=True, timeout=30
    )
    assert ok.returncode == 0, ok.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = str(sock.getsockname()[1])
    down = subprocess.run(
        [sys.executable, *command[1:]], env={**env, "PORT": free}, capture_output=True, timeout=30
    )
    assert down.returncode != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Runs app.py the way `python app.py` would, but refuses any import of this repository's
# packages (they are importable here through the editable install, not on a Space) and of
# torch (requirements.txt leaves it out; the `spaces` package patches it when it is there).
LAUNCHER = textwrap.dedent(
    """
    import importlib.abc, runpy, sys

    class NotOnTheSpace(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"blog", "training", "demos"}:
                raise ImportError(f"the Space imported {name} from the repository")
            if name.split(".")[0] == "torch":
                raise ImportError("torch is not installed on the Space")

    sys.meta_path.insert(0, NotOnTheSpace())
    sys.path[0] = "."
    runpy.run_path("app.py", run_name="__main__")
    """
)


def _spaces_package():
    """The real `spaces` package (Hugging Face preinstalls it on every Space)."""
    try:
        import spaces
    except ImportError:
        pytest.fail(
            "The `spaces` package is missing: pip install spaces (the dev extra pins "
            "the version Hugging Face preinstalls on Spaces)."
        )
    return spaces


class _ZeroGPUDeviceAPI:
    """Stands in for ZeroGPU's device API, which the `spaces` package calls on a ZeroGPU Space
    (SPACES_ZERO_DEVICE_API_URL): it records each request's path, accepts the startup report
    and refuses to schedule a GPU (nothing here should ask for one)."""

    def __init__(self):
        self.paths: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's name
                api.paths.append(self.path.split("?")[0])
                status = 200 if self.path.startswith("/startup-report") else 503
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_on_zerogpu_the_app_starts_and_predicts_without_asking_for_a_gpu(space, tmp_path):
    # The real `spaces` package in ZeroGPU mode (the environment a ZeroGPU Space sets), with
    # ZeroGPU's device API played by a local server. Every prediction that went through
    # spaces.GPU would ask it for a GPU (POST /schedule) for the decorator's duration.
    _spaces_package()
    # A copy outside the repository, run with a cwd and PYTHONPATH that don't contain it.
    folder = tmp_path / "deployed"
    subprocess.run(["cp", "-r", str(space.path), str(folder)], check=True)
    device = _ZeroGPUDeviceAPI()
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GRADIO_", "PYTHON", "SPACES_", "ZEROGPU_", "SYSTEM", "SPACE_"))
    }
    env.update(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONDONTWRITEBYTECODE="1",
        SPACES_ZERO_GPU="true",
        SPACES_ZERO_DEVICE_API_URL=device.url,
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
        # The package reports the start only when some function is decorated with spaces.GPU.
        assert device.paths == ["/startup-report"], (tmp_path / "app.log").read_text()
        client = Client(url, verbose=False)
        for colour in ["red", "green", "blue"]:
            example = folder / "examples" / f"{colour}_0.png"
            result = client.predict(handle_file(str(example)), api_name=runtime.API_NAME)
            assert result["label"] == colour
            assert {c["label"] for c in result["confidences"]} == {"red", "green", "blue"}
        assert device.paths == ["/startup-report"]  # no GPU was asked for
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        device.stop()
    assert "from the repository" not in (tmp_path / "app.log").read_text()
    # Nothing was written into the app's folder (the Docker image makes it read-only).
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert written == list(space.files)


def _run_app(space, monkeypatch) -> dict:
    """Run the Space's app.py in this process (not launched) and return its globals."""
    monkeypatch.syspath_prepend(str(space.path))
    monkeypatch.delitem(sys.modules, "runtime", raising=False)
    try:
        return runpy.run_path(str(space.path / "app.py"), run_name="space_app")
    finally:
        sys.modules.pop("runtime", None)


def _top_label(model, image: Path) -> str:
    return max(model.predict(image).items(), key=lambda kv: kv[1])[0]


def test_outside_zerogpu_the_spaces_package_leaves_the_app_as_it_is(space, monkeypatch):
    spaces = _spaces_package()
    from spaces.config import Config
    from spaces.zero import decorator

    assert not Config.zero_gpu  # this process is not on a ZeroGPU Space
    # As SPACES_GRADIO_AUTO_WRAP=true would: Gradio then wraps every event with spaces.GPU.
    monkeypatch.setattr(spaces.gradio, "gradio_auto_wrap_enabled", True)
    namespace = _run_app(space, monkeypatch)
    assert namespace["spaces"] is spaces
    assert spaces.gradio.gradio_auto_wrap_enabled is False  # app.py turned it off
    # The one decorated function, which ZeroGPU needs at startup; elsewhere spaces.GPU hands
    # it back unchanged, and it is never called.
    startup = namespace["zerogpu_startup"]
    assert startup.__code__.co_filename == str(space.path / "app.py") and startup() is None
    assert decorator.decorated_cache == {}
    model = namespace["model"]
    assert model.backend == "onnx"
    assert _top_label(model, space.path / "examples/green_0.png") == "green"


def test_without_spaces_the_app_runs_plainly(space, monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # `import spaces` raises ImportError
    namespace = _run_app(space, monkeypatch)
    assert namespace["spaces"] is None and "zerogpu_startup" not in namespace
    assert _top_label(namespace["model"], space.path / "examples/green_0.png") == "green"


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
    with pytest.raises(SpaceError, match=re.escape("model.onnx")):
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
