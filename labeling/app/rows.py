"""The rows the command line reads: one or more data files, the text as ``x.text``, ids from a column."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

__all__ = ["read_rows", "add_data_arguments", "DEDUPE_IDS"]

#: How ``--dedupe-ids`` treats an id that repeats: stop with an error naming both rows, or suffix it.
DEDUPE_IDS = ("error", "suffix")


def read_rows(
    paths: str | Path | Sequence[str | Path], *, text_column: str | None = "text", id_column: str | None = None,
    dedupe_ids: str = "error",
):
    """Read one or more data files as the command line's LFs see them; returns ``(DataFrame, id scheme)``.

    Files are joined in order and must have the same columns. When ``text_column`` is not
    ``text``, a ``text`` column holding a copy of it is added, so LFs read ``x.text`` whatever
    the source calls the text (``x.CONTENT`` keeps working). The index is the ``id_column``
    (kept as a column too) or else the row number over all files. An id that repeats is an
    error naming both rows, unless ``dedupe_ids="suffix"``: the second ``a`` becomes ``a#1``,
    the third ``a#2`` (what the YouTube example does). The id scheme, in words, is what a
    review store checks new rows against (:meth:`labeling.review.ReviewStore.check_id_scheme`).

    Parameters
    ----------
    paths : path or sequence of paths
        CSV, TSV, JSONL or Parquet files with the same columns.
    text_column : str or None
        The column holding the text (checked to exist); None reads any table (gold labels).
    id_column : str, optional
        The column of row ids; None numbers the rows ``0..n-1`` over all files.
    dedupe_ids : {"error", "suffix"}
        What a repeated id does.

    Returns
    -------
    data : DataFrame
        The rows, indexed by id (index name ``id``) or row number.
    scheme : str
        ``"row numbers"``, ``"column 'ID'"`` or ``"column 'ID' (repeats suffixed #1, #2, ...)"``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "c.csv")
    >>> _ = open(path, "w").write("cid,body\\na1,hi\\na1,check out my channel\\n")
    >>> data, scheme = read_rows(path, text_column="body", id_column="cid", dedupe_ids="suffix")
    >>> data.index.tolist(), data["text"].tolist(), scheme
    (['a1', 'a1#1'], ['hi', 'check out my channel'], "column 'cid' (repeats suffixed #1, #2, ...)")
    """
    import numpy as np
    import pandas as pd

    from sources.files import read_table

    if dedupe_ids not in DEDUPE_IDS:
        raise ValueError(f"dedupe_ids={dedupe_ids!r} is not one of {DEDUPE_IDS}.")
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames, origin = [], []
    for path in paths:
        df = read_table(path, text_column=text_column, id_column=None)
        if id_column is not None and id_column not in df.columns:
            raise ValueError(f"{path} has no id column {id_column!r} (--id-column); columns: {list(df.columns)}.")
        if frames and list(df.columns) != list(frames[0].columns):
            # The file's own columns, without the `text` copy the reader adds for --text-column.
            own = [[c for c in f.columns if c != "text" or text_column in (None, "text")] for f in (df, frames[0])]
            raise ValueError(f"{path} has columns {own[0]}; {paths[0]} has {own[1]}. "
                             "Files read together need the same columns.")
        frames.append(df)
        origin += [(str(path), i) for i in range(len(df))]
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    if id_column is None:
        return data, "row numbers"
    ids = data[id_column].astype(str)
    repeat = ids.groupby(ids).cumcount().to_numpy()
    if repeat.any():
        if dedupe_ids == "error":
            second = int(np.argmax(repeat > 0))
            first = int(np.flatnonzero(ids.to_numpy() == ids.iloc[second])[0])
            (f1, r1), (f2, r2) = origin[first], origin[second]
            raise ValueError(
                f"{f2}, row {r2}: id {ids.iloc[second]!r} in column {id_column!r} repeats {f1}, row {r1}. Ids must "
                "be unique: pass --dedupe-ids suffix to number the repeats (the second becomes "
                f"{ids.iloc[second] + '#1'!r}), or choose another --id-column.")
        ids = pd.Series(np.where(repeat > 0, ids + "#" + repeat.astype(str), ids), index=ids.index)
    data.index = pd.Index(ids.to_numpy(), name="id")
    scheme = f"column {id_column!r}" + (" (repeats suffixed #1, #2, ...)" if dedupe_ids == "suffix" else "")
    return data, scheme


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """``--data``, ``--lfs``, ``--text-column``, ``--id-column`` and ``--dedupe-ids``, shared by apply and queue."""
    p.add_argument("--data", required=True, nargs="+",
                   help="CSV, TSV, JSONL or Parquet file(s), one row per example; several files are joined in order")
    p.add_argument("--lfs", required=True, help="Python file defining labeling functions (or a list `lfs`)")
    p.add_argument("--text-column", default="text",
                   help="column holding the text; LFs read it as x.text whatever it is called (default: text)")
    p.add_argument("--id-column", default=None,
                   help="column of unique, stable row ids (default: the row number, stable only while the file is)")
    p.add_argument("--dedupe-ids", default="error", choices=DEDUPE_IDS,
                   help="an --id-column value that repeats: stop with an error naming both rows (default), or "
                        "suffix the repeats (#1, #2, ...) as the YouTube example does")
