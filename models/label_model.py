"""votewise's default label model: per-LF, per-class vote precision fit by EM on vote patterns."""

from __future__ import annotations

from typing import Any

import numpy as np

from labeling.matrix import ABSTAIN

from ._tiebreak import TIE_BREAKS
from .base import BaseLabelModel
from .patterns import group_rows, unique_patterns

__all__ = ["LabelModel"]

# A dense (patterns x classes) posterior is used while it stays below this many
# cells; beyond it (many classes) only the (pattern, voted class) cells are kept.
_DENSE_CELLS = 32_000_000
_EPS = 1e-6
# Least log-odds a vote adds to its class beyond the prior gap (see LabelModel._weights).
_MIN_EVIDENCE = 0.01


def _row_reduce(ufunc: np.ufunc, a: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(a, axis=1)``; column by column when rows are short, which is several times faster."""
    if a.shape[1] > 16:
        return ufunc.reduce(a, axis=1)
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        ufunc(out, a[:, c], out=out)
    return out


def _vote_csr(P: np.ndarray, k: int, chunk: int = 65536):
    """Votes as CSR (rows x LF*class), built in row chunks to keep temporaries small."""
    import scipy.sparse as sp

    u, m = P.shape
    offsets = np.arange(m, dtype=np.int32) * k
    cols, per_row = [], []
    for lo in range(0, u, chunk):
        block = P[lo:lo + chunk]
        mask = block != ABSTAIN
        cols.append((offsets + block)[mask].astype(np.int32, copy=False))
        per_row.append(np.count_nonzero(mask, axis=1))
    indices = np.concatenate(cols)
    indptr = np.zeros(u + 1, dtype=np.int64)
    np.cumsum(np.concatenate(per_row), out=indptr[1:])
    data = np.ones(len(indices))  # float64, so products with float64 tables need no conversion
    return sp.csr_matrix((data, indices, indptr), shape=(u, m * k))


class _DenseVotes:
    """Few classes: the (patterns x classes) posterior is kept whole; one sparse product per EM step."""

    def __init__(self, P: np.ndarray, k: int, known: np.ndarray) -> None:
        self.u, self.m, self.k = P.shape[0], P.shape[1], k
        self.X = _vote_csr(P, k)
        self.known = known
        self.is_known = known >= 0
        self.vote_class = np.tile(np.arange(k), self.m)  # class named by column j*k+v

    def n_votes(self, counts: np.ndarray) -> np.ndarray:
        return np.asarray(self.X.T @ counts).reshape(self.m, self.k)

    def posterior(self, log_prior: np.ndarray, weights: np.ndarray) -> np.ndarray:
        table = np.zeros((self.m * self.k, self.k))
        table[np.arange(self.m * self.k), self.vote_class] = weights.ravel()
        scores = np.asarray(self.X @ table) + log_prior
        scores -= _row_reduce(np.maximum, scores)[:, None]
        np.exp(scores, out=scores)
        scores /= _row_reduce(np.add, scores)[:, None]
        return scores

    def expected(self, post: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected right votes per (LF, class) and expected rows per class (known rows fixed)."""
        post[self.is_known] = 0.0
        post[np.flatnonzero(self.is_known), self.known[self.is_known]] = 1.0
        weighted = post * counts[:, None]
        joint = np.asarray(self.X.T @ weighted)  # (m*k, k)
        right = joint[np.arange(self.m * self.k), self.vote_class].reshape(self.m, self.k)
        return right, weighted.sum(axis=0)

    def full(self, post: np.ndarray, prior: np.ndarray) -> np.ndarray:
        return post


class _CellVotes:
    """Many classes: only (pattern, voted class) cells are stored; other classes keep the prior."""

    def __init__(self, P: np.ndarray, k: int, known: np.ndarray) -> None:
        u, m = P.shape
        mask = P != ABSTAIN
        per_row = mask.sum(axis=1)
        cls = P[mask].astype(np.int64)
        lf = np.nonzero(mask)[1].astype(np.int64)
        row = np.repeat(np.arange(u, dtype=np.int64), per_row)
        self.u, self.k, self.m = u, k, m
        self.row, self.cls = row, cls
        self.lf_class = lf * k + cls  # index into the (m, k) parameter table
        key = row * k + cls
        # Votes are ordered by row, so a stable sort of the keys is near-linear.
        order = np.argsort(key, kind="stable")
        skey = key[order]
        new = np.empty(len(skey), dtype=bool)
        new[:1] = True
        np.not_equal(skey[1:], skey[:-1], out=new[1:])
        cell_key = skey[new]
        self.cell = np.empty(len(key), dtype=np.int64)
        self.cell[order] = np.cumsum(new) - 1
        self.n_cells = len(cell_key)
        self.cell_row = cell_key // k
        self.cell_class = cell_key % k
        self.cell_start = np.searchsorted(self.cell_row, np.arange(u + 1))
        self.has_cells = self.cell_start[1:] > self.cell_start[:-1]
        self.known = known
        self.is_known = known >= 0

    def n_votes(self, counts: np.ndarray) -> np.ndarray:
        return np.bincount(self.lf_class, weights=counts[self.row], minlength=self.m * self.k).reshape(self.m, self.k)

    def posterior(self, log_prior: np.ndarray, weights: np.ndarray):
        s = np.bincount(self.cell, weights=weights.ravel()[self.lf_class], minlength=self.n_cells)
        # Classes without a vote in a row all keep score 0 (prior only), so the
        # normaliser is the prior mass of unvoted classes plus the voted cells.
        prior = np.exp(log_prior)
        top = np.zeros(self.u)
        if self.n_cells:
            top[self.has_cells] = np.maximum.reduceat(s, self.cell_start[:-1][self.has_cells])
        top = np.maximum(top, 0.0)
        cell_prior = prior[self.cell_class]
        cell_mass = cell_prior * np.exp(s - top[self.cell_row])
        voted_prior = np.bincount(self.cell_row, weights=cell_prior, minlength=self.u)
        z = np.clip(1.0 - voted_prior, 0.0, None) * np.exp(-top) + np.bincount(
            self.cell_row, weights=cell_mass, minlength=self.u
        )
        return cell_mass / z[self.cell_row], np.exp(-top) / z, prior

    def expected(self, post, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cell_q, base, prior = post
        known_cell = self.known[self.cell_row]
        cell_q = np.where(self.is_known[self.cell_row], (self.cell_class == known_cell).astype(float), cell_q)
        base = np.where(self.is_known, 0.0, base)
        right = np.bincount(self.lf_class, weights=counts[self.row] * cell_q[self.cell], minlength=self.m * self.k)
        class_mass = prior * (counts @ base)
        extra = cell_q - prior[self.cell_class] * base[self.cell_row]
        class_mass += np.bincount(self.cell_class, weights=extra * counts[self.cell_row], minlength=self.k)
        # Known rows whose label no LF voted for still count for that class.
        voted_known = np.zeros(self.u, dtype=bool)
        voted_known[self.cell_row[self.cell_class == known_cell]] = True
        missing = self.is_known & ~voted_known
        class_mass += np.bincount(self.known[missing], weights=counts[missing], minlength=self.k)
        return right.reshape(self.m, self.k), class_mass

    def full(self, post, prior: np.ndarray) -> np.ndarray:
        cell_q, base, _ = post
        out = base[:, None] * prior[None, :]
        out[self.cell_row, self.cell_class] = cell_q
        return out


def _votes(P: np.ndarray, k: int, known: np.ndarray):
    return _DenseVotes(P, k, known) if len(P) * k <= _DENSE_CELLS else _CellVotes(P, k, known)


class LabelModel(BaseLabelModel):
    """Weak-supervision label model: how far to trust each LF's vote for each class.

    Each LF ``j`` voting class ``c`` is right with probability ``precision_[j, c]``
    (its accuracy *when it votes c*), and LFs are independent given the true
    class. A vote then adds ``log odds(precision) - log odds(prior)`` to the
    score of the class it names, but at least enough that a lone vote makes
    its class the most probable (LFs are assumed better than chance);
    abstentions carry no evidence, and a row with no vote gets the class prior. Parameters are fit
    by EM from a majority-vote start on the distinct vote patterns weighted by
    their counts (cost grows with the number of distinct rows and votes, not
    with n or the number of classes), with a Beta prior pulling each precision
    toward ``accuracy_prior``. :meth:`predict_proba` returns a dense
    (n_rows, cardinality) array.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    accuracy_prior : float
        Prior mean of every LF precision, in (0, 1).
    prior_strength : float
        Weight of that prior, as pseudo-votes per row of data (0.1 on 5,000
        rows = 500 pseudo-votes per LF and class). Scaling by the number of rows
        makes the fit invariant to duplicating the data.
    class_prior : {"estimate", "uniform"}
        Estimate the class balance by EM, or keep it uniform; ignored when
        ``fit`` gets ``class_balance``.
    n_iter : int
        Maximum EM iterations.
    tol : float
        Stop when no precision moves by more than this.
    review_strength : float
        How many votes the EM estimate of a precision counts for against the
        votes on reviewed rows (``y >= 0`` in :meth:`fit`). After EM each
        precision becomes ``(right votes on reviewed rows + review_strength *
        EM estimate) / (votes on reviewed rows + review_strength)``, so a
        hundred reviewed rows are enough to expose an LF that fires often but
        is rarely right, which EM alone (where the prior and the unreviewed rows
        outweigh them) would keep trusting. ``inf`` ignores the reviewed counts.
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict`.

    Attributes
    ----------
    precision_ : ndarray, shape (n_lfs, cardinality)
        Estimated probability that a vote of LF j for class c is right.
    weights_ : ndarray, shape (n_lfs, cardinality)
        Log-odds evidence a vote adds to its class.
    class_prior_ : ndarray, shape (cardinality,)
    n_patterns_ : int
        Distinct (votes, known label) rows the model was fit on.
    n_iter_ : int
        EM iterations run.

    Notes
    -----
    Rows whose label is known (``y >= 0`` in :meth:`fit`) keep that label as
    their posterior through EM, and their votes then correct each precision
    directly (see ``review_strength``).

    Examples
    --------
    >>> L = [[0, 0, -1], [1, 1, 1], [0, -1, 0], [-1, -1, -1]]
    >>> lm = LabelModel(cardinality=2).fit(L)
    >>> lm.predict(L).tolist()[:3]
    [0, 1, 0]
    """

    def __init__(
        self,
        *,
        cardinality: int | None = None,
        accuracy_prior: float = 0.7,
        prior_strength: float = 0.1,
        class_prior: str = "estimate",
        n_iter: int = 100,
        tol: float = 1e-4,
        review_strength: float = 20.0,
        tie_break: str = "random",
    ) -> None:
        self.cardinality = cardinality
        self.accuracy_prior = accuracy_prior
        self.prior_strength = prior_strength
        self.class_prior = class_prior
        self.n_iter = n_iter
        self.tol = tol
        self.review_strength = review_strength
        self.tie_break = tie_break

    #: ``votewise bench`` (:func:`models.fit_with_validation`) fixes the class
    #: prior to the validation class balance and picks among these settings by
    #: validation accuracy.
    uses_class_balance = True
    selection_grid = {
        "accuracy_prior": [0.7, 0.6],
        "prior_strength": [0.01, 0.03, 0.1, 0.3],
    }

    def _check_params(self) -> None:
        if not 0 < self.accuracy_prior < 1:
            raise ValueError(f"accuracy_prior={self.accuracy_prior!r}; expected a number in (0, 1).")
        if not self.prior_strength >= 0:
            raise ValueError(f"prior_strength={self.prior_strength!r}; expected a number >= 0.")
        if self.class_prior not in ("estimate", "uniform"):
            raise ValueError(f"class_prior={self.class_prior!r} is not one of {{'estimate', 'uniform'}}.")
        if int(self.n_iter) < 1:
            raise ValueError(f"n_iter={self.n_iter!r}; expected an integer >= 1.")
        if not self.review_strength > 0:
            raise ValueError(f"review_strength={self.review_strength!r}; expected a number > 0 (inf ignores reviews).")
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break={self.tie_break!r} is not one of {set(TIE_BREAKS)}.")

    def _weights(self, precision: np.ndarray, prior: np.ndarray) -> np.ndarray:
        a = np.clip(precision, _EPS, 1 - _EPS)
        p = np.clip(prior, _EPS, 1 - _EPS)
        w = np.log(a) - np.log1p(-a) - (np.log(p) - np.log1p(-p))
        # An LF is assumed better than chance: a lone vote makes its class the
        # most probable one, whatever the class prior. Without this floor EM can
        # drive the LFs of one class below chance and collapse onto another class.
        log_p = np.log(p)
        order = np.argsort(log_p)
        best_other = np.full(len(p), log_p[order[-1]])
        if len(p) > 1:
            best_other[order[-1]] = log_p[order[-2]]
        return np.maximum(w, np.maximum(best_other - log_p, 0.0) + _MIN_EVIDENCE)

    def fit_patterns(
        self, patterns: Any, counts: Any, y: Any = None, *, class_balance: Any = None
    ) -> "LabelModel":
        """Fit from distinct vote patterns and the number of rows holding each.

        The same fit as :meth:`fit` on the matrix that repeats each pattern
        ``counts`` times, without building it: this is how votes gathered
        chunk by chunk (``labeling.apply_lfs_to_file``) or on a Dask cluster
        are fitted.

        Parameters
        ----------
        patterns : array-like of int, shape (n_patterns, n_lfs)
            Rows of votes (repeats are allowed).
        counts : array-like of int, shape (n_patterns,)
            How many rows have each pattern (0 is allowed).
        y : array-like of int, shape (n_patterns,), optional
            A known label per pattern (-1 = unknown).
        class_balance : array-like of float, optional
            Fixed class prior.

        Returns
        -------
        self

        Examples
        --------
        >>> lm = LabelModel().fit_patterns([[1, 1, -1], [0, -1, 0], [1, 0, 1]], [50, 40, 10])
        >>> lm.predict([[1, 1, -1]]).tolist()
        [1]
        """
        P, y_arr = self._check_fit_input(patterns, y)
        w = np.asarray(counts)
        if w.shape != (P.shape[0],) or w.dtype.kind not in "iuf" or not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(
                f"counts must hold one non-negative number per pattern ({P.shape[0]}); got shape {w.shape}, "
                f"dtype {w.dtype}."
            )
        if w.sum() <= 0:
            raise ValueError("counts sum to 0; at least one pattern must occur.")
        known = np.full(P.shape[0], -1, dtype=np.int64) if y_arr is None else y_arr.astype(np.int64)
        self._fit_counts(P, known, w.astype(float), self._check_class_balance(class_balance))
        return self

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        m = self.n_lfs_
        if y is not None and (y >= 0).any():
            keyed = np.concatenate([L.astype(np.int16, copy=False), y.astype(np.int16)[:, None]], axis=1)
            vp = unique_patterns(keyed)
            P, known = vp.patterns[:, :m], vp.patterns[:, m].astype(np.int64)
        else:
            vp = group_rows(L)
            P, known = vp.patterns, np.full(len(vp), -1, dtype=np.int64)
        self._fit_counts(P, known, vp.counts.astype(float), class_balance)

    def _fit_counts(
        self, P: np.ndarray, known: np.ndarray, counts: np.ndarray, class_balance: np.ndarray | None
    ) -> None:
        self._check_params()
        k, m = self.cardinality_, self.n_lfs_
        n = counts.sum()
        votes = _votes(P, k, known)
        n_votes = votes.n_votes(counts)
        pseudo = self.prior_strength * n
        if class_balance is not None:
            prior = np.asarray(class_balance, dtype=float)
        else:
            prior = np.full(k, 1.0 / k)
        fixed_prior = class_balance is not None or self.class_prior == "uniform"
        # Equal precisions under a uniform prior make the first E-step a soft majority vote.
        precision = np.full((m, k), float(self.accuracy_prior))
        for it in range(1, int(self.n_iter) + 1):
            post = votes.posterior(np.log(np.clip(prior, _EPS, None)), self._weights(precision, prior))
            right, class_mass = votes.expected(post, counts)
            new_precision = (right + pseudo * self.accuracy_prior) / (n_votes + pseudo + 1e-12)
            new_precision = np.where(n_votes + pseudo > 0, new_precision, self.accuracy_prior)
            if not fixed_prior:
                prior = np.clip(class_mass / class_mass.sum(), _EPS, None)
                prior /= prior.sum()
            shift = float(np.max(np.abs(new_precision - precision)))
            precision = new_precision
            if shift < self.tol:
                break
        if (known >= 0).any() and np.isfinite(self.review_strength):
            precision = self._review_precision(votes, post, known, counts, precision)
        self.precision_ = precision
        self.class_prior_ = prior
        self.weights_ = self._weights(precision, prior)
        self.n_iter_ = it
        self.n_patterns_ = len(P)

    def _review_precision(
        self, votes: Any, post: Any, known: np.ndarray, counts: np.ndarray, precision: np.ndarray
    ) -> np.ndarray:
        """Pull each precision toward the hit rate of its votes on the reviewed rows."""
        reviewed = np.where(known >= 0, counts, 0.0)
        # With only reviewed rows weighted, the E-step's counts are the exact votes and right votes on them.
        right, _ = votes.expected(post, reviewed)
        s = float(self.review_strength)
        return (right + s * precision) / (votes.n_votes(reviewed) + s)

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        vp = group_rows(L)
        votes = _votes(vp.patterns, self.cardinality_, np.full(len(vp), -1, dtype=np.int64))
        post = votes.posterior(np.log(np.clip(self.class_prior_, _EPS, None)), self.weights_)
        return votes.full(post, self.class_prior_)[vp.inverse]
