"""The label matrix: votes of m labeling functions on n rows, ``-1`` = abstain."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .fileio import check_npz, loads_json
from .outputs import atomic_write

ABSTAIN: int = -1
"""The vote of a labeling function that does not label a row."""

__all__ = ["ABSTAIN", "LabelMatrix", "check_label_matrix", "covered_rows", "smallest_int_dtype"]


def smallest_int_dtype(cardinality: int | None) -> np.dtype:
    """Return int8 when every class id fits in it, else int16 (or int32 beyond that)."""
    if cardinality is None or cardinality <= np.iinfo(np.int8).max:
        return np.dtype(np.int8)
    if cardinality <= np.iinfo(np.int16).max:
        return np.dtype(np.int16)
    return np.dtype(np.int32)


def _lf_label(lf_names: Sequence[str] | None, j: int) -> str:
    if lf_names is not None and j < len(lf_names):
        return f" (LF {lf_names[j]!r})"
    return ""


def _vote_array(L: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """The votes of ``L`` as a 2-D array (no copy where possible) and its LF names when it has any."""
    lf_names = None
    if isinstance(L, LabelMatrix):
        lf_names = L.lf_names
        arr = L.values
    elif isinstance(L, pd.DataFrame):
        lf_names = [str(c) for c in L.columns]
        arr = L.to_numpy()
    else:
        arr = np.asarray(L)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (rows x LFs); got an array with shape {arr.shape}. "
            "Reshape a single LF's votes with votes.reshape(-1, 1)."
        )
    return arr, lf_names


def check_label_matrix(
    L: Any,
    *,
    cardinality: int | None = None,
    n_lfs: int | None = None,
    name: str = "L",
) -> np.ndarray:
    """Validate a label matrix and return it as a 2-D integer ndarray.

    Integer arrays are returned without a copy; ``int8`` stays ``int8``.

    Parameters
    ----------
    L : LabelMatrix, ndarray, DataFrame or nested list
        Votes, shape ``(n_rows, n_lfs)``; ``-1`` abstains, classes are ``0..cardinality-1``.
    cardinality : int, optional
        Number of classes; when given, every vote must be below it.
    n_lfs : int, optional
        Expected number of columns (e.g. the number of LFs a model was fitted on).
    name : str
        How ``L`` is called in error messages.

    Returns
    -------
    ndarray of int
        The votes.

    Raises
    ------
    ValueError
        Naming the first offending row, column (and LF name when known) and value.
    TypeError
        For non-numeric input.

    Examples
    --------
    >>> check_label_matrix([[0, -1], [1, 1]], cardinality=2).shape
    (2, 2)
    """
    arr, lf_names = _vote_array(L, name)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows; expected at least one row of votes.")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no columns; expected one column per labeling function.")
    if n_lfs is not None and arr.shape[1] != n_lfs:
        raise ValueError(f"{name} has {arr.shape[1]} LF columns; expected {n_lfs} (the number seen in fit).")
    if arr.dtype.kind == "O" and arr.size and all(type(v) is int for v in arr.ravel().tolist()):
        # Python ints past int64 give an object array: name the vote instead of the dtype.
        big = np.flatnonzero([not -(2**31) < v < 2**31 for v in arr.ravel().tolist()])
        if len(big):
            i, j = divmod(int(big[0]), arr.shape[1])
            raise ValueError(f"{name}[{i}, {j}]{_lf_label(lf_names, j)} is {arr[i, j]}; expected a class id below 2**31-1.")
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold integer votes (-1 = abstain); got dtype {arr.dtype}. "
            "Convert labels to integer class ids first."
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"{name}[{i}, {j}]{_lf_label(lf_names, j)} is {arr[i, j].item()!r}; expected an integer vote "
                "(-1 = abstain). Replace NaN with -1 and cast to int."
            )
        hi = float(arr.max())
        if hi >= np.iinfo(np.int32).max:
            i, j = np.unravel_index(int(np.argmax(arr)), arr.shape)
            raise ValueError(
                f"{name}[{i}, {j}]{_lf_label(lf_names, j)} is {arr[i, j].item()!r}; expected a class id below 2**31-1."
            )
        arr = arr.astype(smallest_int_dtype(max(int(hi) + 1, cardinality or 0)))
    hi = int(arr.max())
    lo = int(arr.min())
    if lo < ABSTAIN or (cardinality is not None and hi >= cardinality):
        if cardinality is None:
            bad = arr < ABSTAIN
            expected = "-1 or a class id >= 0"
        else:
            bad = (arr < ABSTAIN) | (arr >= cardinality)
            expected = f"-1 or 0..{cardinality - 1} for cardinality={cardinality}"
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{name}[{i}, {j}]{_lf_label(lf_names, j)} is {arr[i, j]}; expected {expected}.")
    return arr


def covered_rows(L: Any) -> np.ndarray:
    """Which rows have at least one LF vote (the rows with evidence).

    A row where every LF abstains has no label of its own: a label model can only give it
    its class prior. Exports, the pipeline, the example and the end models leave such rows
    out by default; this is the one place that decides which rows they are.

    Parameters
    ----------
    L : LabelMatrix, ndarray, DataFrame or nested list
        Votes, shape ``(n_rows, n_lfs)``; ``-1`` abstains.

    Returns
    -------
    ndarray of bool, shape (n_rows,)
        ``True`` where some LF voted.

    Raises
    ------
    ValueError
        If ``L`` is not 2-D.

    Examples
    --------
    >>> covered_rows([[0, -1], [-1, -1], [-1, 1]]).tolist()
    [True, False, True]
    """
    # No full check_label_matrix here: callers already validated L, and this runs once per refit.
    arr, _ = _vote_array(L, "L")
    return (arr != ABSTAIN).any(axis=1)


class LabelMatrix:
    """Votes of labeling functions on rows, with the LF names and the row ids.

    Behaves as a read-only numpy array (``np.asarray(L)``, ``L.shape``) and is
    accepted wherever a plain array of votes is.

    Parameters
    ----------
    values : array-like of int, shape (n_rows, n_lfs)
        Votes; ``-1`` abstains.
    lf_names : sequence of str, optional
        One name per column; defaults to ``lf_0, lf_1, ...``.
    index : array-like, optional
        One id per row (e.g. the source DataFrame's index); defaults to ``0..n-1``.
    failures : list, optional
        LF failures recorded by a fault-tolerant apply.

    Examples
    --------
    >>> L = LabelMatrix([[0, -1], [1, 1]], lf_names=["a", "b"])
    >>> L.to_dataframe().columns.tolist()
    ['a', 'b']
    """

    def __init__(
        self,
        values: Any,
        *,
        lf_names: Sequence[str] | None = None,
        index: Any = None,
        failures: list | None = None,
    ) -> None:
        arr = check_label_matrix(values)
        if arr.dtype not in (np.int8, np.int16, np.int32):
            # Votes are small ints; int8 keeps a million rows x 50 LFs at 50 MB. A value beyond int32
            # would wrap (4294967295 to -1, an abstain) on the cast: refuse it instead.
            hi = int(arr.max())
            if hi >= np.iinfo(np.int32).max:
                i, j = np.unravel_index(int(np.argmax(arr)), arr.shape)
                raise ValueError(
                    f"values[{i}, {j}]{_lf_label(lf_names, int(j))} is {hi}; a class id must be below 2**31-1 "
                    "to fit the label matrix's integer type."
                )
            arr = arr.astype(smallest_int_dtype(hi + 1))
        n, m = arr.shape
        names = [f"lf_{j}" for j in range(m)] if lf_names is None else [str(s) for s in lf_names]
        if len(names) != m:
            raise ValueError(f"Got {len(names)} LF names for {m} columns of votes.")
        dupes = sorted({s for s in names if names.count(s) > 1})
        if dupes:
            raise ValueError(f"LF names must be unique; {dupes} appear more than once.")
        idx = pd.RangeIndex(n) if index is None else index if isinstance(index, pd.Index) else pd.Index(index)
        if len(idx) != n:
            raise ValueError(f"Got {len(idx)} row ids for {n} rows of votes.")
        self.values = arr
        self.lf_names: tuple[str, ...] = tuple(names)
        self.index: pd.Index = idx
        self.failures: list = list(failures or [])

    # numpy interoperability -------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != self.values.dtype:
            return self.values.astype(dtype)
        return self.values.copy() if copy else self.values

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return 2

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, key: Any) -> Any:
        return self.values[key]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelMatrix):
            return NotImplemented
        return (
            self.lf_names == other.lf_names
            and self.index.equals(other.index)
            and np.array_equal(self.values, other.values)
        )

    def __repr__(self) -> str:
        n, m = self.shape
        return f"LabelMatrix({n} rows x {m} LFs, dtype={self.values.dtype}, lfs={list(self.lf_names)[:5]}{'...' if m > 5 else ''})"

    # conversions ------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        """Return the votes as a DataFrame indexed by row id with one column per LF."""
        return pd.DataFrame(self.values, index=self.index, columns=list(self.lf_names))

    def select_lfs(self, names: Sequence[str]) -> "LabelMatrix":
        """Return a LabelMatrix with only the named LF columns, in the given order."""
        missing = [s for s in names if s not in self.lf_names]
        if missing:
            raise KeyError(f"No LF named {missing}; known LFs: {list(self.lf_names)}")
        cols = [self.lf_names.index(s) for s in names]
        return LabelMatrix(self.values[:, cols], lf_names=list(names), index=self.index)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the matrix, LF names and row ids to a ``.npz`` file (no pickling); return the path written.

        numpy adds ``.npz`` to a path without it; the returned path is the file that exists.
        Row ids keep their type on :meth:`load`: integers (of any width), floats, booleans,
        dates and strings are stored as typed arrays, a MultiIndex level by level, and an index of
        mixed types (``[1, "1"]``) as JSON per value so that ``1`` and ``"1"`` stay different.

        Raises
        ------
        TypeError
            When a row id is none of those types (it could not be read back as it was).
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        arrays: dict[str, np.ndarray] = {}
        levels = (
            [self.index.get_level_values(i) for i in range(self.index.nlevels)]
            if isinstance(self.index, pd.MultiIndex) else [self.index]
        )
        kinds = []
        for k, level in enumerate(levels):
            kind, arr = _encode_ids(level)
            kinds.append(kind)
            arrays["index" if k == 0 else f"index_{k}"] = arr
        names = [None if n is None else str(n) for n in self.index.names]
        # Under a temporary name until complete: a killed save never leaves a half-written matrix.
        with atomic_write(path, "wb") as fh:
            np.savez_compressed(
                fh,
                values=self.values,
                lf_names=np.asarray(self.lf_names, dtype=str),
                index_kind=np.asarray(kinds[0] if len(kinds) == 1 else "multi:" + ",".join(kinds)),
                index_names=np.asarray(json.dumps(names)),
                **arrays,
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LabelMatrix":
        """Read a matrix written by :meth:`save`."""
        if not Path(path).is_file():
            raise FileNotFoundError(f"No such label matrix file: {path}")
        try:
            # The headers first: a damaged or crafted header could claim 10**12 rows, which np.load would
            # allocate, and a pickled array would get numpy's advice to load it unsafely.
            check_npz(path, what="label matrix")
            z = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            # The reason without numpy's advice (allow_pickle=True would run code from the file).
            reason = str(exc).removeprefix(str(path)).lstrip(": ") if str(exc).startswith(str(path)) else type(exc).__name__
            raise ValueError(
                f"{path} is not a votewise label matrix ({reason.rstrip('.')}); write it again with LabelMatrix.save "
                "or votewise apply."
            ) from None
        with z:
            missing = {"values", "lf_names", "index"} - set(z.files)
            if missing:
                raise ValueError(f"{path} is not a votewise label matrix: missing arrays {sorted(missing)}.")
            kind = str(z["index_kind"]) if "index_kind" in z.files else ("str" if z["index"].dtype.kind == "U" else "int")
            names = loads_json(str(z["index_names"]), f"{path} (index_names)") if "index_names" in z.files else None
            if kind.startswith("multi:"):
                kinds = kind[len("multi:"):].split(",")
                levels = [_decode_ids(k, z["index" if i == 0 else f"index_{i}"]) for i, k in enumerate(kinds)]
                index = pd.MultiIndex.from_arrays(levels, names=names)
            else:
                index = pd.Index(_decode_ids(kind, z["index"]), name=names[0] if names else None)
            return cls(z["values"], lf_names=z["lf_names"].tolist(), index=index)


def _encode_ids(level: pd.Index) -> tuple[str, np.ndarray]:
    # Typed arrays where numpy can hold the ids as they are; JSON per value for mixed objects.
    if level.dtype.kind in "iufbmM":
        return "typed", level.to_numpy()
    values = level.tolist()
    if all(isinstance(v, str) for v in values):
        return "str", np.asarray(values, dtype=str) if values else np.zeros(0, dtype="U1")
    out = []
    for pos, v in enumerate(values):
        if isinstance(v, (np.integer, np.floating, np.bool_)):
            v = v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            out.append(json.dumps(v))
        else:
            raise TypeError(
                f"Row id at position {pos} is a {type(v).__name__} ({v!r:.60}); a saved label matrix keeps ids that "
                "are numbers, strings, booleans or dates. Reset the index (df.reset_index(drop=True)) or map the ids "
                "to strings first."
            )
    return "json", np.asarray(out, dtype=str)


def _decode_ids(kind: str, arr: np.ndarray) -> Any:
    if kind == "json":
        return pd.Index([loads_json(v, "a row id") for v in arr.tolist()], dtype=object)
    if kind == "str":
        return pd.Index(arr.tolist(), dtype=object)
    return arr  # "typed", and files written before the kind existed ("int")
