"""Label models (votes -> probabilistic labels), end models and metrics."""

from __future__ import annotations

from labeling.core.lazy import lazy_exports

# Where each public name lives: importing the package loads none of them until used.
_WHERE = {
    "BaseLabelModel": "base",
    "NotFittedError": "base",
    "MajorityVote": "majority",
    "WeightedMajorityVote": "weighted",
    "DawidSkene": "dawid_skene",
    "SnorkelLabelModel": "snorkel_model",
    "HyperLabelModel": "hyperlm_model",
    "LabelModel": "label_model",
    "FAMILIES": "label_model",
    "find_lf_groups": "lf_groups",
    "held_out_agreement": "family_choice",
    "clear_lead": "family_choice",
    "EndModel": "end_model",
    "FinalClassifier": "final",
    "combine": "final",
    "soft_label_rows": "end_model",
    "MODEL_REGISTRY": "registry",
    "make_model": "registry",
    "register_model": "registry",
    "class_balance_from_labels": "selection",
    "select_on_valid": "selection",
    "fit_temperature": "selection",
    "fit_threshold": "selection",
    "fit_with_validation": "selection",
    "accuracy": "metrics",
    "precision_recall_f1": "metrics",
    "confusion_matrix": "metrics",
    "classification_report": "metrics",
    "score_predictions": "metrics",
    "METRICS": "metrics",
    "expected_calibration_error": "calibration",
    "reliability_table": "calibration",
    "probs_to_preds": "_tiebreak",
    "TIE_BREAKS": "_tiebreak",
    "hash_tie_index": "_tiebreak",
    "vote_counts": "base",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
