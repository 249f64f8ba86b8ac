"""Exact duplicates by a hash of the normalised text; near-duplicates by MinHash LSH or by meaning.

Near-duplicate candidates come from locality-sensitive hashing of MinHash signatures (a
:class:`~labeling.dataset.minhash.MinHashIndex`, which a pipeline shares between its passes) and are then
confirmed with the exact Jaccard similarity of the two texts' shingle sets, so a reported pair is
always at least ``threshold`` similar; LSH may miss a few pairs close to the threshold.

Semantic near-duplicates (:func:`semantic_duplicate_pairs`) are texts whose sentence embeddings
are close: paraphrases and reworded copies that share few character shingles.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ._progress import progress_bar
from ._result import StepResult, check_text_column, removed_frame
from .clean import normalize_text
from .minhash import _UNITS, MinHashIndex, jaccard, shingles

__all__ = [
    "text_hash",
    "shingles",
    "jaccard",
    "near_duplicate_pairs",
    "semantic_duplicate_pairs",
    "near_duplicate_groups",
    "drop_exact_duplicates",
    "drop_near_duplicates",
]

def text_hash(text: str) -> str:
    """SHA-1 of the normalised, lower-cased text: equal for texts that differ only in case, markup or spacing.

    Examples
    --------
    >>> text_hash("Nice  SONG") == text_hash("nice song")
    True
    """
    return hashlib.sha1(normalize_text(text, lowercase=True).encode("utf-8")).hexdigest()


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold={threshold!r} must be in (0, 1].")


def near_duplicate_pairs(
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    num_perm: int = 128,
    k: int = 5,
    unit: str = "char",
    random_state: int = 0,
    index: "MinHashIndex | None" = None,
    ids: Sequence | None = None,
    progress: bool = False,
) -> list[tuple[int, int, float]]:
    """Pairs of positions ``(i, j, similarity)`` with ``i < j`` whose Jaccard similarity is >= ``threshold``.

    Parameters
    ----------
    texts : sequence of str
        The texts.
    threshold : float
        Minimum Jaccard similarity of the shingle sets, in (0, 1].
    num_perm : int
        MinHash signature length: more is slower and misses fewer pairs.
    k, unit
        Shingles: ``k``-grams of characters (default) or words.
    random_state : int
        Seed of the MinHash hash functions.
    index : MinHashIndex, optional
        A shared index (its ``num_perm``, ``k``, ``unit`` and seed are used): signatures it already holds
        for these ``ids`` are reused, so near-dedup, split grouping and the leakage check sign each row once.
    ids : sequence, optional
        Row ids of ``texts`` for ``index`` (default: positions).
    progress : bool
        Progress bars (a new index only).

    Returns
    -------
    list of (int, int, float)
        Sorted by ``(i, j)``.
    """
    _check_threshold(threshold)
    if index is None:
        index = MinHashIndex(num_perm=num_perm, k=k, unit=unit, random_state=random_state, progress=progress)
    texts = [str(t) for t in texts]
    if len(texts) < 2:
        return []
    return index.pairs(list(range(len(texts))) if ids is None else list(ids), texts, threshold=threshold)


def semantic_duplicate_pairs(
    texts: Sequence[str], encoder: Any, *, threshold: float = 0.95, block: int = 1024, progress: bool = False
) -> list[tuple[int, int, float]]:
    """Pairs of positions ``(i, j, cosine)`` with ``i < j`` whose sentence embeddings are at least ``threshold`` alike.

    Catches what shingles cannot: "subscribe to my channel please" and "please subscribe to my
    channel" share few 5-character shingles but mean the same. Every pair is compared exactly
    (blocks of ``block`` rows against the rest), so the cost grows with the square of the rows:
    about a minute for 50,000 texts on two cores, on top of encoding them.

    Parameters
    ----------
    texts : sequence of str
        The texts.
    encoder : object with ``fit_transform(texts)``
        A sentence encoder (:class:`sources.TextEncoder`); its vectors are L2-normalised here.
    threshold : float
        Minimum cosine similarity, in (0, 1].
    block : int
        Rows compared at once (memory: ``block x n`` floats).
    progress : bool
        A progress bar over the blocks.

    Returns
    -------
    list of (int, int, float)
        Sorted by ``(i, j)``.
    """
    _check_threshold(threshold)
    texts = [str(t) for t in texts]
    if len(texts) < 2:
        return []
    emb = np.asarray(encoder.fit_transform(texts), dtype=np.float32)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    n = len(texts)
    pairs: list[tuple[int, int, float]] = []
    with progress_bar(total=n, desc="semantic duplicates", enabled=progress) as bar:
        for start in range(0, n, block):
            stop = min(start + block, n)
            sims = emb[start:stop] @ emb[start:].T  # this block against itself and every later row
            rows, cols = np.nonzero(sims >= threshold)
            for r, c in zip(rows.tolist(), cols.tolist()):
                i, j = start + r, start + c
                if j > i:
                    pairs.append((i, j, min(float(sims[r, c]), 1.0)))
            bar.update(stop - start)
    return sorted(pairs)


def near_duplicate_groups(texts: Sequence[str], **kwargs) -> np.ndarray:
    """A group id per text: texts linked by a chain of near-duplicate pairs share one group.

    The group id is the position of the group's first text, so singletons have their own position.
    Keyword arguments go to :func:`near_duplicate_pairs`.

    Examples
    --------
    >>> near_duplicate_groups(["check out my channel!!", "check out my channel!", "nice song"]).tolist()
    [0, 0, 2]
    """
    pairs = near_duplicate_pairs(texts, **kwargs)
    return components(len(texts), [(i, j) for i, j, _ in pairs])


def components(n: int, edges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Connected components of ``n`` nodes: each node's id is the smallest position in its component."""
    if not len(edges):
        return np.arange(n, dtype=np.int64)
    e = np.asarray(edges, dtype=np.int64)
    graph = coo_matrix((np.ones(len(e), dtype=np.int8), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


def drop_exact_duplicates(df: pd.DataFrame, *, text_column: str = "text", progress: bool = False) -> StepResult:
    """Drop rows whose normalised text equals that of an earlier row.

    ``progress``: a progress bar over the rows hashed (shown from 50,000 rows, on a terminal or notebook).

    Returns
    -------
    StepResult
        ``removed`` has ``duplicate_of`` (id of the kept row); ``counts == {"exact_duplicate": n}``.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["Nice song", "nice  SONG", "bad"]}, index=["a", "b", "c"])
    >>> res = drop_exact_duplicates(df)
    >>> res.data.index.tolist(), res.removed["duplicate_of"].tolist()
    (['a', 'c'], ['a'])
    """
    check_text_column(df, text_column, "drop_exact_duplicates")
    texts = df[text_column].astype(str)
    keys = pd.Series([text_hash(t) for t in progress_bar(texts, desc="exact duplicates", enabled=progress,
                                                         min_total=50_000)], index=texts.index, dtype=object)
    dup = keys.duplicated(keep="first").to_numpy()
    first_id = pd.Series(df.index, index=keys.to_numpy()).groupby(level=0).first()
    removed = removed_frame(df, dup, "exact_duplicate", duplicate_of=first_id.loc[keys[dup].to_numpy()].to_numpy())
    return StepResult(df.loc[~dup], removed, {"exact_duplicate": int(dup.sum())})


def drop_near_duplicates(
    df: pd.DataFrame,
    *,
    text_column: str = "text",
    threshold: float = 0.8,
    num_perm: int = 128,
    k: int = 5,
    unit: str = "char",
    random_state: int = 0,
    index: MinHashIndex | None = None,
    encoder: Any = None,
    progress: bool = False,
) -> StepResult:
    """Drop rows that are near-duplicates of an earlier kept row.

    Rows are visited in order; a row is dropped when it is at least ``threshold`` similar to a row
    already kept, so every dropped row names a kept row it really resembles (no chaining).

    Similarity is the Jaccard similarity of character shingles (MinHash LSH, confirmed exactly;
    ``num_perm``, ``k``, ``unit``, ``random_state`` and a shared ``index`` keyed by the row ids are
    as in :func:`near_duplicate_pairs`), or, with an ``encoder``, the cosine similarity of sentence
    embeddings (:func:`semantic_duplicate_pairs`), which also catches reworded copies; use a higher
    ``threshold`` there, such as 0.95.

    Returns
    -------
    StepResult
        ``removed`` has ``duplicate_of`` and ``similarity``; ``counts == {"near_duplicate": n}``.
    """
    check_text_column(df, text_column, "drop_near_duplicates")
    texts = df[text_column].astype(str).tolist()
    if encoder is not None:
        pairs = semantic_duplicate_pairs(texts, encoder, threshold=threshold, progress=progress)
    else:
        pairs = near_duplicate_pairs(
            texts, threshold=threshold, num_perm=num_perm, k=k, unit=unit, random_state=random_state,
            index=index, ids=None if index is None else list(df.index), progress=progress,
        )
    by_later: dict[int, list[tuple[int, float]]] = {}
    for i, j, sim in pairs:
        by_later.setdefault(j, []).append((i, sim))
    dropped: dict[int, tuple[int, float]] = {}
    for j in sorted(by_later):
        kept_matches = [(i, sim) for i, sim in by_later[j] if i not in dropped]
        if kept_matches:
            dropped[j] = max(kept_matches, key=lambda m: (m[1], -m[0]))
    mask = np.zeros(len(df), dtype=bool)
    mask[list(dropped)] = True
    order = sorted(dropped)
    removed = removed_frame(
        df, mask, "near_duplicate",
        duplicate_of=[df.index[dropped[j][0]] for j in order],
        similarity=[round(dropped[j][1], 4) for j in order],
    )
    return StepResult(df.loc[~mask], removed, {"near_duplicate": int(mask.sum())})
