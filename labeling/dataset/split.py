"""Stratified, group-aware train / valid / test splits, and a check for near-duplicates across splits."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ._result import check_text_column
from .dedup import near_duplicate_groups, near_duplicate_pairs

__all__ = ["assign_splits", "split_dataset", "leakage_report", "DEFAULT_FRACTIONS"]

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "valid": 0.1, "test": 0.1}


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
    parent = np.arange(len(a))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for codes in (a, b):
        first: dict[Any, int] = {}
        for i, c in enumerate(codes):
            j = first.setdefault(c, i)
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(len(a))])


def assign_splits(
    df: pd.DataFrame,
    *,
    fractions: Mapping[str, float] = DEFAULT_FRACTIONS,
    label_column: str | None = "label",
    groups: Any = None,
    near_duplicate_threshold: float | None = None,
    text_column: str = "text",
    random_state: int = 0,
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
    codes = _groups(df, groups, text_column, near_duplicate_threshold)
    n_strata = int(strata.max()) + 1 if n else 0
    uniq, inverse = np.unique(codes, return_inverse=True)
    group_counts = np.zeros((len(uniq), n_strata))
    np.add.at(group_counts, (inverse, strata), 1)

    totals = group_counts.sum(axis=0)
    share = np.array([fractions[s] for s in names])
    target = share[:, None] * totals[None, :]
    current = np.zeros_like(target)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(uniq))
    order = order[np.argsort(-group_counts[order].sum(axis=1), kind="stable")]
    where = np.empty(len(uniq), dtype=np.int64)
    scale = np.where(totals > 0, totals, 1.0)
    for g in order:
        counts = group_counts[g]
        # Relative shortfall per class, weighted by the group's class counts; the overall shortfall breaks ties.
        need = ((target - current) / scale) @ counts
        overall = (share * n - current.sum(axis=1)) / max(n, 1)
        score = need + 1e-6 * overall
        score[share == 0] = -np.inf
        s = int(np.argmax(score))
        where[g] = s
        current[s] += counts
    return pd.Series(np.array(names, dtype=object)[where[inverse]], index=df.index, name="split")


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
) -> pd.DataFrame:
    """Near-duplicate pairs whose rows are in different splits (an empty frame means no leak found).

    Parameters
    ----------
    splits : mapping of str to DataFrame
        Split name -> rows.
    threshold : float
        Jaccard similarity (character 5-gram shingles) at which two texts count as near-duplicates.

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
    pairs = near_duplicate_pairs(texts, threshold=threshold, num_perm=num_perm, random_state=random_state)
    rows = [
        (names[i], ids[i], names[j], ids[j], round(sim, 4), texts[i], texts[j])
        for i, j, sim in pairs
        if names[i] != names[j]
    ]
    return pd.DataFrame(rows, columns=["split_a", "id_a", "split_b", "id_b", "similarity", "text_a", "text_b"])
