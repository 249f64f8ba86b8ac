"""Unique vote patterns with counts: a label matrix compressed for fitting label models.

Ten LFs on ten million rows rarely produce more than a few thousand distinct rows of votes, and a
label model's fit only depends on which patterns occur how often. Patterns are gathered chunk by
chunk (streaming) or partition by partition (Dask) and merged.

Finding identical rows is done here once for all of votewise (:func:`group_codes`, through
:func:`distinct_rows`): the identical-row dedup of a table before applying LFs, and the vote patterns of
a label matrix that the label models fit on (:func:`vote_patterns`, :class:`PatternCounts`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .lf import LabelingFunction
from .matrix import check_label_matrix

__all__ = [
    "PatternCounts", "VotePatterns", "vote_patterns", "fit_from_patterns", "distinct_rows", "group_codes",
    "sampled_repeat_share", "worth_dedup",
]

_PACK_LIMIT = 2**62  # packed row codes stay below this, so multiplying and adding never overflow int64


def group_codes(columns: Iterable[np.ndarray], n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows given column by column as integer arrays: ``(codes, first, counts)``.

    The one implementation of "which rows are identical", behind :func:`distinct_rows` (label
    matrices, and DataFrame rows after per-column codes). Columns are packed into one int64 per row in mixed radix (exact: no
    hashing, so no collisions); when the next column would overflow, the packed codes are renumbered
    densely first. Each renumbering and the final numbering are a hash-table factorisation, linear in
    the rows, with no sort.

    Parameters
    ----------
    columns : iterable of ndarray of int, each of shape (n_rows,)
        The columns, in any integer dtype and range.
    n_rows : int
        Rows, for the case of no columns (all rows are then identical).

    Returns
    -------
    codes : ndarray of intp, shape (n_rows,)
        Row ``i``'s distinct content, numbered in order of first appearance.
    first : ndarray of int64, shape (n_distinct,)
        Where each distinct content first occurs.
    counts : ndarray of int64, shape (n_distinct,)
        Rows with each distinct content.
    """
    codes = np.zeros(n_rows, dtype=np.int64)
    size = 1  # codes lie in 0..size-1
    for col in columns:
        col = np.asarray(col)
        if not len(col):
            continue
        lo, hi = int(col.min()), int(col.max())
        width = hi - lo + 1
        if width >= _PACK_LIMIT:  # values too spread to pack (e.g. raw ids): number them densely first
            col, uniques = pd.factorize(col)
            lo, width = 0, len(uniques)
        if size * width >= _PACK_LIMIT:
            codes, uniques = pd.factorize(codes)
            size = len(uniques)
            if size == n_rows:  # every row already distinct: no later column can join two
                every = np.arange(n_rows, dtype=np.int64)
                return every.astype(np.intp), every, np.ones(n_rows, dtype=np.int64)
            codes = codes.astype(np.int64, copy=False)
        codes *= width
        codes += col
        if lo:
            codes -= lo
        size *= width
    codes, uniques = pd.factorize(codes)
    codes = codes.astype(np.intp, copy=False)
    if not n_rows:
        return codes, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Codes number contents by first appearance, so a row starts a new content exactly where the
    # running maximum of the codes grows: first occurrences without a sort.
    running = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]])).astype(np.int64)
    counts = np.bincount(codes, minlength=len(uniques)).astype(np.int64)
    return codes, first, counts


def distinct_rows(rows: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Group identical rows: ``(codes, first, counts)``, content numbered by first appearance.

    ``codes[i]`` numbers row ``i``'s content, ``first[c]`` is the position where content ``c`` first
    occurs (so ``rows[first[codes]]`` equals ``rows`` row by row) and ``counts[c]`` how many rows hold it.

    Parameters
    ----------
    rows : 2-D array-like of int, or DataFrame
        A label matrix, or a table whose rows are compared by their column values (not the index).

    Returns
    -------
    tuple of three int64 arrays, or None
        None only for a DataFrame with a column of unhashable values (lists, dicts): its rows
        cannot be compared, so nothing can be grouped.

    Examples
    --------
    >>> codes, first, counts = distinct_rows([[0, -1], [1, 1], [0, -1]])
    >>> codes.tolist(), first.tolist(), counts.tolist()
    ([0, 1, 0], [0, 1], [2, 1])
    >>> distinct_rows(pd.DataFrame({"text": ["a", "b", "a"]}))[0].tolist()
    [0, 1, 0]
    """
    if isinstance(rows, pd.DataFrame):
        # One column's codes at a time (a generator), so memory holds the packed codes and one column.
        columns = (pd.factorize(rows[name], use_na_sentinel=False)[0] for name in rows.columns)
        try:
            return group_codes(columns, len(rows))
        except TypeError:  # a column of unhashable values
            return None
    arr = np.asarray(rows)
    if arr.ndim != 2:
        raise ValueError(f"Expected a 2-D matrix of integers; got shape {arr.shape}.")
    # Column-major first: the packing reads the matrix column by column, and strided reads of a
    # row-major matrix cost more than the copy.
    arr = np.asfortranarray(arr)
    return group_codes((arr[:, j] for j in range(arr.shape[1])), arr.shape[0])


#: Most rows :func:`sampled_repeat_share` looks at, for apply's dedup and for vote patterns alike.
REPEAT_SAMPLE = 20_000


def sampled_repeat_share(
    n_rows: int, count_distinct: Callable[[np.ndarray], int | None], *, sample: int = REPEAT_SAMPLE
) -> float | None:
    """Share of repeated rows among up to ``sample`` evenly spaced rows: is grouping them worth it?

    The one estimate behind both "dedup rows before applying LFs" and "fit a label model on vote
    patterns": grouping costs a pass over the rows, so each caller compares this share with what
    grouping saves it. A sample sees fewer repeats than the whole, so the estimate errs toward
    not grouping.

    Parameters
    ----------
    n_rows : int
        Rows in the table.
    count_distinct : callable
        Takes the sampled row positions and returns how many distinct rows they hold, or
        ``None`` when rows cannot be compared (unhashable values).
    sample : int
        Most rows to look at.

    Returns
    -------
    float or None
        ``1 - distinct / sampled``; ``None`` when ``count_distinct`` gave ``None``.

    Examples
    --------
    >>> L = np.array([[0, 1], [0, 1], [1, 1], [0, 1]])
    >>> sampled_repeat_share(len(L), lambda pos: len(distinct_rows(L[pos])[1]))
    0.5
    """
    if n_rows <= sample:
        positions = np.arange(n_rows, dtype=np.intp)
    else:
        positions = np.linspace(0, n_rows - 1, sample).astype(np.intp)
    distinct = count_distinct(positions)
    if distinct is None:
        return None
    return 1.0 - distinct / max(len(positions), 1)


class PatternCounts:
    """Distinct rows of votes and how often each occurs, accumulated over chunks.

    The streaming counterpart of :func:`vote_patterns`: chunks are added one at a time and
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
        self._rows: np.ndarray | None = None  # distinct rows as int16, in no particular order
        self._counts = np.zeros(0, dtype=np.int64)
        self._width: int | None = len(self.lf_names) if self.lf_names is not None else None

    def _merge_rows(self, rows: np.ndarray, counts: np.ndarray) -> None:
        rows = rows.astype(np.int16, copy=False)
        if self._rows is not None:
            rows = np.concatenate([self._rows, rows])
            counts = np.concatenate([self._counts, counts])
        codes, first, _ = distinct_rows(rows)
        self._rows = rows[first]
        self._counts = np.bincount(codes, weights=counts, minlength=len(first)).astype(np.int64)

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
            self._merge_rows(arr, weights.astype(np.int64))
            return self
        # The chunk's distinct rows first, so only those are merged with what was counted before.
        _, first, counts = distinct_rows(arr)
        self._merge_rows(arr[first], counts)
        return self

    def merge(self, other: "PatternCounts") -> "PatternCounts":
        """Add another accumulator's counts (e.g. from another worker); returns self."""
        if other._rows is None:
            return self
        if self._width is not None and other._width != self._width:
            raise ValueError(f"Cannot merge vote patterns over {other._width} LFs into patterns over {self._width}.")
        self._width = other._width
        if self.lf_names is None:
            self.lf_names = other.lf_names
        self._merge_rows(other._rows, other._counts)
        return self

    def _order(self) -> tuple[np.ndarray, np.ndarray]:
        if self._rows is None:
            return np.zeros((0, self._width or 0), dtype=np.int16), np.zeros(0, dtype=np.intp)
        return self._rows, np.lexsort(self._rows.T[::-1])  # numeric order, first LF first

    @property
    def patterns(self) -> np.ndarray:
        rows, order = self._order()
        rows = rows[order]
        return rows.astype(np.int8) if not rows.size or rows.max() < 127 else rows

    @property
    def counts(self) -> np.ndarray:
        return self._counts[self._order()[1]]

    @property
    def n_rows(self) -> int:
        return int(self._counts.sum())

    def __len__(self) -> int:
        return 0 if self._rows is None else len(self._rows)

    def __repr__(self) -> str:
        return f"PatternCounts({len(self)} patterns over {self._width} LFs, {self.n_rows} rows)"


@dataclass
class VotePatterns:
    """The distinct rows of a label matrix, how often each occurs and which one each row is.

    Attributes
    ----------
    patterns : ndarray, shape (n_patterns, n_lfs)
        The distinct rows (same dtype as the input), in order of first appearance.
    counts : ndarray of int64, shape (n_patterns,)
        How many rows have each pattern.
    inverse : ndarray of int64, shape (n_rows,)
        ``patterns[inverse]`` rebuilds the matrix.
    """

    patterns: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    def __len__(self) -> int:
        return len(self.patterns)


def vote_patterns(L: Any, *, only_if_worth_it: bool = False) -> VotePatterns:
    """Group the identical rows of a label matrix into vote patterns.

    Label models that treat LFs as conditionally independent given the class need each distinct
    row once, weighted by its count, so their cost follows the number of patterns, not of rows.

    Parameters
    ----------
    L : array-like of int, shape (n_rows, n_lfs)
    only_if_worth_it : bool
        Look first at up to 20,000 evenly spaced rows; when at least half of them are distinct,
        grouping would shrink the work little, and every row is returned as its own pattern
        (counts of one) without the packing pass.

    Returns
    -------
    VotePatterns

    Examples
    --------
    >>> vp = vote_patterns([[1, -1], [1, -1], [-1, 0]])
    >>> vp.patterns.tolist(), vp.counts.tolist(), vp.inverse.tolist()
    ([[1, -1], [-1, 0]], [2, 1], [0, 0, 1])
    """
    L = np.asarray(L)
    if L.ndim != 2 or L.shape[0] == 0:
        raise ValueError(f"Expected a label matrix with at least one row; got shape {L.shape}.")
    n = L.shape[0]
    if only_if_worth_it and n > REPEAT_SAMPLE:
        # A sample sees fewer repeats than the whole, so this errs toward not grouping, whose cost is
        # bounded by the ungrouped fit anyway.
        share = sampled_repeat_share(n, lambda positions: len(distinct_rows(L[positions])[1]))
        if share <= 0.5:
            return VotePatterns(L, np.ones(n, dtype=np.int64), np.arange(n, dtype=np.int64))
    codes, first, counts = distinct_rows(L)
    return VotePatterns(L[first], counts, codes.astype(np.int64, copy=False))


def fit_from_patterns(model: Any, patterns: Any, counts: Any, **fit_params: Any) -> Any:
    """Fit a label model on distinct vote patterns weighted by their counts; returns the model.

    Uses, in this order: a ``fit_patterns(patterns, counts)`` or ``fit_counts(patterns, counts)``
    method; a ``sample_weight=`` argument of ``fit``; for models that learn nothing from how often
    a row occurs (``uses_pattern_counts = False``, e.g. majority vote), ``fit(patterns)``; otherwise ``fit`` on the patterns repeated by
    their counts (exact, but memory grows with the number of rows).

    Parameters
    ----------
    model : label model
        E.g. :class:`models.MajorityVote`.
    patterns : array-like of shape (n_patterns, n_lfs)
        Distinct rows of votes (``patterns`` of :func:`vote_patterns` or :class:`PatternCounts`).
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
    if not getattr(model, "uses_pattern_counts", True):
        return model.fit(patterns, **fit_params)
    return model.fit(np.repeat(patterns, counts, axis=0), **fit_params)


# --- identical rows of a table, before applying LFs ----------------------------------------------

DEDUP_MIN_SHARE = 0.05


def worth_dedup(data: pd.DataFrame, lfs: Sequence[LabelingFunction]) -> bool:
    """Whether finding duplicate rows is likely to pay for itself.

    Always for row LFs (a Python call per row costs far more than hashing the row). For batch LFs,
    which cost about as much per row as the hashing, only when an evenly spaced sample of rows
    holds at least 5% duplicates.
    """
    if not all(lf.vectorized for lf in lfs):
        return True

    def count_distinct(positions: np.ndarray) -> int | None:
        groups = distinct_rows(data.iloc[positions])
        return None if groups is None else len(groups[1])

    share = sampled_repeat_share(len(data), count_distinct)
    return share is not None and share >= DEDUP_MIN_SHARE
