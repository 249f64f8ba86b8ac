"""Query strategies: which rows a human should label next.

Every strategy maps the label model's class probabilities ``probs`` (n x k) and the
votes ``L`` (n x m) to the indices of ``n_select`` rows, never choosing a row in
``exclude`` (already reviewed or queued). Ties are broken at random through
``random_state`` so equal scores do not always favour the first rows.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from labeling.core.matrix import ABSTAIN, covered_rows

__all__ = [
    "STRATEGIES",
    "get_strategy",
    "select",
    "least_confidence_scores",
    "margin_scores",
    "entropy_scores",
    "lf_disagreement_scores",
    "uncovered_scores",
    "lf_audit_scores",
    "k_center_greedy",
]


def least_confidence_scores(probs: np.ndarray, L: np.ndarray | None = None) -> np.ndarray:
    """``1 - max_c p(c)``: high when the model's best guess is weak."""
    return 1.0 - probs.max(axis=1)


def margin_scores(probs: np.ndarray, L: np.ndarray | None = None) -> np.ndarray:
    """Minus the gap between the two most probable classes (high = nearly tied)."""
    top2 = np.sort(probs, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


def entropy_scores(probs: np.ndarray, L: np.ndarray | None = None) -> np.ndarray:
    """Shannon entropy of the class probabilities (nats)."""
    p = np.clip(probs, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def lf_disagreement_scores(probs: np.ndarray | None, L: np.ndarray) -> np.ndarray:
    """Vote entropy among the LFs that fired (0 when they agree or none fired)."""
    L = np.asarray(L)
    n = L.shape[0]
    k = int(max(L.max(initial=0) + 1, 2 if probs is None else probs.shape[1]))
    rows, cols = np.nonzero(L != ABSTAIN)
    counts = np.bincount(rows * k + L[rows, cols].astype(np.int64), minlength=n * k).reshape(n, k).astype(float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(share > 0, share * np.log(share), 0.0).sum(axis=1)
    return ent


def uncovered_scores(probs: np.ndarray | None, L: np.ndarray) -> np.ndarray:
    """1 for rows where no LF fired, else a small entropy-based score so covered rows follow."""
    covered = covered_rows(L)
    rest = entropy_scores(probs) / np.log(max(probs.shape[1], 2)) * 0.5 if probs is not None else 0.0
    return np.where(covered, rest, 1.0)


def lf_audit_scores(probs: np.ndarray | None, L: np.ndarray, taken: np.ndarray | None = None) -> np.ndarray:
    """What a review would teach about the LF precisions that matter most.

    Each LF that fired on the row adds its coverage divided by ``(1 + r)**2``,
    where ``r`` is how many ``taken`` (reviewed or queued) rows it fired on: a
    broad LF with few reviewed votes is the one whose precision is both the
    most uncertain and the most consequential. Unlike uncertainty scores, the
    choice depends on which LFs fired and not on whether they agree, so the
    reviewed rows measure each LF's precision without favouring its mistakes
    (see ``LabelModel(review_strength=...)``).
    """
    fired = np.asarray(L) != ABSTAIN
    reviewed = fired[np.asarray(taken, dtype=bool)].sum(axis=0) if taken is not None else 0
    return fired @ _audit_weight(fired.mean(axis=0), reviewed)


def _audit_weight(coverage: np.ndarray, reviewed: Any) -> np.ndarray:
    return coverage / (1.0 + reviewed) ** 2


def _lf_audit_batch(L: np.ndarray, taken: np.ndarray, candidates: np.ndarray, n_select: int, rng: Any) -> np.ndarray:
    """Greedy batch: after each pick its LFs count as reviewed, so one batch spreads over the LFs."""
    fired = L != ABSTAIN
    coverage = fired.mean(axis=0)
    reviewed = fired[np.asarray(taken, dtype=bool)].sum(axis=0)
    allowed = np.zeros(len(L), dtype=bool)
    allowed[candidates] = True
    picked: list[int] = []
    jitter = rng.random(len(L)) * 1e-9
    for _ in range(min(n_select, candidates.size)):
        scores = np.where(allowed, fired @ _audit_weight(coverage, reviewed) + jitter, -np.inf)
        best = int(np.argmax(scores))
        picked.append(best)
        allowed[best] = False
        reviewed += fired[best]
    return np.asarray(picked, dtype=int)


def _random_scores(probs: np.ndarray | None, L: np.ndarray) -> np.ndarray:
    return np.zeros(np.asarray(L).shape[0])


_SCORERS: dict[str, Callable[..., np.ndarray]] = {
    "random": _random_scores,
    "least_confidence": least_confidence_scores,
    "margin": margin_scores,
    "entropy": entropy_scores,
    "lf_disagreement": lf_disagreement_scores,
    "uncovered": uncovered_scores,
    "lf_audit": lf_audit_scores,
}

#: Strategy names accepted by :func:`select`; ``"diverse:<base>"`` picks a
#: batch of high-``base`` rows that are far apart in feature space, ``"typical"``
#: the most typical row of each of the largest clusters no review covers yet.
STRATEGIES = tuple(_SCORERS) + tuple(f"diverse:{name}" for name in _SCORERS if name != "random") + ("typical",)


#: Strategies whose picks do not depend on the model: their reviews are a fair
#: sample for judging the final classifier (see ``FinalClassifier``).
REPRESENTATIVE_STRATEGIES = ("random", "typical")

#: Least share of the candidate rows that a tie of lowest scores must hold for a pick
#: drawn from it at random to count as representative (see :func:`select`).
TIE_SHARE = 0.9


def get_strategy(name: str) -> tuple[Callable[..., np.ndarray], bool]:
    """The score function of ``name`` and whether it needs row vectors (``features``)."""
    if name == "typical":
        return _random_scores, True
    diverse = name.startswith("diverse:")
    base = name.split(":", 1)[1] if diverse else name
    if base not in _SCORERS or (diverse and base == "random"):
        raise ValueError(f"strategy={name!r} is not one of {list(STRATEGIES)}.")
    return _SCORERS[base], diverse


def k_center_greedy(
    X: Any, candidates: np.ndarray, n_select: int, *, first: int | None = None, chosen: np.ndarray | None = None
) -> np.ndarray:
    """Greedy k-center on rows ``X[candidates]`` (cosine distance of L2-normalised vectors).

    Starts from ``first`` (a candidate index) or from the points farthest from
    ``chosen``, and repeatedly adds the candidate farthest from everything picked.
    """
    from sklearn.preprocessing import normalize

    Xc = normalize(X[candidates])
    dense = not hasattr(Xc, "toarray")
    picked: list[int] = []
    min_dist = np.full(len(candidates), np.inf)

    def dist_to(i: int) -> np.ndarray:
        v = Xc[i]
        sims = Xc @ (v.T if dense else v.T)
        sims = np.asarray(sims.toarray() if hasattr(sims, "toarray") else sims).ravel()
        return 1.0 - sims

    if chosen is not None and len(chosen):
        Xs = normalize(X[chosen])
        sims = Xc @ Xs.T
        sims = np.asarray(sims.toarray() if hasattr(sims, "toarray") else sims)
        min_dist = 1.0 - sims.max(axis=1)
    start = int(first) if first is not None else int(np.argmax(min_dist)) if np.isfinite(min_dist).any() else 0
    picked.append(start)
    min_dist = np.minimum(min_dist, dist_to(start))
    while len(picked) < min(n_select, len(candidates)):
        min_dist[picked] = -np.inf
        nxt = int(np.argmax(min_dist))
        picked.append(nxt)
        min_dist = np.minimum(min_dist, dist_to(nxt))
    return candidates[np.asarray(picked, dtype=int)]


def typical_batch(
    X: Any, taken: np.ndarray, candidates: np.ndarray, n_select: int, *, neighbours: int = 20,
    max_clusters: int = 500, random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """The most typical row of each of the ``n_select`` largest clusters that hold no taken row.

    The rows are split into ``taken + n_select`` clusters (at most
    ``max_clusters``) by k-means on the L2-normalised vectors. Clusters holding
    the fewest taken (reviewed or queued) rows come first, the largest first
    among them, and from each the candidate with the densest neighbourhood
    (smallest mean cosine distance to its ``neighbours`` nearest rows of the
    cluster) is picked, one per cluster per round. This is TypiClust (Hacohen
    et al., ICML 2022): with a few dozen labels, reviews of typical rows of
    every region teach a classifier more than uncertain or random ones, which
    cluster on the rows the LFs fight over or miss small regions.

    Parameters
    ----------
    X : array or sparse matrix of shape (n, d)
        Row vectors (sentence embeddings work best).
    taken : ndarray of bool, shape (n,)
        Rows already reviewed or queued.
    candidates : ndarray of int
        Rows that may be picked.
    n_select : int
        Batch size.
    neighbours : int
        Neighbourhood size of the typicality score.
    max_clusters : int
        Most clusters k-means fits (its cost grows with them); past it, the
        clusters with the fewest reviews get the next ones.
    random_state : int or Generator, optional
        Seed of k-means and of ties.

    Returns
    -------
    ndarray of int
        Up to ``n_select`` rows, in the order picked.
    """
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(random_state)
    Xn = normalize(X)
    n = Xn.shape[0]
    n_clusters = int(max(1, min(n, int(np.count_nonzero(taken)) + n_select, max_clusters)))
    km = KMeans(n_clusters=n_clusters, n_init=1, random_state=int(rng.integers(2**31 - 1))).fit(Xn)
    cluster = km.labels_
    reviews = np.bincount(cluster[taken], minlength=n_clusters)
    sizes = np.bincount(cluster, minlength=n_clusters)
    tie = rng.random(n_clusters)
    free = np.zeros(n, dtype=bool)
    free[candidates] = True
    ranked: dict[int, list[int]] = {}  # per cluster: its free candidates, most typical first
    picked: list[int] = []
    while len(picked) < n_select:
        open_ = np.flatnonzero(np.bincount(cluster[free], minlength=n_clusters) > 0)
        if open_.size == 0:
            break
        c = int(open_[np.lexsort((tie[open_], -sizes[open_], reviews[open_]))[0]])
        if c not in ranked:
            members = np.flatnonzero(cluster == c)
            rows = members[free[members]]
            ranked[c] = rows[np.argsort(-_typicality(Xn, members, rows, neighbours), kind="stable")].tolist()
        row = next(r for r in ranked[c] if free[r])
        picked.append(row)
        free[row] = False
        reviews[c] += 1
    return np.asarray(picked, dtype=int)


def _typicality(Xn: Any, members: np.ndarray, rows: np.ndarray, neighbours: int) -> np.ndarray:
    """1 / mean cosine distance from each of ``rows`` to its nearest ``members`` (itself excluded)."""
    from sklearn.neighbors import NearestNeighbors

    kk = min(neighbours, members.size - 1)
    if kk < 1:
        return np.ones(rows.size)
    # A nearest-neighbour search, which scikit-learn runs in memory-bounded chunks: the first batches
    # split the data into a few large clusters, whose full (rows x members) similarity matrix would not fit.
    index = NearestNeighbors(n_neighbors=kk + 1, metric="cosine", algorithm="brute").fit(Xn[members])
    dist, _ = index.kneighbors(Xn[rows])
    return 1.0 / (np.mean(dist[:, 1:], axis=1) + 1e-9)  # column 0 is the row itself


def select(
    probs: np.ndarray,
    L: Any,
    n_select: int,
    *,
    strategy: str = "entropy",
    exclude: Any = None,
    features: Any = None,
    pool_factor: int = 5,
    random_state: int | np.random.Generator | None = None,
    return_representative: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n_select`` rows to review next, best first.

    Parameters
    ----------
    probs : ndarray of shape (n, k)
        Label-model class probabilities.
    L : array-like of shape (n, m)
        LF votes (-1 = abstain).
    n_select : int
        Batch size.
    strategy : str
        One of :data:`STRATEGIES`.
    exclude : array-like of int or bool mask, optional
        Rows that may not be chosen (already reviewed or queued).
    features : array or sparse matrix of shape (n, d), optional
        Row vectors (e.g. TF-IDF) for ``diverse:*`` strategies.
    pool_factor : int
        ``diverse:*`` picks from the ``pool_factor * n_select`` best-scored rows.
    random_state : int or Generator, optional
        Seed for tie-breaking and the random baseline.
    return_representative : bool
        Also return which picks were made without looking at the model: every
        pick of a :data:`REPRESENTATIVE_STRATEGIES` strategy, and a pick drawn
        at random from a tie of lowest scores that holds at least
        :data:`TIE_SHARE` of the candidates. ``lf_disagreement`` on data whose
        LFs rarely conflict runs out of conflicts quickly and then draws from
        all other rows at random; those reviews are a fair sample of nearly all
        the data and can judge the final classifier's experts
        (``FinalClassifier``).

    Returns
    -------
    ndarray of int
        The picks; with ``return_representative`` also a bool array of the same
        length.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4]])
    >>> select(probs, -np.ones((3, 1), int), 2, strategy="margin", random_state=0).tolist()
    [1, 2]
    """
    score_fn, diverse = get_strategy(strategy)
    L = np.asarray(L)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or probs.shape[0] != L.shape[0]:
        raise ValueError(f"probs has shape {probs.shape}; expected ({L.shape[0]}, k) to match L {L.shape}.")
    if n_select < 1:
        raise ValueError(f"n_select={n_select}; expected a positive batch size.")
    rng = np.random.default_rng(random_state)
    allowed = np.ones(L.shape[0], dtype=bool)
    if exclude is not None:
        ex = np.asarray(exclude)
        if ex.dtype == bool:
            allowed &= ~ex
        elif ex.size:
            allowed[ex.astype(int)] = False
    candidates = np.flatnonzero(allowed)
    picks, fair = _select(probs, L, n_select, strategy, score_fn, diverse, allowed, candidates, features,
                          pool_factor, rng)
    return (picks, fair) if return_representative else picks


def _select(
    probs: np.ndarray, L: np.ndarray, n_select: int, strategy: str, score_fn: Callable[..., np.ndarray],
    diverse: bool, allowed: np.ndarray, candidates: np.ndarray, features: Any, pool_factor: int, rng: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`select`'s picks and which of them were made without looking at the model."""
    if candidates.size == 0:
        return candidates, np.zeros(0, dtype=bool)
    if strategy == "typical":
        if features is None:
            raise ValueError("strategy='typical' needs `features` (row vectors, e.g. sentence embeddings) to cluster.")
        picks = typical_batch(features, ~allowed, candidates, n_select, random_state=rng)
        return picks, np.ones(len(picks), dtype=bool)
    if score_fn is lf_audit_scores:
        if not diverse:
            picks = _lf_audit_batch(L, ~allowed, candidates, n_select, rng)
            return picks, np.zeros(len(picks), dtype=bool)
        scores = lf_audit_scores(probs, L, ~allowed)[candidates]
    else:
        scores = score_fn(probs, L)[candidates]
    # Jitter far below any real score gap breaks ties at random.
    order = np.lexsort((rng.random(candidates.size), -scores))
    ranked = candidates[order]
    if not diverse:
        picks = ranked[:n_select]
        if strategy in REPRESENTATIVE_STRATEGIES:
            return picks, np.ones(len(picks), dtype=bool)
        # Rows drawn at random from a tie that holds nearly every candidate are a random sample of nearly
        # all the data, whatever the strategy; k-center (diverse) picks from a tie are spread, not random.
        low = scores <= scores.min() + 1e-12
        fair = np.zeros(len(picks), dtype=bool)
        if low.sum() >= TIE_SHARE * candidates.size:
            fair = np.isin(picks, candidates[low])
        return picks, fair
    if features is None:
        raise ValueError(f"strategy={strategy!r} needs `features` (row vectors, e.g. TF-IDF) to spread the batch.")
    pool = ranked[: max(n_select * pool_factor, n_select)]
    picks = k_center_greedy(features, pool, n_select, first=0)
    return picks, np.zeros(len(picks), dtype=bool)
