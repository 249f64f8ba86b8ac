"""Vote patterns: the distinct rows of a label matrix with their counts.

Label models that assume LFs are conditionally independent given the class
only need each distinct row once, weighted by how often it occurs, so their
cost grows with the number of distinct rows instead of the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeling.matrix import ABSTAIN

__all__ = ["VotePatterns", "unique_patterns", "SparseVotes", "sparse_votes"]


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


def _row_hashes(L: np.ndarray) -> np.ndarray:
    # A fixed odd multiplier per column makes a 64-bit polynomial hash; the
    # caller checks for collisions, so the seed only affects speed, never results.
    coef = np.random.default_rng(0x5EED).integers(1, 2**62, size=L.shape[1], dtype=np.int64) | 1
    h = np.zeros(L.shape[0], dtype=np.int64)
    with np.errstate(over="ignore"):
        for j in range(L.shape[1]):
            h += (L[:, j].astype(np.int64) + 2) * coef[j]
    return h


def unique_patterns(L: np.ndarray) -> VotePatterns:
    """Group identical rows of ``L``.

    Hashes rows to 64-bit integers and sorts the hashes (much faster than a
    row-wise lexicographic sort); if two different rows ever share a hash it
    falls back to an exact ``np.unique(axis=0)``.

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
    h = _row_hashes(L)
    _, first, inverse, counts = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
    patterns = L[first]
    if not np.array_equal(patterns[inverse], L):  # hash collision: exact but slower path
        patterns, inverse, counts = np.unique(L, axis=0, return_inverse=True, return_counts=True)
    # Order patterns by first occurrence so results do not depend on hash values.
    first_seen = np.full(len(patterns), L.shape[0], dtype=np.int64)
    np.minimum.at(first_seen, inverse.ravel(), np.arange(L.shape[0]))
    order = np.argsort(first_seen, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return VotePatterns(patterns[order], counts[order].astype(np.int64), rank[inverse.ravel()].astype(np.int64))


@dataclass
class SparseVotes:
    """The non-abstain votes of a matrix, grouped into (row, class) cells.

    A row's score for class ``c`` only changes where some LF voted ``c``, so
    models that work on these cells cost O(votes) per pass, whatever the
    number of classes.

    Attributes
    ----------
    n_rows, cardinality : int
    vote_row, vote_lf, vote_class : ndarray of int64, shape (n_votes,)
        One entry per non-abstain vote.
    vote_cell : ndarray of int64, shape (n_votes,)
        The (row, class) cell each vote falls into.
    cell_row, cell_class : ndarray of int64, shape (n_cells,)
        Row and class of each cell, sorted by row.
    row_start : ndarray of int64, shape (n_rows + 1,)
        Cells of row ``i`` are ``row_start[i]:row_start[i + 1]``.
    """

    n_rows: int
    cardinality: int
    vote_row: np.ndarray
    vote_lf: np.ndarray
    vote_class: np.ndarray
    vote_cell: np.ndarray
    cell_row: np.ndarray
    cell_class: np.ndarray
    row_start: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.cell_row)


def sparse_votes(L: np.ndarray, cardinality: int) -> SparseVotes:
    """Index the non-abstain votes of ``L`` by (row, class) cell."""
    rows, lfs = np.nonzero(L != ABSTAIN)
    cls = L[rows, lfs].astype(np.int64)
    rows = rows.astype(np.int64)
    key = rows * cardinality + cls
    # Votes come out of nonzero() sorted by row, so a stable (timsort) argsort
    # of the keys is close to linear.
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    new_cell = np.empty(len(key), dtype=bool)
    new_cell[:1] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new_cell[1:])
    cell_key = sorted_key[new_cell]
    vote_cell = np.empty(len(key), dtype=np.int64)
    vote_cell[order] = np.cumsum(new_cell) - 1
    cell_row = cell_key // cardinality
    row_start = np.searchsorted(cell_row, np.arange(L.shape[0] + 1))
    return SparseVotes(
        n_rows=int(L.shape[0]),
        cardinality=int(cardinality),
        vote_row=rows,
        vote_lf=lfs.astype(np.int64),
        vote_class=cls,
        vote_cell=vote_cell.ravel().astype(np.int64),
        cell_row=cell_row,
        cell_class=cell_key % cardinality,
        row_start=row_start.astype(np.int64),
    )
