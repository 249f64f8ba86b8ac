"""What an LF may be given and may not change: checks of the LFs, the options and the input table, and the
guards that keep an LF from changing its row, its chunk or the cells other LFs will read."""

from __future__ import annotations

import gc
from itertools import repeat
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .lf import LabelingFunction, check_unique_names
from .row import ReadOnlyRow, Row

from .errors import LFError

__all__ = ["check_lfs", "check_options", "validate_input"]


def _same_data(a: pd.Series, b: pd.Series) -> bool:
    x, y = a.array, b.array
    arrow = getattr(x, "_pa_array", None)
    if arrow is not None:
        return arrow is getattr(y, "_pa_array", None)
    try:
        return np.shares_memory(np.asarray(x), np.asarray(y))
    except Exception:  # an extension array numpy cannot view: assume unchanged
        return True


def _memory_key(values: Any) -> Any:
    """Where an array's data lives: equal for copy-on-write views of the same data, different after a write."""
    arrow = getattr(values, "_pa_array", None)
    if arrow is not None:
        return ("arrow", id(arrow))
    values = getattr(values, "_ndarray", values)
    if isinstance(values, np.ndarray):
        return ("numpy", values.__array_interface__["data"][0], values.shape, values.strides)
    return None  # an array type whose memory we cannot see: compared column by column instead


def _same_blocks(view: pd.DataFrame, chunk: pd.DataFrame) -> bool:
    # One comparison per block (a handful), not per column: this runs for every LF on every chunk.
    try:
        a, b = view._mgr.blocks, chunk._mgr.blocks
    except AttributeError:  # pragma: no cover - another pandas internals layout
        return False
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        kx, ky = _memory_key(x.values), _memory_key(y.values)
        if kx is None or kx != ky:
            return False
    return True


def _check_unchanged(lf: str, view: pd.DataFrame, chunk: pd.DataFrame, positions: np.ndarray) -> None:
    """Raise when a vectorized LF changed the chunk it was given (a column added, dropped or written)."""
    if view.columns.equals(chunk.columns) and view.index.is_(chunk.index) and _same_blocks(view, chunk):
        return
    what = None
    if list(view.columns) != list(chunk.columns):
        added = [c for c in view.columns if c not in chunk.columns]
        dropped = [c for c in chunk.columns if c not in view.columns]
        what = f"added column(s) {added}" if added else f"dropped column(s) {dropped}" if dropped else "reordered columns"
    elif not view.index.equals(chunk.index):
        what = "changed the row index"
    else:
        for name in chunk.columns:
            if not _same_data(view[name], chunk[name]):
                what = f"wrote into column {name!r}"
                break
    if what is not None:
        raise LFError(
            f"Vectorized LF {lf!r} {what} of its input chunk (rows {positions[0]}..{positions[-1]}); chunks are "
            "read-only for LFs, as a change would alter the votes of the LFs after it. Work on a copy "
            "(df = df.copy()) or compute new columns in a @preprocessor(vectorized=True).",
            lf=lf, position=int(positions[0]),
        )


# Cells that an LF could change in place (x.tags.append(...)): the row cannot refuse that, so LFs get copies.
_MUTABLE_CELLS = (list, dict, set, bytearray, np.ndarray, tuple)  # a tuple may hold a list


class _CellGuard:
    """Copies of a chunk's mutable cells (lists, dicts, sets, arrays) for row LFs, and a check that none changed.

    The row LFs of a chunk share one set of rows; a list cell appended to by one LF would change what
    the next LF sees, and, being the caller's own object, the caller's DataFrame. So the rows hold deep
    copies (the caller's cells are never handed out; arrays are copied read-only), and after each LF
    the copies are compared with the originals.
    """

    def __init__(self, names: list[str], columns: list[list[Any]]) -> None:
        import copy

        self.names = names
        self.watched: dict[int, list[Any]] = {}
        for j, col in enumerate(columns):
            types = set(map(type, col))
            if any(issubclass(t, _MUTABLE_CELLS) for t in types):
                self.watched[j] = col
                columns[j] = [self._frozen(copy.deepcopy(v)) for v in col]
        self.given = {j: columns[j] for j in self.watched}

    @staticmethod
    def _frozen(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
        return v

    @staticmethod
    def _same(a: Any, b: Any) -> bool:
        try:
            if a == b:
                return True
        except (ValueError, TypeError):  # arrays inside lists compare element-wise
            pass
        # Unequal by == can still be unchanged (a NaN copied into a new object): compare the bytes.
        import pickle

        try:
            return pickle.dumps(a) == pickle.dumps(b)
        except Exception:
            return False

    def check(self, lf: str, ids: Sequence[Any], positions: np.ndarray) -> None:
        for j, original in self.watched.items():
            given = self.given[j]
            if self._same(given, original):
                continue
            i = next(i for i, (a, b) in enumerate(zip(given, original)) if not self._same(a, b))
            raise LFError(
                f"LF {lf!r} changed the {type(original[i]).__name__} in column {self.names[j]!r} of row {positions[i]} "
                f"(id {ids[i]!r}) in place; rows are read-only for LFs, as a change would alter the votes of the "
                "LFs after it. Work on a copy (list(x.tags)) or add fields in a @preprocessor().",
                lf=lf, position=int(positions[i]), row_id=ids[i],
            )


def _guarded_chunk(chunk: pd.DataFrame) -> tuple[pd.DataFrame, _CellGuard | None]:
    """The chunk vectorized LFs get: the same, except that columns holding mutable cells hold copies of them."""
    names = list(chunk.columns)
    if len(set(names)) != len(names):
        return chunk, None
    columns = [chunk.iloc[:, j].tolist() if chunk.dtypes.iloc[j] == object else [] for j in range(len(names))]
    guard = _CellGuard(names, columns)
    if not guard.watched:
        return chunk, None
    copied = chunk.copy(deep=False)
    for j in guard.watched:
        copied.isetitem(j, pd.Series(guard.given[j], index=chunk.index, dtype=object))
    return copied, guard


def _rows(chunk: pd.DataFrame) -> tuple[list[Row], _CellGuard | None]:
    # Column by column to Python objects, then zipped: several times faster than to_dict("records").
    names = list(chunk.columns)
    if not names or len(set(names)) != len(names):
        return [ReadOnlyRow(r) for r in chunk.to_dict("records")], None
    columns = [chunk.iloc[:, j].tolist() for j in range(len(names))]
    guard = None
    if any(chunk.dtypes.iloc[j] == object for j in range(len(names))):
        guard = _CellGuard(names, columns)  # replaces the columns holding mutable cells by copies
        guard = guard if guard.watched else None
    # Thousands of new dicts that all survive would set off the cyclic garbage collector again and
    # again (each pass walking every live object) while they hold no cycles; pausing it here cuts
    # the cost of building rows by about a third.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Read-only: one row object serves every row LF, so none may change what the next one sees.
        if len(names) == 1:  # the common text-only case: a dict literal is faster than a zip per row
            name = names[0]
            return list(map(ReadOnlyRow, [{name: v} for v in columns[0]])), guard
        return list(map(ReadOnlyRow, map(zip, repeat(names), zip(*columns)))), guard
    finally:
        if was_enabled:
            gc.enable()


def check_lfs(lfs: Iterable[LabelingFunction], cardinality: int | None = None) -> list[LabelingFunction]:
    """Return ``lfs`` as a list after checking it is non-empty, holds LFs with unique names, and ``cardinality``."""
    if isinstance(lfs, LabelingFunction):
        raise TypeError(f"lfs must be a list of LFs; got the single LF {lfs.name!r}: pass [{lfs.name}].")
    lfs = list(lfs)
    if not lfs:
        raise ValueError("No labeling functions given; pass a non-empty list of LFs.")
    check_unique_names(lfs)
    if cardinality is not None and (isinstance(cardinality, bool) or not isinstance(cardinality, (int, np.integer))):
        raise TypeError(f"cardinality={cardinality!r}; expected an integer number of classes.")
    if cardinality is not None and cardinality < 2:
        raise ValueError(f"cardinality={cardinality}; expected at least 2 classes.")
    if cardinality is not None and cardinality > np.iinfo(np.int32).max:
        raise ValueError(f"cardinality={cardinality}; a label matrix holds at most 2**31-1 classes.")
    return lfs


def check_options(n_jobs: Any = 1, chunk_size: Any = None) -> None:
    """Raise for an ``n_jobs`` or ``chunk_size`` that would fail deep inside, or silently label nothing."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs={n_jobs!r}; expected a positive number of workers, or -1 for every core.")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1
    ):
        raise ValueError(f"chunk_size={chunk_size!r}; expected a positive number of rows.")


def validate_input(data: Any, lfs: Iterable[LabelingFunction], cardinality: int | None) -> tuple[pd.DataFrame, list]:
    """``(data, lfs)`` checked: a DataFrame with rows (a Series becomes one column) and :func:`check_lfs`."""
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name or "text")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (one row per example); got {type(data).__name__}.")
    lfs = check_lfs(lfs, cardinality)
    if len(data) == 0:
        raise ValueError("data has no rows; nothing to label.")
    if not data.columns.is_unique:
        # x.text would silently be one of them (pandas' readers rename the second to "text.1").
        name = data.columns[data.columns.duplicated()][0]
        where = [i for i, c in enumerate(data.columns) if c == name]
        raise ValueError(
            f"data has {len(where)} columns named {name!r} (positions {where}); column names must be unique, as an "
            "LF reads a column by its name. Rename or drop one."
        )
    return data, lfs
