"""Ready-made labeling-function builders, rule files and text preprocessing."""

from ._batch import clear_cache
from .base import RuleLF, Span
from .nltk_data import MissingResourceError, register_paths as _register_paths
from .rulefile import match_label, rules_from_file
from .text import keyword_lf, length_lf, regex_lf

_register_paths()

__all__ = [
    "RuleLF",
    "Span",
    "regex_lf",
    "keyword_lf",
    "length_lf",
    "rules_from_file",
    "match_label",
    "clear_cache",
    "MissingResourceError",
]
