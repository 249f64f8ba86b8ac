"""Applying labeling functions to a DataFrame: the label matrix."""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .lf import LabelingFunction, check_unique_names
from .matrix import ABSTAIN, LabelMatrix, smallest_int_dtype
from .row import Row

__all__ = ["apply_lfs", "LFError", "LFFailure"]

DEFAULT_CHUNK_SIZE = 10_000


class LFError(RuntimeError):
    """A labeling function raised or returned an invalid vote; names the LF and the row."""

    def __init__(self, message: str, *, lf: str, position: int | None = None, row_id: Any = None) -> None:
        super().__init__(message)
        self.lf = lf
        self.position = position
        self.row_id = row_id


@dataclass(frozen=True)
class LFFailure:
    """One LF call that raised during a fault-tolerant apply (the vote there is ABSTAIN)."""

    lf: str
    position: int
    row_id: Any
    error: str


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _check_vote(lf: str, value: Any, position: int, row_id: Any, cardinality: int | None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        hint = " (return ABSTAIN, i.e. -1, to abstain)" if value is None else ""
        raise LFError(
            f"LF {lf!r} returned {value!r} ({type(value).__name__}) on row {position} (id {row_id!r}); "
            f"expected an integer class id or -1{hint}.",
            lf=lf, position=position, row_id=row_id,
        )
    _check_range(lf, np.asarray([value]), position, [row_id], cardinality)
    return int(value)


def _check_range(lf: str, votes: np.ndarray, start: int, ids: Sequence[Any], cardinality: int | None) -> None:
    upper = cardinality if cardinality is not None else np.iinfo(np.int16).max
    bad = (votes < ABSTAIN) | (votes >= upper)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        expected = f"-1..{cardinality - 1}" if cardinality is not None else "-1 or a class id >= 0"
        raise LFError(
            f"LF {lf!r} voted {votes[i]} on row {start + i} (id {ids[i]!r}); expected {expected}.",
            lf=lf, position=start + i, row_id=ids[i],
        )


def _check_batch_output(lf: str, out: Any, chunk: pd.DataFrame, start: int, cardinality: int | None) -> np.ndarray:
    votes = np.asarray(out)
    if votes.shape != (len(chunk),):
        raise LFError(
            f"Vectorized LF {lf!r} returned shape {votes.shape} for a chunk of {len(chunk)} rows "
            f"(rows {start}..{start + len(chunk) - 1}); expected one vote per row, shape ({len(chunk)},).",
            lf=lf, position=start,
        )
    if votes.dtype.kind not in "iu":
        if votes.dtype.kind == "f":
            bad = ~np.isfinite(votes) | (votes != np.round(votes))
            if not bad.any():
                votes = votes.astype(np.int64)
        if votes.dtype.kind not in "iu":
            i = int(np.flatnonzero(bad)[0]) if votes.dtype.kind == "f" else 0
            raise LFError(
                f"Vectorized LF {lf!r} returned {votes[i].item()!r} (dtype {votes.dtype}) on row {start + i} "
                f"(id {chunk.index[i]!r}); expected integer class ids or -1.",
                lf=lf, position=start + i, row_id=chunk.index[i],
            )
    _check_range(lf, votes, start, chunk.index, cardinality)
    return votes


def _run_row_lf(
    lf: LabelingFunction, rows: list[Row], ids: Sequence[Any], start: int,
    cardinality: int | None, fault_tolerant: bool, failures: list[LFFailure],
) -> np.ndarray:
    votes = np.empty(len(rows), dtype=np.int32)
    for i, row in enumerate(rows):
        try:
            value = lf(row)
        except Exception as exc:
            if not fault_tolerant:
                raise LFError(
                    f"LF {lf.name!r} failed on row {start + i} (id {ids[i]!r}): {_describe(exc)}",
                    lf=lf.name, position=start + i, row_id=ids[i],
                ) from exc
            failures.append(LFFailure(lf.name, start + i, ids[i], _describe(exc)))
            value = ABSTAIN
        votes[i] = _check_vote(lf.name, value, start + i, ids[i], cardinality)
    return votes


def _run_batch_lf(
    lf: LabelingFunction, chunk: pd.DataFrame, start: int,
    cardinality: int | None, fault_tolerant: bool, failures: list[LFFailure],
) -> np.ndarray:
    try:
        return _check_batch_output(lf.name, lf(chunk), chunk, start, cardinality)
    except LFError:
        raise
    except Exception as chunk_exc:
        # Find the rows that break it, so the error (or the failure report) names a row, not a chunk.
        votes = np.full(len(chunk), ABSTAIN, dtype=np.int32)
        for i in range(len(chunk)):
            one = chunk.iloc[i : i + 1]
            try:
                votes[i] = _check_batch_output(lf.name, lf(one), one, start + i, cardinality)[0]
            except LFError:
                raise
            except Exception as exc:
                if not fault_tolerant:
                    raise LFError(
                        f"LF {lf.name!r} failed on row {start + i} (id {chunk.index[i]!r}): {_describe(exc)}",
                        lf=lf.name, position=start + i, row_id=chunk.index[i],
                    ) from exc
                failures.append(LFFailure(lf.name, start + i, chunk.index[i], _describe(exc)))
        if not fault_tolerant and not failures:
            raise LFError(
                f"LF {lf.name!r} failed on rows {start}..{start + len(chunk) - 1} but on none of them alone: "
                f"{_describe(chunk_exc)}",
                lf=lf.name, position=start,
            ) from chunk_exc
        return votes


def _label_chunk(
    chunk: pd.DataFrame, start: int, lfs: Sequence[LabelingFunction],
    cardinality: int | None, fault_tolerant: bool,
) -> tuple[np.ndarray, list[LFFailure]]:
    block = np.full((len(chunk), len(lfs)), ABSTAIN, dtype=np.int32)
    failures: list[LFFailure] = []
    rows: list[Row] | None = None
    for j, lf in enumerate(lfs):
        if lf.vectorized:
            block[:, j] = _run_batch_lf(lf, chunk, start, cardinality, fault_tolerant, failures)
        else:
            if rows is None:
                rows = [Row(r) for r in chunk.to_dict("records")]
            block[:, j] = _run_row_lf(lf, rows, chunk.index, start, cardinality, fault_tolerant, failures)
    return block, failures


def _chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def apply_lfs(
    data: pd.DataFrame,
    lfs: Iterable[LabelingFunction],
    *,
    n_jobs: int = 1,
    progress: bool = True,
    fault_tolerant: bool = False,
    cardinality: int | None = None,
    chunk_size: int | None = None,
) -> LabelMatrix:
    """Apply labeling functions to every row of ``data``.

    Parameters
    ----------
    data : DataFrame
        One row per example; its index becomes the label matrix's row ids.
    lfs : iterable of LabelingFunction
        Row LFs and vectorized LFs may be mixed; names must be unique.
    n_jobs : int
        Worker processes (joblib); ``-1`` uses every core. All settings give the same matrix.
    progress : bool
        Show a tqdm progress bar over chunks.
    fault_tolerant : bool
        When an LF raises, abstain on that row and go on; the failures are in
        ``L.failures`` and summarised in a warning. Otherwise the first failure
        stops the run with :class:`LFError` naming the LF, row position and id.
    cardinality : int, optional
        Number of classes; votes must then lie in ``-1..cardinality-1``.
    chunk_size : int, optional
        Rows per chunk handed to vectorized LFs and to workers.

    Returns
    -------
    LabelMatrix
        int8 (int16 for more than 127 classes) votes, rows x LFs.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["check out my channel", "great song"]})
    >>> @labeling_function()
    ... def lf_check_out(x):
    ...     return 1 if "check out" in x.text else -1
    >>> apply_lfs(df, [lf_check_out], progress=False).values.ravel().tolist()
    [1, -1]
    """
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name or "text")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (one row per example); got {type(data).__name__}.")
    lfs = list(lfs)
    if not lfs:
        raise ValueError("No labeling functions given; pass a non-empty list of LFs.")
    check_unique_names(lfs)
    if cardinality is not None and cardinality < 2:
        raise ValueError(f"cardinality={cardinality}; expected at least 2 classes.")
    n, m = len(data), len(lfs)
    if n == 0:
        raise ValueError("data has no rows; nothing to label.")
    n_workers = n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    if chunk_size is None:
        # Enough chunks to keep every worker busy, few enough that per-chunk overhead stays small.
        chunk_size = min(DEFAULT_CHUNK_SIZE, max(256, math.ceil(n / (4 * n_workers))))
    bounds = _chunk_bounds(n, chunk_size)
    dtype = smallest_int_dtype(cardinality)
    out = np.empty((n, m), dtype=np.int16 if cardinality is None else dtype)
    failures: list[LFFailure] = []
    tasks = (delayed(_label_chunk)(data.iloc[s:e], s, lfs, cardinality, fault_tolerant) for s, e in bounds)
    if n_workers == 1:
        results = (_label_chunk(data.iloc[s:e], s, lfs, cardinality, fault_tolerant) for s, e in bounds)
    else:
        results = Parallel(n_jobs=n_workers, return_as="generator")(tasks)
    bar = tqdm(total=n, desc="Applying LFs", unit="row", disable=not progress)
    try:
        for (s, e), (block, errs) in zip(bounds, results):
            out[s:e] = block
            failures.extend(errs)
            bar.update(e - s)
    finally:
        bar.close()
    if cardinality is None and out.size and out.max() < np.iinfo(np.int8).max:
        out = out.astype(np.int8)
    if failures:
        by_lf: dict[str, int] = {}
        for f in failures:
            by_lf[f.lf] = by_lf.get(f.lf, 0) + 1
        warnings.warn(
            f"{len(failures)} LF call(s) raised and abstained instead: "
            + ", ".join(f"{k}: {v} row(s)" for k, v in by_lf.items())
            + ". Details in L.failures.",
            stacklevel=2,
        )
    return LabelMatrix(out, lf_names=[lf.name for lf in lfs], index=data.index, failures=failures)
