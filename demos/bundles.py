"""Find the bundles in a models folder and turn them into Gradio apps.

demos.runtime handles one bundle (and is copied into Space folders); this module adds what
only the repository needs: discovering bundles, choosing them by name, loading several.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path

from demos.errors import DemosError

# Names become URL paths (/NAME/) and Space names, so keep them to URL-safe characters.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def find_bundles(models_dir: str | Path) -> dict[str, Path]:
    """{name: folder} for every sub-folder of `models_dir` holding a model.json, by name."""
    root = Path(models_dir)
    if not root.is_dir():
        raise DemosError(
            f"{root}: no such folder. Export a model with `python -m training RECIPE` "
            "or pass --models DIR"
        )
    # Dot-folders are an export's temporary or previous copy, never a demo of their own.
    found = {
        p.parent.name: p.parent
        for p in root.glob("*/model.json")
        if not p.parent.name.startswith(".")
    }
    return dict(sorted(found.items()))


WEIGHTS = {"onnx": "model.onnx", "torch": "model.safetensors"}


def has_weights(folder: Path) -> bool:
    """Whether the bundle can run here: model.onnx or model.safetensors, or the int8 model
    that training recorded as preferred (the runtime runs it; it is small, so it is the one
    file a clone has: git ignores the others)."""
    if any((folder / weights).is_file() for weights in WEIGHTS.values()):
        return True
    try:
        int8 = json.loads((folder / "model.json").read_text("utf-8")).get("int8") or {}
    except (OSError, ValueError, AttributeError):
        return False
    return bool(
        isinstance(int8, dict)
        and int8.get("preferred") is True
        and isinstance(int8.get("file"), str)
        and (folder / int8["file"]).is_file()
    )


def select_bundles(models_dir: str | Path, names: list[str] | None = None) -> dict[str, Path]:
    """The bundles called `names` (all of them when empty); unknown names get a suggestion.

    Serving everything skips bundles without any weights (a clone has a committed bundle's
    model.json and report, but git ignores its weights), with a note on stderr; a bundle asked
    for by name, or missing only one weight file, fails at load naming the missing file.
    """
    bundles = find_bundles(models_dir)
    if not bundles:
        raise DemosError(
            f"{models_dir}: no bundles (folders with a model.json). Export one with "
            "`python -m training RECIPE` or pass --models DIR"
        )
    if not names:
        # A clone may lack every weight file (git ignores the large ones): skip it. A bundle
        # missing only one of them is broken, and fails at load naming the file.
        chosen = {n: f for n, f in bundles.items() if has_weights(f)}
        for name in sorted(set(bundles) - set(chosen)):
            print(
                f"note: skipping {bundles[name]}: its weights are not here (git ignores "
                "them); train it again or copy model.onnx there",
                file=sys.stderr,
            )
        if not chosen:
            raise DemosError(
                f"{models_dir}: no bundle has its weights here. Train one with "
                "`python -m training RECIPE` (make preview trains the digits sample)"
            )
    else:
        chosen = {}
        for name in names:
            if name not in bundles:
                close = difflib.get_close_matches(name, list(bundles), n=1)
                hint = f', did you mean "{close[0]}"?' if close else "."
                raise DemosError(
                    f'Unknown demo "{name}" in {models_dir}{hint} Available: {", ".join(bundles)}'
                )
            chosen[name] = bundles[name]
    for name, folder in chosen.items():
        if not NAME_PATTERN.match(name):
            raise DemosError(
                f"{folder}: the folder name {name!r} can't be a URL path; rename it to "
                "letters, digits, '.', '_' and '-'"
            )
    return chosen


def load_demos(folders: dict[str, Path], backend: str = "onnx", *, verbose: bool = False):
    """{name: (Model, gr.Blocks)} for each bundle folder; a broken bundle raises BundleError."""
    from demos import runtime

    demos = {}
    for i, (name, folder) in enumerate(folders.items(), 1):
        if verbose:
            print(f"[{i}/{len(folders)}] loading {folder} ({backend})", file=sys.stderr)
        if backend == "torch":
            from demos import torch_backend  # torch only when asked for

            model = torch_backend.load(folder)
        else:
            model = runtime.load(folder, backend=backend)
        demos[name] = (model, runtime.build_app(model))
    return demos
