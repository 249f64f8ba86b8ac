"""Groups of LFs that must not count as independent evidence: declared ones and near-duplicate votes."""

from __future__ import annotations

from typing import Any, Hashable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from labeling.core.matrix import ABSTAIN

__all__ = ["vote_jaccard", "find_lf_groups", "group_vote_weights", "NEAR_DUPLICATE"]

#: Two LFs are near-duplicates when their (row, vote) sets overlap at least this much (Jaccard index): one
#: LF's votes are then mostly the other's, so the second adds little evidence of its own.
NEAR_DUPLICATE = 0.6


def vote_jaccard(P: np.ndarray, counts: np.ndarray, cardinality: int) -> np.ndarray:
    """Jaccard index of every pair of LFs' (row, vote) sets, shape (n_lfs, n_lfs).

    ``P`` holds distinct vote patterns over ``cardinality`` classes and ``counts`` how many rows hold each.
    Two LFs share a row only when they cast the same vote on it; abstentions are not votes.
    """
    u, m = P.shape
    inter = np.zeros((m, m))
    for v in range(cardinality):
        rows, cols = np.nonzero(P == v)
        if not len(rows):
            continue
        X = sp.csr_matrix((counts[rows], (rows, cols)), shape=(u, m))
        B = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(u, m))
        inter += (X.T @ B).toarray()
    size = np.diag(inter).copy()
    union = size[:, None] + size[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-300), 0.0)


def find_lf_groups(
    P: np.ndarray,
    counts: np.ndarray,
    cardinality: int,
    *,
    declared: Sequence[Hashable | None] | None = None,
    threshold: float = NEAR_DUPLICATE,
) -> np.ndarray:
    """Group id per LF: LFs linked by declared groups or near-duplicate votes share one (connected components).

    Parameters
    ----------
    P : ndarray of int, shape (n_patterns, n_lfs)
        Distinct vote patterns.
    counts : ndarray, shape (n_patterns,)
        Rows holding each pattern.
    cardinality : int
        Number of classes.
    declared : sequence of hashable or None, optional
        One value per LF; LFs sharing a value (other than None) are one group.
    threshold : float
        Least Jaccard index of two LFs' (row, vote) sets that makes them near-duplicates.

    Returns
    -------
    ndarray of int, shape (n_lfs,)
        Group ids ``0..n_groups-1``, numbered in order of each group's first LF.
    """
    m = P.shape[1]
    links = vote_jaccard(P, counts, cardinality) >= threshold
    if declared is not None:
        values = list(declared)
        if len(values) != m:
            raise ValueError(f"lf_groups has {len(values)} entries; expected one per LF column ({m}).")
        for i, a in enumerate(values):
            if a is None:
                continue
            for j in range(i + 1, m):
                if values[j] is not None and values[j] == a:
                    links[i, j] = links[j, i] = True
    _, labels = connected_components(sp.csr_matrix(links), directed=False)
    # Renumber by first appearance so the ids do not depend on the component search order.
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[labels].astype(np.int64)


def group_vote_weights(P: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Weight of each cell's vote, shape like ``P``: 1 / (votes its group casts in that row), 0 where abstaining.

    With these weights a group of LFs adds, in each row, the mean of its members' evidence: copies of one LF
    count once, and a member voting alone counts fully.
    """
    voted = P != ABSTAIN
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    if n_groups == len(groups):
        return voted.astype(float)
    per_group = np.zeros((P.shape[0], n_groups))
    for j, g in enumerate(groups):
        per_group[:, g] += voted[:, j]
    w = np.where(voted, 1.0 / np.maximum(per_group[:, groups], 1.0), 0.0)
    return w


def check_lf_groups(lf_groups: Any, n_lfs: int) -> list | None:
    """``lf_groups`` as a list with one hashable per LF column (or None), with a clear error otherwise."""
    if lf_groups is None:
        return None
    values = list(lf_groups)
    if len(values) != n_lfs:
        raise ValueError(f"lf_groups has {len(values)} entries; expected one per LF column ({n_lfs}), "
                         "e.g. the name of the LLM behind each prompt LF, or None for an LF in no group.")
    for j, v in enumerate(values):
        try:
            hash(v)
        except TypeError:
            raise TypeError(f"lf_groups[{j}] is {v!r}, which is not hashable; use a str or int group name.") from None
    return values
