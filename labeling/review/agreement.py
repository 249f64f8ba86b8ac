"""Agreement between reviewers on double-reviewed samples (Cohen's kappa per pair and per class)."""

from __future__ import annotations

from itertools import combinations
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

__all__ = ["cohen_kappa", "agreement_report"]


def cohen_kappa(a: Sequence[int], b: Sequence[int], *, labels: Sequence[int] | None = None) -> float:
    """Cohen's kappa of two label sequences (1 = perfect, 0 = chance); NaN when undefined.

    Examples
    --------
    >>> round(cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0]), 3)
    0.5
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"Got {a.shape[0]} and {b.shape[0]} labels; kappa needs pairs.")
    if a.size == 0:
        return float("nan")
    if (a == b).all() and np.unique(a).size == 1:
        return 1.0  # both gave one same label throughout: perfect agreement, though chance agreement is 1 too
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(cohen_kappa_score(a, b, labels=None if labels is None else list(labels)))


def agreement_report(store: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kappa per reviewer pair, and per class (one-vs-rest), over samples both reviewers labelled.

    Returns
    -------
    pairs : DataFrame
        Columns ``reviewer_a``, ``reviewer_b``, ``n``, ``agreement``, ``kappa``.
    per_class : DataFrame
        Index: class name; columns ``n``, ``kappa`` (pooled over all pairs).
    """
    by_sample = store.reviewer_labels()
    names = store.class_names
    reviewers = sorted({r for labels in by_sample.values() for r in labels})
    rows = []
    pooled_a: list[int] = []
    pooled_b: list[int] = []
    for ra, rb in combinations(reviewers, 2):
        both = [(lab[ra], lab[rb]) for lab in by_sample.values() if ra in lab and rb in lab]
        if not both:
            continue
        a, b = map(np.asarray, zip(*both))
        pooled_a += a.tolist()
        pooled_b += b.tolist()
        rows.append({"reviewer_a": ra, "reviewer_b": rb, "n": len(a), "agreement": float((a == b).mean()),
                     "kappa": cohen_kappa(a, b)})
    pairs = pd.DataFrame(rows, columns=["reviewer_a", "reviewer_b", "n", "agreement", "kappa"])
    pa, pb = np.asarray(pooled_a, dtype=int), np.asarray(pooled_b, dtype=int)
    per_class = pd.DataFrame(
        [{"class": names[c] if c < len(names) else str(c), "n": int(((pa == c) | (pb == c)).sum()),
          "kappa": cohen_kappa(pa == c, pb == c, labels=[False, True]) if pa.size else float("nan")}
         for c in range(max(len(names), int(max(pa.max(initial=-1), pb.max(initial=-1))) + 1))]
    ).set_index("class") if (names or pa.size) else pd.DataFrame(columns=["n", "kappa"])
    return pairs, per_class
