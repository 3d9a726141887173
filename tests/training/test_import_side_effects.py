"""Importing the packages changes no global state: a notebook that imports `training` keeps
its inline figures, and importing `demos.runtime` leaves Pillow's limits alone."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_a_notebook_that_imports_training_still_shows_its_figures(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import sys; sys.path.insert(0, {str(ROOT)!r})\nimport training, training.report"
        ),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2]);\nplt.show()"
        ),
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = nb.cells[1].outputs
    assert any("image/png" in out.get("data", {}) for out in outputs), outputs


def test_importing_the_demo_runtime_leaves_pillow_and_warnings_alone():
    import subprocess
    import sys

    code = (
        "import warnings\nimport numpy\nfrom PIL import Image\n"
        "before = (Image.MAX_IMAGE_PIXELS, list(warnings.filters))\n"
        "import demos.runtime\n"
        "assert (Image.MAX_IMAGE_PIXELS, list(warnings.filters)) == before, 'changed'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
