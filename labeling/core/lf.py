"""Labeling functions and preprocessors: plain callables with a name and metadata."""

from __future__ import annotations

import functools
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .row import Row

__all__ = [
    "LabelingFunction",
    "labeling_function",
    "Preprocessor",
    "preprocessor",
    "check_unique_names",
]


def _missing_parentheses(kind: str) -> TypeError:
    return TypeError(
        f"@{kind} is missing its parentheses: write @{kind}() (optionally with arguments), "
        f"not @{kind}."
    )


class Preprocessor:
    """A function that maps a row (or, when ``vectorized``, a DataFrame chunk) to a new one.

    Preprocessors run before a labeling function sees the row, e.g. to add
    tokens or a cleaned text. Row preprocessors receive a :class:`~labeling.Row`
    copy they may change and return; vectorized ones receive and return a
    DataFrame. With ``memoize=True`` results are cached by ``memoize_key(row)``
    (default: the row's values) in a bounded LRU, so several LFs sharing one
    expensive preprocessor compute it once per row.

    Parameters
    ----------
    name : str
        Name shown in errors and used in cache fingerprints.
    f : callable
        ``f(row) -> row`` or ``f(df) -> df`` when ``vectorized``.
    memoize : bool
        Cache results of row preprocessors.
    memoize_key : callable, optional
        Row -> hashable cache key.
    vectorized : bool
        Whether ``f`` maps a whole DataFrame chunk.
    cache_size : int
        Maximum number of memoised rows.
    """

    def __init__(
        self,
        name: str,
        f: Callable[[Any], Any],
        *,
        memoize: bool = False,
        memoize_key: Callable[[Any], Any] | None = None,
        vectorized: bool = False,
        cache_size: int = 100_000,
    ) -> None:
        self.name = name
        self.f = f
        self.memoize = memoize
        self.memoize_key = memoize_key
        self.vectorized = vectorized
        self.cache_size = cache_size
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        functools.update_wrapper(self, f)

    def reset_cache(self) -> None:
        """Forget memoised results."""
        self._cache.clear()

    def __getstate__(self) -> dict:
        # The cache is per process: workers start empty instead of shipping it.
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        return state

    def __call__(self, x: Any) -> Any:
        if self.vectorized:
            out = self.f(x)
            if not isinstance(out, pd.DataFrame) or len(out) != len(x):
                raise TypeError(
                    f"Vectorized preprocessor {self.name!r} must return a DataFrame with {len(x)} rows; "
                    f"got {type(out).__name__}."
                )
            return out
        if not self.memoize:
            return self._run_row(x)
        key = self.memoize_key(x) if self.memoize_key is not None else x.cache_key()
        try:
            hit = self._cache[key]
        except KeyError:
            hit = self._cache[key] = self._run_row(x)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return hit.copy()

    def _run_row(self, x: Any) -> Any:
        out = self.f(x.copy() if isinstance(x, Row) else x)
        if out is None:
            raise TypeError(
                f"Preprocessor {self.name!r} returned None; it must return the (modified) row."
            )
        return out

    def __repr__(self) -> str:
        return f"Preprocessor({self.name!r}, memoize={self.memoize}, vectorized={self.vectorized})"


def preprocessor(
    name: str | None = None,
    *,
    memoize: bool = False,
    memoize_key: Callable[[Any], Any] | None = None,
    vectorized: bool = False,
) -> Callable[[Callable[[Any], Any]], Preprocessor]:
    """Decorate a function as a :class:`Preprocessor`.

    Examples
    --------
    >>> @preprocessor(memoize=True)
    ... def lower(x):
    ...     x.text = x.text.lower()
    ...     return x
    """
    if callable(name):
        raise _missing_parentheses("preprocessor")

    def decorate(f: Callable[[Any], Any]) -> Preprocessor:
        return Preprocessor(
            name or f.__name__, f, memoize=memoize, memoize_key=memoize_key, vectorized=vectorized
        )

    return decorate


class LabelingFunction:
    """A function that votes a class id or abstains (``-1``) on a row.

    Row LFs are called with one :class:`~labeling.Row` (attribute and key access
    to the columns, e.g. ``x.text``) and return an int. Vectorized LFs are
    called with a DataFrame chunk and return one int per row: the fast path.

    Parameters
    ----------
    name : str
        Unique name: the column name in the label matrix.
    f : callable
        ``f(row, **resources) -> int`` or ``f(df, **resources) -> array of int``.
    resources : mapping or sequence of paths, optional
        A mapping: keyword arguments passed to ``f`` on every call (lists, models, KBs), part of
        the LF's cache fingerprint. A path or a list of paths: files (or folders) ``f`` reads
        itself; they are not passed to ``f``, and the cache fingerprints their content, so an
        edited file recomputes the LF's votes (see :class:`~labeling.LFCache`).
    pre : sequence of Preprocessor, optional
        Applied in order before ``f``.
    vectorized : bool
        Whether ``f`` takes a DataFrame chunk.
    cache_key : callable or value, optional
        What else decides the LF's votes, for :class:`~labeling.LFCache`: a value, or a function
        of no arguments called on every cached run (e.g. ``lambda: model.version``). Declaring
        it also tells the cache that state it cannot see (an open connection, a file read at
        call time) is covered, so the LF is cached instead of recomputed.
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        *,
        resources: Mapping[str, Any] | Sequence[str | os.PathLike] | str | os.PathLike | None = None,
        pre: Sequence[Preprocessor] | None = None,
        vectorized: bool = False,
        cache_key: Any = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"An LF needs a non-empty string name; got {name!r}.")
        if not callable(f):
            raise TypeError(f"LF {name!r}: f must be callable; got {type(f).__name__}.")
        files: list[Path] = []
        if resources is not None and not isinstance(resources, Mapping):
            # Paths of files the LF reads itself: fingerprinted by content, never passed as arguments.
            items = [resources] if isinstance(resources, (str, os.PathLike)) else list(resources)
            for item in items:
                if not isinstance(item, (str, os.PathLike)):
                    raise TypeError(
                        f"LF {name!r}: resources= takes a mapping of keyword arguments or a list of file paths; "
                        f"got a {type(item).__name__} in the list."
                    )
            files = [Path(item) for item in items]
            resources = None
        pre = list(pre or [])
        for p in pre:
            if not isinstance(p, Preprocessor):
                raise TypeError(
                    f"LF {name!r}: pre= takes Preprocessor objects (made with @preprocessor()); "
                    f"got {type(p).__name__}."
                )
        self.name = name
        self.f = f
        self.resources: dict[str, Any] = dict(resources or {})
        self.resource_files: tuple[Path, ...] = tuple(files)
        self.cache_key = cache_key
        self.pre: list[Preprocessor] = pre
        self.vectorized = vectorized
        functools.update_wrapper(self, f)

    def preprocess(self, x: Any) -> Any:
        """Run this LF's preprocessors on a row or chunk.

        Row preprocessors on a vectorized LF are applied row by row (correct, but
        slow: give such LFs vectorized preprocessors).
        """
        for p in self.pre:
            if self.vectorized and not p.vectorized:
                x = pd.DataFrame([dict(p(Row.from_series(r))) for _, r in x.iterrows()], index=x.index)
            elif not self.vectorized and p.vectorized:
                x = Row(p(pd.DataFrame([dict(x)])).iloc[0].to_dict())
            else:
                x = p(x)
        return x

    def __call__(self, x: Any) -> Any:
        return self.f(self.preprocess(x), **self.resources)

    def __repr__(self) -> str:
        kind = "vectorized" if self.vectorized else "row"
        pre = f", pre={[p.name for p in self.pre]}" if self.pre else ""
        return f"LabelingFunction({self.name!r}, {kind}{pre})"


def labeling_function(
    name: str | None = None,
    *,
    resources: Mapping[str, Any] | Sequence[str | os.PathLike] | str | os.PathLike | None = None,
    pre: Sequence[Preprocessor] | None = None,
    vectorized: bool = False,
    cache_key: Any = None,
) -> Callable[[Callable[..., Any]], LabelingFunction]:
    """Decorate a function as a :class:`LabelingFunction`.

    Parameters
    ----------
    name : str, optional
        Defaults to the function's name.
    resources : mapping or sequence of paths, optional
        Keyword arguments passed to the function on every call, or the paths of files the
        function reads itself (fingerprinted by content by :class:`~labeling.LFCache`).
    pre : sequence of Preprocessor, optional
        Preprocessors applied before the function.
    vectorized : bool
        The function takes a DataFrame chunk and returns one vote per row.
    cache_key : callable or value, optional
        Extra state for the cache fingerprint (see :class:`LabelingFunction`).

    Examples
    --------
    >>> @labeling_function()
    ... def lf_check_out(x):
    ...     return 1 if "check out" in x.text.lower() else -1
    >>> @labeling_function(vectorized=True)
    ... def lf_short(df):
    ...     return np.where(df.text.str.len() < 20, 0, -1)
    """
    if callable(name):
        raise _missing_parentheses("labeling_function")

    def decorate(f: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(
            name or f.__name__, f, resources=resources, pre=pre, vectorized=vectorized, cache_key=cache_key
        )

    return decorate


def check_unique_names(lfs: Sequence[LabelingFunction]) -> None:
    """Raise when an object is not an LF or two LFs share a name."""
    seen: dict[str, int] = {}
    for j, lf in enumerate(lfs):
        if not isinstance(lf, LabelingFunction):
            raise TypeError(
                f"lfs[{j}] is a {type(lf).__name__}, not a LabelingFunction; decorate it with "
                "@labeling_function()."
            )
        if lf.name in seen:
            raise ValueError(
                f"Two LFs are named {lf.name!r} (positions {seen[lf.name]} and {j}); LF names must be "
                "unique because they name the label-matrix columns. Rename one with "
                "@labeling_function(name=...)."
            )
        seen[lf.name] = j
