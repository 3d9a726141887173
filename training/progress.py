"""Progress bars: tqdm.auto's (a widget in a notebook, text elsewhere), safe to interrupt."""

from __future__ import annotations

from tqdm.auto import tqdm as _tqdm


class tqdm(_tqdm):  # a drop-in for tqdm, under its name
    """tqdm.auto's bar, whose clean-up tolerates a Ctrl-C that arrived inside its __init__.

    tqdm's __del__ closes the bar, and close() reads `pos`, which __init__ sets late. A
    KeyboardInterrupt in between leaves a half-made bar; when it is collected, Python prints
    "Exception ignored ... AttributeError" with a traceback under the run's one-line
    "Interrupted" message. A half-made bar was never drawn: there is nothing to close.
    """

    def __del__(self) -> None:
        if hasattr(self, "pos"):
            super().__del__()
