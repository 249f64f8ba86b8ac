"""Labeling-function statistics: polarity, coverage, overlaps, conflicts, empirical accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .matrix import ABSTAIN, check_label_matrix, covered_rows

__all__ = [
    "lf_summary",
    "check_gold",
    "wilson_interval",
    "label_coverage",
    "label_overlap",
    "label_conflict",
    "plot_lf_summary",
]

_Z95 = 1.959963984540054


def wilson_interval(correct: Any, total: Any, *, z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (default 95%); NaN where ``total`` is 0.

    Unlike the normal approximation it stays inside [0, 1] and is sensible for
    LFs that fire on few labelled rows, which is the common case.

    Examples
    --------
    >>> lo, hi = wilson_interval(9, 10)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.596, 0.982)
    """
    c = np.asarray(correct, dtype=float)
    n = np.asarray(total, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = c / n
        denom = 1 + z**2 / n
        center = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return center - half, center + half


def _row_stats(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fired = L != ABSTAIN
    n_votes = fired.sum(axis=1)
    # A row is in conflict when the LFs that fired disagree: compare each vote with the row's first vote.
    sentinel = np.iinfo(np.int32).max  # larger than any class id, so min() picks a real vote
    masked = np.where(fired, L.astype(np.int32), np.int32(sentinel))
    first = masked.min(axis=1, keepdims=True)
    conflicted = (fired & (L != first)).any(axis=1)
    return fired, n_votes, conflicted


def label_coverage(L: Any) -> float:
    """Fraction of rows with at least one non-abstain vote."""
    arr = check_label_matrix(L)
    return float(covered_rows(arr).mean())


def label_overlap(L: Any) -> float:
    """Fraction of rows with at least two non-abstain votes."""
    arr = check_label_matrix(L)
    return float(((arr != ABSTAIN).sum(axis=1) > 1).mean())


def label_conflict(L: Any) -> float:
    """Fraction of rows whose non-abstain votes disagree."""
    return float(_row_stats(check_label_matrix(L))[2].mean())


def check_gold(y: Any, n: int, *, cardinality: int | None = None, name: str = "y") -> np.ndarray:
    """Gold labels as an int array after checking them: integers ``-1..cardinality-1`` (``-1`` = unknown).

    Class names (``"SPAM"``), fractions or values past the classes raise ``ValueError`` naming the
    first offending position and value, instead of being scored as wrong or silently dropped.
    Missing values (None, NaN) count as unknown.
    """
    y_arr = np.asarray(y).ravel()
    if y_arr.shape[0] != n:
        raise ValueError(f"Found inconsistent numbers of samples: L has {n} rows, {name} has {y_arr.shape[0]}.")
    if y_arr.dtype.kind in "iu":
        out = y_arr.astype(np.int64)
    elif y_arr.dtype.kind == "f" and np.all(np.isnan(y_arr) | ((y_arr == np.round(y_arr)) & (np.abs(y_arr) < 2**31))):
        out = np.where(np.isnan(y_arr), ABSTAIN, y_arr).astype(np.int64)
    else:
        out = np.empty(n, dtype=np.int64)
        for i, v in enumerate(y_arr.tolist()):
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                out[i] = ABSTAIN
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and abs(v) < 2**31:
                out[i] = int(v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
                # Past int64 the assignment would raise OverflowError, past int32 a float would wrap around.
                expected = f"-1..{cardinality - 1}" if cardinality is not None else "-1 or a class id >= 0"
                raise ValueError(f"{name}[{i}] is {v!r:.40}; expected {expected}.")
            else:
                raise ValueError(
                    f"{name}[{i}] is {str(v)[:40]!r} ({type(v).__name__}); gold labels must be integer class ids "
                    "(-1 = unknown). Map class names to ids first."
                )
    bad = (out < ABSTAIN) | ((out >= cardinality) if cardinality is not None else False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        expected = f"-1..{cardinality - 1}" if cardinality is not None else "-1 or a class id >= 0"
        raise ValueError(f"{name}[{i}] is {out[i]}; expected {expected}.")
    return out


def lf_summary(
    L: Any, y: Any = None, *, lf_names: list[str] | None = None, cardinality: int | None = None
) -> pd.DataFrame:
    """Per-LF statistics of a label matrix.

    Coverage, overlaps and conflicts follow Snorkel's ``LFAnalysis``
    definitions, so the numbers are comparable: overlaps = fraction of rows where
    the LF and at least one other LF vote; conflicts = fraction of rows where the
    LF votes and the row's votes disagree.

    Parameters
    ----------
    L : LabelMatrix or array-like of int, shape (n_rows, n_lfs)
        Votes, ``-1`` = abstain.
    y : array-like of int, optional
        Gold labels (``-1`` = unknown; such rows are left out of the accuracy).
    lf_names : list of str, optional
        Row labels of the result (default: the LabelMatrix's names or ``lf_j``).
    cardinality : int, optional
        Number of classes; gold labels and votes must then lie below it.

    Returns
    -------
    DataFrame
        Indexed by LF name with columns ``polarity`` (sorted classes the LF
        voted), ``coverage``, ``overlaps``, ``conflicts``; with ``y`` also
        ``correct``, ``incorrect``, ``emp_acc`` and its 95% Wilson interval
        ``emp_acc_low``, ``emp_acc_high``.

    Examples
    --------
    >>> lf_summary([[0, 0], [1, -1], [1, 0]], y=[0, 1, 1])["conflicts"].tolist()
    [0.3333333333333333, 0.3333333333333333]
    """
    arr = check_label_matrix(L, cardinality=cardinality)
    n, m = arr.shape
    names = lf_names or list(getattr(L, "lf_names", [f"lf_{j}" for j in range(m)]))
    fired, n_votes, conflicted = _row_stats(arr)
    out = pd.DataFrame(index=pd.Index(names, name="lf"))
    out["polarity"] = [sorted(int(v) for v in np.unique(arr[fired[:, j], j])) for j in range(m)]
    out["coverage"] = fired.mean(axis=0)
    out["overlaps"] = (fired & (n_votes > 1)[:, None]).mean(axis=0)
    out["conflicts"] = (fired & conflicted[:, None]).mean(axis=0)
    if y is not None:
        y_arr = check_gold(y, n, cardinality=cardinality)
        known = (y_arr != ABSTAIN)[:, None] & fired
        correct = (known & (arr == y_arr[:, None])).sum(axis=0)
        incorrect = known.sum(axis=0) - correct
        out["correct"] = correct
        out["incorrect"] = incorrect
        with np.errstate(invalid="ignore", divide="ignore"):
            out["emp_acc"] = correct / (correct + incorrect)
        low, high = wilson_interval(correct, correct + incorrect)
        out["emp_acc_low"] = low
        out["emp_acc_high"] = high
    return out


def plot_lf_summary(summary: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Bar chart of coverage, overlaps and conflicts per LF, with empirical accuracy when known.

    Parameters
    ----------
    summary : DataFrame
        The output of :func:`lf_summary`.
    ax : matplotlib Axes or sequence of two Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    has_acc = "emp_acc" in summary.columns
    n = len(summary)
    if ax is None:
        ncols = 2 if has_acc else 1
        fig = Figure(figsize=(5 * ncols + 1, 0.35 * n + 1.5))
        axes = fig.subplots(1, ncols, sharey=True, squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        fig = axes[0].figure
    pos = np.arange(n)
    h = 0.27
    for k, (col, color) in enumerate((("coverage", "#4c72b0"), ("overlaps", "#55a868"), ("conflicts", "#c44e52"))):
        axes[0].barh(pos + (k - 1) * h, summary[col], height=h, label=col, color=color)
    axes[0].set_yticks(pos, summary.index)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("fraction of rows")
    axes[0].legend(loc="lower right", fontsize="small")
    if has_acc and len(axes) > 1:
        acc = summary["emp_acc"].to_numpy(dtype=float)
        err = np.vstack([acc - summary["emp_acc_low"], summary["emp_acc_high"] - acc])
        axes[1].errorbar(acc, pos, xerr=np.clip(np.nan_to_num(err), 0, None), fmt="o", color="#333333", capsize=3)
        axes[1].set_xlim(0, 1.02)
        axes[1].set_xlabel("empirical accuracy (95% Wilson)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
