"""Evidence for choosing among label models: a label-free criterion and a paired validation test."""

from __future__ import annotations

from statistics import NormalDist
from typing import Callable

import numpy as np

from labeling.core.matrix import ABSTAIN

from .metrics import score_predictions

__all__ = ["held_out_agreement", "paired_z", "clear_lead", "CLEAR_LEAD_Z", "HELD_OUT_LEAD_Z"]

#: Standard errors a challenger's paired validation gain must reach to replace the default (one-sided 97.5%).
CLEAR_LEAD_Z = 1.96
#: Standard errors by which another family must predict held-out LFs' votes better than the precision family to
#: replace it without labels (the same one-sided 97.5% as with labels).
HELD_OUT_LEAD_Z = CLEAR_LEAD_Z
#: At most this many LF groups are held out in turn (spread over the groups) to keep the criterion cheap.
_MAX_HELD_OUT = 100


def held_out_agreement(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    P: np.ndarray,
    counts: np.ndarray,
    groups: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """How well a model predicts each LF group's votes from the other LFs' votes, without labels.

    For each group of LFs (a near-duplicate group, or one LF), its columns are hidden and the model predicts
    each row from the remaining votes; a hidden vote scores 1 when it is the predicted class (ties share), on
    the rows where both it and another LF vote. The mean estimates the model's accuracy on those rows, up to
    terms that are the same for every model: an LF right on a share ``a`` of its votes agrees with a
    prediction right on ``p`` of them ``a*p + (1-a)(1-p)`` of the time (two classes), which grows with ``p``
    whenever ``a`` beats chance. Hiding the whole group keeps copies of an LF from vouching for a model that
    trusts them. Hard agreement is used because a soft one would reward over-confidence.

    Parameters
    ----------
    predict_proba : callable
        Maps vote patterns (n x n_lfs) to class probabilities (n x k) with the model's fitted parameters.
    P, counts :
        Distinct vote patterns and the number of rows holding each.
    groups :
        Group id of each LF column.

    Returns
    -------
    agreement, weight : ndarray
        One entry per scored (pattern, hidden LF) vote, in a fixed order (so two models' arrays pair up):
        its agreement in [0, 1] and its number of rows.
    """
    voted = P != ABSTAIN
    ids = np.unique(groups)
    if len(ids) > _MAX_HELD_OUT:
        ids = ids[np.linspace(0, len(ids) - 1, _MAX_HELD_OUT).round().astype(int)]
    agree, weight = [], []
    for g in ids:
        cols = groups == g
        rows = np.flatnonzero(voted[:, cols].any(axis=1) & voted[:, ~cols].any(axis=1))
        if not len(rows):
            continue
        hidden = P[rows].copy()
        hidden[:, cols] = ABSTAIN
        probs = predict_proba(hidden)
        top = probs >= probs.max(axis=1, keepdims=True) - 1e-12
        share = top / top.sum(axis=1, keepdims=True)
        for j in np.flatnonzero(cols):
            r = np.flatnonzero(P[rows, j] != ABSTAIN)
            agree.append(share[r, P[rows[r], j]])
            weight.append(counts[rows[r]])
    if not agree:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(agree), np.concatenate(weight)


def paired_z(gain: np.ndarray, weight: np.ndarray) -> float:
    """Weighted mean of paired gains over its standard error (0 when there is nothing to compare).

    The standard error counts each entry once, whatever its weight: rows that repeat one vote pattern get
    one prediction, so they are one piece of evidence, and duplicating the data changes no choice. When
    every entry gains the same, the sample variance is 0 and says nothing; the evidence is then that of
    ``n`` entries all on one side, a sign test: ``P = 2**-n``, returned as the normal quantile it reaches
    (two entries are 0.67, six are 2.15), so a handful of rows never counts as a clear lead.
    """
    total, n = float(weight.sum()), len(gain)
    if n <= 1 or total <= 0 or not gain.any():
        return 0.0
    mean = float(weight @ gain) / total
    var = float(weight @ (gain - mean) ** 2) / total * n / (n - 1)
    se = np.sqrt(var / n)
    if se > 0:
        return mean / se
    return float(np.sign(mean) * NormalDist().inv_cdf(1.0 - 0.5 ** min(n, 50)))


def clear_lead(
    y: np.ndarray, incumbent: np.ndarray, challenger: np.ndarray, metric: str, *, z: float = CLEAR_LEAD_Z
) -> float:
    """Paired evidence (in standard errors) that ``challenger``'s predictions beat ``incumbent``'s on ``y``.

    For accuracy it is the mean per-row gain over its standard error. For other metrics, which do not split
    into per-row terms, it is the mean gain over 400 paired bootstrap resamples (seeded, so the choice is
    reproducible) over their standard deviation. A challenger should replace the incumbent only when this is
    at least ``z``: a validation set of a few hundred rows prefers one of two near-equal models by chance.
    """
    y = np.asarray(y)
    rows = np.flatnonzero(y >= 0)
    y, a, b = y[rows], np.asarray(incumbent)[rows], np.asarray(challenger)[rows]
    if metric == "accuracy":
        gain = (b == y).astype(float) - (a == y).astype(float)
        return paired_z(gain, np.ones(len(gain)))
    rng = np.random.default_rng(0)
    samples = rng.integers(0, len(y), (400, len(y)))
    if metric == "f1" and y.max(initial=0) <= 1:
        # F1 of class 1 from per-resample counts, without a Python loop over the resamples.
        def f1(pred: np.ndarray) -> np.ndarray:
            tp = ((pred == 1) & (y == 1))[samples].sum(axis=1)
            fp = ((pred == 1) & (y != 1))[samples].sum(axis=1)
            fn = ((pred != 1) & (y == 1))[samples].sum(axis=1)
            return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)

        gains = f1(b) - f1(a)
    else:
        gains = np.array([score_predictions(y[s], b[s], metric) - score_predictions(y[s], a[s], metric)
                          for s in samples])
    sd = gains.std(ddof=1)
    if sd == 0:
        return 0.0 if gains.mean() == 0 else float(np.sign(gains.mean()) * np.inf)
    return float(gains.mean() / sd)
