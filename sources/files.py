"""Reading rows from CSV, JSONL, Parquet, pandas and Hugging Face datasets, with errors that point at the line."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from labeling.core.fileio import (
    COMPRESSION_ERRORS, check_csv_warnings, check_text_cells, csv_error, duplicate_header, is_compression_error, parquet_duplicate_columns, detect_format, iter_jsonl, sniff_encoding, text_as_written,
)

__all__ = ["require_column", "read_csv", "read_jsonl", "read_parquet", "read_table", "from_pandas", "from_hf_dataset"]


def require_column(df: pd.DataFrame, column: str, *, source: str, role: str = "text") -> None:
    """Raise a ``KeyError`` naming ``source``, the missing ``column`` and the columns there are."""
    if column not in df.columns:
        raise KeyError(
            f"{source}: no {role} column {column!r}; the columns are {list(map(str, df.columns))}. "
            f"Pass {role}_column=<one of them>."
        )


def _check_columns(df: pd.DataFrame, source: str, text_column: str | None, id_column: str | None) -> pd.DataFrame:
    for role, col in (("text", text_column), ("id", id_column)):
        if col is not None:
            require_column(df, col, source=source, role=role)
    if text_column is not None:
        check_text_cells(df, text_column, source)
        missing = df[text_column].isna()
        if missing.any():
            # Kept, not dropped: a silently shorter table would misalign labels with rows.
            df = df.copy()
            df[text_column] = df[text_column].fillna("")
        if text_column != "text":
            # LFs read x.text whatever the source calls it (x.CONTENT keeps working): a copy under that name.
            if "text" in df.columns:
                raise ValueError(f"{source} has a column 'text' besides the text column {text_column!r}; LFs read "
                                 "x.text, which would be ambiguous. Rename one of them, or name 'text' as the text "
                                 "column (--text-column text, text_column='text').")
            df = df.copy()
            df.insert(df.columns.get_loc(text_column) + 1, "text", df[text_column])
    if id_column is not None:
        dup = df[id_column].duplicated()
        if dup.any():
            first = df.loc[dup, id_column].iloc[0]
            first = first.item() if hasattr(first, "item") else first
            raise ValueError(
                f"{source}: id column {id_column!r} has duplicate value {first!r} (row {int(dup.to_numpy().argmax())}); "
                "row ids must be unique so that labels can be traced back to rows."
            )
        df = df.set_index(id_column, drop=False)
        df.index.name = "id"
    return df


def from_pandas(df: pd.DataFrame, *, text_column: str | None = "text", id_column: str | None = None) -> pd.DataFrame:
    """Check a DataFrame for the text (and id) column and return it, indexed by id when given."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"Expected a pandas DataFrame; got {type(df).__name__}.")
    return _check_columns(df, "DataFrame", text_column, id_column)


def read_csv(
    path: str | os.PathLike, *, text_column: str | None = "text", id_column: str | None = None, **kwargs: Any
) -> pd.DataFrame:
    """Read a CSV file (quoted fields with commas and newlines are fine).

    Parameters
    ----------
    path : path-like
        The file.
    text_column : str or None
        Column holding the text: it must exist, missing values become ``""`` and, when it is not called
        ``text``, a ``text`` copy is added so that LFs read ``x.text``. ``None`` skips the check.
    id_column : str, optional
        Column of unique row ids, used as the index.
    **kwargs
        Passed to :func:`pandas.read_csv`. Unless given, ``index_col=False`` (a trailing comma on the
        data rows must not turn the first column into the index and shift every other one) and the
        encoding is UTF-8, or UTF-16/32 or UTF-8 with a BOM when the file starts with one.

    Raises
    ------
    ValueError
        For an empty file, malformed CSV or bytes that are not text in the encoding, naming the file
        (and the line).
    """
    kwargs.setdefault("index_col", False)
    kwargs.setdefault("encoding", sniff_encoding(path))
    if text_column is not None and not {"dtype", "na_values", "keep_default_na", "converters"} & set(kwargs):
        # The text column is text as written: "007" keeps its zeros, and a comment that says "NA",
        # "null" or "None" is that comment, not a missing value (only an empty field is missing).
        # The other columns keep pandas' parsing.
        kwargs = {**kwargs, **text_as_written(path, text_column, kwargs)}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(path, **kwargs)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, *COMPRESSION_ERRORS) as exc:
        raise csv_error(path, exc, kwargs["encoding"]) from None
    except OSError as exc:  # bz2's "Invalid data stream" is a plain OSError
        if not is_compression_error(path, exc):
            raise
        raise csv_error(path, exc, kwargs["encoding"]) from None
    check_csv_warnings(caught, path, sep=kwargs.get("sep", ","), encoding=kwargs["encoding"])
    twice = duplicate_header(path, df.columns, kwargs)
    if twice:
        raise ValueError(twice)
    return _check_columns(df, str(path), text_column, id_column)


def read_jsonl(
    path: str | os.PathLike, *, text_column: str | None = "text", id_column: str | None = None
) -> pd.DataFrame:
    """Read a JSON Lines file: one JSON object per line (blank lines are skipped).

    A malformed line raises ``ValueError`` naming the file and the 1-based line number.
    """
    records = [rec for _, rec in iter_jsonl(path)]
    if not records:
        raise ValueError(f"{path}: no JSON objects (the file is empty); expected one JSON object per line.")
    return _check_columns(pd.DataFrame.from_records(records), str(path), text_column, id_column)


def read_parquet(
    path: str | os.PathLike, *, text_column: str | None = "text", id_column: str | None = None, **kwargs: Any
) -> pd.DataFrame:
    """Read a Parquet file (pyarrow); a damaged or non-Parquet file raises ``ValueError`` naming it."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"No such file: {path}")
    twice = parquet_duplicate_columns(path)
    if twice:
        raise ValueError(twice)
    try:
        df = pd.read_parquet(path, **kwargs)
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable Parquet file ({exc}).") from None
    return _check_columns(df, str(path), text_column, id_column)


def read_table(
    path: str | os.PathLike, *, text_column: str | None = "text", id_column: str | None = None,
    format: str | None = None,
) -> pd.DataFrame:
    """Read CSV, TSV, JSONL or Parquet, chosen by ``format`` or else by the file extension.

    Parameters
    ----------
    path : path-like
        The file.
    text_column, id_column
        As for :func:`read_csv`.
    format : {"csv", "tsv", "jsonl", "parquet"}, optional
        Overrides the extension (:func:`labeling.core.fileio.detect_format`, the table every reader shares).
    """
    fmt = detect_format(path, format)
    if not Path(path).is_file():
        raise FileNotFoundError(f"No such file: {path}")
    if fmt == "tsv":
        return read_csv(path, text_column=text_column, id_column=id_column, sep="\t")
    reader = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet}[fmt]
    return reader(path, text_column=text_column, id_column=id_column)


def from_hf_dataset(
    dataset: Any, *, text_column: str | None = "text", id_column: str | None = None
) -> pd.DataFrame:
    """Turn a Hugging Face ``datasets.Dataset`` (one split) into a DataFrame."""
    if not hasattr(dataset, "to_pandas"):
        raise TypeError(
            f"Expected a datasets.Dataset (one split, e.g. ds['train']); got {type(dataset).__name__}."
        )
    return _check_columns(dataset.to_pandas(), "Hugging Face dataset", text_column, id_column)
