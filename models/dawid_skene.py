"""Dawid-Skene: EM over one confusion matrix per LF, abstaining being one of its outcomes."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from labeling.core.matrix import ABSTAIN
from labeling.core.patterns import vote_patterns

from .base import BaseLabelModel

__all__ = ["DawidSkene"]


def vote_outcomes(P: np.ndarray, k: int) -> sp.csr_matrix:
    """One-hot outcomes: entry (row, j*(k+1) + v) is 1 where LF j voted v (v = k: abstained)."""
    u, m = P.shape
    outcome = np.where(P == ABSTAIN, k, P).astype(np.int64)
    cols = (np.arange(m, dtype=np.int64) * (k + 1) + outcome).ravel()
    indptr = np.arange(0, u * m + 1, m, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(u, m * (k + 1)))


class DawidSkene(BaseLabelModel):
    """Dawid and Skene's (1979) model: LF ``j`` votes ``v`` for true class ``c`` with probability ``confusion_[j, c, v]``.

    Fit by EM from a majority-vote start on the distinct vote patterns with
    their counts. Each confusion row gets a symmetric Dirichlet smoothing
    proportional to the number of rows, which keeps unseen (class, vote)
    pairs possible and makes the fit invariant to duplicating the data.
    Abstaining is one more outcome of each LF (column ``cardinality`` of
    ``confusion_``): with LFs that only ever vote one class, when an LF stays
    silent is all that tells the classes apart. Memory grows with
    patterns x LFs, so prefer :class:`LabelModel` for thousands of LFs.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    smoothing : float
        Pseudo-counts added to every confusion cell, as a fraction of the
        number of rows divided by the number of outcomes.
    n_iter : int
        Maximum EM iterations.
    tol : float
        Stop when no confusion entry moves by more than this.
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict`.

    Attributes
    ----------
    confusion_ : ndarray, shape (n_lfs, cardinality, cardinality + 1)
        ``confusion_[j, c, v]`` = P(LF j votes v | true class c); ``v = cardinality`` is abstaining.
    class_prior_ : ndarray, shape (cardinality,)
    n_iter_ : int

    Examples
    --------
    >>> ds = DawidSkene(cardinality=2).fit([[0, 0, 1], [1, 1, 1], [0, 0, -1]])
    >>> ds.predict([[0, 0, 1]]).tolist()
    [0]
    """

    _parameter_constraints: dict = {
        **BaseLabelModel._parameter_constraints,
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        cardinality: int | None = None,
        smoothing: float = 1e-5,
        n_iter: int = 100,
        tol: float = 1e-5,
        tie_break: str = "random",
    ) -> None:
        self.cardinality = cardinality
        self.smoothing = smoothing
        self.n_iter = n_iter
        self.tol = tol
        self.tie_break = tie_break

    def _posterior(self, X: sp.csr_matrix, log_conf: np.ndarray, prior: np.ndarray) -> np.ndarray:
        k = self.cardinality_
        # Row j*k+v of the table holds log P(vote v | class c) for every class c.
        table = log_conf.transpose(0, 2, 1).reshape(-1, k)  # (m*(k+1), k)
        scores = X @ table + np.log(np.clip(prior, 1e-12, None))
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        k, m = self.cardinality_, self.n_lfs_
        if y is not None and (y >= 0).any():
            vp = vote_patterns(np.concatenate([L.astype(np.int16), y.astype(np.int16)[:, None]], axis=1))
            P, known = vp.patterns[:, :m], vp.patterns[:, m].astype(np.int64)
        else:
            vp = vote_patterns(L)
            P, known = vp.patterns, np.full(len(vp), -1, dtype=np.int64)
        counts = vp.counts.astype(float)
        X = vote_outcomes(P, k)
        XT = X.T.tocsr()
        is_known = known >= 0

        # Proportional to the number of rows (the floor too), so duplicating every row changes nothing.
        pseudo = max(self.smoothing, 1e-9) * counts.sum() / (k + 1)
        mv_table = np.tile(np.vstack([np.eye(k), np.zeros((1, k))]), (m, 1))
        q = np.asarray(X @ mv_table)  # majority-vote start
        tot = q.sum(axis=1, keepdims=True)
        q = np.where(tot > 0, q / np.where(tot > 0, tot, 1), 1.0 / k)
        q[is_known] = np.eye(k)[known[is_known]]
        conf = None
        for it in range(1, int(self.n_iter) + 1):
            weighted = q * counts[:, None]
            # Entry (j*(k+1)+v, c) = expected number of rows of class c where LF j's outcome is v.
            joint = (XT @ weighted).reshape(m, k + 1, k).transpose(0, 2, 1) + pseudo
            new_conf = joint / joint.sum(axis=2, keepdims=True)
            prior = class_balance if class_balance is not None else weighted.sum(axis=0) / counts.sum()
            shift = np.inf if conf is None else float(np.max(np.abs(new_conf - conf)))
            conf = new_conf
            q = self._posterior(X, np.log(conf), prior)
            q[is_known] = np.eye(k)[known[is_known]]
            if shift < self.tol:
                break
        self.confusion_ = conf
        self.class_prior_ = np.asarray(prior, dtype=float)
        self.n_iter_ = it

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        vp = vote_patterns(L)
        X = vote_outcomes(vp.patterns, self.cardinality_)
        post = self._posterior(X, np.log(self.confusion_), self.class_prior_)
        # A row where every LF abstained carries no vote; like every votewise model it gets the prior.
        post[(vp.patterns == ABSTAIN).all(axis=1)] = self.class_prior_
        return post[vp.inverse]
