"""Our nbconvert preprocessors: one transform per file, `(nb, resources) -> (nb, resources)`."""

from .directives import DirectivePreprocessor
from .outputs import OutputPreprocessor

__all__ = ["DirectivePreprocessor", "OutputPreprocessor"]
