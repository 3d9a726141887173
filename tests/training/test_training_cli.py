"""The command line, run as a person runs it: python -m training ..."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from training_helpers import make_folder_dataset

from training import cli, recipes
from training.config import Config, field_help

ROOT = Path(__file__).resolve().parents[2]
# An unreachable proxy: every download fails fast, as on a machine without internet.
OFFLINE = {
    "https_proxy": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "no_proxy": "",
    "NO_PROXY": "",
}


def run_cli(*args, env=None, timeout=180):
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "training", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def test_every_config_field_has_a_comment():
    assert set(field_help()) == {f.name for f in dataclasses.fields(Config)}


@pytest.mark.parametrize("recipe", recipes.NAMES)
def test_help_documents_every_option_and_default(recipe, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([recipe, "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    defaults = recipes.config(recipe)
    for f in dataclasses.fields(Config):
        if f.name == "recipe" or (f.name == "path" and recipe in ("folder", "csv")):
            continue
        flag = "--" + f.name.replace("_", "-")
        assert flag in text, flag
        value = getattr(defaults, f.name)
        shown = str(value)
        # The help line of that option ends with its recipe-specific default.
        pattern = re.escape(flag) + r".*?\(default: " + re.escape(shown) + r"\)"
        assert re.search(pattern, text), (flag, shown)


def test_top_level_help_lists_the_recipes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name in recipes.NAMES:
        assert name in out


@pytest.mark.slow
def test_bad_input_is_one_clear_line_not_a_traceback(tmp_path):
    # The real entry point once (python -m), then the same code in-process (fast).
    done = run_cli("folder", tmp_path / "nowhere")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nowhere: no such folder" in done.stderr


def test_errors_name_the_problem(tmp_path, capsys):
    assert cli.main(["csv", str(tmp_path / "labels.csv")]) == 2
    assert "labels.csv: no such CSV file" in capsys.readouterr().err
    root = make_folder_dataset(tmp_path / "d", per_label=5)
    assert (
        cli.main(
            ["folder", str(root), "--arch", "resnet9000", "--no-pretrained", "--cache-dir", ""]
        )
        == 2
    )
    assert "unknown architecture 'resnet9000'" in capsys.readouterr().err
    (tmp_path / "e" / "only").mkdir(parents=True)
    assert cli.main(["folder", str(tmp_path / "e"), "--cache-dir", ""]) == 2
    assert "no images found" in capsys.readouterr().err


def test_bundle_name_and_post_are_checked(capsys):
    assert cli.main(["digits", "--name", "my digits"]) == 2
    assert "name 'my digits': use letters" in capsys.readouterr().err
    assert cli.main(["digits", "--post", "posts/digits.md"]) == 2
    assert "must be an http(s) URL" in capsys.readouterr().err


def test_unknown_recipe_suggests_the_closest():
    with pytest.raises(ValueError, match='Did you mean "digits"'):
        recipes.config("digit")


@pytest.fixture
def offline(monkeypatch):
    """This process behind the unreachable proxy, for one test. urllib builds its shared opener
    (with the proxies of that moment) on the first urlopen and keeps it: a fresh one is used
    here and the previous one put back, so later tests in this process aren't offline too."""
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(urllib.request, "_opener", None)


@pytest.mark.usefixtures("offline")
def test_offline_pretrained_weights_suggest_no_pretrained(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached weights either
    root = make_folder_dataset(tmp_path / "d", per_label=5)
    assert (
        cli.main(["folder", str(root), "--arch", "resnet18", "--size", "32", "--cache-dir", ""])
        == 2
    )
    err = capsys.readouterr().err
    assert "could not download the pretrained resnet18 weights" in err
    assert "--no-pretrained" in err


@pytest.mark.usefixtures("offline")
def test_pets_offline_says_to_use_path(tmp_path, capsys):
    assert cli.main(["pets", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "could not download" in err and "--path" in err
    assert not list(tmp_path.rglob("*.part"))


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    from training.recipes.digits import write_images

    return write_images(tmp_path_factory.mktemp("digits") / "digits").parent


@pytest.mark.slow
def test_digits_recipe_end_to_end(digits_bundle):
    """The README's main job, offline on 2 cores, >= 98.5% accuracy, with fastai's progress
    table: a header, then one row per epoch whose error rate matches the history."""
    stdout = (digits_bundle.parent.parent / "train-stdout.txt").read_text()
    meta = json.loads((digits_bundle / "model.json").read_text())
    assert re.search(r"^\s+epoch\s+train_loss\s+valid_loss\s+error_rate\s+time$", stdout, re.M)
    rows = re.findall(
        r"^\s+(\d+)\s+(\d+\.\d{6})\s+(\d+\.\d{6})\s+(\d+\.\d{6})\s+\d\d:\d\d$",
        stdout.replace("\r", "\n"),
        re.M,
    )
    epochs = meta["recipe"]["epochs"]
    assert [int(r[0]) for r in rows] == list(range(epochs)), rows
    metrics = json.loads((digits_bundle / "report" / "metrics.json").read_text())
    assert [float(r[3]) for r in rows] == pytest.approx(
        [h["error_rate"] for h in metrics["history"]][-epochs:], abs=1e-6
    )
    assert meta["metrics"]["accuracy"] >= 0.985, meta["metrics"]
    assert meta["metrics"]["n_valid"] == 359 and meta["labels"] == list("0123456789")
    data = digits_bundle.parent.parent / "data" / "digits"
    assert len(list(data.rglob("*.png"))) == 1797
    seconds = metrics["train_seconds"]
    print(f"digits: accuracy {meta['metrics']['accuracy']:.4f} in {seconds:.1f} s wall")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_the_best_epoch(digits_dir, tmp_path):
    out = tmp_path / "bundle"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "training",
            "digits",
            "--data-dir",
            str(digits_dir),
            "--cache-dir",
            "",
            "--epochs",
            "40",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    rows = 0
    for line in process.stdout:
        if re.match(r"\s+\d+\s+\d+\.\d+", line):
            rows += 1
            if rows == 2:
                process.send_signal(signal.SIGINT)
                break
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-3000:]
    assert "interrupted" in stdout and "Traceback" not in stderr, stdout + stderr
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["interrupted"] is True
    history = metrics["history"]
    assert 2 <= len(history) < 40
    # The bundle holds the best epoch so far, not the last (half-trained) one.
    best = min(row["error_rate"] for row in history)
    assert metrics["error_rate"] <= best + 1e-9


@pytest.mark.slow
def test_torchrun_ddp_on_two_cpu_processes(tmp_path):
    """The DDP path for real, with the gloo backend: two processes, one bundle.

    On simple_cnn (conv, batch norm, a head: fine_tune's frozen and unfrozen phases, buffers
    to keep in step), which DDP treats as it does a resnet, for a third less CPU."""
    root = make_folder_dataset(tmp_path / "d", per_label=16)
    out = tmp_path / "ddp"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "-m",
            "training",
            "folder",
            str(root),
            "--arch",
            "simple_cnn",
            "--no-pretrained",
            "--schedule",
            "fine_tune",
            "--size",
            "32",
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--lr-find",
            "--workers",
            "1",
            "--no-int8",  # process 0 exports as a single process does: tested elsewhere
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("wrote ") == 1  # only process 0 exports
    # Each process runs the LR finder on its own batches; all train with process 0's valley,
    # so they end with the same weights (the run warns when they don't).
    assert "different weights" not in done.stdout + done.stderr
    assert "lr_find: the valley is at" in done.stdout
    # Both processes decoded the images and wrote the same cache entries; one copy of each
    # stays, complete, and no temporary folder is left behind.
    entries = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(entries) == 2 and not any(name.startswith(".") for name in entries)
    assert all((tmp_path / "cache" / name / "done").exists() for name in entries)
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert [(row["phase"], row["epoch"]) for row in metrics["history"]] == [
        ("frozen", 0),
        ("unfrozen", 0),
        ("unfrozen", 1),
    ]
    meta = json.loads((out / "model.json").read_text())
    assert meta["architecture"]["name"] == "simple_cnn" and meta["architecture"]["num_classes"] == 3


def test_default_folders_are_at_the_project_root(tmp_path, monkeypatch):
    """A notebook in posts/ and a shell at the root use the same data/ and models/."""
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "posts").mkdir()
    for where in (tmp_path, tmp_path / "posts"):
        monkeypatch.chdir(where)
        config = recipes.config("digits").resolved()
        assert config.data_dir == str(tmp_path / "data")
        assert config.cache_dir == str(tmp_path / ".cache" / "training")
        assert config.output == str(tmp_path / "models" / "digits")
    # Outside a blog template, the current folder is the root.
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert recipes.config("digits").resolved().output == str(elsewhere / "models" / "digits")
    explicit = recipes.config("digits", data_dir="here", output="out").resolved()
    assert explicit.data_dir == "here" and explicit.output == "out"


def test_folder_and_csv_bundles_are_named_after_their_data(tmp_path):
    folder = tmp_path / "My Bears"
    folder.mkdir()
    config = recipes.prepare(recipes.config("folder", path=str(folder), pretrained=False))
    assert config.name == "My-Bears"
    csv = tmp_path / "labels.csv"
    csv.write_text("fname,label\n")
    assert recipes.prepare(recipes.config("csv", path=str(csv))).name == "labels"
    named = recipes.prepare(recipes.config("folder", path=str(folder), name="grizzly"))
    assert named.name == "grizzly"


def test_no_pretrained_switches_to_one_cycle_unless_asked(tmp_path, capsys):
    root = make_folder_dataset(tmp_path / "d", per_label=6)
    assert (
        cli.main(
            [
                "folder",
                str(root),
                "--arch",
                "simple_cnn",
                "--size",
                "16",
                "--epochs",
                "1",
                "--output",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    assert "training with one_cycle" in capsys.readouterr().out
    meta = json.loads((tmp_path / "a" / "model.json").read_text())
    assert meta["recipe"]["schedule"] == "one_cycle"
    assert meta["recipe"]["pretrained"] is False  # simple_cnn has no pretrained weights


def test_ctrl_c_during_import_fastai_is_one_line(monkeypatch, capsys):
    from training import fastai_import

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fastai_import, "run", interrupted)
    assert cli.main(["import-fastai", "bears/export.pkl", "--trust"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "stopped: no bundle was written (an earlier one is as it was)"
