"""File checks every reader and writer shares: the text encoding, JSON lines, writable outputs.

Each error here names the file and, where there is one, the line: a message such as ``'utf-8' codec
can't decode byte 0xe9 in position 17`` says neither which file nor where in it.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import json
import lzma
import math
import os
import sys
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

__all__ = [
    "FORMATS", "EXTENSIONS", "detect_format", "sniff_encoding", "check_utf8", "iter_jsonl", "check_writable",
    "decode_error", "text_as_written", "extra_fields", "csv_error", "check_csv_warnings", "load_json", "loads_json",
    "compression_error", "is_compression_error", "COMPRESSION_ERRORS", "check_npy_header", "check_npz", "duplicate_header", "parquet_duplicate_columns", "check_text_cells",
]

try:  # the strings pandas reads as missing by default, kept for the columns other than the text
    from pandas._libs.parsers import STR_NA_VALUES as _DEFAULT_NA
except ImportError:  # pragma: no cover - another pandas layout
    _DEFAULT_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                   "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),  # before UTF-16: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]


#: The table formats every reader knows (``sources.read_table``, streaming, ``votewise build``).
FORMATS = ("csv", "tsv", "jsonl", "parquet")
#: The one extension table: which format a file's extension says it is.
EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
    ".pq": "parquet",
}
# Looked past to the extension before them: the CSV and JSON-lines readers decompress these.
_COMPRESSION = (".gz", ".bz2", ".xz", ".zip", ".zst")


def detect_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The format to read ``path`` as: ``format`` when given (checked), else the one its extension says.

    Parameters
    ----------
    path : path-like
        The file; a compression extension is looked past (``rows.csv.gz`` is CSV).
    format : {"csv", "tsv", "jsonl", "parquet"}, optional
        Overrides the extension.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    ValueError
        For a ``format`` not in :data:`FORMATS`, or an extension not in :data:`EXTENSIONS`.

    Examples
    --------
    >>> detect_format("comments.tsv"), detect_format("rows.jsonl.gz"), detect_format("x.txt", "csv")
    ('tsv', 'jsonl', 'csv')
    """
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"format={format!r} is not one of {list(FORMATS)}.")
        return format
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) > 1 and suffixes[-1] in _COMPRESSION:
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in EXTENSIONS:
        raise ValueError(
            f"Cannot tell the format of {Path(path).name!r} from its extension: unknown file type {suffix!r}; "
            f"expected one of {sorted(EXTENSIONS)}, or pass format= one of {list(FORMATS)}."
        )
    return EXTENSIONS[suffix]


def sniff_encoding(path: str | os.PathLike) -> str:
    """``"utf-8-sig"``, ``"utf-16"`` or ``"utf-32"`` when the file starts with that byte-order mark, else ``"utf-8"``.

    Spreadsheet programs save CSV as UTF-16 or with a UTF-8 BOM; the mark says so unambiguously,
    so those files are read as they are. Compressed files are left to the reader (``"utf-8"``).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return "utf-8"


def decode_error(path: str | os.PathLike, encoding: str = "utf-8") -> str | None:
    """Where ``path`` stops being valid ``encoding``: ``"file, line 3: byte 0xe9 ..."``, or None if it is valid.

    Read line by line in binary, so only the error path pays for it and memory stays bounded.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                try:
                    decoder.decode(raw)
                except UnicodeDecodeError as exc:
                    bad = raw[exc.start] if exc.start < len(raw) else 0
                    return (
                        f"{path}, line {lineno}: not valid {encoding} (byte 0x{bad:02x} at column {exc.start + 1}); "
                        f"save the file as UTF-8 or pass its encoding (e.g. encoding='latin-1')."
                    )
    except OSError:
        return None
    return None


def decode_utf8(raw: bytes, name: str, *, what: str = "file") -> str:
    """``raw`` decoded as UTF-8 (a leading byte-order mark dropped), or a ``ValueError`` naming ``name``'s line.

    For small text inputs read whole (YAML configs, rule files); large files go through
    :func:`decode_error`, which reads line by line.

    Examples
    --------
    >>> decode_utf8(b"a: 1\\n\\xe9", "x.yaml", what="config")
    Traceback (most recent call last):
    ...
    ValueError: x.yaml, line 2: not UTF-8 (byte 0xe9); save the config as UTF-8.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"{name}, line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); save the {what} as UTF-8.") from None


def check_utf8(path: str | os.PathLike, exc: UnicodeDecodeError, encoding: str = "utf-8") -> ValueError:
    """A ``ValueError`` naming the file and line of a decoding error a reader met in ``path``."""
    where = decode_error(path, encoding)
    return ValueError(where or f"{path}: not valid {encoding}: {exc}")


def _open_archive(path: str | os.PathLike, suffix: str, encoding: str) -> Any:
    """A text stream over the one file of a ``.zip``, or a ``.zst`` file (as pandas' CSV reader reads them)."""
    import io

    if suffix == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise compression_error(path, exc) from None
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if len(names) != 1:
            zf.close()
            raise ValueError(f"{path}: a zip archive of JSON lines must hold exactly one file; it holds {len(names)}.")
        return io.TextIOWrapper(zf.open(names[0]), encoding=encoding)
    try:
        import zstandard
    except ImportError:
        raise ImportError(f"{path}: reading .zst files needs the zstandard package: pip install zstandard") from None
    return io.TextIOWrapper(zstandard.open(path, "rb"), encoding=encoding)


def iter_jsonl(path: str | os.PathLike, *, encoding: str | None = None, start: int = 0) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, object)`` for each non-blank line of a JSON-lines file.

    A malformed line, a line that is not an object or bytes that are not text raise ``ValueError``
    naming the file and the 1-based line number (pandas' reader gives a character offset into a
    buffer instead). ``.gz``/``.bz2``/``.xz`` files are decompressed.
    """
    encoding = encoding or sniff_encoding(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".gz", ".bz2", ".xz"):
        opener: Any = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
        fh = opener(path, "rt", encoding=encoding)
    elif suffix in (".zip", ".zst"):
        fh = _open_archive(path, suffix, encoding)
    else:
        fh = open(path, encoding=encoding)
    lineno = 0
    with fh:
        try:
            for lineno, line in enumerate(fh, start=1):
                if lineno <= start or not line.strip():
                    continue
                rec = loads_json(line, f"{path}, line {lineno}")
                if not isinstance(rec, dict):
                    raise ValueError(f"{path}, line {lineno}: expected a JSON object, got {type(rec).__name__}.")
                yield lineno, rec
        except UnicodeDecodeError as exc:
            raise check_utf8(path, exc, encoding) from None
        except OSError as exc:
            if not is_compression_error(path, exc):
                raise
            raise compression_error(path, exc, lineno) from None
        except COMPRESSION_ERRORS as exc:
            raise compression_error(path, exc, lineno) from None


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys silently: {"text": "a", "text": "b"} is one field "b".
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return obj


def loads_json(text: str | bytes, where: str) -> Any:
    """``json.loads(text)``, with every failure a ``ValueError`` that starts with ``where`` (file and line).

    Refused, beside malformed JSON: an object with the same key twice (``json`` would keep the last one
    silently) and nesting deeper than Python's recursion limit (``RecursionError`` otherwise).
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno}).") from None
    except _DuplicateKey as exc:
        raise ValueError(
            f"{where}: the key {exc.args[0]!r} appears twice in one object; JSON readers keep only one of them. "
            "Rename or remove one."
        ) from None
    except RecursionError:
        raise ValueError(
            f"{where}: JSON nested too deeply to read (arrays or objects more than about "
            f"{sys.getrecursionlimit()} levels deep); flatten the record."
        ) from None


def load_json(path: str | os.PathLike) -> Any:
    """The JSON document in ``path``; a malformed or undecodable file raises ``ValueError`` naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise check_utf8(path, exc) from None
    return loads_json(text, str(path))


# What the decompressors raise on a truncated or damaged file (gzip: EOFError or BadGzipFile, an OSError).
COMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile, zipfile.BadZipFile)


def is_compression_error(path: str | os.PathLike, exc: BaseException) -> bool:
    """Whether ``exc``, raised while reading ``path``, means a truncated or damaged compressed file.

    Beside :data:`COMPRESSION_ERRORS`, bz2 raises a plain ``OSError("Invalid data stream")`` for bytes
    that are not bz2: only a plain ``OSError`` from a file with a compression extension counts.
    """
    if isinstance(exc, COMPRESSION_ERRORS):
        return True
    return type(exc) is OSError and Path(path).suffix.lower() in _COMPRESSION


def compression_error(path: str | os.PathLike, exc: BaseException, line: int | None = None) -> ValueError:
    """A ``ValueError`` for a truncated or damaged compressed file, naming it (and the last line read)."""
    where = f"{path}, after line {line}" if line else str(path)
    return ValueError(
        f"{where}: the compressed file is truncated or damaged ({type(exc).__name__}: {exc}); the rows after this "
        "point cannot be read. Copy or download the file again, or decompress what is left and fix its end."
    )


def _npy_expected(fh: Any, where: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data size in bytes that an open ``.npy`` stream's header claims (the header only)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, SyntaxError, TypeError) as exc:
        raise ValueError(f"{where}: not a numpy array file ({str(exc)[:120]}).") from None
    if dtype.hasobject:
        raise ValueError(
            f"{where}: holds Python objects (pickled data), which votewise never writes and never loads; "
            "the file is damaged or not written by votewise."
        )
    return shape, dtype, math.prod(shape) * dtype.itemsize


def check_npy_header(path: str | os.PathLike) -> tuple[int, ...]:
    """Check that the header of a ``.npy`` file fits the file's size before anything is allocated; return the shape.

    A header is a few bytes of text: a damaged or crafted one can claim 10**12 rows, which numpy would
    try to allocate (or map) in full before finding the data missing.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        shape, dtype, need = _npy_expected(fh, str(path))
        have = path.stat().st_size - fh.tell()
    if need != have:
        raise ValueError(
            f"{path}: its header claims an array of shape {shape} ({dtype}, {need:,} bytes) but the file holds "
            f"{have:,} bytes of data; the file is truncated, damaged or not written by votewise."
        )
    return shape


def check_npz(path: str | os.PathLike, *, what: str = "file") -> None:
    """Check every array of a ``.npz`` file as :func:`check_npy_header` does, from the zip's own sizes.

    Raises ``ValueError`` naming the file (and array) for a file that is not a zip of plain arrays, an
    array of Python objects, or a header whose shape does not fit the array's stored size.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    shape, dtype, need = _npy_expected(fh, f"{path} (array {info.filename[:-4]!r})")
                    have = info.file_size - fh.tell()
                if need != have:
                    raise ValueError(
                        f"{path} (array {info.filename[:-4]!r}): its header claims shape {shape} ({need:,} bytes) "
                        f"but the array holds {have:,} bytes; the {what} is damaged or not written by votewise."
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable .npz {what} ({type(exc).__name__}: {exc}).") from None


def duplicate_header(path: str | os.PathLike, columns: Iterable[Any], options: dict[str, Any]) -> str | None:
    """Where a CSV header names a column twice, or None. pandas renames the second ``text`` to ``text.1``.

    Only looked into when the columns pandas returned include such a renamed pair (``x`` and ``x.1``),
    so a file without one pays nothing.
    """
    names = [str(c) for c in columns]
    present = set(names)
    if not any(c.rpartition(".")[0] in present and c.rpartition(".")[2].isdigit() for c in names):
        return None
    header_options = {k: v for k, v in options.items() if k in ("sep", "delimiter", "encoding", "compression", "quotechar")}
    try:
        raw = pd.read_csv(path, nrows=1, header=None, dtype=str, keep_default_na=False, **header_options)
    except Exception:
        return None
    header = [str(v) for v in raw.iloc[0].tolist()] if len(raw) else []
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            return (
                f"{path}, line 1: the header names the column {name!r} twice (fields {seen[name] + 1} and {i + 1}); "
                "column names must be unique, as an LF reads a column by its name. Rename one."
            )
        seen[name] = i
    return None


def parquet_duplicate_columns(path: str | os.PathLike) -> str | None:
    """Where a Parquet file's schema names a column twice (pyarrow then fails with "Multiple matches"), or None."""
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    except Exception:  # not readable: the reader reports it
        return None
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            return (
                f"{path}: the schema names the column {name!r} twice (columns {seen[name] + 1} and {i + 1}); column "
                "names must be unique, as an LF reads a column by its name. Rename one when writing the file."
            )
        seen[name] = i
    return None


_CONTAINERS = (dict, list, tuple, set, np.ndarray)


def check_text_cells(df: pd.DataFrame, text_column: str, source: str, *, start: int = 0) -> None:
    """Raise ``ValueError`` naming ``source`` and the row when a text cell holds a dict, list or array.

    JSON lines and Parquet can hold a nested value where the text should be; LFs, deduplication and
    the rule builders expect a string there and would fail far from the cause ("unhashable type").
    ``start`` is the position of ``df``'s first row in the file.
    """
    col = df[text_column]
    if col.dtype != object:
        return
    types = set(map(type, col.tolist()))
    if not any(issubclass(t, _CONTAINERS) for t in types):
        return
    i = next(i for i, v in enumerate(col.tolist()) if isinstance(v, _CONTAINERS))
    value = col.iloc[i]
    raise ValueError(
        f"{source}, row {start + i}: the text column {text_column!r} holds a {type(value).__name__} "
        f"({str(value)[:60]}), not a string; flatten the record so that {text_column!r} is text, or pass "
        "text_column= naming the column that holds the text."
    )


def check_writable(path: str | os.PathLike, *, what: str = "output", folder: bool = False) -> Path:
    """Raise ``PermissionError``/``NotADirectoryError`` naming ``path`` when it cannot be written.

    Called before any work starts: a run that labels a million rows and then cannot save them
    wastes all of it. Creates missing parent folders (or, with ``folder=True``, the folder itself).
    """
    path = Path(path).expanduser()
    target = path if folder else path.parent
    try:
        target.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(f"{what} {path}: {target} exists and is not a folder.") from None
    except NotADirectoryError:
        raise NotADirectoryError(f"{what} {path}: a part of {target} is a file, not a folder.") from None
    except OSError as exc:
        raise PermissionError(f"{what} {path}: cannot create the folder {target} ({exc.strerror}).") from None
    if not folder and path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name.")
    if not folder and path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"{what} {path} is not writable.")
    try:
        fd, probe = tempfile.mkstemp(dir=target, prefix=".votewise-write-check-")
    except OSError as exc:
        raise PermissionError(f"{what} {path}: cannot write in {target} ({exc.strerror}).") from None
    os.close(fd)
    os.unlink(probe)
    return path


def text_as_written(path: str | os.PathLike, text_column: str, options: dict[str, Any]) -> dict[str, Any]:
    """``pandas.read_csv`` options that read ``text_column`` as written and the other columns as usual.

    By default pandas turns ``"007"`` into 7 and a text saying ``NA``, ``null`` or ``None`` into a
    missing value (which readers then make ``""``): a silent change of the text LFs see. With these
    options only an empty field is missing in the text column. Returns ``{}`` when the header cannot
    be read or has no such column (the real read then reports the problem).
    """
    header_options = {k: v for k, v in options.items() if k not in ("chunksize", "usecols")}
    try:
        header = pd.read_csv(path, nrows=0, **header_options).columns
    except Exception:
        return {}
    if text_column not in header:
        return {}
    others = {c: sorted(_DEFAULT_NA) for c in header if c != text_column}
    return {"dtype": {text_column: str}, "keep_default_na": False, "na_values": {text_column: [""], **others}}


def extra_fields(path: str | os.PathLike, *, sep: str = ",", encoding: str = "utf-8") -> str | None:
    """Where a CSV data row has more fields than the header and the extra ones are not empty, or None.

    A trailing comma on every data row gives one empty extra field: harmless, and read with
    ``index_col=False`` it is dropped. A non-empty extra field is data (often an unquoted comma
    inside a text) that would be dropped or would shift the columns: the first such line is
    reported. Only called when pandas warns that a row is longer than the header.
    """
    if Path(path).suffix.lower() in _COMPRESSION or len(sep) != 1:
        return None
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=sep)
        header = next(reader, None)
        if header is None:
            return None
        for row in reader:
            if len(row) > len(header) and any(field.strip() for field in row[len(header):]):
                return (
                    f"{path}, line {reader.line_num}: {len(row)} fields but the header has {len(header)} "
                    f"(extra: {row[len(header)][:40]!r}); quote fields that contain {sep!r}."
                )
    return None


def csv_error(path: str | os.PathLike, exc: Exception, encoding: str = "utf-8") -> Exception:
    """The error to raise for ``exc``, raised by pandas' CSV reader on ``path``: one naming the file (and line).

    Shared by ``sources.read_csv`` and the streaming reader. An exception of another kind is returned
    as it is.
    """
    if isinstance(exc, pd.errors.EmptyDataError):
        return ValueError(f"{path}: the file is empty (no header line); expected a CSV file with a header.")
    if isinstance(exc, pd.errors.ParserError):
        return ValueError(f"{path}: malformed CSV: {exc}")
    if isinstance(exc, UnicodeDecodeError):
        return check_utf8(path, exc, encoding)
    if is_compression_error(path, exc):
        return compression_error(path, exc)
    return exc


def check_csv_warnings(
    caught: Iterable[warnings.WarningMessage], path: str | os.PathLike, *, sep: str = ",", encoding: str = "utf-8",
    check_fields: bool = True,
) -> bool:
    """Re-issue the warnings caught around pandas' CSV reader, except that longer rows holding data raise.

    pandas warns when a row has more fields than the header and drops or shifts them; that is harmless
    for trailing commas and data loss otherwise, so :func:`extra_fields` looks (unless
    ``check_fields`` is false: a streaming reader looks once per file) and a ``ValueError`` names the
    line. Returns whether such a warning was among ``caught``.
    """
    longer = False
    for w in caught:
        if issubclass(w.category, pd.errors.ParserWarning) and "does not match length of data" in str(w.message):
            if check_fields and not longer:
                problem = extra_fields(path, sep=sep, encoding=encoding)
                if problem:
                    raise ValueError(problem)
            longer = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return longer
