"""Candidate LFs mined from the human labels gathered so far ("create rules while annotating")."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from labeling.core.matrix import ABSTAIN
from rules import keyword_lf

__all__ = ["suggest_lfs", "suggestion_to_lf"]


def suggest_lfs(
    texts: Sequence[str],
    y: Any,
    *,
    probs: Any = None,
    class_names: Sequence[str] | None = None,
    ngram_range: tuple[int, int] = (1, 2),
    min_support: int = 2,
    min_precision: float = 0.8,
    exclude: Sequence[str] = (),
    top: int = 20,
) -> pd.DataFrame:
    """Keywords / n-grams that predict one class on the reviewed rows.

    Parameters
    ----------
    texts : sequence of str
        All rows (reviewed and not).
    y : array-like of int
        Human labels, -1 where a row is unreviewed.
    probs : array of shape (n, k), optional
        Label-model probabilities, to estimate precision on the unreviewed rows.
    min_support : int
        Reviewed rows an n-gram must occur in.
    min_precision : float
        Smoothed precision on the reviewed rows, ``(hits + 1) / (n + 2)``, needed.
    exclude : sequence of str
        N-grams already used as LFs.
    top : int
        Number of suggestions returned, best first (precision, then coverage).

    Returns
    -------
    DataFrame
        ``ngram``, ``label``, ``label_name``, ``reviewed_n``, ``precision_reviewed``,
        ``coverage_reviewed``, ``coverage_unreviewed``, ``est_precision_unreviewed``.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    y = np.asarray(y)
    texts = ["" if t is None else str(t) for t in texts]
    if y.shape[0] != len(texts):
        raise ValueError(f"Got {len(texts)} texts but {y.shape[0]} labels; they must match one to one.")
    reviewed = y != ABSTAIN
    cols = ["ngram", "label", "label_name", "reviewed_n", "precision_reviewed", "coverage_reviewed",
            "coverage_unreviewed", "est_precision_unreviewed"]
    if reviewed.sum() < min_support:
        return pd.DataFrame(columns=cols)
    vec = CountVectorizer(ngram_range=ngram_range, binary=True, min_df=1, token_pattern=r"(?u)\b\w\w+\b")
    X = vec.fit_transform(texts).tocsc()
    vocab = np.asarray(vec.get_feature_names_out())
    Xr = X[reviewed]
    support = np.asarray(Xr.sum(axis=0)).ravel()
    keep = np.flatnonzero(support >= min_support)
    if keep.size == 0:
        return pd.DataFrame(columns=cols)
    k = int(max(y.max() + 1, 2 if probs is None else np.asarray(probs).shape[1]))
    onehot = np.eye(k)[y[reviewed]]
    hits = np.asarray((Xr[:, keep].T @ onehot))  # (features, k)
    best = hits.argmax(axis=1)
    n = support[keep]
    prec = (hits[np.arange(len(keep)), best] + 1) / (n + 2)
    unrev = ~reviewed
    cov_un = np.asarray(X[unrev][:, keep].sum(axis=0)).ravel() / max(unrev.sum(), 1)
    est = np.full(len(keep), np.nan)
    if probs is not None:
        P = np.asarray(probs)[unrev]
        Xu = X[unrev][:, keep]
        mass = np.asarray((Xu.T @ P))
        cnt = np.asarray(Xu.sum(axis=0)).ravel()
        est = np.where(cnt > 0, mass[np.arange(len(keep)), best] / np.maximum(cnt, 1), np.nan)
    names = list(class_names) if class_names is not None else [str(c) for c in range(k)]
    df = pd.DataFrame({
        "ngram": vocab[keep], "label": best, "label_name": [names[b] for b in best], "reviewed_n": n,
        "precision_reviewed": prec, "coverage_reviewed": n / reviewed.sum(),
        "coverage_unreviewed": cov_un, "est_precision_unreviewed": est,
    })
    df = df[(df["precision_reviewed"] >= min_precision) & ~df["ngram"].isin(set(exclude))]
    # Drop an n-gram when a shorter one it contains already says the same with as much support.
    df = df.sort_values(["precision_reviewed", "coverage_unreviewed"], ascending=False)
    return df.head(top).reset_index(drop=True)


def suggestion_to_lf(row: Any, *, name: str | None = None, column: str = "text") -> Any:
    """A keyword LF (whole words, case-insensitive) from one row of :func:`suggest_lfs`."""
    ngram = str(row["ngram"])
    label = int(row["label"])
    lf_name = name or f"suggested_{label}_{ngram.replace(' ', '_')}"
    return keyword_lf(lf_name, [ngram], label, whole_word=True, column=column)
