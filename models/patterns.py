"""Vote patterns: the distinct rows of a label matrix with their counts.

Label models that assume LFs are conditionally independent given the class
only need each distinct row once, weighted by how often it occurs, so their
cost grows with the number of distinct rows instead of the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeling.core.patterns import distinct_rows, sampled_repeat_share

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


def unique_patterns(L: np.ndarray) -> VotePatterns:
    """Group identical rows of ``L``, numbered by first occurrence.

    Calls :func:`labeling.core.patterns.distinct_rows` (exact: rows are packed into integers, never
    hashed).

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
    inverse, first, counts = distinct_rows(L)
    return VotePatterns(L[first], counts, inverse.astype(np.int64, copy=False))


def repeats_worth_grouping(L: np.ndarray, *, sample: int = 20_000, max_distinct: float = 0.5) -> bool:
    """Whether grouping identical rows is likely to pay for its packing and renumbering.

    Looks at evenly spaced rows only. When at least ``max_distinct`` of them are
    distinct, grouping would shrink the work little (a sample sees fewer repeats
    than the whole, so this errs towards not grouping, whose cost is bounded by
    the ungrouped fit anyway).
    """
    n = L.shape[0]
    if n <= sample:
        return True
    share = sampled_repeat_share(n, lambda positions: len(distinct_rows(L[positions])[1]), sample=sample)
    return share > 1.0 - max_distinct


def group_rows(L: np.ndarray) -> VotePatterns:
    """:func:`unique_patterns` when rows repeat enough; otherwise every row is its own pattern."""
    if repeats_worth_grouping(L):
        return unique_patterns(L)
    n = L.shape[0]
    return VotePatterns(L, np.ones(n, dtype=np.int64), np.arange(n, dtype=np.int64))
