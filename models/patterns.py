"""Vote patterns: the distinct rows of a label matrix with their counts.

Label models that assume LFs are conditionally independent given the class
only need each distinct row once, weighted by how often it occurs, so their
cost grows with the number of distinct rows instead of the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VotePatterns", "unique_patterns"]


@dataclass
class VotePatterns:
    """Distinct rows of a label matrix.

    Attributes
    ----------
    patterns : ndarray, shape (n_patterns, n_lfs)
        The distinct rows (same dtype as the input).
    counts : ndarray of int64, shape (n_patterns,)
        How many input rows have each pattern.
    inverse : ndarray of int64, shape (n_rows,)
        ``patterns[inverse]`` rebuilds the input.
    """

    patterns: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    def __len__(self) -> int:
        return len(self.patterns)


def _row_hashes(L: np.ndarray, seed: int) -> np.ndarray:
    """Two independent 64-bit polynomial hashes of every row, shape (2, n_rows).

    A random odd multiplier per column and hash; the seed is fixed, so results
    never depend on it.
    """
    coef = np.random.default_rng(seed).integers(1, 2**62, size=(L.shape[1], 2), dtype=np.int64) | 1
    h = np.zeros((2, L.shape[0]), dtype=np.int64)
    col = np.empty(L.shape[0], dtype=np.int64)
    with np.errstate(over="ignore"):
        for j in range(L.shape[1]):
            np.add(L[:, j], 2, out=col, dtype=np.int64, casting="unsafe")
            h[0] += col * coef[j, 0]
            h[1] += col * coef[j, 1]
    return h


def unique_patterns(L: np.ndarray) -> VotePatterns:
    """Group identical rows of ``L``.

    Hashes rows to 64-bit integers and sorts the hashes (much faster than a
    row-wise lexicographic sort). A second, independent hash must agree within
    every group; if it ever does not (two different rows shared the first
    hash), it falls back to an exact ``np.unique(axis=0)``.

    Parameters
    ----------
    L : ndarray of int, shape (n_rows, n_lfs)

    Returns
    -------
    VotePatterns

    Examples
    --------
    >>> vp = unique_patterns(np.array([[0, -1], [1, 1], [0, -1]]))
    >>> vp.patterns.tolist(), vp.counts.tolist(), vp.inverse.tolist()
    ([[0, -1], [1, 1]], [2, 1], [0, 1, 0])
    """
    L = np.asarray(L)
    if L.shape[0] == 0:
        raise ValueError("L has no rows; expected at least one row of votes.")
    h, check = _row_hashes(L, 0x5EED)
    _, first, inverse, counts = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    if not np.array_equal(check[first][inverse], check):  # hash collision: exact but slower path
        _, first, inverse, counts = np.unique(L, axis=0, return_index=True, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
    # Number patterns by first occurrence so results never depend on hash values.
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return VotePatterns(L[first[order]], counts[order].astype(np.int64), rank[inverse].astype(np.int64))


def repeats_worth_grouping(L: np.ndarray, *, sample: int = 20_000, max_distinct: float = 0.5) -> bool:
    """Whether grouping identical rows is likely to pay for its hashing and sorting.

    Looks at evenly spaced rows only. When at least ``max_distinct`` of them are
    distinct, grouping would shrink the work little (a sample sees fewer repeats
    than the whole, so this errs towards not grouping, whose cost is bounded by
    the ungrouped fit anyway).
    """
    n = L.shape[0]
    if n <= sample:
        return True
    rows = L[:: n // sample]
    return len(unique_patterns(rows)) < max_distinct * len(rows)


def group_rows(L: np.ndarray) -> VotePatterns:
    """:func:`unique_patterns` when rows repeat enough; otherwise every row is its own pattern."""
    if repeats_worth_grouping(L):
        return unique_patterns(L)
    n = L.shape[0]
    return VotePatterns(L, np.ones(n, dtype=np.int64), np.arange(n, dtype=np.int64))
