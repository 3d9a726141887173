"""The `python -m demos` command line: registry, documentation, error handling."""

from __future__ import annotations

import argparse
import sys

import pytest

from demos import cli
from demos.errors import DemosError


def test_every_command_is_documented():
    commands = cli.load_commands()
    assert "serve" in commands
    parser = cli.build_parser(commands)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, module in commands.items():
        doc = (module.__doc__ or "").strip()
        summary, _, description = doc.partition("\n")
        assert summary.endswith("."), f"{name}: the docstring's first line is the help"
        assert "python -m demos " + name in description, f"{name}: the description needs an example"
        for action in subparsers.choices[name]._actions:
            assert action.help, f"{name}: option {action.dest} has no help"


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for default in (
        "(default: models)",
        "(default: 127.0.0.1)",
        "(default: 7860)",
        "(default: onnx)",
    ):
        assert default in out


def test_missing_dependency_inside_a_command_is_an_error(monkeypatch, tmp_path):
    (tmp_path / "demos_broken_command.py").write_text("import package_that_is_not_there\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "broken", "demos_broken_command")
    with pytest.raises(ModuleNotFoundError):
        cli.load_commands()


def test_library_errors_become_one_line_and_status_2(monkeypatch, capsys):
    module = type(sys)("demos_failing_command")
    module.__doc__ = "Fail on purpose.\n\nexample: python -m demos fail"
    module.add_arguments = lambda parser: None

    def run(args):
        raise DemosError("models/x/model.json: field 'format' is wrong")

    module.run = run
    monkeypatch.setattr(cli, "load_commands", lambda: {"fail": module})
    assert cli.main(["fail"]) == 2
    assert capsys.readouterr().err == "error: models/x/model.json: field 'format' is wrong\n"


def test_a_command_that_moved_says_where(capsys):
    # The fastai import writes a bundle, so it lives in training now.
    assert cli.main(["import-fastai", "bears/export.pkl", "--trust"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `python -m demos import-fastai` is now ")
    assert "`python -m training import-fastai`, with the same options" in err
