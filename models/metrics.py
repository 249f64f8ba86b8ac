"""Classification metrics for labels and label models (abstentions count as wrong)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

__all__ = ["accuracy", "precision_recall_f1", "METRICS", "score_predictions"]


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Found inconsistent numbers of samples: y_true has {y_true.size}, y_pred has {y_pred.size}."
        )
    if y_true.size == 0:
        raise ValueError("Cannot score zero rows.")
    return y_true, y_pred


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of rows where the prediction equals the gold label (a -1 prediction is wrong).

    Examples
    --------
    >>> accuracy([0, 1, 1], [0, 1, -1])
    0.6666666666666666
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def precision_recall_f1(
    y_true: Any, y_pred: Any, *, average: str | None = "binary", pos_label: int = 1
) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 (scikit-learn), with abstentions (-1) scored as wrong.

    Parameters
    ----------
    average : {"binary", "macro", "micro", "weighted", None}
        As in :func:`sklearn.metrics.precision_recall_fscore_support`; ``None``
        gives per-class arrays.
    pos_label : int
        The positive class for ``average="binary"``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    labels = None if average == "binary" else np.unique(y_true[y_true >= 0])
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, average=average, pos_label=pos_label, labels=labels, zero_division=0
    )
    return p, r, f


def _f1(y_true: Any, y_pred: Any) -> float:
    return float(precision_recall_f1(y_true, y_pred)[2])


def _macro_f1(y_true: Any, y_pred: Any) -> float:
    return float(precision_recall_f1(y_true, y_pred, average="macro")[2])


METRICS = {"accuracy": accuracy, "acc": accuracy, "f1": _f1, "f1_macro": _macro_f1}


def score_predictions(y_true: Any, y_pred: Any, metric: str = "accuracy") -> float:
    """Score predictions by a metric name in :data:`METRICS`."""
    try:
        fn = METRICS[metric]
    except KeyError:
        raise ValueError(f"metric={metric!r} is not one of {sorted(METRICS)}.") from None
    return fn(y_true, y_pred)
