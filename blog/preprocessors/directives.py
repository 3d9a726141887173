"""Cell directives: what to show of each code cell, in fastpages', Quarto's and Jupyter Book terms.

| fastpages            | Quarto (`#|` lines)   | cell tag        | effect                       |
| -------------------- | --------------------- | --------------- | ---------------------------- |
| `#hide`              | `include: false`      | `remove-cell`   | drop the cell                |
| `#hide_input`        | `echo: false`         | `remove-input`  | outputs only                 |
| `#hide_output`       | `output: false`       | `remove-output` | code only                    |
| `#collapse-hide`     | `code-fold: true`     | `hide-input`    | code in a closed <details>   |
| `#collapse-show`     | `code-fold: show`     | -               | code in an open <details>    |
| `#collapse-output`   | -                     | `hide-output`   | outputs in a closed <details>|

The directive lines themselves never reach the post. The decision is stored in
``cell.metadata["blog"] = {"input": show|hide|fold|fold-open, "output": show|hide|fold}``, which
the ``post`` template reads.
"""

from __future__ import annotations

import re

import yaml
from nbconvert.preprocessors import Preprocessor

# `#hide`, `# hide`, `#|hide` (nbdev) and the `_`/`-` spellings fastpages accepted.
_FASTPAGES = re.compile(r"^\s*#\s*\|?\s*(?P<name>[a-z][a-z_-]*)\s*$", re.IGNORECASE)
_QUARTO = re.compile(r"^\s*#\|\s*(?P<key>[\w-]+)\s*:\s*(?P<value>.*?)\s*$")

_FASTPAGES_EFFECTS = {
    "hide": ("drop", None),
    "hide_input": ("input", "hide"),
    "hide_output": ("output", "hide"),
    "collapse": ("input", "fold"),
    "collapse_hide": ("input", "fold"),
    "collapse_show": ("input", "fold-open"),
    "collapse_output": ("output", "fold"),
}
_TAG_EFFECTS = {
    "remove-cell": ("drop", None),
    "remove_cell": ("drop", None),
    "remove-input": ("input", "hide"),
    "remove_input": ("input", "hide"),
    "remove-output": ("output", "hide"),
    "remove_output": ("output", "hide"),
    "hide-input": ("input", "fold"),
    "hide_input": ("input", "fold"),
    "hide-output": ("output", "fold"),
    "hide_output": ("output", "fold"),
}


def _quarto_effect(key: str, value: str) -> tuple[str, str | None] | None:
    try:
        parsed = yaml.safe_load(value) if value else None
    except yaml.YAMLError:
        parsed = value
    if key == "include" and parsed is False:
        return ("drop", None)
    if key == "echo" and parsed is False:
        return ("input", "hide")
    if key == "output" and parsed is False:
        return ("output", "hide")
    if key == "code-fold":
        if parsed is True:
            return ("input", "fold")
        if parsed == "show":
            return ("input", "fold-open")
    return None


def read_directives(source: str, tags: list[str]) -> tuple[list[tuple[str, str | None]], str]:
    """The effects a cell asks for and its source without the directive lines."""
    effects: list[tuple[str, str | None]] = []
    kept: list[str] = []
    in_header = True  # Quarto options are only read at the top of a cell
    for line in source.splitlines():
        quarto = _QUARTO.match(line) if in_header else None
        if quarto:
            effect = _quarto_effect(quarto["key"].lower(), quarto["value"])
            if effect:
                effects.append(effect)
            continue  # every `#| key: value` line is a cell option, never code to show
        if line.strip():
            in_header = False
        plain = _FASTPAGES.match(line)
        if plain:
            name = plain["name"].lower().replace("-", "_")
            if name in _FASTPAGES_EFFECTS:
                effects.append(_FASTPAGES_EFFECTS[name])
                continue
        kept.append(line)
    effects.extend(_TAG_EFFECTS[tag] for tag in tags if tag in _TAG_EFFECTS)
    return effects, "\n".join(kept).strip("\n")


class DirectivePreprocessor(Preprocessor):
    """Apply cell directives: drop cells, and mark inputs and outputs as hidden or folded."""

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            tags = list(cell.get("metadata", {}).get("tags", []))
            if cell.cell_type != "code":
                if not any(_TAG_EFFECTS.get(t, ("",))[0] == "drop" for t in tags):
                    cells.append(cell)
                continue
            effects, source = read_directives(cell.source, tags)
            if any(kind == "drop" for kind, _ in effects):
                continue
            shown = {"input": "show", "output": "show"}
            for kind, mode in effects:
                # "hide" wins over folding when a cell asks for both.
                if shown[kind] != "hide":
                    shown[kind] = mode
            cell.source = source
            cell.metadata["blog"] = shown
            cells.append(cell)
        nb.cells = cells
        return nb, resources
