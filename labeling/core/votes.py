"""Computing votes: the engine that :func:`~labeling.apply_lfs`, the cache, streaming and Dask share.

Each path validates its input with :func:`validate_input`, labels chunks with :func:`label_chunk`
(through :func:`compute_votes`, which also labels each distinct row once) and wraps the votes with
:func:`finish_matrix`. Nothing here knows about caching or files.
"""

from __future__ import annotations

import gc
import math
import os
import warnings
from dataclasses import dataclass
from itertools import islice, repeat
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .lf import LabelingFunction, check_unique_names
from .matrix import ABSTAIN, LabelMatrix, smallest_int_dtype
from .patterns import group_codes, sampled_repeat_share
from .row import ReadOnlyRow, Row, RowWriteError

__all__ = [
    "LFError", "LFFailure", "check_lfs", "check_options", "validate_input", "label_chunk", "worth_dedup", "compute_votes", "finish_matrix",
]

DEFAULT_CHUNK_SIZE = 10_000


class LFError(RuntimeError):
    """A labeling function raised or returned an invalid vote; names the LF and the row."""

    def __init__(self, message: str, *, lf: str, position: int | None = None, row_id: Any = None) -> None:
        super().__init__(message)
        self.lf = lf
        self.position = position
        self.row_id = row_id

    def __reduce__(self) -> tuple:
        # Keyword-only fields: the default exception pickling (args only) would lose them, and
        # worker processes (joblib, Dask) send errors back pickled.
        return (_rebuild_lf_error, (str(self), self.lf, self.position, self.row_id))


def _rebuild_lf_error(message: str, lf: str, position: int | None, row_id: Any) -> LFError:
    return LFError(message, lf=lf, position=position, row_id=row_id)


@dataclass(frozen=True)
class LFFailure:
    """One LF call that raised during a fault-tolerant apply (the vote there is ABSTAIN)."""

    lf: str
    position: int
    row_id: Any
    error: str


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _exit_error(lf: str, exc: BaseException, position: Any, row_id: Any = None) -> LFError:
    """The LFError for an LF that called ``sys.exit`` (or raised another exception that ends the program).

    ``SystemExit`` and other ``BaseException`` subclasses pass every ``except Exception``: uncaught, they
    would end ``votewise apply`` with status 0, no output and no message. Always a bug, never a vote or
    bad data, so fault tolerance does not apply. ``KeyboardInterrupt`` (the user's Ctrl-C) is not one.
    """
    where = f"on row {position} (id {row_id!r})" if row_id is not None else f"on rows from {position}"
    what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}"
    err = LFError(
        f"LF {lf!r} {what} {where}; an LF returns a vote (or raises an Exception), it must not end the program. "
        "Remove the exit call.",
        lf=lf, position=int(position), row_id=row_id,
    )
    err.__cause__ = exc
    return err


def _check_vote(lf: str, value: Any, position: int, row_id: Any, cardinality: int | None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        hint = " (return ABSTAIN, i.e. -1, to abstain)" if value is None else ""
        raise LFError(
            f"LF {lf!r} returned {value!r} ({type(value).__name__}) on row {position} (id {row_id!r}); "
            f"expected an integer class id or -1{hint}.",
            lf=lf, position=position, row_id=row_id,
        )
    _check_range(lf, np.asarray([value]), [position], [row_id], cardinality)
    return int(value)


def _check_range(
    lf: str, votes: np.ndarray, positions: Sequence[int], ids: Sequence[Any], cardinality: int | None
) -> None:
    upper = cardinality if cardinality is not None else np.iinfo(np.int16).max
    bad = (votes < ABSTAIN) | (votes >= upper)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        expected = f"-1..{cardinality - 1}" if cardinality is not None else "-1 or a class id >= 0"
        raise LFError(
            f"LF {lf!r} voted {votes[i]} on row {positions[i]} (id {ids[i]!r}); expected {expected}.",
            lf=lf, position=int(positions[i]), row_id=ids[i],
        )


def _align(lf: str, out: Any, chunk: pd.DataFrame, positions: np.ndarray) -> Any:
    """A Series result in the chunk's row order, matched by row id, not by position."""
    if not isinstance(out, pd.Series) or out.index.equals(chunk.index):
        return out
    if len(out) == len(chunk) and out.index.is_unique and chunk.index.is_unique and out.index.isin(chunk.index).all():
        return out.reindex(chunk.index)
    if out.index.equals(pd.RangeIndex(len(chunk))):
        return out  # a freshly built Series (pd.Series(np.where(...))) carries no row ids: its order is the chunk's
    extra = out.index.difference(chunk.index)
    missing = chunk.index.difference(out.index)
    detail = (f"ids not in the chunk: {list(extra[:3])}" if len(extra) else
              f"ids missing: {list(missing[:3])}" if len(missing) else "duplicate ids")
    raise LFError(
        f"Vectorized LF {lf!r} returned a Series whose index does not match the chunk's row ids "
        f"(rows {positions[0]}..{positions[-1]}; {detail}); return one vote per row, indexed like the chunk "
        "(or a plain array in the chunk's order).",
        lf=lf, position=int(positions[0]),
    )


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


def _call_batch(lf: LabelingFunction, chunk: pd.DataFrame, positions: np.ndarray, view: pd.DataFrame | None = None) -> Any:
    """Call a vectorized LF on a copy-on-write view of the chunk, so that nothing it does reaches the next LF.

    LFs without preprocessors share one view per chunk (the rule builders key their per-chunk
    cache of distinct texts on it) and any change to it is reported, naming the LF, before
    another LF sees it. An LF with preprocessors gets a view of its own: preprocessors may add
    columns to their input.
    """
    if lf.pre or view is None:
        view = chunk.copy(deep=False)
    out = lf(view)
    if not lf.pre and len(chunk.columns) == len(set(chunk.columns)):
        _check_unchanged(lf.name, view, chunk, positions)
    return _align(lf.name, out, chunk, positions)


def _check_batch_output(
    lf: str, out: Any, chunk: pd.DataFrame, positions: np.ndarray, cardinality: int | None
) -> np.ndarray:
    votes = np.asarray(out)
    if votes.shape != (len(chunk),):
        raise LFError(
            f"Vectorized LF {lf!r} returned shape {votes.shape} for a chunk of {len(chunk)} rows "
            f"(rows {positions[0]}..{positions[-1]}); expected one vote per row, shape ({len(chunk)},).",
            lf=lf, position=int(positions[0]),
        )
    if votes.dtype.kind == "O" and all(type(v) is int for v in votes.tolist()):
        # Python ints too large for int64 make an object array: report the value, as for a row LF.
        big = [i for i, v in enumerate(votes.tolist()) if not -(2**31) <= v < 2**31]
        if big:
            i = big[0]
            raise LFError(
                f"LF {lf!r} voted {votes[i]} on row {positions[i]} (id {chunk.index[i]!r}); expected "
                f"{f'-1..{cardinality - 1}' if cardinality is not None else '-1 or a class id >= 0'}.",
                lf=lf, position=int(positions[i]), row_id=chunk.index[i],
            )
        votes = votes.astype(np.int64)
    if votes.dtype.kind not in "iu":
        bad = np.ones(len(votes), dtype=bool)
        if votes.dtype.kind == "f":
            # Past int32 a float is no class id: converting it would wrap around to another number.
            bad = ~np.isfinite(votes) | (votes != np.round(votes)) | (np.abs(votes) >= 2**31)
            if not bad.any():
                votes = votes.astype(np.int64)
        if votes.dtype.kind not in "iu":
            i = int(np.flatnonzero(bad)[0])
            value = votes[i].item() if hasattr(votes[i], "item") else votes[i]
            raise LFError(
                f"Vectorized LF {lf!r} returned {value!r:.60} (dtype {votes.dtype}) on row {positions[i]} "
                f"(id {chunk.index[i]!r}); expected integer class ids or -1.",
                lf=lf, position=int(positions[i]), row_id=chunk.index[i],
            )
    _check_range(lf, votes, positions, chunk.index, cardinality)
    return votes


def _run_row_lf(
    lf: LabelingFunction, rows: list[Row], ids: Sequence[Any], positions: np.ndarray,
    cardinality: int | None, fault_tolerant: bool, failures: list[LFFailure],
) -> np.ndarray:
    plain = type(lf).__call__ is LabelingFunction.__call__ and not lf.pre and not lf.resources
    call = lf.f if plain else lf  # skip the wrapper when it has nothing to do
    out: list[Any] = []
    start = 0
    while True:
        try:
            # map() runs the calls without a Python-level loop; list.extend keeps the votes made
            # before a raising call, so after a failure the run resumes at the next row and no LF
            # is ever called twice on a row.
            out.extend(map(call, rows) if start == 0 else map(call, islice(rows, start, None)))
            break
        except Exception as exc:
            i = len(out)
            if not fault_tolerant or isinstance(exc, RowWriteError):  # a write is a bug, never bad data
                _check_votes(lf.name, out, ids, positions, cardinality)  # an earlier bad vote is reported first
                raise LFError(
                    f"LF {lf.name!r} failed on row {positions[i]} (id {ids[i]!r}): {_describe(exc)}",
                    lf=lf.name, position=int(positions[i]), row_id=ids[i],
                ) from exc
            failures.append(LFFailure(lf.name, int(positions[i]), ids[i], _describe(exc)))
            out.append(ABSTAIN)
            start = i + 1
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit & co.: not an Exception, it would end the run with no message
            i = len(out)
            raise _exit_error(lf.name, exc, positions[i], ids[i]) from exc
    return _check_votes(lf.name, out, ids, positions, cardinality)


def _check_votes(
    lf: str, out: list[Any], ids: Sequence[Any], positions: np.ndarray, cardinality: int | None
) -> np.ndarray:
    """The votes of a row LF as an int32 array, after checking each is an int in range."""
    if all(t is int for t in set(map(type, out))):
        try:
            votes = np.asarray(out, dtype=np.int64) if out else np.zeros(0, dtype=np.int64)
        except OverflowError:  # an int beyond int64: the check below names it
            votes = None
        if votes is not None:
            _check_range(lf, votes, positions, ids, cardinality)
            return votes.astype(np.int32)
    # Something other than plain ints: the first offending value gets the full check and message.
    return np.asarray(
        [_check_vote(lf, v, int(positions[i]), ids[i], cardinality) for i, v in enumerate(out)], dtype=np.int32
    )


def _run_batch_lf(
    lf: LabelingFunction, chunk: pd.DataFrame, positions: np.ndarray,
    cardinality: int | None, fault_tolerant: bool, failures: list[LFFailure], view: pd.DataFrame | None = None,
) -> np.ndarray:
    try:
        return _check_batch_output(lf.name, _call_batch(lf, chunk, positions, view), chunk, positions, cardinality)
    except LFError:
        raise
    except Exception as chunk_exc:
        # Find the rows that break it, so the error (or the failure report) names a row, not a chunk.
        votes = np.full(len(chunk), ABSTAIN, dtype=np.int32)
        found = False
        for i in range(len(chunk)):
            one = chunk.iloc[i : i + 1]
            try:
                votes[i] = _check_batch_output(
                    lf.name, _call_batch(lf, one, positions[i : i + 1]), one, positions[i : i + 1], cardinality
                )[0]
            except LFError:
                raise
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                if not isinstance(exc, Exception):  # SystemExit & co. on this row alone
                    raise _exit_error(lf.name, exc, positions[i], chunk.index[i]) from exc
                if not fault_tolerant:
                    raise LFError(
                        f"LF {lf.name!r} failed on row {positions[i]} (id {chunk.index[i]!r}): {_describe(exc)}",
                        lf=lf.name, position=int(positions[i]), row_id=chunk.index[i],
                    ) from exc
                found = True
                failures.append(LFFailure(lf.name, int(positions[i]), chunk.index[i], _describe(exc)))
        if not found and not fault_tolerant:
            raise LFError(
                f"LF {lf.name!r} failed on rows {positions[0]}..{positions[-1]} but on none of them alone: "
                f"{_describe(chunk_exc)}",
                lf=lf.name, position=int(positions[0]),
            ) from chunk_exc
        return votes
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit & co. (after Exception: this catches only what that does not)
        raise _exit_error(lf.name, exc, positions[0]) from exc


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


def label_chunk(
    chunk: pd.DataFrame, positions: np.ndarray | int, lfs: Sequence[LabelingFunction],
    cardinality: int | None = None, fault_tolerant: bool = False,
) -> tuple[np.ndarray, list[LFFailure]]:
    """Votes of every LF on one chunk (rows x LFs, int32) and the failures met on it.

    ``positions`` gives each row's position in the whole data (for error messages), or the
    position of the chunk's first row. The building block of the in-memory, streaming and Dask paths.
    """
    if np.isscalar(positions):
        positions = np.arange(int(positions), int(positions) + len(chunk))
    block = np.full((len(chunk), len(lfs)), ABSTAIN, dtype=np.int32)
    failures: list[LFFailure] = []
    rows: list[Row] | None = None
    guard: _CellGuard | None = None
    view: pd.DataFrame | None = None
    batch_chunk, batch_guard = chunk, None
    for j, lf in enumerate(lfs):
        if lf.vectorized:
            if view is None:
                batch_chunk, batch_guard = _guarded_chunk(chunk)  # list cells copied, as for row LFs
                view = batch_chunk.copy(deep=False)  # copy-on-write: shares the data, not the DataFrame object
            block[:, j] = _run_batch_lf(lf, batch_chunk, positions, cardinality, fault_tolerant, failures, view)
            if batch_guard is not None:
                batch_guard.check(lf.name, chunk.index, positions)
        else:
            if rows is None:
                rows, guard = _rows(chunk)
            block[:, j] = _run_row_lf(lf, rows, chunk.index, positions, cardinality, fault_tolerant, failures)
            if guard is not None:
                guard.check(lf.name, chunk.index, positions)
    return block, failures


def unique_rows(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Group identical rows: ``(codes, first)`` with ``data.iloc[first[codes]]`` equal to ``data`` row by row.

    ``codes[i]`` numbers row ``i``'s distinct content in order of first appearance and ``first[c]``
    is the position where content ``c`` first occurs. Only column values count, not the index.
    Returns None when a column holds unhashable values (lists, dicts), so no dedup is possible.

    Examples
    --------
    >>> codes, first = unique_rows(pd.DataFrame({"text": ["a", "b", "a"]}))
    >>> codes.tolist(), first.tolist()
    ([0, 1, 0], [0, 1])
    """
    # One column's codes at a time (a generator), so memory holds the packed codes and one column.
    columns = (pd.factorize(data[name], use_na_sentinel=False)[0] for name in data.columns)
    try:
        codes, first, _ = group_codes(columns, len(data))
    except TypeError:  # a column of unhashable values
        return None
    return codes, first


DEDUP_SAMPLE = 20_000
DEDUP_MIN_SHARE = 0.05


def worth_dedup(data: pd.DataFrame, lfs: Sequence[LabelingFunction]) -> bool:
    """Whether finding duplicate rows is likely to pay for itself.

    Always for row LFs (a Python call per row costs far more than hashing the row). For batch LFs,
    which cost about as much per row as the hashing, only when an evenly spaced sample of rows
    holds at least 5% duplicates.
    """
    if not all(lf.vectorized for lf in lfs):
        return True

    def count_distinct(positions: np.ndarray) -> int | None:
        groups = unique_rows(data.iloc[positions])
        return None if groups is None else len(groups[1])

    share = sampled_repeat_share(len(data), count_distinct, sample=DEDUP_SAMPLE)
    return share is not None and share >= DEDUP_MIN_SHARE


def _chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def _n_workers(n_jobs: int) -> int:
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


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


def _expand_failures(
    failures: list[LFFailure], data: pd.DataFrame, codes: np.ndarray, first: np.ndarray, offset: int
) -> list[LFFailure]:
    # A failure on a distinct row is a failure on every row holding the same content.
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(first) + 1))
    inverse = np.empty(len(codes), dtype=np.intp)
    inverse[first] = np.arange(len(first))
    out = []
    for f in failures:
        c = inverse[f.position - offset]
        for p in order[starts[c] : starts[c + 1]].tolist():
            out.append(LFFailure(f.lf, p + offset, data.index[p], f.error))
    return out


def compute_votes(
    data: pd.DataFrame,
    lfs: Sequence[LabelingFunction],
    *,
    n_jobs: int = 1,
    progress: bool = True,
    fault_tolerant: bool = False,
    cardinality: int | None = None,
    chunk_size: int | None = None,
    dedup: bool = True,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
    offset: int = 0,
) -> tuple[np.ndarray, list[LFFailure]]:
    """Votes (int16, rows x LFs) and failures of already validated inputs; see :func:`apply_lfs`.

    ``offset`` is the position of ``data``'s first row in a larger data set (streaming), so that
    errors and failures name positions in the whole data.
    """
    n = len(data)
    codes = first = None
    if dedup and (groups is not None or worth_dedup(data, lfs)):
        groups = groups if groups is not None else unique_rows(data)
        if groups is not None and len(groups[1]) < n:
            codes, first = groups
    work = data if codes is None else data.iloc[first]
    positions = (np.arange(n) if codes is None else first) + offset
    n_work = len(work)
    n_workers = _n_workers(n_jobs)
    if chunk_size is None:
        # Enough chunks to keep every worker busy, few enough that per-chunk overhead stays small.
        chunk_size = min(DEFAULT_CHUNK_SIZE, max(256, math.ceil(n_work / (4 * n_workers))))
    bounds = _chunk_bounds(n_work, chunk_size)
    votes = np.empty((n_work, len(lfs)), dtype=np.int16)
    failures: list[LFFailure] = []
    if n_workers == 1:
        results = (label_chunk(work.iloc[s:e], positions[s:e], lfs, cardinality, fault_tolerant) for s, e in bounds)
    else:
        tasks = (
            delayed(label_chunk)(work.iloc[s:e], positions[s:e], lfs, cardinality, fault_tolerant) for s, e in bounds
        )
        results = Parallel(n_jobs=n_workers, return_as="generator")(tasks)
    bar = tqdm(total=n, desc="Applying LFs", unit="row", disable=not progress)
    try:
        for (s, e), (block, errs) in zip(bounds, results):
            votes[s:e] = block
            failures.extend(errs)
            # Scaled from distinct rows to all rows; from the running total so rounding never overshoots n.
            bar.update(round(e * n / n_work) - bar.n)
    finally:
        bar.close()
    if codes is not None:
        votes = votes[codes]
        failures = _expand_failures(failures, data, codes, first, offset)
    order = {lf.name: j for j, lf in enumerate(lfs)}
    failures.sort(key=lambda f: (f.position, order[f.lf]))
    return votes, failures


def finish_matrix(
    votes: np.ndarray, failures: list[LFFailure], lfs: Sequence[LabelingFunction], index: pd.Index,
    cardinality: int | None, *, stacklevel: int = 3,
) -> LabelMatrix:
    """Wrap votes in the smallest int dtype as a LabelMatrix, warning about fault-tolerant failures."""
    if cardinality is not None:
        votes = votes.astype(smallest_int_dtype(cardinality), copy=False)
    elif votes.size and votes.max() < np.iinfo(np.int8).max:
        votes = votes.astype(np.int8)
    if failures:
        by_lf: dict[str, int] = {}
        for f in failures:
            by_lf[f.lf] = by_lf.get(f.lf, 0) + 1
        warnings.warn(
            f"{len(failures)} LF call(s) raised and abstained instead: "
            + ", ".join(f"{k}: {v} row(s)" for k, v in by_lf.items())
            + ". Details in L.failures.",
            stacklevel=stacklevel,
        )
    return LabelMatrix(votes, lf_names=[lf.name for lf in lfs], index=index, failures=failures)
