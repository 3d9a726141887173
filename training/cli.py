"""`python -m training RECIPE [PATH] [options]`: a thin layer over recipes, train and export."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from . import recipes
from .bundle import ExportError
from .config import Config, field_help

EPILOG = """examples:
  python -m training digits                      # offline sample, under a minute on 2 cores
  python -m training pets                        # downloads Oxford-IIIT Pets, resnet34
  python -m training folder data/bears --epochs 4
  python -m training csv labels.csv --arch resnet18 --no-pretrained
  python -m training import-fastai bears/export.pkl --trust   # a fastai learn.export() file
Each recipe's --help shows its own defaults: python -m training digits --help"""

RECIPE_HELP = {
    "digits": "scikit-learn's handwritten digits, offline: a small CNN from scratch",
    "pets": "Oxford-IIIT Pets, labels from file names, resnet34 fine_tune(1)",
    "folder": "PATH with one subfolder per label (or train/ and valid/ folders)",
    "csv": "FILE with columns fname,label[,is_valid]",
}
HIDDEN = {"recipe"}  # set by the subcommand itself
# Options with a fixed set of values: argparse rejects a typo with the valid choices.
CHOICES = {
    "resize": ("squish", "crop", "pad"),
    "schedule": ("fine_tune", "one_cycle"),
    "labels_from": ("folder", "regex", "csv"),
}


def _add_options(parser: argparse.ArgumentParser, defaults: Config, positional_path: bool):
    helps = field_help()
    for f in dataclasses.fields(Config):
        if f.name in HIDDEN or (f.name == "path" and positional_path):
            continue
        default = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        text = helps[f.name] + " (default: %(default)s)"
        if isinstance(default, bool):
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=helps[f.name] + f" (default: {default})",
            )
        elif isinstance(default, list):
            parser.add_argument(flag, type=int, nargs="+", default=default, metavar="N", help=text)
        else:
            parser.add_argument(
                flag,
                type=type(default),
                default=default,
                choices=CHOICES.get(f.name),
                metavar=f.name.upper(),
                help=text,
            )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m training",
        description="Fine-tune an image classifier the fastai way in plain PyTorch and export "
        "a model bundle (model.json, model.safetensors, model.onnx, examples/, "
        "report/) to models/<name>/.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="recipe", metavar="RECIPE", required=True)
    for name in recipes.NAMES:
        defaults = recipes.config(name)
        p = sub.add_parser(name, help=RECIPE_HELP[name], description=RECIPE_HELP[name])
        positional = name in ("folder", "csv")
        if positional:
            p.add_argument(
                "path", metavar="FILE" if name == "csv" else "PATH", help=RECIPE_HELP[name]
            )
        _add_options(p, defaults, positional)
    _add_import_fastai(sub)
    return top


IMPORT_FASTAI = "import-fastai"


def _add_import_fastai(sub) -> None:
    """`import-fastai FILE`: not a recipe, but the other way a bundle is made (no training)."""
    from . import fastai_import

    summary, _, description = (fastai_import.__doc__ or "").strip().partition("\n")
    p = sub.add_parser(
        IMPORT_FASTAI,
        help="a fastai learn.export() file (export.pkl) as a bundle, without training",
        description=f"{summary}\n{description}",
        formatter_class=_RawWithDefaults,
    )
    fastai_import.add_arguments(p)


class _RawWithDefaults(
    argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter
):
    """The module docstring's example block as written, and every option's default."""


def _import_fastai(args: argparse.Namespace) -> int:
    from .fastai_import import FastaiImportError, run

    try:
        return run(args)
    except (FastaiImportError, ExportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped: no bundle was written (an earlier one is as it was)", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    namespace = parser().parse_args(argv)
    if namespace.recipe == IMPORT_FASTAI:
        return _import_fastai(namespace)
    args = vars(namespace)
    name = args.pop("recipe")
    if args["arch"] == "simple_cnn":
        args["pretrained"] = False  # a from-scratch network: there are no weights to download
    chosen = any(a == "--schedule" or a.startswith("--schedule=") for a in argv)
    if not args["pretrained"] and args["schedule"] == "fine_tune" and not chosen:
        # fine_tune freezes a pretrained body first; a random body has nothing worth keeping.
        print(
            "note: --no-pretrained: training with one_cycle (no pretrained body to freeze; "
            "--schedule fine_tune to insist)."
        )
        args["schedule"] = "one_cycle"
    from . import WeightsUnavailable, export, train
    from .data import DataError

    try:
        config = recipes.prepare(recipes.config(name, **args))
        result = train(config)
        if result is None:  # a torchrun worker other than the first: process 0 exports
            return 0
        path = export(result)
    except (DataError, WeightsUnavailable, ExportError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"\nstopped: {interrupt or 'interrupted'}", file=sys.stderr)
        return 130
    m = result.metrics
    note = " (interrupted: best epoch so far)" if result.interrupted else ""
    print(
        f"accuracy {m['accuracy']:.4f}, error_rate {m['error_rate']:.4f} on {m['n_valid']} "
        f"validation images; trained in {result.seconds:.1f} s{note}"
    )
    int8 = json.loads((path / "model.json").read_text()).get("int8")
    files = "model.json, model.safetensors, model.onnx, " + ("model.int8.onnx, " if int8 else "")
    print(f"wrote {path}/ ({files}examples/, report/)")
    if int8:
        use = (
            "the web demo and Spaces use it"
            if int8["preferred"]
            else "more than half a point below fp32: the demos use model.onnx"
        )
        print(
            f"int8: accuracy {int8['accuracy']:.4f} ({int8['bytes'] / 1e6:.1f} MB, top-1 equal "
            f"to fp32 on {int8['agreement']:.1%}); {use}"
        )
    return 0
