"""Our nbconvert preprocessors: one transform per file, `(nb, resources) -> (nb, resources)`."""

from .callouts import CalloutPreprocessor, convert_callouts
from .directives import DirectivePreprocessor
from .outputs import OutputPreprocessor

__all__ = ["CalloutPreprocessor", "DirectivePreprocessor", "OutputPreprocessor", "convert_callouts"]
