"""Fingerprints: what decides an LF's votes, and what identifies a table of rows.

An LF's fingerprint covers its code (not its line numbers, so editing another LF in the same file does
not invalidate it), the globals and closure values that code reads, its resources, its preprocessors and,
for LF classes such as the rule builders, the object's own state and the class's methods. The data
fingerprint covers every column's values with their exact types, the dtypes and the row ids. The vote
cache (:mod:`labeling.core.cache`) and streaming's resume key their results on them.
"""

from __future__ import annotations

import dataclasses
import dis
import functools
import hashlib
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .lf import LabelingFunction, Preprocessor

__all__ = ["lf_fingerprint", "data_fingerprint"]

_FORMAT = "3"  # bump when the stored layout or the fingerprint recipe changes

_BASE_ATTRS = {
    "name", "f", "resources", "resource_files", "cache_key", "pre", "vectorized", "__wrapped__", "__doc__", "__name__", "__qualname__",
    "__module__", "__type_params__", "__dict__",
}


class _Uncacheable(Exception):
    pass


# --- LF fingerprints ---------------------------------------------------------------------------

def _code_parts(code: types.CodeType) -> tuple:
    # Line numbers and file names are left out on purpose: moving an LF must not invalidate it.
    consts = tuple(_code_parts(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return (
        code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars,
        code.co_argcount, code.co_kwonlyargcount, code.co_flags,
    )


# Calls that read files or the network while the LF runs: what they read is invisible to the
# fingerprint, so an LF making one is cached only when it declares resources= or cache_key=.
_IO_CALLS = frozenset({
    "open", "read_csv", "read_table", "read_json", "read_parquet", "read_excel", "read_pickle", "read_feather",
    "read_text", "read_bytes", "loadtxt", "genfromtxt", "fromfile", "urlopen", "load", "scandir", "listdir",
})
_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_ATTRS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


@functools.lru_cache(maxsize=4096)
def _reads(code: types.CodeType) -> tuple[frozenset, frozenset, frozenset]:
    """What a code object reads: ``(globals read whole, attribute chains on globals, file-reading calls)``.

    From the bytecode, not ``co_names``: ``co_names`` mixes global names with attribute names, so
    ``np.where`` would look like a read of a global named ``where``. A ``LOAD_GLOBAL np`` followed
    by ``LOAD_ATTR where`` is the chain ``("np", "where")``: for a module, only that attribute
    is fingerprinted (``cfg.MIN_LEN`` follows the value of ``MIN_LEN`` in ``cfg``).
    """
    whole: set[str] = set()
    chains: set[tuple[str, ...]] = set()
    io: set[str] = set()
    ins = list(dis.get_instructions(code))
    i = 0
    while i < len(ins):
        op = ins[i]
        if op.opname in _LOADS:
            chain = [op.argval]
            j = i + 1
            while j < len(ins) and ins[j].opname in _ATTRS:
                chain.append(ins[j].argval)
                j += 1
            (chains.add(tuple(chain)) if len(chain) > 1 else whole.add(op.argval))
            if any(part in _IO_CALLS for part in chain):
                io.add(".".join(chain))
            i = j
            continue
        if op.opname in _ATTRS and op.argval in _IO_CALLS:
            io.add("." + op.argval)  # e.g. Path(p).read_text(), fh.load
        i += 1
    for c in code.co_consts:
        if isinstance(c, types.CodeType):  # lambdas, comprehensions, nested functions
            w, ch, o = _reads(c)
            whole |= w
            chains |= ch
            io |= o
    return frozenset(whole), frozenset(chains), frozenset(io)


_OWN_PACKAGES = ("labeling", "rules", "sources", "models")
_VOTING_METHODS = frozenset({"__call__", "votes", "_call_votes"})


@functools.lru_cache(maxsize=1024)
def _library_module(name: str | None) -> bool:
    """Whether a module is third-party or standard library (hashed by name and version, not by code)."""
    if not name:
        return True
    top = name.split(".")[0]
    if top in ("builtins", "__main__"):
        return top == "builtins"
    module = sys.modules.get(name) or sys.modules.get(top)
    path = getattr(module, "__file__", None)
    if path is None:
        return top in sys.builtin_module_names or top in sys.stdlib_module_names
    if top in sys.stdlib_module_names:
        return True
    path = os.path.realpath(path)
    return any(part in ("site-packages", "dist-packages") for part in Path(path).parts)


def _version(module_name: str | None) -> Any:
    top = sys.modules.get((module_name or "").split(".")[0])
    return getattr(top, "__version__", None)


def _instance_is_library(v: Any) -> bool:
    # Instances of library classes, and registries that mark themselves as process state, count by
    # their type; instances of the user's classes (and votewise's data, e.g. a KnowledgeBase read as
    # a global) are configuration and are hashed by value.
    return _library_module(type(v).__module__) or bool(getattr(type(v), "__votewise_process_state__", False))


_PLAIN = (type(None), bool, int, float, complex, str, bytes, re.Pattern, np.ndarray, np.generic)


def _plain(v: Any, depth: int = 2) -> bool:
    """Plain data: things whose pickled bytes are their meaning."""
    if isinstance(v, _PLAIN):
        return True
    if isinstance(v, (tuple, list, set, frozenset)) and depth > 0:
        return all(_plain(x, depth - 1) for x in list(v)[:1000])
    if isinstance(v, dict) and depth > 0:
        return all(_plain(k, depth - 1) and _plain(x, depth - 1) for k, x in list(v.items())[:1000])
    return False


def _state(v: Any) -> dict | None:
    """An object's fields (``__dict__`` and ``__slots__``), or None when it has neither."""
    state: dict[str, Any] = {}
    if hasattr(v, "__dict__") and isinstance(vars(v), dict):
        state.update(vars(v))
    for klass in type(v).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if slot not in ("__dict__", "__weakref__") and hasattr(v, slot):
                state[slot] = getattr(v, slot)
    return state if state or hasattr(v, "__dict__") else None


def _hash_pandas(v: Any) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((type(v).__name__, getattr(v, "shape", None))).encode())
    if isinstance(v, pd.DataFrame):
        h.update(repr((list(map(str, v.columns)), list(map(str, v.dtypes)))).encode())
    elif isinstance(v, pd.Series):
        h.update(repr((str(v.name), str(v.dtype))).encode())
    try:
        h.update(pd.util.hash_pandas_object(v, index=True).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists): pickle instead
        h.update(joblib.hash(v).encode())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=20)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(repr(("file", str(f.relative_to(path)) if f != path else "")).encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class _Hasher:
    def __init__(self, lenient: bool = False) -> None:
        self.h = hashlib.blake2b(digest_size=20)
        self.seen: set[int] = set()
        self.io: list[str] = []
        # File reads count in code that runs when the LF votes: the LF's function and what it calls,
        # a callable object's __call__, an LF class's votes(); not constructors such as from_csv.
        self.scan_io = True
        # With a cache_key the LF vouches for state the fingerprint cannot see: an unpicklable
        # global then stands for its type instead of making the LF uncacheable.
        self.lenient = lenient

    def feed(self, *parts: Any) -> None:
        self.h.update(repr(parts).encode())

    def value(self, v: Any, depth: int, strict: bool = True, where: str = "") -> None:
        if isinstance(v, (types.FunctionType, types.MethodType, functools.partial, Preprocessor)):
            self.callable(v, depth)
        elif isinstance(v, LabelingFunction):
            self.lf(v, depth - 1)
        elif isinstance(v, types.ModuleType):
            self.feed("module", v.__name__, getattr(v, "__version__", None))
        elif isinstance(v, type):
            self.feed("class", v.__module__, v.__qualname__)
            if depth > 0 and not _library_module(v.__module__):
                self.class_methods(v, depth - 1)
            elif _library_module(v.__module__):
                self.feed("version", _version(v.__module__))
        elif isinstance(v, (types.BuiltinFunctionType, types.BuiltinMethodType, np.ufunc)):
            self.feed("builtin", getattr(v, "__module__", None), getattr(v, "__qualname__", repr(v)))
        elif hasattr(v, "__wrapped__") and callable(v) and not isinstance(v, type):
            # functools.lru_cache / cache / wraps-style wrappers: the wrapped function decides.
            self.feed("wrapped", type(v).__qualname__)
            self.callable(v.__wrapped__, depth)
        elif isinstance(v, (pd.DataFrame, pd.Series, pd.Index)):
            self.feed("pandas", _hash_pandas(v))
        elif _plain(v):
            self.feed("value", type(v).__qualname__, joblib.hash(v))
        elif callable(v) and not _instance_is_library(v):
            self.callable(v, depth)  # a callable object of the user's: its class's code and its state
        elif not _instance_is_library(v) and depth >= 0 and _state(v) is not None:
            # An object of the user's (a dataclass config, a matcher): its class and its fields, walked
            # field by field rather than pickled whole (its class may not be importable by name).
            self.feed("object", type(v).__module__, type(v).__qualname__)
            self.value(_state(v), depth - 1, True, where)  # its fields are configuration too
        elif getattr(type(v), "__votewise_process_state__", False):
            self.feed("object", type(v).__module__, type(v).__qualname__)
        elif strict or not _instance_is_library(v) or hasattr(v, "get_params") or dataclasses.is_dataclass(v):
            # Configuration: dataclasses, fitted estimators (params and learned arrays), user objects.
            try:
                self.feed("value", type(v).__module__, type(v).__qualname__, joblib.hash(v))
            except Exception as exc:  # unpicklable (an open model, a connection, a lock...)
                if self.lenient:
                    self.feed("object", type(v).__module__, type(v).__qualname__)
                    return
                raise _Uncacheable(
                    f"{where or 'a value it reads'} ({type(v).__name__}) cannot be fingerprinted "
                    f"({type(exc).__name__}: {str(exc)[:80]})"
                ) from exc
        else:
            # Live library objects read as globals (thread locals, registries, loggers) are process
            # state, not configuration; their type stands in for them.
            self.feed("object", type(v).__module__, type(v).__qualname__)

    def class_methods(self, cls: type, depth: int) -> None:
        for klass in cls.__mro__:
            if klass in (LabelingFunction, Preprocessor, object) or _library_module(klass.__module__):
                continue
            for name, member in sorted(vars(klass).items()):
                func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                if isinstance(func, property):
                    func = func.fget
                if isinstance(func, types.FunctionType):
                    self.feed("method", klass.__qualname__, name)
                    scan, self.scan_io = self.scan_io, self.scan_io and name in _VOTING_METHODS
                    try:
                        self.callable(func, depth)
                    finally:
                        self.scan_io = scan

    def globals_of(self, f: types.FunctionType, depth: int) -> None:
        whole, chains, io = _reads(f.__code__)
        g = f.__globals__
        for name in sorted(whole):
            if name in g:
                self.feed("global", name)
                self.value(g[name], depth - 1, strict=False, where=f"global {name!r} of {f.__qualname__}")
        for chain in sorted(chains):
            if chain[0] not in g:
                continue
            obj = g[chain[0]]
            k = 1
            # Through modules only: helpers.is_spam is the function is_spam, cfg.MIN_LEN its value.
            while k < len(chain) and isinstance(obj, types.ModuleType):
                if not hasattr(obj, chain[k]):
                    break
                obj = getattr(obj, chain[k])
                k += 1
            label = ".".join(chain[:k])
            self.feed("global", label)
            if isinstance(obj, types.ModuleType):
                self.value(obj, depth - 1, strict=False)
            else:
                self.value(obj, depth - 1, strict=False, where=f"global {label!r} of {f.__qualname__}")
        if self.scan_io and (f.__module__ or "").split(".")[0] not in _OWN_PACKAGES:
            self.io.extend(f"{f.__qualname__} calls {call}()" for call in sorted(io))

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
            if not isinstance(f.__self__, type) and not _instance_is_library(f.__self__):
                self.value(_state(f.__self__), depth - 1, where=f"the state of {f.__qualname__}")
        elif isinstance(f, functools.partial):
            self.feed("partial")
            self.callable(f.func, depth)
            self.value(f.args, depth)
            self.value(f.keywords, depth)
        elif isinstance(f, types.FunctionType):
            if _library_module(f.__module__):
                # Library code changes with its version, which is what is hashed.
                self.feed("library function", f.__module__, f.__qualname__, _version(f.__module__))
                return
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
            self.globals_of(f, depth)
        elif hasattr(f, "__wrapped__") and not isinstance(f, type):
            self.feed("wrapped", type(f).__qualname__)
            self.callable(f.__wrapped__, depth)
        elif isinstance(f, (types.BuiltinFunctionType, np.ufunc, type)):
            self.value(f, depth)
        elif callable(f):
            # A callable object: its class's methods (the code) and its attributes (the state).
            self.feed("callable_object", type(f).__module__, type(f).__qualname__)
            self.class_methods(type(f), depth - 1)
            self.value(_state(f), depth - 1, where=f"the state of {type(f).__qualname__}")
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
            self.value(lf.resources[key], depth, where=f"resource {key!r}")
        for path in getattr(lf, "resource_files", ()):
            if not path.exists():
                raise _Uncacheable(f"resource file {str(path)!r} does not exist")
            self.feed("resource file", path.name, _file_digest(path))
        key = getattr(lf, "cache_key", None)
        if key is not None:
            try:
                key = key() if callable(key) else key
            except Exception as exc:
                raise _Uncacheable(f"cache_key raised {type(exc).__name__}: {exc}") from exc
            self.feed("cache_key")
            self.value(key, depth, where="its cache_key")
        for p in lf.pre:
            self.callable(p, depth)
        if type(lf) is not LabelingFunction:
            # LF classes (rule builders) keep their rule in the object and their logic in methods.
            self.class_methods(type(lf), depth)
            state = lf.__getstate__() if hasattr(lf, "__getstate__") else vars(lf)
            state = state if isinstance(state, dict) else vars(lf)
            for key in sorted(k for k in state if k not in _BASE_ATTRS):
                self.feed("attr", key)
                self.value(state[key], depth, where=f"attribute {key!r}")


def lf_fingerprint(lf: LabelingFunction, *, depth: int = 3) -> str:
    """A hex digest that changes when anything deciding the LF's votes changes.

    Covers the LF's code (without line numbers), closure values, the globals its code reads
    (followed ``depth`` calls deep into helper functions, through module attributes such as
    ``helpers.is_spam`` or ``cfg.MIN_LEN`` into the other module), the values of global data
    (DataFrames, arrays, dataclasses, fitted estimators, the state of callable objects),
    functions under ``functools.lru_cache``, default arguments, resources (and the content of
    resource files), ``cache_key``, preprocessors and, for LF subclasses, the object's state and
    the class's methods. The LF's name is not part of it: renaming an LF keeps its cached column.

    Raises
    ------
    TypeError
        When something the LF depends on cannot be fingerprinted: a value that cannot be pickled,
        a missing resource file, or a file or network read at call time (``open``, ``read_csv``,
        ...) while the LF declares neither ``resources=[paths]`` nor ``cache_key=``. The message
        gives the reason; :class:`LFCache` then recomputes such an LF on every run.

    Examples
    --------
    >>> from labeling import labeling_function
    >>> a = labeling_function(name="a")(lambda x: 1 if "free" in x.text else -1)
    >>> b = labeling_function(name="b")(lambda x: 1 if "free" in x.text else -1)
    >>> lf_fingerprint(a) == lf_fingerprint(b)
    True
    """
    declared = bool(getattr(lf, "resource_files", ())) or getattr(lf, "cache_key", None) is not None
    hasher = _Hasher(lenient=getattr(lf, "cache_key", None) is not None)
    hasher.feed("votewise-lf", _FORMAT)
    try:
        hasher.lf(lf, depth)
    except _Uncacheable as exc:
        raise TypeError(f"LF {lf.name!r}: {exc}; it cannot be cached.") from None
    if hasher.io and not declared:
        raise TypeError(
            f"LF {lf.name!r}: {hasher.io[0]}, which reads something the cache cannot see; it cannot be cached. "
            "Declare the files it reads with resources=[paths] (fingerprinted by content) or its state with cache_key=."
        )
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
    obj = arr.astype(object, copy=False)
    try:
        h.update(pd.util.hash_array(obj, categorize=True).tobytes())
    except TypeError:  # unhashable values such as lists
        h.update(joblib.hash(arr).encode())
        return
    # pandas hashes object values through their text, so None and NaN, 1 and "1", True and "True" hash
    # alike; LFs see them differently. A column of one kind (all strings, say) is told by that kind (a
    # C-speed scan); a mixed one by each value's type.
    kind = pd.api.types.infer_dtype(obj, skipna=False)
    h.update(repr(("kind", kind)).encode())
    if kind not in ("string", "bytes", "integer", "floating", "boolean", "empty"):
        names: dict[type, int] = {}
        codes = np.fromiter((names.setdefault(t, len(names)) for t in map(type, obj)), dtype=np.int32, count=len(obj))
        h.update(repr([f"{t.__module__}.{t.__qualname__}" for t in names]).encode())
        h.update(codes.tobytes())


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
    columns byte by byte, object columns value by value and by each value's type (``None`` and
    ``NaN``, ``1`` and ``"1"`` differ).

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
