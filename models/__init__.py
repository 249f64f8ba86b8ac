"""Label models (votes -> probabilistic labels), end models and metrics."""

from ._tiebreak import hash_tie_index, probs_to_preds
from .base import BaseLabelModel, NotFittedError, vote_counts
from .calibration import expected_calibration_error, reliability_table
from .dawid_skene import DawidSkene
from .end_model import EndModel, soft_label_rows
from .final import FinalClassifier, combine
from .hyperlm_model import HyperLabelModel
from .family_choice import clear_lead, held_out_agreement
from .label_model import FAMILIES, LabelModel
from .lf_groups import find_lf_groups
from .majority import MajorityVote
from .metrics import (
    METRICS,
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    score_predictions,
)
from .registry import MODEL_REGISTRY, make_model, register_model
from .selection import (
    class_balance_from_labels,
    fit_temperature,
    fit_threshold,
    fit_with_validation,
    select_on_valid,
)
from .snorkel_model import SnorkelLabelModel
from .weighted import WeightedMajorityVote

__all__ = [
    "BaseLabelModel",
    "NotFittedError",
    "MajorityVote",
    "WeightedMajorityVote",
    "DawidSkene",
    "SnorkelLabelModel",
    "HyperLabelModel",
    "LabelModel",
    "FAMILIES",
    "find_lf_groups",
    "held_out_agreement",
    "clear_lead",
    "EndModel",
    "FinalClassifier",
    "combine",
    "soft_label_rows",
    "MODEL_REGISTRY",
    "make_model",
    "register_model",
    "class_balance_from_labels",
    "select_on_valid",
    "fit_temperature",
    "fit_threshold",
    "fit_with_validation",
    "accuracy",
    "precision_recall_f1",
    "confusion_matrix",
    "classification_report",
    "score_predictions",
    "METRICS",
    "expected_calibration_error",
    "reliability_table",
    "probs_to_preds",
    "hash_tie_index",
    "vote_counts",
]
