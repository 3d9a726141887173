"""python -m blog: every command works from the shell, is documented, and fails in one line."""

import subprocess
import sys

import nbformat
import pytest
from blog_helpers import new_code_cell, notebook, write_nb

from blog.cli import build_parser, main


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "blog", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_every_command_has_help_with_defaults():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {"convert", "check", "new"}
    for name, sub in commands.items():
        text = sub.format_help()
        assert sub.description, f"`{name}` has no description"
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help and (
                    "default" in action.help or action.const is not None or action.nargs == 0
                ), f"{name} {action.dest}"
        assert "usage:" in text


def test_new_then_check_then_convert(tmp_path):
    made = run(
        "new",
        "Is it a bear?",
        "--date",
        "2026-05-06",
        "--category",
        "vision",
        "--posts-dir",
        str(tmp_path),
    )
    assert made.returncode == 0, made.stderr
    path = tmp_path / "2026-05-06-is-it-a-bear.ipynb"
    assert made.stdout.strip() == str(path)
    nbformat.validate(nbformat.read(path, as_version=4))
    checked = run("check", str(tmp_path))
    assert checked.returncode == 0
    assert "2026/05/06/is-it-a-bear" in checked.stdout
    converted = run("convert", str(path))
    assert converted.returncode == 0
    assert "# Is it a bear?" in converted.stdout and "categories:\n- vision" in converted.stdout
    again = run("new", "Is it a bear?", "--date", "2026-05-06", "--posts-dir", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_check_reports_every_bad_post_and_fails(tmp_path):
    write_nb(tmp_path / "2026-01-01-good.ipynb", notebook(new_code_cell("x = 1")))
    (tmp_path / "2026-01-02-bad.ipynb").write_text("{", "utf-8")
    (tmp_path / "2026-01-03-untitled.md").write_text("---\ntitle: [oops\n---\n", "utf-8")
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    assert "2026-01-02-bad.ipynb: is not valid JSON" in result.stderr
    assert "2026-01-03-untitled.md: the front matter is not valid YAML" in result.stderr
    assert "3 post(s), 2 with problems." in result.stdout
    assert "Traceback" not in result.stderr


def test_convert_writes_assets(tmp_path, capsys):
    from blog_helpers import PNG_1PX, new_output

    path = write_nb(
        tmp_path / "2026-01-01-fig.ipynb",
        notebook(
            new_code_cell(
                "plot()", outputs=[new_output("display_data", data={"image/png": PNG_1PX})]
            )
        ),
    )
    assert main(["convert", str(path), "--assets", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "2026-01-01-fig_files" / "output_0_0.png").is_file()


@pytest.mark.parametrize("args", [["convert", "missing.ipynb"], ["check", "no-such-dir"]])
def test_missing_paths_are_one_line_errors(args, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_new_with_a_bad_date_is_one_line(tmp_path):
    result = run("new", "X", "--date", "2026-13-01", "--posts-dir", str(tmp_path))
    assert result.returncode == 1
    assert "--date 2026-13-01 is not a date" in result.stderr and "Traceback" not in result.stderr


def test_check_validates_demo_names_and_reports(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "2026-01-01-a.md").write_text("---\ntitle: A\ndemo: nope\n---\nx\n", "utf-8")
    (posts / "2026-01-02-b.md").write_text(
        '---\ntitle: B\n---\n\n{{ model_report("gone") }}\n', "utf-8"
    )
    result = run("check", str(posts), cwd=tmp_path)
    assert result.returncode == 1
    assert "2026-01-01-a.md" in result.stderr and "demo: nope" in result.stderr
    assert 'model_report("gone")' in result.stderr


def test_check_reads_the_plugins_folders_from_mkdocs_yml(tmp_path):
    """With no arguments, `check` looks where the build looks: the notebook-posts settings."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "bundles" / "digits").mkdir(parents=True)
    (tmp_path / "bundles" / "digits" / "model.json").write_text(
        '{"name": "digits", "title": "Digits"}', "utf-8"
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\ndocs_dir: site\nplugins:\n  - notebook-posts:\n      posts_dir: notes\n"
        "      models_dir: bundles\n  - blog\n",
        "utf-8",
    )
    (tmp_path / "notes" / "2026-01-01-a.md").write_text(
        "---\ntitle: A\ndemo: digits\n---\nx\n", "utf-8"
    )
    result = run("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2026-01-01-a.md" in result.stdout and "1 post(s), 0 with problems" in result.stdout
    (tmp_path / "notes" / "2026-01-02-b.md").write_text(
        "---\ntitle: B\ndemo: bears\n---\nx\n", "utf-8"
    )
    result = run("check", cwd=tmp_path)
    assert result.returncode == 1 and "Known demos: digits" in result.stderr
