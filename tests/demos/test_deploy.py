"""`demos deploy` against a local stand-in for the Hub (tests/demos/hub_stub.py).

These tests check the client side only: that huggingface_hub is driven the right way and
that every failure becomes a clear message. The stand-in follows huggingface_hub's own
requests, not the Hub's server code.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hub_stub import GOOD_TOKEN, HubStub
from huggingface_hub import constants

from demos import space as space_folder
from demos.cli import main as cli_main
from demos.deploy import DeployError, deploy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A running stand-in Hub that huggingface_hub talks to, and a valid token in HF_TOKEN."""
    stub = HubStub().start()
    # huggingface_hub reads HF_ENDPOINT and HF_HUB_DISABLE_XET when it is imported: set the
    # environment for subprocesses and patch the constants for this process.
    monkeypatch.setenv("HF_ENDPOINT", stub.url)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored login leaks in
    monkeypatch.setenv("HF_TOKEN", GOOD_TOKEN)
    monkeypatch.setattr(constants, "ENDPOINT", stub.url)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    yield stub
    stub.stop()


@pytest.fixture
def run_deploy(tiny_bundle, tmp_path, caplog):
    """deploy() on the tiny bundle with fast polling; returns (result, printed lines)."""
    caplog.set_level(logging.DEBUG)  # huggingface_hub's own logging must not leak the token

    def _run(space="alice/colours", **kwargs):
        lines = []
        kwargs.setdefault("registry", tmp_path / "site")
        kwargs.setdefault("poll_interval", 0.01)
        kwargs.setdefault("settle_seconds", 0.05)
        result = deploy(
            tiny_bundle.name, space, models=tiny_bundle.parent, echo=lines.append, **kwargs
        )
        return result, lines

    return _run


def _assert_token_nowhere(token, capsys, caplog, *texts):
    out, err = capsys.readouterr()
    for text in (out, err, caplog.text, *texts):
        assert token not in text


def _registry(tmp_path):
    return json.loads((tmp_path / "site" / "demos.json").read_text())


def test_deploy_creates_uploads_waits_and_records(
    hub, run_deploy, tiny_bundle, tmp_path, capsys, caplog
):
    result, lines = run_deploy()

    assert result.stage == "RUNNING"
    assert result.url == f"{hub.url}/spaces/alice/colours"
    assert result.app_url == "https://alice-colours.hf.space"
    create = [r for r in hub.requests if r.path == "/api/repos/create"]
    assert len(create) == 1
    assert create[0].json() == {
        "name": "colours",
        "organization": "alice",
        "type": "space",
        "sdk": "gradio",
        "hardware": "zero-a10g",
    }
    # Every request carried the token, and only in the Authorization header.
    for request in hub.requests:
        # The LFS store gets no token; huggingface_hub's own agent-detection lookup (best
        # effort, answered 404 here) is anonymous.
        if not request.path.startswith(("/lfs-upload/", "/api/agent-harnesses")):
            assert request.headers.get("authorization") == f"Bearer {GOOD_TOKEN}", request.path
        assert GOOD_TOKEN.encode() not in request.body

    # The Space holds exactly the folder `demos space` writes, byte for byte.
    local = space_folder.build_space(
        tiny_bundle.name, tmp_path / "local", models=tiny_bundle.parent
    )
    uploaded = hub.spaces["alice/colours"].files
    assert sorted(uploaded) == list(local.files) == sorted(result.files)
    for file in local.files:
        assert uploaded[file] == (local.path / file).read_bytes(), file
    commit = hub.spaces["alice/colours"].commits[-1]
    assert sorted(commit.lfs) == [
        "examples/blue_0.png",
        "examples/green_0.png",
        "examples/red_0.png",
        "model.onnx",
    ]
    assert "torch" not in uploaded["requirements.txt"].decode()
    # It waited through the build and printed the stages and the URL.
    assert [line.strip().split()[0] for line in lines if line.startswith("  ")] == [
        "BUILDING",
        "APP_STARTING",
        "RUNNING",
    ]
    assert any(result.url in line for line in lines)
    assert _registry(tmp_path) == {
        "colours": {
            "space": "alice/colours",
            "url": result.url,
            "app_url": "https://alice-colours.hf.space",
        }
    }
    _assert_token_nowhere(
        GOOD_TOKEN, capsys, caplog, "\n".join(lines), (tmp_path / "site" / "demos.json").read_text()
    )


def test_deploy_twice_removes_stale_files_and_keeps_other_entries(hub, run_deploy, tmp_path):
    hub.add_space(
        "alice/colours",
        {
            ".gitattributes": b"*.onnx filter=lfs diff=lfs merge=lfs -text\n",
            "old_helper.py": b"print('from an earlier deploy')\n",
            "app.py": b"print('old app')\n",
        },
    )
    (tmp_path / "site").mkdir()
    other = {
        "digits": {"space": "alice/digits", "url": "https://huggingface.co/spaces/alice/digits"}
    }
    (tmp_path / "site" / "demos.json").write_text(json.dumps(other))

    first, lines = run_deploy()
    space = hub.spaces["alice/colours"]
    assert "Updating the Space" in lines[0]
    assert not [r for r in hub.requests if r.path.endswith("/hardware")]  # hardware untouched
    assert space.commits[-1].deleted == ["old_helper.py"]  # app.py is replaced, not deleted
    assert ".gitattributes" in space.files and "old_helper.py" not in space.files
    assert space.files["app.py"] != b"print('old app')\n"
    commits = len(space.commits)

    hub.requests.clear()
    second, _ = run_deploy()
    assert len(space.commits) == commits  # nothing changed, so no new commit
    assert not [r for r in hub.requests if r.method == "PUT"]  # and nothing re-uploaded
    assert second.commit == first.commit and second.stage == "RUNNING"
    assert _registry(tmp_path) == {
        **other,
        "colours": {"space": "alice/colours", "url": first.url, "app_url": first.app_url},
    }


def test_existing_space_gets_the_requested_hardware(hub, run_deploy):
    hub.add_space("alice/colours", {"app.py": b"old"}, hardware="cpu-basic")
    run_deploy(hardware="zero-a10g")
    [request] = [r for r in hub.requests if r.path == "/api/spaces/alice/colours/hardware"]
    assert request.json() == {"flavor": "zero-a10g"}
    assert hub.spaces["alice/colours"].hardware == "zero-a10g"


def test_private_and_organisation_space(hub, run_deploy):
    run_deploy("book-club/colours", private=True)
    [create] = [r for r in hub.requests if r.path == "/api/repos/create"]
    assert create.json()["organization"] == "book-club"
    assert create.json()["visibility"] == "private"
    assert hub.spaces["book-club/colours"].private


def test_missing_token(hub, run_deploy, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(DeployError, match=r"No Hugging Face token: set HF_TOKEN .*hf auth login"):
        run_deploy()
    assert hub.requests == []
    assert not (tmp_path / "site" / "demos.json").exists()


def test_invalid_token(hub, run_deploy, monkeypatch, capsys, caplog):
    bad = "hf_revokedToken0000000000000000000"
    monkeypatch.setenv("HF_TOKEN", bad)
    with pytest.raises(DeployError, match=r"rejected the token \(401\).*settings/tokens") as err:
        run_deploy()
    assert hub.paths() == ["/api/whoami-v2"]
    _assert_token_nowhere(bad, capsys, caplog, str(err.value))


def test_someone_elses_namespace_is_refused_before_anything_is_sent(hub, run_deploy):
    with pytest.raises(DeployError, match=r"'bob' belongs to someone else.*--space alice/colours"):
        run_deploy("bob/colours")
    assert hub.paths() == ["/api/whoami-v2"]


def test_server_side_403_is_explained(hub, run_deploy):
    # The namespace is the user's, but the token may only read (a fine-grained token).
    hub.read_only_users.add("alice")
    with pytest.raises(DeployError, match=r"No write access to alice/colours \(403\).*read-only"):
        run_deploy()
    assert "alice/colours" not in hub.spaces


def test_plan_without_the_hardware(hub, run_deploy, tmp_path):
    hub.refused_hardware.add("cpu-basic")
    with pytest.raises(DeployError, match=r"plan doesn't allow cpu-basic .*\(402\).*zero-a10g"):
        run_deploy(hardware="cpu-basic")
    assert "alice/colours" not in hub.spaces
    # ... and the same for an existing Space asked to switch.
    hub.add_space("alice/colours", {"app.py": b"old"}, hardware="zero-a10g")
    with pytest.raises(DeployError, match=r"plan doesn't allow cpu-basic"):
        run_deploy(hardware="cpu-basic")
    assert not (tmp_path / "site" / "demos.json").exists()


def test_connection_refused(run_deploy, monkeypatch, tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(
        DeployError,
        match=rf"Can't reach the Hub at http://127.0.0.1:{port} "
        r"\(ConnectError.*check the network",
    ):
        run_deploy()


def test_build_error_shows_the_log_tail(hub, run_deploy, tmp_path):
    hub.outcome = "BUILD_ERROR"
    hub.build_log = [f"step {i}" for i in range(100)] + [
        "ERROR: Could not find a version that satisfies the requirement onnxruntime==0.0.1"
    ]
    with pytest.raises(DeployError) as err:
        run_deploy()
    message = str(err.value)
    assert "alice/colours ended in BUILD_ERROR" in message
    assert "satisfies the requirement onnxruntime==0.0.1" in message
    assert "step 99" in message and "step 50" not in message  # the tail, not the whole log
    assert any(r.path == "/api/spaces/alice/colours/logs/build" for r in hub.requests)
    assert not (tmp_path / "site" / "demos.json").exists()  # only successful deploys count


def test_a_space_that_never_finishes_building_times_out(hub, run_deploy):
    hub.build_polls = 10**9
    with pytest.raises(DeployError, match=r"still (BUILDING|APP_STARTING) after 0s.*--timeout"):
        run_deploy(timeout=0.1)


def test_dry_run_sends_nothing_and_needs_no_token(hub, run_deploy, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN")
    result, lines = run_deploy(dry_run=True)
    assert result.stage == "dry-run" and result.commit is None
    assert hub.requests == []
    assert any("model.onnx" in line for line in lines)
    assert not (tmp_path / "site" / "demos.json").exists()


@pytest.mark.parametrize(
    "space",
    [
        "colours",
        "alice/colours/extra",
        "alice/-x",
        "al ice/colours",
        # the Hub refuses these too (huggingface_hub validate_repo_id)
        "alice/My--Digits",
        "alice/a..b",
        "alice/colours-",
        "alice/colours.",
    ],
)
def test_bad_space_id(hub, run_deploy, space):
    with pytest.raises(DeployError, match="is not OWNER/NAME"):
        run_deploy(space)
    assert hub.requests == []


def test_registry_that_isnt_json_is_left_alone(hub, run_deploy, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "demos.json").write_text("{not json")
    with pytest.raises(DeployError, match=r"demos.json is not valid JSON.*fix or delete"):
        run_deploy()
    assert (tmp_path / "site" / "demos.json").read_text() == "{not json"


def test_cli_uses_hf_endpoint_and_never_prints_the_token(hub, tiny_bundle, tmp_path):
    # A fresh process: huggingface_hub reads HF_ENDPOINT (set by the fixture) at import.
    hub.build_polls = 0  # built at once: the CLI polls every few seconds
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [
        tiny_bundle.name,
        "--space",
        "alice/colours",
        "--models",
        str(tiny_bundle.parent),
        "--registry",
        str(tmp_path),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "demos", "deploy", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{hub.url}/spaces/alice/colours"
    assert "alice/colours" in hub.spaces
    assert GOOD_TOKEN not in done.stdout + done.stderr
    assert json.loads((tmp_path / "demos.json").read_text())["colours"]["space"] == "alice/colours"


def test_cli_reports_a_user_error_in_one_line(hub, tiny_bundle, tmp_path, monkeypatch, capsys):
    bad = "hf_notAValidToken111111111111111111"
    monkeypatch.setenv("HF_TOKEN", bad)
    args = [tiny_bundle.name, "--space", "alice/colours", "--models", str(tiny_bundle.parent)]
    assert cli_main(["deploy", *args, "--registry", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: Hugging Face rejected the token (401)")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert bad not in out + err


def test_deploy_static_creates_a_static_space_with_the_page(hub, run_deploy, tiny_bundle, tmp_path):
    result, _ = run_deploy(static=True)
    assert result.stage == "RUNNING"
    [create] = [r for r in hub.requests if r.path == "/api/repos/create"]
    assert create.json()["sdk"] == "static"
    assert "hardware" not in create.json()  # a static Space has none to choose
    assert not [r for r in hub.requests if r.path.endswith("/hardware")]
    local = space_folder.build_static_space(
        tiny_bundle.name, tmp_path / "local", models=tiny_bundle.parent
    )
    uploaded = hub.spaces["alice/colours"].files
    assert sorted(uploaded) == list(local.files) == sorted(result.files)
    for file in local.files:
        assert uploaded[file] == (local.path / file).read_bytes(), file
    assert "ort/ort-wasm-simd-threaded.wasm" in hub.spaces["alice/colours"].commits[-1].lfs
    assert result.app_url == "https://alice-colours.static.hf.space"
    assert _registry(tmp_path) == {
        "colours": {"space": "alice/colours", "url": result.url, "app_url": result.app_url}
    }


def test_deploy_static_refuses_hardware(hub, run_deploy):
    with pytest.raises(DeployError, match="--hardware doesn't apply to --static"):
        run_deploy(static=True, hardware="cpu-basic")
    assert not hub.requests


# A name whose characters the two old derivations of the app's host treated differently: one
# dash per character (jane-my--digits-v2-1) or per run (jane-my-digits-v2-1).
TRICKY = "Jane/My_-Digits_v2.1"


def test_deploy_records_the_app_host_the_hub_gives_and_the_blog_embeds_it(
    hub, run_deploy, tmp_path
):
    from blog.demos import DemoIndex

    hub.users[GOOD_TOKEN] = "Jane"
    # Whatever the Hub answers is what counts, even a host no rule here would derive.
    hub.hosts[TRICKY] = "https://jane-my-digits-v2-1-7f3a.hf.space"
    result, lines = run_deploy(TRICKY)
    assert result.app_url == "https://jane-my-digits-v2-1-7f3a.hf.space"
    assert any(line.startswith("Running:") and result.app_url in line for line in lines)
    entry = _registry(tmp_path)["colours"]
    assert entry == {
        "space": TRICKY,
        "url": f"{hub.url}/spaces/{TRICKY}",
        "app_url": result.app_url,
    }
    # The blog embeds exactly that host, from demos.json, without deriving one itself.
    index = DemoIndex(tmp_path / "no-models", tmp_path / "site" / "demos.json")
    assert index.embed_src("colours") == result.app_url


@pytest.mark.parametrize(
    ("static", "host"),
    [
        (False, "https://jane-my-digits-v2-1.hf.space"),
        (True, "https://jane-my-digits-v2-1.static.hf.space"),
    ],
)
def test_without_the_hubs_answer_the_host_is_derived_in_one_place(
    hub, run_deploy, tmp_path, static, host
):
    from demos.deploy import space_host

    hub.users[GOOD_TOKEN] = "Jane"
    hub.host_in_info = False
    result, _ = run_deploy(TRICKY, static=static)
    assert result.app_url == host == space_host(TRICKY, static=static)
    assert _registry(tmp_path)["colours"]["app_url"] == host
    dry, _ = run_deploy(TRICKY, static=static, dry_run=True)
    assert dry.app_url == host
