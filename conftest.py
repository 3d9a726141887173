"""Fixtures shared by the tests that run the template as a user would (README, e2e).

At the repository root, not in tests/: a conftest in tests/ would put tests/ first on sys.path,
where tests/blog/ would shadow the blog package.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
TEMPLATE_PARTS = ("mkdocs.yml", "site", "posts", "models", "scripts", ".gitignore")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A copy of what a user's clone holds (without trained weights, which git ignores)."""
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def fresh_template(tmp_path) -> Path:
    """Like `template`, for one test only (one that changes it)."""
    return copy_template(tmp_path / "template")


def copy_template(root: Path) -> Path:
    """Copy what a user's clone holds into `root` (made if needed); returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                root / name,
                ignore=shutil.ignore_patterns("model.onnx", "model.safetensors", ".*"),
            )
        else:
            shutil.copy(source, root / name)
    return root


@pytest.fixture(scope="session")
def digits_bundle(tmp_path_factory) -> Path:
    """The digits sample, trained once per test session as a user would (`python -m training
    digits`), on scikit-learn's images written to a temporary folder. Tests must not change it."""
    import subprocess
    import sys

    from training.recipes.digits import write_images

    root = tmp_path_factory.mktemp("digits-sample")
    data = write_images(root / "data" / "digits").parent
    out = root / "models" / "digits"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "training",
            "digits",
            "--data-dir",
            str(data),
            "--cache-dir",
            str(root / "cache"),
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (root / "train-stdout.txt").write_text(done.stdout)  # the progress table, for its test
    return out
