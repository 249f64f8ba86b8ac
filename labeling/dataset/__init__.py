"""Dataset construction: clean, deduplicate, mask personal data, augment, split, export with a datasheet.

The last mile of weak supervision: labelled rows become a training or fine-tuning dataset.
:func:`labeling.app.build_from_config` runs the whole pipeline from a YAML file (``votewise build pipeline.yaml``).
"""

from __future__ import annotations

from labeling.core.lazy import lazy_exports

# Names that are also their module's name are bound now: importing the submodule would otherwise
# put the module under that name.
from .augment import augment

# Where each public name lives: importing the package loads none of them until used.
_WHERE = {
    "StepResult": "_result",
    "normalize_text": "clean",
    "clean_texts": "clean",
    "text_hash": "dedup",
    "shingles": "dedup",
    "jaccard": "dedup",
    "near_duplicate_pairs": "dedup",
    "semantic_duplicate_pairs": "dedup",
    "near_duplicate_groups": "dedup",
    "drop_exact_duplicates": "dedup",
    "drop_near_duplicates": "dedup",
    "PII_KINDS": "privacy",
    "BUILTIN_KINDS": "privacy",
    "PII_ENGINES": "privacy",
    "PIIMatch": "privacy",
    "PIIResult": "privacy",
    "find_pii": "privacy",
    "mask_pii": "privacy",
    "scrub_pii": "privacy",
    "kinds_checked": "privacy",
    "kinds_missing": "privacy",
    "AUGMENTATIONS": "augment",
    "synonyms": "augment",
    "synonym_replace": "augment",
    "random_insert": "augment",
    "random_delete": "augment",
    "random_swap": "augment",
    "Translator": "translate",
    "MarianTranslator": "translate",
    "as_translator": "translate",
    "back_translate": "translate",
    "DEFAULT_FRACTIONS": "split",
    "assign_splits": "split",
    "split_dataset": "split",
    "leakage_report": "split",
    "EXPORT_FORMATS": "export",
    "ExportResult": "export",
    "select_rows": "export",
    "to_instruction": "export",
    "to_chat": "export",
    "export_dataset": "export",
    "render_datasheet": "datasheet",
    "label_model_estimates": "datasheet",
    "perplexity": "text_metrics",
    "fit_ngram_model": "text_metrics",
    "bleu": "text_metrics",
    "sentence_bleu_scores": "text_metrics",
}

__all__ = ["augment", *_WHERE]
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
