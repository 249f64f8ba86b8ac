"""The length LF: votes by how many words or characters a text has."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from labeling import Preprocessor

from ._batch import column_view
from .base import RuleLF, Span

__all__ = ["LengthLF", "length_lf"]


class LengthLF(RuleLF):
    """Votes ``label`` when the text's length lies within bounds (see :func:`length_lf`)."""

    kind = "length"

    def __init__(
        self, name: str, label: int, *, min_len: int | None, max_len: int | None, unit: str,
        column: str, pre: Sequence[Preprocessor] | None,
    ) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if unit not in ("words", "chars"):
            raise ValueError(f"LF {name!r}: unit={unit!r} is not one of {{'words', 'chars'}}.")
        if min_len is None and max_len is None:
            raise ValueError(f"LF {name!r}: give min_len, max_len or both.")
        if min_len is not None and max_len is not None and min_len > max_len:
            raise ValueError(f"LF {name!r}: min_len={min_len} is larger than max_len={max_len}.")
        self.min_len, self.max_len, self.unit = min_len, max_len, unit

    def _lengths(self, view) -> np.ndarray:
        if self.unit == "chars":
            return np.fromiter((len(t) for t in view.texts), np.int64, len(view))
        return view.cached("n_words", lambda: np.fromiter((len(t.split()) for t in view.texts), np.int64, len(view)))

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        n = self._lengths(view)
        ok = np.ones(len(view), dtype=bool)
        if self.min_len is not None:
            ok &= n >= self.min_len
        if self.max_len is not None:
            ok &= n <= self.max_len
        per_text = self._abstain(len(view))
        per_text[ok] = self.label
        return view.broadcast(per_text)

    def explain(self, text: str) -> list[Span]:
        n = len(text) if self.unit == "chars" else len(text.split())
        if (self.min_len is None or n >= self.min_len) and (self.max_len is None or n <= self.max_len):
            return [Span(0, len(text), f"length {n} {self.unit} in [{self.min_len}, {self.max_len}]")]
        return []

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "min_len": self.min_len, "max_len": self.max_len, "unit": self.unit}


def length_lf(
    name: str,
    label: int,
    *,
    min_len: int | None = None,
    max_len: int | None = None,
    unit: str = "words",
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> LengthLF:
    """An LF that votes ``label`` when the text has between ``min_len`` and ``max_len`` words (or chars).

    Parameters
    ----------
    name : str
        LF name.
    label : int
        Class id voted when the length is in range.
    min_len, max_len : int, optional
        Inclusive bounds; give one or both.
    unit : {"words", "chars"}
        Words are whitespace-separated tokens.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = length_lf("short", 0, max_len=4)
    >>> lf(pd.DataFrame({"text": ["cool video", "check out my new channel please"]})).tolist()
    [0, -1]
    """
    return LengthLF(name, label, min_len=min_len, max_len=max_len, unit=unit, column=column, pre=pre)
