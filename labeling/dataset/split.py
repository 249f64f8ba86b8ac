"""Stratified, group-aware train / valid / test splits, and a check for near-duplicates across splits."""

from __future__ import annotations

import logging
import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ._progress import progress_bar
from ._result import check_text_column
from .dedup import _check_threshold, components, near_duplicate_groups
from .minhash import MinHashIndex

__all__ = ["assign_splits", "split_dataset", "leakage_report", "DEFAULT_FRACTIONS"]

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "valid": 0.1, "test": 0.1}
logger = logging.getLogger("votewise.build")


class SplitBalanceWarning(UserWarning):
    """Grouping left a split far from its fraction (one group holds too many rows)."""


def _check_fractions(fractions: Mapping[str, float]) -> dict[str, float]:
    fractions = dict(fractions)
    if not fractions:
        raise ValueError("fractions is empty; give e.g. {'train': 0.8, 'valid': 0.1, 'test': 0.1}.")
    bad = {k: v for k, v in fractions.items() if not isinstance(v, (int, float)) or v < 0}
    if bad:
        raise ValueError(f"fractions {bad} must be numbers >= 0.")
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"fractions {fractions} add up to {total:g}; they must add up to 1.")
    return fractions


def _groups(df: pd.DataFrame, groups: Any, text_column: str, near_duplicate_threshold: float | None) -> np.ndarray:
    n = len(df)
    if groups is None:
        codes = np.arange(n)
    elif isinstance(groups, str):
        if groups not in df.columns:
            raise KeyError(f"groups={groups!r} is not a column; the columns are {list(map(str, df.columns))}.")
        codes = pd.factorize(df[groups].astype(str))[0]
    else:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} rows.")
        codes = pd.factorize(pd.Series(groups).astype(str))[0]
    if near_duplicate_threshold is not None:
        check_text_column(df, text_column, "assign_splits")
        near = near_duplicate_groups(df[text_column].astype(str).tolist(), threshold=near_duplicate_threshold)
        codes = _merge(codes, near)
    return codes


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of two groupings: rows sharing a group in either end up together."""
    n = len(a)
    edges = []
    for codes in (a, b):
        codes = pd.factorize(pd.Series(codes))[0]
        first = np.full(codes.max() + 1 if n else 0, n, dtype=np.int64)
        np.minimum.at(first, codes, np.arange(n))
        rows = np.flatnonzero(first[codes] != np.arange(n))
        edges.append(np.stack([rows, first[codes][rows]], axis=1))
    return components(n, np.concatenate(edges) if n else [])


def assign_splits(
    df: pd.DataFrame,
    *,
    fractions: Mapping[str, float] = DEFAULT_FRACTIONS,
    label_column: str | None = "label",
    groups: Any = None,
    near_duplicate_threshold: float | None = None,
    text_column: str = "text",
    random_state: int = 0,
    max_deviation: float | None = 0.25,
    near_groups: np.ndarray | None = None,
    index: "MinHashIndex | None" = None,
    progress: bool = False,
) -> pd.Series:
    """Give each row a split name, stratified by label and never separating a group.

    Groups are placed whole, largest first and otherwise in seeded random order, each into the
    split whose per-class quota is furthest from met; with singleton groups this is an ordinary
    stratified split.

    Parameters
    ----------
    df : DataFrame
        Rows indexed by id.
    fractions : mapping of str to float
        Split name -> share of rows (must add up to 1).
    label_column : str or None
        Column to stratify on (``-1``/missing labels form their own stratum); ``None``: no stratification.
    groups : str, array-like or None
        A column name or one value per row; rows with the same value land in the same split
        (e.g. ``"source_id"`` for augmented rows).
    near_duplicate_threshold : float, optional
        Also keep near-duplicates (Jaccard >= threshold, see :func:`near_duplicate_groups`) together.
    random_state : int
        Seed.
    max_deviation : float or None
        A split more than this share away from its target size (e.g. 0.25: a 10% split with under 7.5% or
        over 12.5% of the rows; splits of under 20 rows are not checked) means grouping chained too many
        rows together. Then a :class:`SplitBalanceWarning` is issued and, if near-duplicate grouping was on,
        the split is redone with ``groups`` only (the leakage check still reports near-duplicates across
        splits). ``None``: no check.
    near_groups : ndarray, optional
        Near-duplicate group ids computed already (one per row, as :func:`near_duplicate_groups` returns),
        used instead of computing them from ``near_duplicate_threshold``.
    index : MinHashIndex, optional
        A shared MinHash index keyed by row id (see :func:`near_duplicate_pairs`).
    progress : bool
        A progress bar over the groups placed (shown from 200,000 groups, on a terminal or notebook).

    Returns
    -------
    Series of str
        Split name per row, indexed like ``df``.

    Examples
    --------
    >>> df = pd.DataFrame({"text": list("abcdefghij"), "label": [0, 1] * 5})
    >>> assign_splits(df, fractions={"train": 0.6, "test": 0.4}).value_counts().to_dict()
    {'train': 6, 'test': 4}
    """
    fractions = _check_fractions(fractions)
    names = list(fractions)
    n = len(df)
    if label_column is None:
        strata = np.zeros(n, dtype=np.int64)
    else:
        if label_column not in df.columns:
            raise KeyError(
                f"label_column={label_column!r} is not a column; the columns are {list(map(str, df.columns))}. "
                "Pass label_column=None to split without stratifying."
            )
        strata = pd.factorize(df[label_column].fillna(-1).astype(str))[0]
    if near_groups is not None and len(near_groups) != n:
        raise ValueError(f"near_groups has {len(near_groups)} entries for {n} rows.")
    base = _groups(df, groups, text_column, None)
    use_near = near_groups is not None or near_duplicate_threshold is not None
    codes = base
    if use_near:
        if near_groups is None:
            check_text_column(df, text_column, "assign_splits")
            near_groups = near_duplicate_groups(df[text_column].astype(str).tolist(), threshold=near_duplicate_threshold,
                                                random_state=random_state, index=index,
                                                ids=None if index is None else list(df.index))
        codes = _merge(base, np.asarray(near_groups))
    where = _place(codes, strata, fractions, random_state, progress)
    names_arr = np.array(names, dtype=object)
    far = _far_splits(where, fractions, max_deviation)
    if far and use_near:
        warnings.warn(
            f"near-duplicate grouping left split(s) {_describe(far)} far from their fractions (the largest group has "
            f"{int(np.bincount(np.unique(codes, return_inverse=True)[1]).max())} of {n} rows); splitting again "
            "without near-duplicate groups. Cross-split near-duplicates are then reported by the leakage check.",
            SplitBalanceWarning, stacklevel=2,
        )
        where = _place(base, strata, fractions, random_state, progress)
        far = _far_splits(where, fractions, max_deviation)
    if far:
        warnings.warn(
            f"groups left split(s) {_describe(far)} far from their fractions: some groups are too large to place "
            "evenly. Use finer groups or other fractions.",
            SplitBalanceWarning, stacklevel=2,
        )
    return pd.Series(names_arr[where], index=df.index, name="split")


def _describe(far: list[tuple[str, int, float]]) -> str:
    return ", ".join(f"{name!r} ({got} rows for a target of {target:.0f})" for name, got, target in far)


def _far_splits(where: np.ndarray, fractions: Mapping[str, float], max_deviation: float | None) -> list:
    if max_deviation is None:
        return []
    n = len(where)
    sizes = np.bincount(where, minlength=len(fractions))
    far = []
    for (name, share), got in zip(fractions.items(), sizes):
        target = share * n
        if target >= 20 and abs(got - target) > max_deviation * target:
            far.append((name, int(got), target))
    return far


def _place(codes: np.ndarray, strata: np.ndarray, fractions: Mapping[str, float], random_state: int,
           progress: bool = False) -> np.ndarray:
    """Split position per row: whole groups placed, largest first, where the class quotas are least met."""
    n = len(codes)
    n_strata = int(strata.max()) + 1 if n else 0
    uniq, inverse = np.unique(codes, return_inverse=True)
    group_counts = np.zeros((len(uniq), n_strata))
    np.add.at(group_counts, (inverse, strata), 1)

    totals = group_counts.sum(axis=0)
    share = np.array(list(fractions.values()), dtype=float)
    target = share[:, None] * totals[None, :]
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(uniq))
    order = order[np.argsort(-group_counts[order].sum(axis=1), kind="stable")]
    where = np.empty(len(uniq), dtype=np.int64)
    scale = np.where(totals > 0, totals, 1.0)
    # Groups of one class (nearly all: most groups are single rows) are placed in plain Python floats, with
    # the same operations as the general case below, so the placement is the same: a small numpy call per
    # group costs far more than the arithmetic it does, and there can be millions of groups.
    n_splits = len(share)
    cur = [[0.0] * n_strata for _ in range(n_splits)]
    filled = [0.0] * n_splits
    tgt, quota = target.tolist(), (share * n).tolist()
    sc, open_ = scale.tolist(), [bool(v != 0) for v in share]
    denom = max(n, 1)
    nonzero = group_counts > 0
    single = nonzero.sum(axis=1) == 1
    # (An empty frame has no classes: no row of counts to take a maximum of.)
    only = (np.argmax(nonzero, axis=1) if n_strata else np.zeros(len(uniq), dtype=np.int64)).tolist()
    sizes = group_counts.max(axis=1, initial=0.0).tolist()
    single = single.tolist()
    bar = progress_bar(total=len(order), desc="split", unit="group", enabled=progress, min_total=200_000)
    for done, g in enumerate(order.tolist()):
        if single[g]:
            c, k = only[g], sizes[g]
            best, s = -np.inf, 0
            for j in range(n_splits):
                if not open_[j]:
                    continue
                score = (tgt[j][c] - cur[j][c]) / sc[c] * k + 1e-6 * ((quota[j] - filled[j]) / denom)
                if score > best:
                    best, s = score, j
            cur[s][c] += k
            filled[s] += k
        else:
            counts = group_counts[g]
            current = np.array(cur)
            # Relative shortfall per class, weighted by the group's class counts; the overall shortfall breaks ties.
            need = ((target - current) / scale) @ counts
            overall = (share * n - current.sum(axis=1)) / max(n, 1)
            score = need + 1e-6 * overall
            score[share == 0] = -np.inf
            s = int(np.argmax(score))
            for c in range(n_strata):
                cur[s][c] += float(counts[c])
            filled[s] += float(counts.sum())
        where[g] = s
        if done % 65536 == 65535:
            bar.update(65536)
    bar.update(len(order) % 65536)
    bar.close()
    return where[inverse]


def split_dataset(df: pd.DataFrame, **kwargs: Any) -> dict[str, pd.DataFrame]:
    """Split rows into a dict of DataFrames (split name -> rows); arguments as :func:`assign_splits`."""
    fractions = _check_fractions(kwargs.get("fractions", DEFAULT_FRACTIONS))
    where = assign_splits(df, **kwargs)
    return {name: df.loc[(where == name).to_numpy()] for name in fractions}


def leakage_report(
    splits: Mapping[str, pd.DataFrame],
    *,
    text_column: str = "text",
    threshold: float = 0.8,
    num_perm: int = 128,
    random_state: int = 0,
    index: "MinHashIndex | None" = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Near-duplicate pairs whose rows are in different splits (an empty frame means no leak found).

    Parameters
    ----------
    splits : mapping of str to DataFrame
        Split name -> rows.
    threshold : float
        Jaccard similarity (character 5-gram shingles) at which two texts count as near-duplicates.
    index : MinHashIndex, optional
        A shared MinHash index keyed by row id: rows signed by an earlier pass are not signed again. Only
        pairs across splits are confirmed.
    progress : bool
        Progress bars (a new index only).

    Returns
    -------
    DataFrame
        Columns ``split_a``, ``id_a``, ``split_b``, ``id_b``, ``similarity``, ``text_a``, ``text_b``.
    """
    names, ids, texts = [], [], []
    for name, frame in splits.items():
        check_text_column(frame, text_column, f"leakage_report (split {name!r})")
        names += [name] * len(frame)
        ids += list(frame.index)
        texts += frame[text_column].astype(str).tolist()
    _check_threshold(threshold)
    if index is None:
        index = MinHashIndex(num_perm=num_perm, random_state=random_state, progress=progress)
    # Row ids key the shared index; split-qualified ids where splits repeat an id.
    keys = ids if len(set(ids)) == len(ids) else list(zip(names, ids))
    pairs = index.pairs(keys, texts, threshold=threshold, groups=pd.factorize(pd.Series(names))[0])
    rows = [
        (names[i], ids[i], names[j], ids[j], round(sim, 4), texts[i], texts[j])
        for i, j, sim in pairs
        if names[i] != names[j]
    ]
    return pd.DataFrame(rows, columns=["split_a", "id_a", "split_b", "id_b", "similarity", "text_a", "text_b"])
