"""Dataset construction: clean, deduplicate, mask personal data, augment, split, export with a datasheet.

The last mile of weak supervision: labelled rows become a training or fine-tuning dataset.
:func:`labeling.app.build_from_config` runs the whole pipeline from a YAML file (``votewise build pipeline.yaml``).
"""

from ._result import StepResult
from .augment import AUGMENTATIONS, augment, random_delete, random_insert, random_swap, synonym_replace, synonyms
from .clean import clean_texts, normalize_text
from .datasheet import label_model_estimates, render_datasheet
from .dedup import (
    drop_exact_duplicates,
    drop_near_duplicates,
    jaccard,
    near_duplicate_groups,
    near_duplicate_pairs,
    semantic_duplicate_pairs,
    shingles,
    text_hash,
)
from .export import EXPORT_FORMATS, ExportResult, export_dataset, select_rows, to_chat, to_instruction
from .privacy import (
    BUILTIN_KINDS,
    PII_ENGINES,
    PII_KINDS,
    PIIMatch,
    PIIResult,
    find_pii,
    kinds_checked,
    kinds_missing,
    mask_pii,
    scrub_pii,
)
from .split import DEFAULT_FRACTIONS, assign_splits, leakage_report, split_dataset
from .text_metrics import bleu, fit_ngram_model, perplexity, sentence_bleu_scores
from .translate import MarianTranslator, Translator, as_translator, back_translate

__all__ = [
    "StepResult",
    "normalize_text",
    "clean_texts",
    "text_hash",
    "shingles",
    "jaccard",
    "near_duplicate_pairs",
    "semantic_duplicate_pairs",
    "near_duplicate_groups",
    "drop_exact_duplicates",
    "drop_near_duplicates",
    "PII_KINDS",
    "BUILTIN_KINDS",
    "PII_ENGINES",
    "PIIMatch",
    "PIIResult",
    "find_pii",
    "mask_pii",
    "scrub_pii",
    "kinds_checked",
    "kinds_missing",
    "AUGMENTATIONS",
    "synonyms",
    "synonym_replace",
    "random_insert",
    "random_delete",
    "random_swap",
    "augment",
    "Translator",
    "MarianTranslator",
    "as_translator",
    "back_translate",
    "DEFAULT_FRACTIONS",
    "assign_splits",
    "split_dataset",
    "leakage_report",
    "EXPORT_FORMATS",
    "ExportResult",
    "select_rows",
    "to_instruction",
    "to_chat",
    "export_dataset",
    "render_datasheet",
    "label_model_estimates",
    "perplexity",
    "fit_ngram_model",
    "bleu",
    "sentence_bleu_scores",
]
