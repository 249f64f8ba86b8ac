"""Shared work for batch LFs on one DataFrame chunk: distinct texts, and which literals occur in them.

``apply_lfs`` hands the same chunk object to every LF in turn. Builders look the chunk's text column up
here, so the distinct texts are found once per chunk (not once per LF), and one Aho-Corasick pass finds
every literal that any regex-based LF's prefilter needs. Only the most recent chunk is kept per
thread; it is recognised by object identity and by the identity of its column's array, so a
DataFrame whose column is replaced is looked at again.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

import ahocorasick
import numpy as np
import pandas as pd

from labeling import ABSTAIN

from ._prefilter import Prefilter, icase_fold

__all__ = ["ColumnView", "column_view", "clear_cache", "LITERALS"]

_local = threading.local()


def _fingerprint(series: pd.Series) -> tuple[tuple, Any]:
    arr = series.array
    if isinstance(arr, pd.arrays.NumpyExtensionArray):
        values = arr.to_numpy()
        return ("np", values.__array_interface__["data"][0], values.shape, values.strides), values
    return ("ea", id(arr), len(arr)), arr


class ColumnView:
    """The distinct values of one text column of a chunk, with per-chunk memoised derived data."""

    def __init__(self, series: pd.Series, column: str) -> None:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        texts = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                row = int(np.flatnonzero(codes == i)[0])
                raise TypeError(
                    f"Column {column!r} must hold text; row {row} (id {series.index[row]!r}) holds "
                    f"{type(t).__name__} {t!r}. Convert it with df[{column!r}].astype(str)."
                )
        self.column = column
        self.codes = codes
        self.texts: list[str] = texts
        self.missing = codes < 0
        self.memo: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Memoise ``compute()`` under ``key`` for the lifetime of this chunk."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = compute()
            return value

    def broadcast(self, per_text: np.ndarray, fill: int = ABSTAIN) -> np.ndarray:
        """Spread one value per distinct text back to one per row; missing texts get ``fill``."""
        out = per_text[self.codes] if len(per_text) else np.full(len(self.codes), fill, dtype=per_text.dtype)
        if self.missing.any():
            out[self.missing] = fill
        return out

    @property
    def folded(self) -> list[str]:
        """The texts as case-insensitive ASCII literals see them (see ``IcaseFold.fold``)."""
        fold = icase_fold().fold
        return self.cached("folded", lambda: [fold(t) for t in self.texts])

    @property
    def unsure(self) -> np.ndarray | None:
        """Which texts hold a character that matches several ASCII letters case-insensitively (None: none)."""

        def compute() -> np.ndarray | None:
            chars = icase_fold().unsure
            if not chars:
                return None
            return np.fromiter((not chars.isdisjoint(t) for t in self.texts), bool, len(self.texts))

        return self.cached("unsure", compute)


def column_view(df: pd.DataFrame, column: str) -> ColumnView:
    """The :class:`ColumnView` of ``df[column]``, shared by every LF that looks at this chunk."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"A batch LF takes a pandas DataFrame chunk; got {type(df).__name__}.")
    if column not in df.columns:
        raise KeyError(
            f"Column {column!r} not found; the data has columns {list(df.columns)}. Pass column=... to the "
            "LF builder to use another one."
        )
    cache = getattr(_local, "cache", None)
    if cache is None or cache[0]() is not df:
        cache = (weakref.ref(df), {})
        _local.cache = cache
    series = df[column]
    key, keep = _fingerprint(series)
    hit = cache[1].get(column)
    if hit is None or hit[0] != key:
        hit = cache[1][column] = (key, keep, ColumnView(series, column))
    return hit[2]


def clear_cache() -> None:
    """Forget the cached chunk (only needed after changing a DataFrame's text in place between LF calls)."""
    _local.cache = None


class LiteralIndex:
    """Process-wide registry of prefilter literals, searched in one Aho-Corasick pass per chunk."""

    # What it holds depends on every regex LF made in this process, not on any one LF's votes:
    # the LF cache counts it by its type (see labeling.core.cache).
    __votewise_process_state__ = True

    def __init__(self) -> None:
        self._ids: dict[tuple[str, bool], int] = {}
        self._automata: dict[bool, Any] = {}
        self.version = 0

    def register(self, pf: Prefilter) -> tuple[tuple[np.ndarray, ...], bool]:
        """Add a prefilter's literals; returns its clauses as arrays of literal ids."""
        clauses = []
        for clause in pf.clauses:
            ids = []
            for lit in sorted(clause):
                key = (lit, pf.icase)
                if key not in self._ids:
                    self._ids[key] = len(self._ids)
                    self._automata.pop(pf.icase, None)
                    self.version += 1
                ids.append(self._ids[key])
            clauses.append(np.asarray(ids, dtype=np.intp))
        return tuple(clauses), pf.icase

    def _automaton(self, icase: bool):
        auto = self._automata.get(icase)
        if auto is None:
            auto = ahocorasick.Automaton()
            for (lit, ic), i in self._ids.items():
                if ic == icase:
                    auto.add_word(lit, i)
            auto.make_automaton()
            self._automata[icase] = auto
        return auto

    def presence(self, view: ColumnView, icase: bool) -> tuple[np.ndarray, np.ndarray]:
        """Which distinct texts contain which registered literal, as CSR by literal id.

        Returns ``(indptr, rows)``: the texts containing literal ``i`` are ``rows[indptr[i]:indptr[i + 1]]``.
        Memory grows with the number of occurrences, not texts x literals.
        """

        def compute() -> tuple[np.ndarray, np.ndarray]:
            n_lits = len(self._ids)
            auto = self._automaton(icase)
            rows: list[int] = []
            cols: list[int] = []
            if len(auto):
                texts = view.folded if icase else view.texts
                for r, text in enumerate(texts):
                    for _, lit_id in auto.iter(text):
                        rows.append(r)
                        cols.append(lit_id)
            cols_arr = np.asarray(cols, dtype=np.intp)
            order = np.argsort(cols_arr, kind="stable")
            indptr = np.zeros(n_lits + 1, dtype=np.intp)
            np.cumsum(np.bincount(cols_arr, minlength=n_lits), out=indptr[1:])
            return indptr, np.asarray(rows, dtype=np.intp)[order]

        return view.cached(("literals", icase, self.version), compute)

    def candidates(self, view: ColumnView, clauses: tuple[np.ndarray, ...], icase: bool) -> np.ndarray | None:
        """Indices of distinct texts that pass every clause (None: no filter, test all texts)."""
        if not clauses:
            return None
        indptr, rows = self.presence(view, icase)
        keep = np.ones(len(view), dtype=bool)
        for ids in clauses:
            hit = np.zeros(len(view), dtype=bool)
            for i in ids.tolist():
                hit[rows[indptr[i]:indptr[i + 1]]] = True
            keep &= hit
        if icase and view.unsure is not None:
            keep |= view.unsure
        return np.flatnonzero(keep)


LITERALS = LiteralIndex()
