"""Unique vote patterns with counts: a label matrix compressed for fitting label models.

Ten LFs on ten million rows rarely produce more than a few thousand distinct rows of votes, and a
label model's fit only depends on which patterns occur how often. Patterns are gathered chunk by
chunk (streaming) or partition by partition (Dask) and merged.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np

from .matrix import check_label_matrix

__all__ = ["PatternCounts", "vote_patterns", "fit_from_patterns"]


def _as_keys(L: np.ndarray) -> np.ndarray:
    # One fixed-width byte string per row, so rows compare and sort as single values.
    rows = np.ascontiguousarray(L, dtype=np.int16)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


class PatternCounts:
    """Distinct rows of votes and how often each occurs, accumulated over chunks.

    The streaming counterpart of ``models.unique_patterns``: chunks are added one at a time and
    accumulators from different workers are merged, so the label matrix is never needed whole.

    Parameters
    ----------
    lf_names : sequence of str, optional
        Column names, checked against later chunks' width.

    Attributes
    ----------
    patterns : ndarray of shape (n_patterns, n_lfs)
        Distinct vote rows (int8 when every vote fits), in numeric order.
    counts : ndarray of int64, shape (n_patterns,)
        Rows with each pattern.
    n_rows : int
        Rows seen in total (``counts.sum()``).

    Examples
    --------
    >>> vp = PatternCounts().add([[0, -1], [0, -1], [1, 1]])
    >>> vp.patterns.tolist(), vp.counts.tolist()
    ([[0, -1], [1, 1]], [2, 1])
    """

    def __init__(self, lf_names: Sequence[str] | None = None) -> None:
        self.lf_names = list(lf_names) if lf_names is not None else None
        self._keys: np.ndarray | None = None
        self._counts = np.zeros(0, dtype=np.int64)
        self._width: int | None = len(self.lf_names) if self.lf_names is not None else None

    def _merge_keys(self, keys: np.ndarray, counts: np.ndarray) -> None:
        if self._keys is not None:
            keys = np.concatenate([self._keys, keys])
            counts = np.concatenate([self._counts, counts])
        uniq, inverse = np.unique(keys, return_inverse=True)
        self._keys = uniq
        self._counts = np.bincount(inverse.ravel(), weights=counts, minlength=len(uniq)).astype(np.int64)

    def add(self, L: Any, counts: Any = None) -> "PatternCounts":
        """Count the rows of one chunk of votes; returns self.

        With ``counts``, row ``i`` stands for ``counts[i]`` rows (e.g. another
        accumulator's patterns sent as a table) instead of one.
        """
        arr = check_label_matrix(L, n_lfs=self._width)
        self._width = arr.shape[1]
        if counts is not None:
            weights = np.asarray(counts)
            if weights.shape != (len(arr),) or weights.dtype.kind not in "iu" or (weights < 0).any():
                raise ValueError(
                    f"counts must hold one non-negative integer per row ({len(arr)}); got shape {weights.shape}, "
                    f"dtype {weights.dtype}."
                )
            self._merge_keys(_as_keys(arr), weights.astype(np.int64))
            return self
        base = int(arr.max()) + 2
        if arr.shape[1] * np.log2(base) < 62:
            # Each row as one int64 (votes + 1 in base max+2): sorting integers is far faster than
            # sorting byte strings. Only the distinct rows go on to the byte-string keys.
            codes = np.zeros(len(arr), dtype=np.int64)
            for j in range(arr.shape[1]):
                codes = codes * base + (arr[:, j].astype(np.int64) + 1)
            _, first, counts = np.unique(codes, return_index=True, return_counts=True)
            keys = _as_keys(arr[first])
        else:
            keys, counts = np.unique(_as_keys(arr), return_counts=True)
        self._merge_keys(keys, counts.astype(np.int64))
        return self

    def merge(self, other: "PatternCounts") -> "PatternCounts":
        """Add another accumulator's counts (e.g. from another worker); returns self."""
        if other._keys is None:
            return self
        if self._width is not None and other._width != self._width:
            raise ValueError(f"Cannot merge vote patterns over {other._width} LFs into patterns over {self._width}.")
        self._width = other._width
        if self.lf_names is None:
            self.lf_names = other.lf_names
        self._merge_keys(other._keys, other._counts)
        return self

    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        if self._keys is None:
            return np.zeros((0, self._width or 0), dtype=np.int16), np.zeros(0, dtype=np.intp)
        rows = self._keys.view(np.int16).reshape(len(self._keys), self._width)
        return rows, np.lexsort(rows.T[::-1])  # numeric order, first LF first

    @property
    def patterns(self) -> np.ndarray:
        rows, order = self._rows()
        rows = rows[order]
        return rows.astype(np.int8) if not rows.size or rows.max() < 127 else rows

    @property
    def counts(self) -> np.ndarray:
        return self._counts[self._rows()[1]]

    @property
    def n_rows(self) -> int:
        return int(self._counts.sum())

    def __len__(self) -> int:
        return 0 if self._keys is None else len(self._keys)

    def __repr__(self) -> str:
        return f"PatternCounts({len(self)} patterns over {self._width} LFs, {self.n_rows} rows)"


def vote_patterns(L: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a label matrix and their counts: ``(patterns, counts)``.

    Examples
    --------
    >>> patterns, counts = vote_patterns([[1, -1], [1, -1], [-1, 0]])
    >>> patterns.tolist(), counts.tolist()
    ([[-1, 0], [1, -1]], [1, 2])
    """
    vp = PatternCounts().add(L)
    return vp.patterns, vp.counts


def fit_from_patterns(model: Any, patterns: Any, counts: Any, **fit_params: Any) -> Any:
    """Fit a label model on distinct vote patterns weighted by their counts; returns the model.

    Uses, in this order: a ``fit_patterns(patterns, counts)`` or ``fit_counts(patterns, counts)``
    method; a ``sample_weight=`` argument of ``fit``; for models that learn nothing from how often
    a row occurs (majority vote), ``fit(patterns)``; otherwise ``fit`` on the patterns repeated by
    their counts (exact, but memory grows with the number of rows).

    Parameters
    ----------
    model : label model
        E.g. :class:`models.MajorityVote`.
    patterns : array-like of shape (n_patterns, n_lfs)
        Distinct rows of votes (from :class:`PatternCounts` or :func:`vote_patterns`).
    counts : array-like of int, shape (n_patterns,)
        How many rows have each pattern.
    **fit_params
        Passed to the fit method (e.g. ``class_balance=``).

    Examples
    --------
    >>> from models import MajorityVote
    >>> mv = fit_from_patterns(MajorityVote(cardinality=2), [[0, 1, 1], [-1, -1, 0]], [10, 3])
    >>> mv.predict_proba([[0, 1, 1]]).round(2).tolist()
    [[0.33, 0.67]]
    """
    patterns = check_label_matrix(patterns)
    counts = np.asarray(counts)
    if counts.shape != (len(patterns),) or counts.dtype.kind not in "iu" or (counts < 0).any():
        raise ValueError(
            f"counts must hold one non-negative integer per pattern ({len(patterns)}); got shape {counts.shape}, "
            f"dtype {counts.dtype}."
        )
    for name in ("fit_patterns", "fit_counts"):
        method = getattr(model, name, None)
        if callable(method):
            return method(patterns, counts, **fit_params)
    try:
        takes_weight = "sample_weight" in inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        takes_weight = False
    if takes_weight:
        return model.fit(patterns, sample_weight=counts, **fit_params)
    if type(model).__name__ == "MajorityVote":
        return model.fit(patterns, **fit_params)
    return model.fit(np.repeat(patterns, counts, axis=0), **fit_params)
