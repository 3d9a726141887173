"""scripts/execute_posts.py on real notebooks and a real python3 kernel, in tmp_path."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# Each starts a Jupyter kernel.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "posts" / "2026-11-20-notebook-features.ipynb"

_spec = importlib.util.spec_from_file_location("execute_posts", REPO / "scripts/execute_posts.py")
execute_posts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_posts)


def outputs_summary(notebook: nbformat.NotebookNode) -> list[tuple]:
    """What each code cell showed, without the bytes that vary across library versions."""
    summary = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream":
                summary.append((cell.source[:20], "stream", output.name, output.text))
            elif output.output_type == "error":
                summary.append((cell.source[:20], "error", output.ename, output.evalue))
            else:
                summary.append((cell.source[:20], output.output_type, tuple(sorted(output.data))))
    return summary


def test_example_notebook_outputs_come_from_running_it(tmp_path):
    committed = nbformat.read(EXAMPLE, as_version=4)
    copy = tmp_path / EXAMPLE.name
    cleared = nbformat.read(EXAMPLE, as_version=4)
    for cell in cleared.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(cleared, copy)

    assert execute_posts.main([str(copy)]) == 0

    refreshed = nbformat.read(copy, as_version=4)
    assert outputs_summary(refreshed) == outputs_summary(committed), (
        f"{EXAMPLE} is out of date: run `.venv/bin/python scripts/execute_posts.py {EXAMPLE}`"
    )
    kinds = {entry[1:3] for entry in outputs_summary(refreshed)}
    assert ("stream", "stdout") in kinds and ("stream", "stderr") in kinds
    assert ("error", "ValueError") in kinds
    assert ("display_data", ("image/png", "text/plain")) in kinds
    assert ("execute_result", ("text/html", "text/plain")) in kinds
    streams = [entry[-1] for entry in outputs_summary(refreshed) if entry[1] == "stream"]
    assert any("\x1b[32m" in text for text in streams), "the ANSI-coloured output is missing"


def test_failing_cell_is_named_and_the_notebook_left_alone(tmp_path, capsys):
    path = tmp_path / "2026-01-01-broken.ipynb"
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# A post"),
            new_code_cell("x = 1"),
            new_code_cell("import not_a_real_module_xyz"),
        ]
    )
    nbformat.write(notebook, path)
    before = path.read_bytes()

    assert execute_posts.main([str(path)]) == 1

    error = capsys.readouterr().err
    assert f"{path}: cell 3 ('import not_a_real_module_xyz') raised ModuleNotFoundError" in error
    assert "raises-exception" in error
    assert path.read_bytes() == before


def test_unknown_kernel_says_how_to_install_one(tmp_path):
    path = tmp_path / "post.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), path)
    expected = r"no Jupyter kernel named 'nope'.*ipykernel install"
    with pytest.raises(execute_posts.ExecuteError, match=expected):
        execute_posts.execute_notebook(path, kernel_name="nope")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("post.md", "# hi\n", r"not a notebook \(\.ipynb\)"),
        ("post.ipynb", '{"cells": ', r"not a valid notebook .*repair it"),
        ("absent.ipynb", None, r"no such file"),
    ],
)
def test_bad_paths_get_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(execute_posts.ExecuteError, match=message) as raised:
        execute_posts.execute_notebook(path)
    assert str(path) in str(raised.value)


def test_folders_expand_to_their_notebooks(tmp_path):
    for name in ("b.ipynb", "a.ipynb", ".executing-x.ipynb", "c.md"):
        (tmp_path / name).touch()
    shutil.copy(EXAMPLE, tmp_path / "d.ipynb")
    found = execute_posts.find_notebooks([tmp_path])
    assert [p.name for p in found] == ["a.ipynb", "b.ipynb", "d.ipynb"]


def test_an_edit_saved_while_running_is_kept(tmp_path, capsys):
    path = tmp_path / "2026-01-01-edited.ipynb"
    # The cell stands in for the author pressing Save in Jupyter while the notebook runs.
    notebook = new_notebook(
        cells=[new_code_cell(f"import os, time\ntime.sleep(0.05)\nos.utime({str(path)!r})")]
    )
    nbformat.write(notebook, path)
    before = path.read_bytes()
    assert execute_posts.main([str(path)]) == 1
    assert "saved by something else while it ran" in capsys.readouterr().err
    assert path.read_bytes() == before
