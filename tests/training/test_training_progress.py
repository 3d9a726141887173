"""training's progress bars survive a Ctrl-C that lands while one is being made."""

from __future__ import annotations

import gc
import io
import sys

import pytest
from tqdm.auto import tqdm as plain_tqdm

from training.progress import tqdm


def interrupted_bar(cls, monkeypatch) -> list:
    """Make a `cls` bar with Ctrl-C arriving inside its __init__, after it set `disable` and
    before it set `pos` (where the real one landed in a test run); collect the half-made bar
    and return what Python would have printed as "Exception ignored"."""

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cls, "_get_free_pos", classmethod(ctrl_c))
    ignored: list = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    try:
        cls(range(3), desc="epoch 2", disable=False, file=sys.stderr)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the simulated Ctrl-C did not reach the bar")
    gc.collect()
    return [(u.exc_type, str(u.exc_value)) for u in ignored]


def test_a_bar_interrupted_while_being_made_prints_nothing(monkeypatch):
    assert interrupted_bar(tqdm, monkeypatch) == []


def test_tqdm_itself_prints_a_traceback_there(monkeypatch):
    """The reason for training.progress: if tqdm stops doing this, it can go."""
    ignored = interrupted_bar(plain_tqdm, monkeypatch)
    assert len(ignored) == 1 and ignored[0][0] is AttributeError and "pos" in ignored[0][1]


def test_a_bar_left_open_is_still_closed_when_collected():
    out = io.StringIO()
    bar = tqdm(total=3, desc="epoch 0", file=out, mininterval=0)
    bar.update(3)
    assert "3/3" in out.getvalue() and not out.getvalue().endswith("\n")
    del bar
    gc.collect()
    assert out.getvalue().endswith("\n")  # close() ran: the bar ended its line


@pytest.mark.parametrize("module", ["training.loop", "training.data", "training.recipes.pets"])
def test_training_uses_these_bars(module):
    import importlib

    assert importlib.import_module(module).tqdm is tqdm
