"""Apply LFs to CSV / JSONL / Parquet files larger than memory, chunk by chunk, votes written to disk.

Memory stays bounded by one chunk: rows are read ``chunk_size`` at a time, labelled with the same
code as :func:`~labeling.apply_lfs`, appended to a ``.npy`` file (readable as a memory map) and
counted into :class:`~labeling.PatternCounts`, from which a label model is fitted without ever
holding the whole matrix.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .votes import LFFailure, check_lfs, compute_votes, validate_input
from .lf import LabelingFunction
from .matrix import LabelMatrix, smallest_int_dtype
from .patterns import PatternCounts

__all__ = ["apply_lfs_to_file", "iter_chunks", "StreamResult", "read_votes"]

FORMATS = ("csv", "jsonl", "parquet")
_HEADER_BYTES = 128  # fixed, so the header can be rewritten with the final row count


def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"format={format!r} is not one of {set(FORMATS)}.")
        return format
    suffixes = [s.lower() for s in path.suffixes]
    for fmt, exts in (("csv", {".csv", ".tsv"}), ("jsonl", {".jsonl", ".ndjson", ".json"}), ("parquet", {".parquet", ".pq"})):
        if exts & set(suffixes):
            return fmt
    raise ValueError(f"Cannot tell the format of {path.name!r} from its extension; pass format= one of {set(FORMATS)}.")


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
        A CSV (``.csv``, ``.tsv``), JSON-lines (``.jsonl``, ``.ndjson``) or Parquet file;
        ``.gz`` etc. compression is understood for CSV and JSONL.
    chunk_size : int
        Rows per chunk.
    format : {"csv", "jsonl", "parquet"}, optional
        Overrides the guess from the extension.
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
        if path.suffix.lower() == ".tsv" or ".tsv" in path.suffixes:
            read_options.setdefault("sep", "\t")
        with pd.read_csv(path, chunksize=chunk_size, usecols=columns, **read_options) as reader:
            yield from reader
    elif fmt == "jsonl":
        read_options.setdefault("dtype", False)  # keep values as written (no guessing of types or dates)
        with pd.read_json(path, lines=True, chunksize=chunk_size, **read_options) as reader:
            for chunk in reader:
                yield chunk if columns is None else chunk[list(columns)]
    else:
        import pyarrow.parquet as pq

        # pre_buffer would keep every row group's raw bytes until the file is closed: memory
        # would grow with the file.
        with pq.ParquetFile(path, pre_buffer=False) as pf:
            for batch in pf.iter_batches(batch_size=chunk_size, columns=columns, **read_options):
                yield batch.to_pandas()


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
        return np.load(self.path, mmap_mode="r")

    def label_matrix(self, *, mmap: bool = True) -> LabelMatrix:
        """The votes with LF names and row ids (see :func:`read_votes`)."""
        return read_votes(self.path, mmap=mmap)


def read_votes(path: str | os.PathLike, *, mmap: bool = True) -> LabelMatrix:
    """Open votes written by :func:`apply_lfs_to_file` as a LabelMatrix (memory-mapped by default)."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    values = np.load(path, mmap_mode="r" if mmap else None)
    index = None
    if meta.get("ids"):
        index = pd.read_parquet(path.parent / meta["ids"]).iloc[:, 0].to_numpy()
    return LabelMatrix(values, lf_names=meta.get("lf_names"), index=index)


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
    out = Path(out)
    if out.suffix != ".npy":
        raise ValueError(f"out={str(out)!r}; the votes are written as a .npy file, so give a path ending in .npy.")
    dtype = smallest_int_dtype(cardinality)
    names = [lf.name for lf in lfs]
    patterns = PatternCounts(names)
    failures: list[LFFailure] = []
    n_failures = 0
    n = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    ids_path = out.with_suffix(".ids.parquet") if id_column is not None else None
    ids_writer = None
    total = None
    if _format_of(Path(path), format) == "parquet" and Path(path).exists():
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as pf:
            total = pf.metadata.num_rows
    bar = tqdm(total=total, desc="Applying LFs", unit="row", disable=not progress)
    chunks = iter_chunks(path, chunk_size=chunk_size, format=format, columns=columns, **(read_options or {}))
    try:
        with open(out, "wb") as fh:
            fh.write(_npy_header((0, len(lfs)), dtype))
            for chunk in chunks:
                if text_column is not None and text_column in chunk.columns and chunk[text_column].isna().any():
                    chunk[text_column] = chunk[text_column].fillna("")
                if id_column is not None:
                    if id_column not in chunk.columns:
                        raise KeyError(f"{path}: no id column {id_column!r}; the columns are {list(chunk.columns)}.")
                    chunk = chunk.set_index(id_column, drop=False)
                else:
                    chunk.index = pd.RangeIndex(n, n + len(chunk))
                chunk, _ = validate_input(chunk, lfs, cardinality)
                votes, errs = compute_votes(
                    chunk, lfs, n_jobs=n_jobs, progress=False, fault_tolerant=fault_tolerant,
                    cardinality=cardinality, dedup=dedup, offset=n,
                )
                if cardinality is None and votes.size and votes.max() > np.iinfo(dtype).max:
                    raise ValueError(
                        f"An LF voted {votes.max()}, more than fits the int8 file; pass cardinality= to store larger class ids."
                    )
                block = votes.astype(dtype)
                fh.write(block.tobytes())
                patterns.add(block)
                n_failures += len(errs)
                failures.extend(errs[: max(0, max_failures - len(failures))])
                if ids_path is not None:
                    ids_writer = _write_ids(ids_writer, ids_path, chunk.index)
                n += len(chunk)
                bar.update(len(chunk))
            fh.seek(0)
            fh.write(_npy_header((n, len(lfs)), dtype))
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
        if ids_writer is not None:
            ids_writer.close()
    if n == 0:
        out.unlink(missing_ok=True)
        raise ValueError(f"{path} has no rows; nothing to label.")
    meta = {"lf_names": names, "n_rows": n, "source": Path(path).name, "ids": ids_path.name if ids_path else None}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    if n_failures:
        import warnings

        warnings.warn(
            f"{n_failures} LF call(s) raised and abstained instead. The first {len(failures)} are in result.failures.",
            stacklevel=2,
        )
    return StreamResult(out, names, n, patterns, failures, n_failures, ids_path)


def _write_ids(writer: Any, path: Path, index: pd.Index) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": pa.array(index.to_numpy())})
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    elif table.schema != writer.schema:
        table = table.cast(writer.schema)
    writer.write_table(table)
    return writer
