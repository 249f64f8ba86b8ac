"""LF result cache: each LF's column of votes, keyed by a fingerprint of the LF and of the data.

Re-running ten LFs on a million rows after editing one of them should cost one column, not ten.
An LF's fingerprint covers what decides its votes: its code (not its line numbers, so editing
another LF in the same file does not invalidate it), the globals and closure values that code
reads, its resources, its preprocessors and, for LF classes such as the rule builders, the
object's own state and the class's methods. The data fingerprint covers every column's values,
dtypes and the row ids.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import types
import warnings
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
import pandas as pd

from .votes import LFFailure, compute_votes, unique_rows, validate_input, worth_dedup
from .lf import LabelingFunction, Preprocessor

__all__ = ["LFCache", "lf_fingerprint", "data_fingerprint", "default_cache_dir"]

CACHE_ENV = "VOTEWISE_CACHE"
_FORMAT = "1"  # bump when the stored layout or the fingerprint recipe changes
_BASE_ATTRS = {
    "name", "f", "resources", "pre", "vectorized", "__wrapped__", "__doc__", "__name__", "__qualname__",
    "__module__", "__type_params__", "__dict__",
}


class _Uncacheable(Exception):
    pass


def default_cache_dir() -> Path:
    """``$VOTEWISE_CACHE`` if set, else ``~/.cache/votewise/lf_votes``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "votewise" / "lf_votes"


# --- LF fingerprints ---------------------------------------------------------------------------

def _code_parts(code: types.CodeType) -> tuple:
    # Line numbers and file names are left out on purpose: moving an LF must not invalidate it.
    consts = tuple(_code_parts(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return (
        code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars,
        code.co_argcount, code.co_kwonlyargcount, code.co_flags,
    )


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


_PLAIN = (type(None), bool, int, float, complex, str, bytes, re.Pattern, np.ndarray, np.generic)


def _plain(v: Any, depth: int = 2) -> bool:
    """Plain data, callables, classes and modules: things whose fingerprint means something."""
    if isinstance(v, _PLAIN) or callable(v) or isinstance(v, types.ModuleType):
        return True
    if isinstance(v, (tuple, list, set, frozenset)) and depth > 0:
        return all(_plain(x, depth - 1) for x in list(v)[:1000])
    if isinstance(v, dict) and depth > 0:
        return all(_plain(k, depth - 1) and _plain(x, depth - 1) for k, x in list(v.items())[:1000])
    return False


class _Hasher:
    def __init__(self) -> None:
        self.h = hashlib.blake2b(digest_size=20)
        self.seen: set[int] = set()

    def feed(self, *parts: Any) -> None:
        self.h.update(repr(parts).encode())

    def value(self, v: Any, depth: int, strict: bool = True) -> None:
        if not strict and not _plain(v):
            # Globals that are live objects (thread locals, registries, connections) are process
            # state, not configuration; their type stands in for them.
            self.feed("object", type(v).__module__, type(v).__qualname__)
        elif isinstance(v, (types.FunctionType, types.MethodType, functools.partial, Preprocessor)):
            self.callable(v, depth)
        elif isinstance(v, types.ModuleType):
            self.feed("module", v.__name__, getattr(v, "__version__", None))
        elif isinstance(v, type):
            self.feed("class", v.__module__, v.__qualname__)
            if depth > 0 and not v.__module__.startswith(("builtins", "numpy", "pandas", "re")):
                self.class_methods(v, depth - 1)
        elif isinstance(v, (types.BuiltinFunctionType, np.ufunc)):
            self.feed("builtin", getattr(v, "__module__", None), getattr(v, "__qualname__", repr(v)))
        elif isinstance(v, LabelingFunction):
            self.lf(v, depth - 1)
        else:
            try:
                self.feed("value", type(v).__qualname__, joblib.hash(v))
            except Exception as exc:  # unpicklable (an open model, a connection...)
                raise _Uncacheable(f"{type(v).__name__} cannot be fingerprinted ({exc})") from exc

    def class_methods(self, cls: type, depth: int) -> None:
        for klass in cls.__mro__:
            if klass in (LabelingFunction, Preprocessor, object) or klass.__module__ == "builtins":
                continue
            for name, member in sorted(vars(klass).items()):
                func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                if isinstance(func, types.FunctionType):
                    self.feed("method", klass.__qualname__, name)
                    self.callable(func, depth)

    def callable(self, f: Any, depth: int) -> None:
        if id(f) in self.seen or depth < 0:
            self.feed("ref", getattr(f, "__qualname__", type(f).__name__))
            return
        self.seen.add(id(f))
        if isinstance(f, Preprocessor):
            self.feed("pre", f.name, f.vectorized, f.memoize)
            self.callable(f.f, depth)
            if f.memoize_key is not None:
                self.callable(f.memoize_key, depth)
        elif isinstance(f, types.MethodType):
            self.feed("method_of", type(f.__self__).__qualname__)
            self.callable(f.__func__, depth)
        elif isinstance(f, functools.partial):
            self.feed("partial")
            self.callable(f.func, depth)
            self.value(f.args, depth)
            self.value(f.keywords, depth)
        elif isinstance(f, types.FunctionType):
            code = f.__code__
            self.feed("function", _code_parts(code), f.__defaults__ is not None)
            for d in (f.__defaults__ or ()) + tuple((f.__kwdefaults__ or {}).values()):
                self.value(d, depth - 1)
            for cell in f.__closure__ or ():
                try:
                    contents = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                self.value(contents, depth - 1)
            for name in sorted(_global_names(code)):
                if name in f.__globals__:
                    self.feed("global", name)
                    self.value(f.__globals__[name], depth - 1, strict=False)
        elif callable(f):
            self.feed("callable_object", type(f).__module__, type(f).__qualname__)
            self.class_methods(type(f), depth - 1)
            self.value(getattr(f, "__dict__", None), depth - 1)
        else:
            self.value(f, depth)

    def lf(self, lf: LabelingFunction, depth: int) -> None:
        self.feed("lf", type(lf).__module__, type(lf).__qualname__, lf.vectorized)
        if isinstance(lf.f, types.MethodType) and lf.f.__self__ is lf:
            self.feed("bound to itself", lf.f.__func__.__qualname__)
        else:
            self.callable(lf.f, depth)
        for key in sorted(lf.resources):
            self.feed("resource", key)
            self.value(lf.resources[key], depth)
        for p in lf.pre:
            self.callable(p, depth)
        if type(lf) is not LabelingFunction:
            # LF classes (rule builders) keep their rule in the object and their logic in methods.
            self.class_methods(type(lf), depth)
            state = lf.__getstate__() if hasattr(lf, "__getstate__") else vars(lf)
            state = state if isinstance(state, dict) else vars(lf)
            for key in sorted(k for k in state if k not in _BASE_ATTRS):
                self.feed("attr", key)
                self.value(state[key], depth)


def lf_fingerprint(lf: LabelingFunction, *, depth: int = 3) -> str:
    """A hex digest that changes when anything deciding the LF's votes changes.

    Covers the LF's code (without line numbers), closure values, the globals its code reads
    (followed ``depth`` calls deep into helper functions), default arguments, resources,
    preprocessors and, for LF subclasses, the object's state and the class's methods. The LF's
    name is not part of it: renaming an LF keeps its cached column.

    Raises
    ------
    TypeError
        When a resource or global cannot be fingerprinted (it cannot be pickled); such an LF is
        simply recomputed on every run by :class:`LFCache`.

    Examples
    --------
    >>> from labeling import labeling_function
    >>> a = labeling_function(name="a")(lambda x: 1 if "free" in x.text else -1)
    >>> b = labeling_function(name="b")(lambda x: 1 if "free" in x.text else -1)
    >>> lf_fingerprint(a) == lf_fingerprint(b)
    True
    """
    hasher = _Hasher()
    hasher.feed("votewise-lf", _FORMAT)
    try:
        hasher.lf(lf, depth)
    except _Uncacheable as exc:
        raise TypeError(f"LF {lf.name!r}: {exc}; it cannot be cached.") from None
    return hasher.h.hexdigest()


# --- data fingerprints -------------------------------------------------------------------------

def _feed_array(h: Any, values: Any) -> None:
    try:
        import pyarrow as pa

        chunked = pa.chunked_array(values.__arrow_array__()) if hasattr(values, "__arrow_array__") else None
    except Exception:  # not an Arrow-backed array after all
        chunked = None
    if chunked is not None:
        # Arrow buffers are hashed as they are (no copy, no per-value work): offset, length and
        # buffers determine the values, so equal fingerprints mean equal data.
        for chunk in chunked.chunks:
            h.update(repr(("arrow", str(chunk.type), chunk.offset, len(chunk), chunk.null_count)).encode())
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(memoryview(buf))
        return
    arr = np.asarray(values)
    if arr.dtype.kind in "biufcmM":
        h.update(repr(("numpy", arr.dtype.str, arr.shape)).encode())
        h.update(memoryview(np.ascontiguousarray(arr)).cast("B"))
        return
    try:
        h.update(pd.util.hash_array(arr.astype(object, copy=False), categorize=True).tobytes())
    except TypeError:  # unhashable values such as lists
        h.update(joblib.hash(arr).encode())


def _fast_hash() -> Any:
    # Hashing the data is the fixed cost of every cached run: xxh3 reads gigabytes per second,
    # SHA-256 (hardware-accelerated on most CPUs) a few hundred megabytes.
    try:
        import xxhash

        return xxhash.xxh3_128()
    except ImportError:  # pragma: no cover - xxhash is a dependency, but a missing one must not break caching
        return hashlib.sha256()


def data_fingerprint(data: pd.DataFrame) -> str:
    """A hex digest of a DataFrame's values, column names, dtypes and row ids.

    Arrow-backed columns (pandas' default string type) are hashed buffer by buffer, numeric
    columns byte by byte, object columns value by value.

    Examples
    --------
    >>> a = pd.DataFrame({"text": ["a", "b"]})
    >>> data_fingerprint(a) == data_fingerprint(a.copy()), data_fingerprint(a) == data_fingerprint(a.iloc[::-1])
    (True, False)
    """
    h = _fast_hash()
    h.update(repr(("votewise-data", _FORMAT, len(data), list(map(str, data.columns)))).encode())
    index = data.index
    if isinstance(index, pd.RangeIndex):
        h.update(repr(("range", index.start, index.stop, index.step)).encode())
    else:
        h.update(repr(("index", str(index.dtype), index.nlevels)).encode())
        for level in range(index.nlevels):
            _feed_array(h, index.get_level_values(level).array)
    for name in data.columns:
        col = data[name]
        h.update(repr(("column", str(name), str(col.dtype))).encode())
        _feed_array(h, col.array)
    return f"{h.name.lower()}-{h.hexdigest()[:40]}"


# --- the cache ---------------------------------------------------------------------------------

class LFCache:
    """A folder of LF vote columns, reused by :func:`~labeling.apply_lfs` across runs.

    Pass it as ``apply_lfs(df, lfs, cache=LFCache())`` (or ``cache="some/folder"``). Each LF's
    column is stored under the data's fingerprint and the LF's fingerprint
    (:func:`lf_fingerprint`): after editing one LF, only its column is computed again; a changed
    resource, preprocessor or data set misses the cache by construction. Delete the folder or call
    :meth:`clear` to start afresh. Writes are atomic, so concurrent runs may share a folder.

    Parameters
    ----------
    location : str or path, optional
        Cache folder; default :func:`default_cache_dir` (``$VOTEWISE_CACHE`` or
        ``~/.cache/votewise/lf_votes``).

    Attributes
    ----------
    hits_ : list of str
        Names of the LFs whose column the last run read from the cache.
    misses_ : list of str
        Names of the LFs the last run computed.

    Examples
    --------
    >>> import tempfile
    >>> from labeling import apply_lfs, labeling_function
    >>> cache = LFCache(tempfile.mkdtemp())
    >>> lf = labeling_function(name="lf_free")(lambda x: 1 if "free" in x.text else -1)
    >>> df = pd.DataFrame({"text": ["free stuff", "hello"]})
    >>> _ = apply_lfs(df, [lf], cache=cache, progress=False); cache.misses_
    ['lf_free']
    >>> _ = apply_lfs(df, [lf], cache=cache, progress=False); cache.hits_
    ['lf_free']
    """

    def __init__(self, location: str | os.PathLike | None = None) -> None:
        self.location = Path(location).expanduser() if location is not None else default_cache_dir()
        self.hits_: list[str] = []
        self.misses_: list[str] = []

    def __repr__(self) -> str:
        return f"LFCache({str(self.location)!r})"

    def clear(self) -> None:
        """Delete every cached column (the folder itself is kept)."""
        if not self.location.exists():
            return
        for path in sorted(self.location.glob("*/*.npz")) + sorted(self.location.glob("*/*.tmp")):
            path.unlink(missing_ok=True)
        for folder in self.location.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    @property
    def size_bytes(self) -> int:
        """Disk space taken by the cached columns."""
        return sum(p.stat().st_size for p in self.location.glob("*/*.npz")) if self.location.exists() else 0

    def _path(self, data_fp: str, lf_fp: str) -> Path:
        return self.location / data_fp / f"{lf_fp}.npz"

    def _load(
        self, path: Path, lf: LabelingFunction, data: pd.DataFrame, cardinality: int | None, fault_tolerant: bool
    ) -> tuple[np.ndarray, list[LFFailure]] | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                votes, fail_pos, fail_err = z["votes"], z["fail_pos"], z["fail_err"]
        except (OSError, ValueError, KeyError):  # missing, or half-written by a killed run
            return None
        if len(votes) != len(data) or (len(fail_pos) and not fault_tolerant):
            return None  # without fault tolerance the failure must be raised again: recompute
        if cardinality is not None and votes.size and votes.max() >= cardinality:
            return None  # let the apply raise the out-of-range error with its row
        failures = [LFFailure(lf.name, int(p), data.index[p], str(e)) for p, e in zip(fail_pos, fail_err)]
        return votes, failures

    def _store(self, path: Path, votes: np.ndarray, failures: list[LFFailure]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        small = votes.astype(np.int8) if votes.size and votes.max() < 127 else votes
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh, votes=small,
                    fail_pos=np.asarray([f.position for f in failures], dtype=np.int64),
                    fail_err=np.asarray([f.error for f in failures], dtype=str),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _groups(self, data: pd.DataFrame, data_fp: str) -> tuple[np.ndarray, np.ndarray] | None:
        # Which rows are duplicates depends on the data only: found once, reused by every later edit.
        path = self.location / data_fp / "rows.npz"
        n = len(data)
        try:
            with np.load(path, allow_pickle=False) as z:
                kind = str(z["kind"])
                if kind == "distinct":
                    return np.arange(n), np.arange(n)
                if kind == "unhashable":
                    return None
                return z["codes"].astype(np.intp), z["first"].astype(np.int64)
        except (OSError, ValueError, KeyError):
            pass
        groups = unique_rows(data)
        if groups is None:
            stored = {"kind": np.asarray("unhashable")}
        elif len(groups[1]) == n:
            stored = {"kind": np.asarray("distinct")}  # nothing to store but the fact
        else:
            stored = {"kind": np.asarray("groups"), "codes": groups[0].astype(np.int32 if n < 2**31 else np.int64),
                      "first": groups[1]}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **stored)
        os.replace(tmp, path)
        return groups

    def votes(
        self, data: pd.DataFrame, lfs: Sequence[LabelingFunction], **options: Any
    ) -> tuple[np.ndarray, list[LFFailure]]:
        """Votes (int16, rows x LFs) and failures, from the cache where possible.

        Takes the options of :func:`~labeling.apply_lfs`; used by it when given ``cache=``.
        """
        data, lfs = validate_input(data, lfs, options.get("cardinality"))
        cardinality = options.get("cardinality")
        fault_tolerant = options.get("fault_tolerant", False)
        data_fp = data_fingerprint(data)
        out = np.empty((len(data), len(lfs)), dtype=np.int16)
        failures: list[LFFailure] = []
        todo: list[int] = []
        paths: dict[int, Path] = {}
        self.hits_, self.misses_ = [], []
        for j, lf in enumerate(lfs):
            try:
                paths[j] = self._path(data_fp, lf_fingerprint(lf))
            except TypeError as exc:
                warnings.warn(f"{exc} It is recomputed on every run.", stacklevel=3)
                todo.append(j)
                continue
            hit = self._load(paths[j], lf, data, cardinality, fault_tolerant)
            if hit is None:
                todo.append(j)
            else:
                out[:, j] = hit[0]
                failures.extend(hit[1])
                self.hits_.append(lf.name)
        if todo:
            if options.get("dedup", True) and worth_dedup(data, [lfs[j] for j in todo]):
                options = {**options, "groups": self._groups(data, data_fp)}
            votes, new_failures = compute_votes(data, [lfs[j] for j in todo], **options)
            for k, j in enumerate(todo):
                out[:, j] = votes[:, k]
                mine = [f for f in new_failures if f.lf == lfs[j].name]
                failures.extend(mine)
                self.misses_.append(lfs[j].name)
                if j in paths:
                    self._store(paths[j], votes[:, k], mine)
        order = {lf.name: j for j, lf in enumerate(lfs)}
        failures.sort(key=lambda f: (f.position, order[f.lf]))
        return out, failures


def as_cache(cache: Any) -> LFCache:
    """An :class:`LFCache` from ``apply_lfs``'s ``cache=`` argument."""
    if isinstance(cache, LFCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return LFCache(cache)
    raise TypeError(f"cache= takes an LFCache or a folder path; got {type(cache).__name__}.")
