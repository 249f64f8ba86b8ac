"""Labeling functions, applying them, the label matrix, and LF analysis."""

from .lf import LabelingFunction, Preprocessor, labeling_function, preprocessor
from .matrix import ABSTAIN, LabelMatrix, check_label_matrix
from .row import Row

__all__ = [
    "ABSTAIN",
    "LabelingFunction",
    "labeling_function",
    "Preprocessor",
    "preprocessor",
    "Row",
    "LabelMatrix",
    "check_label_matrix",
]
