"""The result of a row-removing step: kept rows, removed rows with the reason, and counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sources.files import require_column

__all__ = ["StepResult"]


@dataclass
class StepResult:
    """What a cleaning step kept and what it removed, and why.

    Attributes
    ----------
    data : DataFrame
        The kept rows, in their original order and with their original index (row ids).
    removed : DataFrame
        The removed rows with all their columns plus ``reason`` (and, for duplicates,
        ``duplicate_of``: the id of the kept row they duplicate), so nothing is lost.
    counts : dict of str to int
        Rows removed (or, for masking steps, items changed) per reason.
    """

    data: pd.DataFrame
    removed: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_removed(self) -> int:
        return len(self.removed)


def removed_frame(df: pd.DataFrame, mask, reason, **extra) -> pd.DataFrame:
    """The rows of ``df`` where ``mask`` is true, with a ``reason`` column (and extra columns)."""
    out = df.loc[mask].copy()
    out["reason"] = reason if isinstance(reason, str) else list(reason)
    for key, value in extra.items():
        out[key] = value
    return out


def check_text_column(df: pd.DataFrame, text_column: str, where: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame; got {type(df).__name__}.")
    require_column(df, text_column, source=where)
