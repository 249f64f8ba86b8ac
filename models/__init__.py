"""Label models (votes -> probabilistic labels), end models and metrics."""

from ._tiebreak import hash_tie_index, probs_to_preds
from .base import BaseLabelModel, NotFittedError, vote_counts
from .majority import MajorityVote
from .metrics import METRICS, accuracy, precision_recall_f1, score_predictions
from .registry import MODEL_REGISTRY, make_model, register_model
from .text_metrics import bleu, fit_ngram_model, perplexity, sentence_bleu_scores

__all__ = [
    "perplexity",
    "fit_ngram_model",
    "bleu",
    "sentence_bleu_scores",
    "BaseLabelModel",
    "NotFittedError",
    "MajorityVote",
    "MODEL_REGISTRY",
    "make_model",
    "register_model",
    "accuracy",
    "precision_recall_f1",
    "score_predictions",
    "METRICS",
    "probs_to_preds",
    "hash_tie_index",
    "vote_counts",
]
