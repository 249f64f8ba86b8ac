"""Ready-made labeling-function builders, rule files and text preprocessing.

Every builder returns a vectorized :class:`~labeling.LabelingFunction` (a :class:`RuleLF`) that
also explains its votes: ``lf.explain(text)`` lists the ``(start, end, what)`` spans that fired.
Regexes (builders and rule files) run on RE2, in linear time. The spaCy builders (``entity_lf``,
``entity_pair_lf``, ``spacy_pattern_lf``, ``spacy_preprocessor``) load spaCy only when called.
nltk data is installed offline with ``python -m sources.install_data`` and found without configuration when
a builder first needs it; importing :mod:`rules` changes no global state.
"""

from ._batch import clear_cache
from ._re2 import UnsupportedPattern
from ._regex_engine import RegexTimeout
from .base import RuleLF, Span, explain_row
from .embedding import EmbeddingLF, embedding_lf, embedding_lfs, embedding_lfs_from_labels
from .kb import KBLF, KBPairLF, kb_lf, kb_pair_lf
from .length import LengthLF, length_lf
from sources.nltk_data import INSTALL_COMMAND, MissingResourceError, require
from .preprocess import (
    STOP_WORDS,
    clean_text,
    lemmatize,
    remove_punctuation,
    remove_stopwords,
    sentences,
    stem,
    text_preprocessor,
    tokens_preprocessor,
    words,
)
from .prompt import PromptLF, lf_groups, prompt_lf, prompt_report, run_prompts
from .regex import RegexLF, keyword_lf, regex_lf
from .rulefile import match_label, rules_from_file
from .sentiment import SentimentLF, sentiment_lf, sentiment_score
from .spacy_lfs import (
    EntityLF,
    EntityPairLF,
    SpacyPatternLF,
    entity_lf,
    entity_pair_lf,
    spacy_pattern_lf,
    spacy_preprocessor,
)
from .window import WindowLF, window_lf

__all__ = [
    "RuleLF",
    "Span",
    "explain_row",
    "keyword_lf",
    "regex_lf",
    "length_lf",
    "sentiment_lf",
    "kb_lf",
    "kb_pair_lf",
    "window_lf",
    "embedding_lf",
    "embedding_lfs",
    "embedding_lfs_from_labels",
    "EmbeddingLF",
    "prompt_lf",
    "PromptLF",
    "lf_groups",
    "prompt_report",
    "run_prompts",
    "rules_from_file",
    "match_label",
    "entity_lf",
    "entity_pair_lf",
    "spacy_pattern_lf",
    "spacy_preprocessor",
    "EntityLF",
    "EntityPairLF",
    "SpacyPatternLF",
    "RegexLF",
    "RegexTimeout",
    "UnsupportedPattern",
    "LengthLF",
    "SentimentLF",
    "KBLF",
    "KBPairLF",
    "WindowLF",
    "sentiment_score",
    "clean_text",
    "sentences",
    "words",
    "remove_punctuation",
    "remove_stopwords",
    "stem",
    "lemmatize",
    "STOP_WORDS",
    "text_preprocessor",
    "tokens_preprocessor",
    "clear_cache",
    "require",
    "MissingResourceError",
    "INSTALL_COMMAND",
]
