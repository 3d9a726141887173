"""Command line: `python -m demos SUBCOMMAND ...`.

Each subcommand is a module with a docstring (first line: the one-line help; the rest:
the description, with an example), `add_arguments(parser)` and `run(args) -> int`. The
commands are thin: the work happens in library functions that tests call directly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

# Subcommand -> module.
COMMANDS = {
    "serve": "demos.serve",
    "space": "demos.space",
    "deploy": "demos.deploy",
}
# Commands that moved to another package: the old spelling says where.
MOVED = {"import-fastai": "python -m training import-fastai"}


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the docstrings' example blocks as written and shows every option's default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # Positionals say in words what happens when they're left out.
        if not action.option_strings:
            return action.help
        return super()._get_help_string(action)


def load_commands() -> dict[str, ModuleType]:
    return {name: importlib.import_module(module) for name, module in COMMANDS.items()}


def build_parser(commands: dict[str, ModuleType] | None = None) -> argparse.ArgumentParser:
    commands = load_commands() if commands is None else commands
    parser = argparse.ArgumentParser(
        prog="python -m demos",
        description="Turn model bundles into Gradio demos: serve them locally, write "
        "Hugging Face Space folders, deploy them.",
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in commands.items():
        doc = (module.__doc__ or "").strip()
        summary, _, description = doc.partition("\n")
        sub = subparsers.add_parser(
            name,
            help=summary.strip(),
            description=f"{summary.strip()}\n\n{description.strip()}".strip(),
            formatter_class=HelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that are the user's to fix: printed as one line, no traceback."""
    from demos.errors import DemosError

    errors: list[type[BaseException]] = [DemosError]
    runtime = sys.modules.get("demos.runtime")  # only importable errors can have been raised
    if runtime is not None:
        errors += [runtime.BundleError, runtime.BadImage]
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in MOVED:
        print(
            f"error: `python -m demos {argv[0]}` is now `{MOVED[argv[0]]}`, with the same "
            "options (demos only reads bundles; what writes one lives in training).",
            file=sys.stderr,
        )
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as error:
        if isinstance(error, _user_errors()):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise
