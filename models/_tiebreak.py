"""Turning class probabilities into hard labels, with explicit tie handling."""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["TIE_BREAKS", "probs_to_preds", "hash_tie_index"]

TIE_BREAKS = ("random", "abstain", "first")


def hash_tie_index(row_position: int, n_tied: int) -> int:
    """Snorkel's deterministic tie rule: a SHA-1 of the row position picks among tied classes.

    The rule is Snorkel's and WRENCH's exactly, so majority vote breaks ties as they do and its results
    can be compared with theirs.
    """
    return int(hashlib.sha1(str(row_position).encode()).hexdigest(), 16) % n_tied


def probs_to_preds(probs: np.ndarray, *, tie_break: str = "random", tol: float = 1e-5) -> np.ndarray:
    """Argmax of each row of ``probs``, resolving ties by ``tie_break``.

    Parameters
    ----------
    probs : ndarray, shape (n, k)
        Class probabilities.
    tie_break : {"random", "abstain", "first"}
        ``"random"`` picks among tied classes with :func:`hash_tie_index`
        (deterministic, depends only on the row position); ``"abstain"`` returns
        -1; ``"first"`` returns the lowest tied class id.
    tol : float
        Probabilities within ``tol`` of the row maximum count as tied.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    if tie_break not in TIE_BREAKS:
        allowed = ", ".join(repr(rule) for rule in TIE_BREAKS)
        raise ValueError(f"tie_break={tie_break!r} is not one of {allowed}.")
    probs = np.asarray(probs)
    tied = probs >= probs.max(axis=1, keepdims=True) - tol
    preds = tied.argmax(axis=1).astype(np.int64)
    n_tied = tied.sum(axis=1)
    rows = np.flatnonzero(n_tied > 1)
    if tie_break == "abstain":
        preds[rows] = -1
    elif tie_break == "random":
        for i in rows:
            classes = np.flatnonzero(tied[i])
            preds[i] = classes[hash_tie_index(int(i), len(classes))]
    return preds
