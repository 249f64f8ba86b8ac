"""Ready-made labeling-function builders, rule files and text preprocessing.

Every builder returns a vectorized :class:`~labeling.LabelingFunction` (a :class:`RuleLF`) that
also explains its votes: ``lf.explain(text)`` lists the ``(start, end, what)`` spans that fired.
Regexes (builders and rule files) run on RE2, in linear time. The spaCy builders (``entity_lf``,
``entity_pair_lf``, ``spacy_pattern_lf``, ``spacy_preprocessor``) load spaCy only when called.
nltk data is installed offline with ``python -m sources.install_data`` and found without configuration when
a builder first needs it; importing :mod:`rules` changes no global state.
"""

from __future__ import annotations

from labeling.core.lazy import lazy_exports
from sources.nltk_data import INSTALL_COMMAND, MissingResourceError, require

# Where each public name lives: importing the package loads none of them (nor scikit-learn, the sentence
# encoder or spaCy behind some builders) until used.
_WHERE = {
    "RuleLF": "base",
    "Span": "base",
    "explain_row": "base",
    "keyword_lf": "regex",
    "regex_lf": "regex",
    "length_lf": "length",
    "sentiment_lf": "sentiment",
    "kb_lf": "kb",
    "kb_pair_lf": "kb",
    "window_lf": "window",
    "embedding_lf": "embedding",
    "embedding_lfs": "embedding",
    "embedding_lfs_from_labels": "embedding",
    "EmbeddingLF": "embedding",
    "prompt_lf": "prompt",
    "PromptLF": "prompt",
    "lf_groups": "prompt",
    "prompt_report": "prompt",
    "run_prompts": "prompt",
    "rules_from_file": "rulefile",
    "match_label": "rulefile",
    "entity_lf": "spacy_lfs",
    "entity_pair_lf": "spacy_lfs",
    "spacy_pattern_lf": "spacy_lfs",
    "spacy_preprocessor": "spacy_lfs",
    "EntityLF": "spacy_lfs",
    "EntityPairLF": "spacy_lfs",
    "SpacyPatternLF": "spacy_lfs",
    "RegexLF": "regex",
    "RegexTimeout": "_regex_engine",
    "UnsupportedPattern": "_re2",
    "LengthLF": "length",
    "SentimentLF": "sentiment",
    "KBLF": "kb",
    "KBPairLF": "kb",
    "WindowLF": "window",
    "sentiment_score": "sentiment",
    "clean_text": "preprocess",
    "sentences": "preprocess",
    "words": "preprocess",
    "remove_punctuation": "preprocess",
    "remove_stopwords": "preprocess",
    "stem": "preprocess",
    "lemmatize": "preprocess",
    "STOP_WORDS": "preprocess",
    "text_preprocessor": "preprocess",
    "tokens_preprocessor": "preprocess",
    "clear_cache": "_batch",
}

__all__ = [*_WHERE, "require", "MissingResourceError", "INSTALL_COMMAND"]
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
