"""training: fine-tune image classifiers the fastai way in plain PyTorch, export a bundle.

    import training
    config = training.recipes.config("digits", epochs=5)
    result = training.train(training.recipes.prepare(config))
    training.export(result, "models/digits")

or from a shell: python -m training digits (see python -m training --help).
"""

from . import recipes
from .bundle import ExportError, export
from .config import Config
from .data import DataError
from .loop import Result, train
from .models import WeightsUnavailable

__all__ = [
    "Config",
    "DataError",
    "ExportError",
    "Result",
    "WeightsUnavailable",
    "export",
    "recipes",
    "run",
    "train",
]


def run(recipe: str, output: str | None = None, **changes):
    """Prepare, train and export one recipe; returns (Result, bundle path)."""
    config = recipes.prepare(recipes.config(recipe, **changes))
    result = train(config)
    return result, export(result, output)
