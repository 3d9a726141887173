"""Our nbconvert preprocessors: one transform per file, `(nb, resources) -> (nb, resources)`."""

from .callouts import CalloutPreprocessor
from .directives import DirectivePreprocessor
from .outputs import OutputPreprocessor

__all__ = ["CalloutPreprocessor", "DirectivePreprocessor", "OutputPreprocessor"]
