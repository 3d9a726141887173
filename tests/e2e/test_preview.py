"""The README's main job, end to end: `make preview`'s script on free ports, driven by a browser.

A copy of the template (mkdocs.yml, site/, posts/, the versioned parts of models/), committed
as a fresh clone, runs the real preview twice, as a user would: the first run serves the
committed sample (its small int8 model is in git) and is stopped with Ctrl-C; the second
serves it again, and a headless Chromium goes from the home page to the sample post, its
report, its demo card and both demos, where it uploads a validation digit and reads the label.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SAMPLE_POST = "2026/11/25/is-it-a-3-or-a-7/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_preview(root: Path, blog_port: int, demo_port: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "scripts/preview.py",
            "--blog-port",
            str(blog_port),
            "--demo-port",
            str(demo_port),
        ],
        cwd=root,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_ready(process: subprocess.Popen, log: Path, seconds: float = 600) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "Ctrl-C stops both." in text:
            return text
        if process.poll() is not None:
            raise AssertionError(f"preview exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"preview not ready in {seconds} s:\n{log.read_text()[-3000:]}")


def ctrl_c(process: subprocess.Popen) -> int:
    """What a terminal does on Ctrl-C: SIGINT to the whole process group."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("preview did not stop on Ctrl-C") from None


GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


def git_status(root: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def serve_preview(root: Path, log: Path, seconds: float = 600) -> dict:
    """make preview's script started in `root` on free ports and waited for; what the tests
    need to know of it."""
    ports = free_port(), free_port()
    process = start_preview(root, *ports, log)
    try:
        output = wait_ready(process, log, seconds)
    except BaseException:
        if process.poll() is None:
            ctrl_c(process)
        raise
    return {
        "blog": f"http://127.0.0.1:{ports[0]}/",
        "demos": f"http://127.0.0.1:{ports[1]}/",
        "output": output,
        "root": root,
        "process": process,
    }


def start_on_a_clone(root: Path, logs: Path) -> dict:
    """`root` committed as a fresh clone (git ignores the large weights), then served."""
    subprocess.run([*GIT, "init", "-q"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "clone"], cwd=root, check=True)
    return serve_preview(root, logs / "preview.log")


@pytest.fixture(scope="module")
def preview(template, tmp_path_factory):
    """A user's first two runs of make preview on a fresh clone, for the tests that only look
    at them (in any order): the first is started, then stopped with Ctrl-C, and what that
    left is recorded; the second is started on other ports and stays up for the browser."""
    logs = tmp_path_factory.mktemp("preview-logs")
    first = start_on_a_clone(template, logs)
    stopped = {"exit": ctrl_c(first["process"]), "answered": []}
    for url in (first["blog"], first["demos"]):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            stopped["answered"].append(url)
        except OSError as error:  # nothing listens any more: the connection is refused
            if "Connection refused" not in str(error):
                stopped["answered"].append(f"{url}: {error}")
    stopped["git status"] = git_status(template)
    again = serve_preview(template, logs / "again.log", seconds=180)
    yield {"first": first, "stopped": stopped, "again": again}
    if again["process"].poll() is None:
        code = ctrl_c(again["process"])
        assert code == 0, (logs / "again.log").read_text(errors="replace")[-3000:]


def test_first_run_serves_the_committed_sample_and_prints_both_addresses(preview):
    first = preview["first"]
    # The sample's int8 model is committed, so a clone runs it as it is: nothing to train.
    assert "Training the digits sample" not in first["output"]
    assert (first["root"] / "models/digits/model.int8.onnx").is_file()
    assert not (first["root"] / "models/digits/model.onnx").exists()
    assert f"Blog:  {first['blog']}" in first["output"]
    assert f"Demos: {first['demos']}" in first["output"]
    meta = json.loads((first["root"] / "models/digits/model.json").read_text())
    assert meta["metrics"]["accuracy"] >= 0.985  # the sample's bar, on its validation split


def test_ctrl_c_stops_both_leaves_the_clone_clean_and_a_second_run_reuses_the_bundle(preview):
    stopped = preview["stopped"]
    assert stopped["exit"] == 0
    assert stopped["answered"] == []  # neither server answers after Ctrl-C
    assert stopped["git status"] == ""  # make preview changed no tracked file
    assert "Training the digits sample" not in preview["again"]["output"]
    assert f"Blog:  {preview['again']['blog']}" in preview["again"]["output"]


def test_reader_goes_from_home_to_the_demo(preview):
    preview = preview["again"]  # the run still up
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    digit = preview["root"] / "models/digits/examples/7_0.png"  # a validation image
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(preview["blog"])
            page.locator(f"a[href$='{SAMPLE_POST}']").first.click()
            page.wait_for_url(f"**/{SAMPLE_POST}")
            for alt in ("Confusion matrix", "Top losses"):
                image = page.locator(f"article img[alt='{alt}']")
                image.scroll_into_view_if_needed()
                expect(image).to_be_visible()
                assert image.evaluate("img => img.complete && img.naturalWidth") > 0, alt
            # The card's first link runs the model in the browser, on the blog itself.
            card = page.locator(".demo-card a.demo-link")
            assert card.get_attribute("href").endswith("demos/digits/")
            server = page.locator(".demo-card a.demo-space")
            assert server.get_attribute("href") == f"{preview['demos']}digits/"
            card.click()
            page.wait_for_url(f"{preview['blog']}demos/digits/")
            page.wait_for_selector("body[data-state=ready]", timeout=60_000)
            page.locator("input[type=file]").set_input_files(str(digit))
            best = page.locator("[data-testid=prediction] > li").first
            expect(best).to_have_attribute("data-label", "7", timeout=60_000)
            # Its second link: the same model in the local Gradio app.
            page.go_back()
            page.locator(".demo-card a.demo-space").click()
            page.wait_for_url(f"{preview['demos']}digits/**")
            page.locator("input[type=file]").first.set_input_files(str(digit))
            label = page.locator("[data-testid=label-output-value]").first
            expect(label).to_have_text("7", timeout=60_000)
        finally:
            browser.close()


def test_sample_is_trained_only_when_missing_or_weightless(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("preview", ROOT / "scripts" / "preview.py")
    preview = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(preview)
    models = tmp_path / "models"
    assert preview.needs_sample(models)  # a first run: nothing trained yet
    sample = models / "digits"
    sample.mkdir(parents=True)
    (sample / "model.json").write_text("{}")
    assert preview.needs_sample(models)  # committed without any weights
    int8 = {"int8": {"file": "model.int8.onnx", "preferred": False}}
    (sample / "model.json").write_text(json.dumps(int8))
    (sample / "model.int8.onnx").write_bytes(b"x")
    assert preview.needs_sample(models)  # an int8 model the runtime wouldn't run
    int8["int8"]["preferred"] = True
    (sample / "model.json").write_text(json.dumps(int8))
    assert not preview.needs_sample(models)  # a clone: the committed int8 model runs
    (sample / "model.int8.onnx").unlink()
    (sample / "model.onnx").write_bytes(b"x")
    assert not preview.needs_sample(models)
    shutil.rmtree(sample)  # the user removed the sample but has a model of theirs
    (models / "bears").mkdir()
    (models / "bears" / "model.json").write_text("{}")
    (models / "bears" / "model.onnx").write_bytes(b"x")
    assert not preview.needs_sample(models)
