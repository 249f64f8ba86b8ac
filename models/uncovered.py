"""Which classes the rows without a vote hold: from the votes alone, or from labelled rows without a vote.

A row no LF votes on has no evidence of its own, yet its class is not drawn like the others: LFs cover some classes
better than others, so the rows they all miss hold more of the classes they cover least. Giving such rows the class
balance of the voted rows (what EM over the votes estimates) gets both the class prior and those rows wrong in the
same direction.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sources_per_row", "poisson_uncovered", "smoothed_uncovered"]

_TINY = 1e-12


def sources_per_row(P: np.ndarray, groups: np.ndarray, abstain: int = -1) -> np.ndarray:
    """Number of LF groups voting in each row of ``P`` (a group of near-duplicate LFs counts once)."""
    voted = P != abstain
    if len(np.unique(groups)) == P.shape[1]:
        return voted.sum(axis=1)
    out = np.zeros(P.shape[0], dtype=np.int64)
    for g in np.unique(groups):
        out += voted[:, groups == g].any(axis=1)
    return out


def _truncated_poisson_rate(mean: np.ndarray) -> np.ndarray:
    """``lam`` with ``lam / (1 - exp(-lam)) == mean``: the Poisson rate whose non-zero counts have that mean."""
    mean = np.asarray(mean, dtype=float)
    lo, hi = np.full(mean.shape, 1e-9), np.maximum(mean, 1.0) + 1.0
    # The left side grows monotonically from 1 (lam -> 0) to lam; bisection is exact enough and never diverges.
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = mid / -np.expm1(-mid) > mean
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


def poisson_uncovered(post: np.ndarray, counts: np.ndarray, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class prior over all rows and class probabilities of the rows without a vote, from the voted rows.

    Model: the number of LF groups voting on a row of class ``c`` is Poisson with rate ``lam[c]``. The voted
    rows of class ``c`` (``post`` weights each row's share) then have a zero-truncated Poisson count, whose mean
    gives ``lam[c]``; for every voted row of class ``c`` there are ``exp(-lam) / (1 - exp(-lam))`` silent ones.
    The silent rows' class probabilities are those expected counts, normalised; the class prior adds them to the
    voted rows' class mass. A class voted by one LF group alone (no row of it with two votes) gets a rate near 0
    and so most of the silent rows: the votes cannot tell how often its LF misses it.

    Parameters
    ----------
    post : ndarray, shape (n_patterns, k)
        Class posterior of each distinct vote pattern.
    counts : ndarray, shape (n_patterns,)
        Rows holding each pattern.
    sources : ndarray of int, shape (n_patterns,)
        LF groups voting in each pattern (:func:`sources_per_row`).

    Returns
    -------
    class_prior, uncovered : ndarray, shape (k,)
    """
    covered = sources > 0
    n, silent = float(counts.sum()), float(counts[~covered].sum())
    w = post[covered] * counts[covered, None]
    mass = w.sum(axis=0)
    if silent <= 0 or mass.sum() <= 0:
        prior = mass / mass.sum() if mass.sum() > 0 else np.full(post.shape[1], 1.0 / post.shape[1])
        return prior, prior
    mean = (w * sources[covered, None]).sum(axis=0) / np.maximum(mass, _TINY)
    lam = _truncated_poisson_rate(np.maximum(mean, 1.0))
    expected = mass * np.exp(-lam) / -np.expm1(-lam)
    uncovered = expected / expected.sum()
    prior = (mass + silent * uncovered) / n
    return prior, uncovered


def smoothed_uncovered(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Class probabilities of rows without a vote, from the classes of labelled such rows (``counts``).

    The estimate is the labelled rows' class balance smoothed toward ``prior`` by ``s`` pseudo-rows, with ``s``
    the one of ``k, 2k, 4k, ..., 64k`` or infinity (``prior`` itself) that predicts each labelled row best from
    the others (leave-one-out log-likelihood): many rows without a vote that differ from ``prior`` move it, a
    handful barely does.
    """
    k, n = len(prior), float(counts.sum())
    prior = np.clip(np.asarray(prior, dtype=float), 1e-6, None)
    prior = prior / prior.sum()
    if n < 2:
        return prior
    classes = np.flatnonzero(counts)
    c, p = counts[classes], prior[classes]
    best_s, best_ll = np.inf, float(c @ np.log(p))
    for s in k * 2.0 ** np.arange(7):
        # Each labelled row scored by the estimate made without it.
        ll = float(c @ np.log((c - 1 + s * p) / (n - 1 + s)))
        if ll > best_ll:
            best_s, best_ll = s, ll
    if not np.isfinite(best_s):
        return prior
    return (counts + best_s * prior) / (n + best_s)
