"""Classification metrics for labels and label models (abstentions count as wrong)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

__all__ = [
    "accuracy",
    "precision_recall_f1",
    "METRICS",
    "score_predictions",
    "confusion_matrix",
    "classification_report",
]


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

    The classes scored are every class in the gold labels or the predictions: a class that is predicted but
    absent from the gold labels counts (its predictions are false positives), exactly as
    :func:`sklearn.metrics.precision_recall_fscore_support` counts it. Abstentions are no class: they lower
    recall, never precision. Without abstentions the result equals scikit-learn's on the same inputs.

    Parameters
    ----------
    average : {"binary", "macro", "micro", "weighted", None}, default "binary"
        As in :func:`sklearn.metrics.precision_recall_fscore_support`; ``None``
        gives per-class arrays (classes in sorted order).
    pos_label : int
        The positive class for ``average="binary"``.

    Examples
    --------
    >>> precision_recall_f1([1, 0, 1, 0], [1, -1, 0, 0])  # the abstention on a negative row costs nothing
    (1.0, 0.5, 0.6666666666666666)
    >>> p, r, f = precision_recall_f1([0, 1, 2, 2], [0, 1, 3, -1], average="micro")
    >>> round(float(p), 3), round(float(r), 3)
    (0.667, 0.5)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    classes = np.union1d(y_true[y_true >= 0], y_pred[y_pred >= 0])
    if average == "binary":
        if len(classes) > 2:
            raise ValueError(
                f"average='binary' needs at most two classes; y_true and y_pred hold {classes.tolist()} "
                "(abstentions -1 aside). Use average='macro', 'micro', 'weighted' or None."
            )
        # The positive class alone, listed: abstentions are then no class, so they are false negatives of
        # the positive rows they abstain on (recall falls) and never false positives (precision does not).
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, average=None, labels=[pos_label], zero_division=0
        )
        return float(p[0]), float(r[0]), float(f[0])
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, average=average, labels=classes, zero_division=0
    )
    return p, r, f


def _f1(y_true: Any, y_pred: Any) -> float:
    return float(precision_recall_f1(y_true, y_pred)[2])


def _macro_f1(y_true: Any, y_pred: Any) -> float:
    return float(precision_recall_f1(y_true, y_pred, average="macro")[2])


METRICS = {"accuracy": accuracy, "acc": accuracy, "f1": _f1, "f1_macro": _macro_f1}


def score_predictions(y_true: Any, y_pred: Any, metric: str = "accuracy") -> float:
    """Score predictions by a metric name in :data:`METRICS`; abstentions (-1) in ``y_pred`` count as wrong.

    Examples
    --------
    >>> score_predictions([1, 0, 1, 0], [1, -1, -1, 0], metric="f1")
    0.6666666666666666
    """
    try:
        fn = METRICS[metric]
    except KeyError:
        raise ValueError(f"metric={metric!r} is not one of {sorted(METRICS)}.") from None
    return fn(y_true, y_pred)


def confusion_matrix(y_true: Any, y_pred: Any, *, cardinality: int | None = None) -> np.ndarray:
    """Counts of (gold, predicted) pairs; the last column counts abstentions (-1 predictions).

    Returns
    -------
    ndarray of int64, shape (cardinality, cardinality + 1)
        ``cm[c, d]``: rows of gold class ``c`` predicted ``d``; ``cm[c, -1]``:
        rows of gold class ``c`` left unlabelled.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, -1]).tolist()
    [[1, 0, 0], [1, 0, 1]]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if (y_true < 0).any():
        raise ValueError(f"y_true[{int(np.flatnonzero(y_true < 0)[0])}] is negative; gold labels must be class ids.")
    k = int(max(y_true.max(), y_pred.max()) + 1) if cardinality is None else int(cardinality)
    pred = np.where(y_pred < 0, k, y_pred)
    return np.bincount(y_true * (k + 1) + pred, minlength=k * (k + 1)).reshape(k, k + 1)


def classification_report(
    y_true: Any, y_pred: Any, *, class_names: list[str] | None = None
) -> "pd.DataFrame":
    """Per-class precision, recall, F1 and support, plus ``macro`` and ``accuracy`` rows.

    Abstentions (-1) count as wrong: they lower recall, never precision.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    k = int(max(y_true.max(), y_pred.max()) + 1)
    if class_names is not None:
        k = max(k, len(class_names))
    labels = np.arange(k)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    names = list(class_names) if class_names is not None else [str(c) for c in labels]
    table = pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=pd.Index(names, name="class"))
    present = s > 0
    table.loc["macro"] = [p[present].mean(), r[present].mean(), f[present].mean(), s.sum()]
    acc = accuracy(y_true, y_pred)
    table.loc["accuracy"] = [acc, acc, acc, s.sum()]
    table["support"] = table["support"].astype(int)
    return table
