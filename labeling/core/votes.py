"""Computing votes: the engine that :func:`~labeling.apply_lfs`, the cache, streaming and Dask share.

Each path validates its input with :func:`~labeling.core.guards.validate_input`, labels chunks with
:func:`label_chunk` (through :func:`compute_votes`, which also labels each distinct row once, see
:func:`~labeling.core.patterns.distinct_rows`) and wraps the votes with :func:`finish_matrix`. Nothing here
knows about caching or files.
"""

from __future__ import annotations

import math
import os
import warnings
from itertools import islice
from typing import Any, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .lf import LabelingFunction
from .matrix import ABSTAIN, LabelMatrix, smallest_int_dtype
from .patterns import distinct_rows, worth_dedup
from .row import Row, RowWriteError

from .errors import LFError, LFFailure, _describe, _exit_error
from .guards import _CellGuard, _check_unchanged, _guarded_chunk, _rows

__all__ = ["label_chunk", "compute_votes", "finish_matrix"]


DEFAULT_CHUNK_SIZE = 10_000


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


def _chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def _n_workers(n_jobs: int) -> int:
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


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
        if groups is None:
            found = distinct_rows(data)
            groups = None if found is None else found[:2]
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
