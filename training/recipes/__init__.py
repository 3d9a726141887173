"""Recipes: short modules of config overrides, plus a `prepare` step that finds the data.

Each recipe module has OVERRIDES (a dict of Config fields, with comments saying why) and
`prepare(config) -> Config`, which downloads or generates data and fills in `path`.
"""

from __future__ import annotations

import dataclasses
import importlib
import re

from ..config import Config

NAMES = ("digits", "pets", "folder", "csv")


def module(name: str):
    if name not in NAMES:
        import difflib

        close = difflib.get_close_matches(name, NAMES, n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        raise ValueError(f'unknown recipe "{name}"; choose one of {", ".join(NAMES)}.{hint}')
    return importlib.import_module(f".{'csv_file' if name == 'csv' else name}", __name__)


def config(name: str, /, **changes) -> Config:
    """Config() with the recipe's overrides, then `changes` (an unknown field is an error)."""
    fields = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ValueError(f"unknown config field(s) {', '.join(unknown)}")
    return dataclasses.replace(Config(), recipe=name, **{**module(name).OVERRIDES, **changes})


def named_after(config: Config, stem: str) -> Config:
    """Default the bundle's name to the data's folder or file name (made a valid name)."""
    if config.name:
        return config
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")
    return dataclasses.replace(config, name=name or config.recipe)


def prepare(config: Config) -> Config:
    """Run the recipe's data step (download, generate or check the path)."""
    # Resolving checks the name and post now, before any download, and anchors the default
    # data and cache folders at the project root.
    resolved = config.resolved()
    config = dataclasses.replace(config, data_dir=resolved.data_dir, cache_dir=resolved.cache_dir)
    return module(config.recipe).prepare(config)
