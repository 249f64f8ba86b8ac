"""Calibration of class probabilities: expected calibration error and reliability tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["expected_calibration_error", "reliability_table"]


def _check(probs: Any, y_true: Any) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=float)
    y_true = np.asarray(y_true).ravel()
    if probs.ndim != 2 or probs.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"probs must have shape (n_rows, n_classes) with n_rows = len(y_true) = {y_true.shape[0]}; "
            f"got {probs.shape}."
        )
    if y_true.size == 0:
        raise ValueError("Cannot measure calibration on zero rows.")
    return probs, y_true


def reliability_table(probs: Any, y_true: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Confidence (top-class probability) against accuracy in equal-width bins.

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted class probabilities.
    y_true : array-like of int, shape (n_rows,)
        Gold labels.
    n_bins : int
        Number of equal-width confidence bins on [0, 1].

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``lower``, ``upper``, ``count``,
        ``confidence`` (mean top probability) and ``accuracy``.
    """
    probs, y_true = _check(probs, y_true)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in np.unique(bins):
        sel = bins == b
        rows.append(
            {"lower": edges[b], "upper": edges[b + 1], "count": int(sel.sum()),
             "confidence": float(conf[sel].mean()), "accuracy": float(correct[sel].mean())}
        )
    return pd.DataFrame(rows)


def expected_calibration_error(probs: Any, y_true: Any, *, n_bins: int = 10) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over confidence bins.

    0 means the top-class probability is, on average, exactly the chance of
    being right. The top class is the plain argmax (ties to the lowest class).

    Examples
    --------
    >>> expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1])
    0.35
    """
    table = reliability_table(probs, y_true, n_bins=n_bins)
    weights = table["count"] / table["count"].sum()
    return float(round((weights * (table["accuracy"] - table["confidence"]).abs()).sum(), 12))
