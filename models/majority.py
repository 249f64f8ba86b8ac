"""Majority vote: each non-abstaining LF casts one vote."""

from __future__ import annotations

import numpy as np

from .base import BaseLabelModel, vote_counts

__all__ = ["MajorityVote"]


class MajorityVote(BaseLabelModel):
    """Majority vote over the LFs that fired.

    ``predict_proba`` gives each class its share of the votes (rows with no vote
    are uniform), so its argmax is the majority and its spread says how
    contested the row is.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict` (``"random"`` is Snorkel's
        deterministic hash rule, which reproduces published numbers).

    Examples
    --------
    >>> mv = MajorityVote(cardinality=2).fit([[0, 1, 1], [-1, -1, -1]])
    >>> mv.predict_proba([[0, 1, 1]]).round(2)
    array([[0.33, 0.67]])
    """

    uses_pattern_counts = False  # each row's vote shares depend on that row alone

    def __init__(self, *, cardinality: int | None = None, tie_break: str = "random") -> None:
        self.cardinality = cardinality
        self.tie_break = tie_break

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        # Nothing to learn: known labels are used by whoever owns them (e.g. the
        # active loop overrides reviewed rows), not by the vote itself.
        pass

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        counts = vote_counts(L, self.cardinality_)
        totals = counts.sum(axis=1, keepdims=True)
        uniform = np.full_like(counts, 1.0 / self.cardinality_)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, counts / np.maximum(totals, 1), uniform)
