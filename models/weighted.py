"""Weighted majority vote: each vote counts by the weight of the class it names (WRENCH's WMV)."""

from __future__ import annotations

import numpy as np

from .base import vote_counts
from .majority import MajorityVote

__all__ = ["WeightedMajorityVote"]


class WeightedMajorityVote(MajorityVote):
    """Majority vote where a vote for class ``c`` counts ``class_balance[c]``.

    With ``class_balance`` proportional to (validation count of ``c`` + 1), as
    :func:`models.class_balance_from_labels` computes it, this is WRENCH's
    weighted majority vote, computed the same way so that results can be compared
    with WRENCH's. Without a class balance every class weighs the same and the
    model equals :class:`MajorityVote`.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict`.

    Attributes
    ----------
    class_weights_ : ndarray, shape (cardinality,)
        Weight of one vote for each class.

    Examples
    --------
    >>> wmv = WeightedMajorityVote(cardinality=2).fit([[0, 1]], class_balance=[0.25, 0.75])
    >>> wmv.predict([[0, 1]]).tolist()
    [1]
    """

    #: ``votewise bench`` passes the validation class balance to this model.
    uses_class_balance = True

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        super()._fit(L, y, class_balance)
        k = self.cardinality_
        self.class_weights_ = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, float)

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        k = self.cardinality_
        weighted = vote_counts(L, k) * self.class_weights_
        totals = weighted.sum(axis=1, keepdims=True)
        # Rows with no vote (or votes only for zero-weight classes) stay uniform.
        return np.where(totals > 0, weighted / np.where(totals > 0, totals, 1), 1.0 / k)
