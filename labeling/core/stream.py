"""Apply LFs to CSV / JSONL / Parquet files larger than memory, chunk by chunk, votes written to disk.

Memory stays bounded by one chunk: rows are read ``chunk_size`` at a time, labelled with the same
code as :func:`~labeling.apply_lfs`, appended to a ``.npy`` file (readable as a memory map) and
counted into :class:`~labeling.PatternCounts`, from which a label model is fitted without ever
holding the whole matrix.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .fileio import (
    COMPRESSION_ERRORS, check_csv_warnings, check_npy_header, check_text_cells, check_writable, csv_error, detect_format,
    duplicate_header, is_compression_error, iter_jsonl,
    load_json, parquet_duplicate_columns, sniff_encoding, text_as_written,
)
from .errors import LFFailure
from .guards import check_lfs, check_options, validate_input
from .votes import compute_votes
from .lf import LabelingFunction
from .matrix import LabelMatrix, smallest_int_dtype
from .outputs import check_outputs, output_lock
from .patterns import PatternCounts

__all__ = ["apply_lfs_to_file", "iter_chunks", "StreamResult", "read_votes"]

_HEADER_BYTES = 128  # fixed, so the header can be rewritten with the final row count


def _format_of(path: Path, format: str | None) -> str:
    # The reader family: TSV is read by the CSV reader (with a tab separator, see iter_chunks), and
    # resumable runs record "csv" for it.
    fmt = detect_format(path, format)
    return "csv" if fmt == "tsv" else fmt


def _csv_sep(path: Path, format: str | None) -> str:
    # A tab for TSV named by format= or by any of the file's extensions (rows.tsv.gz, or a .tsv read
    # with format="csv").
    return "\t" if format == "tsv" or ".tsv" in [s.lower() for s in path.suffixes] else ","


def iter_chunks(
    path: str | os.PathLike,
    *,
    chunk_size: int = 100_000,
    format: str | None = None,
    columns: Sequence[str] | None = None,
    **read_options: Any,
) -> Iterator[pd.DataFrame]:
    """Yield a file's rows as DataFrames of at most ``chunk_size`` rows, reading lazily.

    Parameters
    ----------
    path : path-like
        A CSV (``.csv``, ``.tsv``), JSON-lines (``.jsonl``, ``.ndjson``, ``.json``) or Parquet file;
        ``.gz`` etc. compression is understood for CSV and JSONL.
    chunk_size : int
        Rows per chunk.
    format : {"csv", "tsv", "jsonl", "parquet"}, optional
        Overrides the guess from the extension (:func:`labeling.core.fileio.detect_format`).
    columns : sequence of str, optional
        Read only these columns.
    **read_options
        Passed to ``pandas.read_csv`` / ``pandas.read_json`` / ``pyarrow.parquet.ParquetFile.iter_batches``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size}; expected a positive number of rows.")
    fmt = _format_of(path, format)
    if fmt == "csv":
        if _csv_sep(path, format) == "\t":  # only then: a caller's delimiter= must not meet a sep= it did not give
            read_options.setdefault("sep", "\t")
        # index_col=False: a trailing comma on the data rows must not make the first field the
        # index and shift every column; the encoding follows a byte-order mark when there is one.
        read_options.setdefault("index_col", False)
        read_options.setdefault("encoding", sniff_encoding(path))
        try:
            with pd.read_csv(path, chunksize=chunk_size, usecols=columns, **read_options) as reader:
                checked, first = False, True
                while True:
                    # Warnings caught per chunk (never around the yield, which runs the caller's code).
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", pd.errors.ParserWarning)
                        try:
                            chunk = next(reader)
                        except StopIteration:
                            break
                    # Longer rows are looked into once per file (the look reads the whole file).
                    if not checked and first:
                        twice = duplicate_header(path, chunk.columns, read_options)
                        if twice:
                            raise ValueError(twice)
                    first = False
                    checked |= check_csv_warnings(caught, path, sep=read_options.get("sep", ","),
                                                  encoding=read_options["encoding"], check_fields=not checked)
                    yield chunk
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, *COMPRESSION_ERRORS) as exc:
            raise csv_error(path, exc, read_options["encoding"]) from None
        except OSError as exc:  # bz2's "Invalid data stream" is a plain OSError
            if not is_compression_error(path, exc):
                raise
            raise csv_error(path, exc, read_options["encoding"]) from None
        except ValueError as exc:  # e.g. usecols naming a column the file lacks
            if str(exc).startswith(str(path)):
                raise
            raise ValueError(f"{path}: {exc}") from None
    elif fmt == "jsonl":
        encoding = read_options.pop("encoding", None)
        if read_options:
            raise TypeError(f"{path}: JSON lines take only encoding= as a read option; got {sorted(read_options)}.")
        # Read line by line (not pandas' reader): a malformed line is reported with its file and line number.
        records: list[dict] = []
        for _, rec in iter_jsonl(path, encoding=encoding):
            records.append(rec)
            if len(records) == chunk_size:
                yield _jsonl_frame(records, columns, path)
                records = []
        if records:
            yield _jsonl_frame(records, columns, path)
    else:
        import pyarrow.parquet as pq

        # pre_buffer would keep every row group's raw bytes until the file is closed: memory
        # would grow with the file.
        try:
            pf = pq.ParquetFile(path, pre_buffer=False)
        except Exception as exc:
            raise ValueError(f"{path}: not a readable Parquet file ({exc}).") from None
        with pf:
            names = pf.schema_arrow.names
            twice = parquet_duplicate_columns(path)
            if twice:
                raise ValueError(twice)
            missing = [c for c in columns or () if c not in names]
            if missing:  # pyarrow would silently return no such column
                raise KeyError(f"{path}: no column(s) {missing}; the columns are {names}.")
            try:
                batches = pf.iter_batches(batch_size=chunk_size, columns=columns, **read_options)
                for batch in batches:
                    yield batch.to_pandas()
            except (KeyError, ValueError, OSError) as exc:  # pyarrow's messages do not name the file
                if str(exc).startswith(str(path)):
                    raise
                raise ValueError(f"{path}: {exc}") from None


def _jsonl_frame(records: list[dict], columns: Sequence[str] | None, path: Path) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{path}: no column(s) {missing}; the columns are {list(frame.columns)}.")
    return frame[list(columns)]


def _npy_header(shape: tuple[int, int], dtype: np.dtype) -> bytes:
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    body = text.ljust(_HEADER_BYTES - 10 - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body.encode("latin1")


@dataclass
class StreamResult:
    """What :func:`apply_lfs_to_file` wrote and gathered.

    Attributes
    ----------
    path : Path
        The ``.npy`` file of votes (rows x LFs); ``np.load(path, mmap_mode="r")`` maps it.
    lf_names : list of str
        Column names.
    n_rows : int
        Rows labelled.
    patterns : PatternCounts
        Distinct vote rows with counts, for :func:`~labeling.fit_from_patterns`.
    failures : list of LFFailure
        The first ``max_failures`` failures of a fault-tolerant run.
    n_failures : int
        All failures.
    ids_path : Path or None
        Parquet file with the row ids (``id_column``), one per row of votes.
    """

    path: Path
    lf_names: list[str]
    n_rows: int
    patterns: PatternCounts
    failures: list[LFFailure] = field(default_factory=list)
    n_failures: int = 0
    ids_path: Path | None = None

    def votes(self) -> np.ndarray:
        """The votes as a read-only memory map (nothing is loaded until indexed)."""
        check_npy_header(self.path)
        return np.load(self.path, mmap_mode="r")

    def label_matrix(self, *, mmap: bool = True) -> LabelMatrix:
        """The votes with LF names and row ids (see :func:`read_votes`)."""
        return read_votes(self.path, mmap=mmap)


def read_votes(path: str | os.PathLike, *, mmap: bool = True) -> LabelMatrix:
    """Open votes written by :func:`apply_lfs_to_file` as a LabelMatrix (memory-mapped by default)."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not path.exists():
        partial = _partial(path)
        hint = f" (an unfinished run left {partial.name}: rerun with resume=True)" if partial.exists() else ""
        raise FileNotFoundError(f"No such votes file: {path}{hint}")
    if not meta_path.exists():
        # apply_lfs_to_file writes the .json last: without it the run that wrote the votes did not finish
        # (or the file is not one of its outputs), and its rows may not be what the names say.
        raise ValueError(
            f"{path} has no {meta_path.name} beside it: the run that wrote it did not finish (the .json is "
            "written last), or the file is not an output of apply_lfs_to_file. Run apply_lfs_to_file again."
        )
    meta = load_json(meta_path)
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected a JSON object (lf_names, n_rows, ids); got {type(meta).__name__}.")
    try:
        check_npy_header(path)
        values = np.load(path, mmap_mode="r" if mmap else None)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path} is not a votes file written by apply_lfs_to_file ({exc}).") from None
    if "n_rows" in meta and meta["n_rows"] != len(values):
        raise ValueError(
            f"{meta_path} says {meta['n_rows']} rows but {path} holds {len(values)}; the two come from different "
            "runs. Run apply_lfs_to_file again."
        )
    index = None
    if meta.get("ids"):
        try:
            index = pd.read_parquet(path.parent / meta["ids"]).iloc[:, 0].to_numpy()
        except (OSError, ValueError) as exc:  # pyarrow's message names no file
            raise ValueError(f"{path.parent / meta['ids']}: the row ids of {path.name} cannot be read ({exc}).") from None
        if len(index) != len(values):
            raise ValueError(f"{path.parent / meta['ids']} has {len(index)} row ids for {len(values)} rows of votes.")
    return LabelMatrix(values, lf_names=meta.get("lf_names"), index=index)


def _partial(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def _progress(out: Path) -> Path:
    return out.with_name(out.name + ".progress.json")


def _source_stamp(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"source": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str))
    os.replace(tmp, path)


def apply_lfs_to_file(
    path: str | os.PathLike,
    lfs: Iterable[LabelingFunction],
    out: str | os.PathLike,
    *,
    chunk_size: int = 100_000,
    format: str | None = None,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
    text_column: str | None = "text",
    n_jobs: int = 1,
    fault_tolerant: bool = False,
    cardinality: int | None = None,
    dedup: bool = True,
    max_failures: int = 1000,
    progress: bool = True,
    read_options: dict[str, Any] | None = None,
    resume: bool = False,
) -> StreamResult:
    """Apply LFs to every row of a file, ``chunk_size`` rows at a time, writing the votes to ``out``.

    Gives the same votes as ``apply_lfs(read_table(path), lfs)`` with memory bounded by one chunk:
    peak memory does not grow with the file. Row positions in errors and failures count from the
    start of the file.

    Parameters
    ----------
    path : path-like
        CSV, JSONL or Parquet file (see :func:`iter_chunks`).
    lfs : iterable of LabelingFunction
        Row and vectorized LFs.
    out : path-like
        The ``.npy`` file to write (rows x LFs, int8 unless ``cardinality`` needs int16). A
        ``.json`` file with the LF names, and with ``id_column`` a ``.ids.parquet`` file with
        the row ids, are written beside it.
    chunk_size : int
        Rows read, labelled and written at a time.
    format, columns, read_options
        How to read the file (see :func:`iter_chunks`).
    id_column : str, optional
        Column holding row ids (made the chunk's index, as in ``sources.read_csv``).
    text_column : str or None
        Missing values in this column become ``""``, as in ``sources.read_csv``.
    n_jobs, fault_tolerant, cardinality, dedup
        As in :func:`~labeling.apply_lfs` (dedup works within each chunk).
    max_failures : int
        Failures kept in the result (all are counted).
    progress : bool
        Show a progress bar.
    resume : bool
        Continue an unfinished run (killed, or stopped by an error) from its last finished chunk
        instead of starting over, when the file, the LFs' names, ``chunk_size`` and the read
        options are the same. Failures of the chunks done before are counted, not listed.

    Notes
    -----
    The votes are written to ``out + ".partial"`` (with a ``.progress.json`` beside it, updated
    after each chunk) and renamed to ``out`` only when every row is labelled; the ``.json``
    metadata is removed before the renames and written after them. So an earlier result is never
    overwritten in place, and no set of files looks complete when it is not.

    Returns
    -------
    StreamResult
        Paths, LF names, row count, vote patterns and failures.

    Examples
    --------
    >>> result = apply_lfs_to_file("comments.csv", lfs, "votes.npy", cardinality=2)  # doctest: +SKIP
    >>> model = fit_from_patterns(MajorityVote(), result.patterns.patterns, result.patterns.counts)  # doctest: +SKIP
    """
    lfs = check_lfs(lfs, cardinality)
    check_options(n_jobs, chunk_size)
    out = Path(out)
    if out.suffix != ".npy":
        raise ValueError(f"out={str(out)!r}; the votes are written as a .npy file, so give a path ending in .npy.")
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"No such file: {source}")
    ids_path = out.with_suffix(".ids.parquet") if id_column is not None else None
    # Before any work: no output (nor the .json and id files written beside it) may be the file read,
    # and an unwritable output fails now, not after the run.
    written = {"out": out, "the votes' metadata": out.with_suffix(".json"), "the row ids": ids_path,
               "the unfinished votes": _partial(out), "the progress file": _progress(out)}
    check_outputs(written, {"path": source})
    check_writable(out, what="votes file")
    with output_lock(out, what="votes file"):  # one run at a time per output: two would share one .partial file
        return _apply_to_file(
            source, lfs, out, ids_path, chunk_size=chunk_size, format=format, columns=columns, id_column=id_column,
            text_column=text_column, n_jobs=n_jobs, fault_tolerant=fault_tolerant, cardinality=cardinality,
            dedup=dedup, max_failures=max_failures, progress=progress, read_options=read_options, resume=resume,
        )


def _lf_identity(lfs: Sequence[LabelingFunction]) -> tuple[list[str], list[str]]:
    """The fingerprint of each LF (what a resumed run must share), and the LFs that have none."""
    from .fingerprint import lf_fingerprint  # the cache's recipe: code, globals, resources, preprocessors, state

    prints, unknown = [], []
    for lf in lfs:
        try:
            prints.append(lf_fingerprint(lf))
        except TypeError:
            prints.append(f"unknown:{lf.name}")
            unknown.append(lf.name)
    return prints, unknown


def _resume_point(out: Path, plan: dict[str, Any], unknown: list[str]) -> tuple[int, int, int]:
    """``(chunks, rows, failures)`` already done by the unfinished run that ``resume=True`` continues.

    ``(0, 0, 0)`` when there is none, or when it labelled another file, other LFs (by fingerprint:
    an edited LF under the same name is another LF) or with other settings; the latter say so.

    Raises
    ------
    ValueError
        When the run cannot be checked: a votes file without its ``.json`` (a run killed while it
        renamed its files), or an LF whose fingerprint cannot be taken.
    """
    partial, progress_path, meta_path = _partial(out), _progress(out), out.with_suffix(".json")
    if not progress_path.exists():
        return 0, 0, 0
    if out.exists() and not meta_path.exists() and not partial.exists():
        raise ValueError(
            f"resume=True: {out} has no {meta_path.name} beside it and {progress_path.name} says a run was under way: "
            "that run was stopped while it renamed its files, so what is there cannot be checked. Run again with "
            "resume=False."
        )
    if not partial.exists():
        return 0, 0, 0
    if unknown:
        raise ValueError(
            f"resume=True: cannot tell whether LF {unknown[0]!r} is the LF that labelled the first rows of {out.name} "
            "(its fingerprint cannot be taken: see labeling.lf_fingerprint); run again with resume=False, or "
            "declare what it reads with resources= or cache_key=."
        )
    try:
        state = load_json(progress_path)
    except ValueError:
        state = {}
    before = state.get("plan") if isinstance(state, dict) else None
    if before == plan:
        return state["chunks"], state["n_rows"], state["n_failures"]
    if isinstance(before, dict):
        changed = [k for k in plan if before.get(k) != plan[k]]
        if "lf_fingerprints" in changed and before.get("lf_names") == plan["lf_names"]:
            old = before.get("lf_fingerprints") or []
            edited = [n for n, a, b in zip(plan["lf_names"], plan["lf_fingerprints"], old) if a != b]
            changed = [f"LF {edited[0]!r} (edited)" if edited else "the LFs"] + [c for c in changed if c != "lf_fingerprints"]
        warnings.warn(
            f"resume=True: the unfinished run into {out.name} used another {', '.join(changed)}; starting afresh.",
            stacklevel=4,
        )
    return 0, 0, 0


def _apply_to_file(
    source: Path, lfs: list[LabelingFunction], out: Path, ids_path: Path | None, *, chunk_size: int,
    format: str | None, columns: Sequence[str] | None, id_column: str | None, text_column: str | None, n_jobs: int,
    fault_tolerant: bool, cardinality: int | None, dedup: bool, max_failures: int, progress: bool,
    read_options: dict[str, Any] | None, resume: bool,
) -> StreamResult:
    dtype = smallest_int_dtype(cardinality)
    names = [lf.name for lf in lfs]
    patterns = PatternCounts(names)
    failures: list[LFFailure] = []
    n_failures = 0
    n = 0
    partial, progress_path = _partial(out), _progress(out)
    ids_partial = _partial(ids_path) if ids_path is not None else None
    # What a resumed run must share with the one it continues; any difference starts afresh.
    prints, unknown = _lf_identity(lfs)
    plan = {
        **_source_stamp(source), "lf_names": names, "lf_fingerprints": prints, "chunk_size": chunk_size, "dtype": np.dtype(dtype).str,
        "format": _format_of(source, format), "columns": list(columns) if columns else None, "id_column": id_column,
    }
    done_chunks = 0
    if resume:
        done_chunks, n, n_failures = _resume_point(out, plan, unknown)
    ids_writer = None
    total = None
    if plan["format"] == "parquet":
        import pyarrow.parquet as pq

        try:
            with pq.ParquetFile(source) as pf:
                total = pf.metadata.num_rows
        except Exception as exc:
            raise ValueError(f"{source}: not a readable Parquet file ({exc}).") from None
    bar = tqdm(total=total, desc="Applying LFs", unit="row", disable=not progress)
    read_options = dict(read_options or {})
    if plan["format"] == "csv" and text_column is not None and not (
        {"dtype", "na_values", "keep_default_na", "converters"} & set(read_options)
    ):
        # As sources.read_csv: the text column as written ("NA" is a text, "007" keeps its zeros).
        sep = read_options.get("sep", _csv_sep(source, format))
        read_options.update(text_as_written(
            source, text_column, {**read_options, "sep": sep, "index_col": False,
                                  "encoding": read_options.get("encoding") or sniff_encoding(source)}))
    chunks = iter_chunks(source, chunk_size=chunk_size, format=format, columns=columns, **read_options)
    row_bytes = len(lfs) * np.dtype(dtype).itemsize
    id_check = _UniqueIds(source, id_column)
    try:
        # Everything is written under temporary names and renamed only when complete: a killed run
        # leaves the previous result as it was, plus a .partial file it can resume from.
        with open(partial, "r+b" if done_chunks else "wb") as fh:
            if done_chunks:
                fh.truncate(_HEADER_BYTES + n * row_bytes)  # whatever came after the last finished chunk
                done = np.memmap(partial, dtype=dtype, mode="r", offset=_HEADER_BYTES, shape=(n, len(lfs))) if n else None
                for s0 in range(0, n, chunk_size):
                    patterns.add(np.asarray(done[s0 : s0 + chunk_size]))
                del done
                fh.seek(0, os.SEEK_END)
                bar.update(n)
            else:
                fh.write(_npy_header((0, len(lfs)), dtype))
            start = 0
            for k, chunk in enumerate(chunks):
                if not len(chunk):
                    continue  # a CSV with a header and no rows gives one empty chunk: reported below, by file
                chunk = _prepare_chunk(chunk, source, start, text_column, id_column)
                if id_column is not None:
                    id_check.add(chunk.index, start)
                if k < done_chunks:  # labelled by the run this one resumes: only its row ids are needed
                    if ids_partial is not None:
                        ids_writer = _write_ids(ids_writer, ids_partial, chunk.index)
                    start += len(chunk)
                    continue
                chunk, _ = validate_input(chunk, lfs, cardinality)
                votes, errs = compute_votes(
                    chunk, lfs, n_jobs=n_jobs, progress=False, fault_tolerant=fault_tolerant,
                    cardinality=cardinality, dedup=dedup, offset=start,
                )
                if cardinality is None and votes.size and votes.max() > np.iinfo(dtype).max:
                    raise ValueError(
                        f"An LF voted {votes.max()}, more than fits the int8 file; pass cardinality= to store larger class ids."
                    )
                block = votes.astype(dtype)
                fh.write(block.tobytes())
                fh.flush()
                patterns.add(block)
                n_failures += len(errs)
                failures.extend(errs[: max(0, max_failures - len(failures))])
                if ids_partial is not None:
                    ids_writer = _write_ids(ids_writer, ids_partial, chunk.index)
                start += len(chunk)
                n = start
                bar.update(len(chunk))
                _write_json(progress_path, {"plan": plan, "chunks": k + 1, "n_rows": n, "n_failures": n_failures})
            if start < n:
                raise ValueError(f"{source} has {start} rows now but {n} were labelled before; it changed. Rerun without resume.")
            fh.seek(0)
            fh.write(_npy_header((n, len(lfs)), dtype))
    finally:
        bar.close()
        if ids_writer is not None:
            ids_writer.close()
    if ids_partial is not None and n:
        id_check.check(ids_partial)
    if n == 0:
        partial.unlink(missing_ok=True)
        progress_path.unlink(missing_ok=True)
        if ids_partial is not None:
            ids_partial.unlink(missing_ok=True)
        raise ValueError(f"{source} has no rows (a header at most); nothing to label. Check that it is the file you meant.")
    meta_path = out.with_suffix(".json")
    meta = {"lf_names": names, "n_rows": n, "source": source.name, "ids": ids_path.name if ids_path else None}
    # The .json is what says a result is complete: it goes first and comes back last, so a run
    # killed between the renames leaves no .json claiming rows that the files do not hold.
    meta_path.unlink(missing_ok=True)
    if ids_partial is not None:
        os.replace(ids_partial, ids_path)
    os.replace(partial, out)
    _write_json(meta_path, meta)
    progress_path.unlink(missing_ok=True)
    if n_failures:
        warnings.warn(
            f"{n_failures} LF call(s) raised and abstained instead. The first {len(failures)} are in result.failures.",
            stacklevel=2,
        )
    return StreamResult(out, names, n, patterns, failures, n_failures, ids_path)


def _prepare_chunk(
    chunk: pd.DataFrame, source: Path, start: int, text_column: str | None, id_column: str | None
) -> pd.DataFrame:
    if text_column is not None and text_column in chunk.columns:
        check_text_cells(chunk, text_column, str(source), start=start)
    if text_column is not None and text_column in chunk.columns and chunk[text_column].isna().any():
        chunk[text_column] = chunk[text_column].fillna("")
    if id_column is not None:
        if id_column not in chunk.columns:
            raise KeyError(f"{source}: no id column {id_column!r}; the columns are {list(chunk.columns)}.")
        return chunk.set_index(id_column, drop=False)
    chunk.index = pd.RangeIndex(start, start + len(chunk))
    return chunk


class _UniqueIds:
    """Refuses a repeated row id across the whole file, as ``sources.read_table`` does, in bounded memory.

    Within a chunk the ids are compared as they are; across chunks by a 64-bit hash of each id (8 bytes
    a row), and a repeated hash is confirmed on the ids themselves before anything is reported.
    """

    def __init__(self, source: Path, id_column: str | None) -> None:
        self.source, self.id_column = source, id_column
        self.hashes: list[np.ndarray] = []

    def _fail(self, value: Any, first: int, second: int) -> None:
        value = value.item() if hasattr(value, "item") else value
        raise ValueError(
            f"{self.source}: id column {self.id_column!r} has duplicate value {value!r} (rows {first} and {second}); "
            "row ids must be unique so that labels can be traced back to rows."
        )

    def add(self, index: pd.Index, start: int) -> None:
        dup = index.duplicated()
        if dup.any():
            i = int(dup.argmax())
            self._fail(index[i], start + int(index.get_indexer_for([index[i]])[0]), start + i)
        self.hashes.append(pd.util.hash_array(np.asarray(index, dtype=object)))

    def check(self, ids_path: Path) -> None:
        if len(self.hashes) < 2:
            return  # one chunk: checked as it was read
        hashes = np.concatenate(self.hashes)
        order = np.argsort(hashes, kind="stable")
        same = np.flatnonzero(hashes[order][1:] == hashes[order][:-1])
        if not len(same):
            return
        ids = pd.read_parquet(ids_path).iloc[:, 0].tolist()
        for i in same.tolist():
            a, b = int(order[i]), int(order[i + 1])
            if type(ids[a]) is type(ids[b]) and ids[a] == ids[b]:
                self._fail(ids[b], min(a, b), max(a, b))


def _write_ids(writer: Any, path: Path, index: pd.Index) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.table({"id": pa.array(index.to_numpy())})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        elif table.schema != writer.schema:
            table = table.cast(writer.schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        # Ids of mixed types ([1, "1"]) cannot share one column: say so instead of pyarrow's message.
        first = index[0] if len(index) else None
        raise TypeError(
            f"The row ids (id_column) cannot be stored in one Parquet column: {str(exc)[:120]} (ids such as "
            f"{first!r}); give every id the same type, e.g. all strings."
        ) from None
    writer.write_table(table)
    return writer
