"""Builders for regular-expression, keyword and length LFs."""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from labeling import Preprocessor

from ._batch import LITERALS, column_view
from ._prefilter import prefilter
from .base import RuleLF, Span

__all__ = ["RegexLF", "regex_lf", "keyword_lf", "LengthLF", "length_lf"]


class RegexLF(RuleLF):
    """Votes ``label`` when ``pattern.search(text)`` finds a match (see :func:`regex_lf`)."""

    kind = "regex"

    def __init__(
        self,
        name: str,
        pattern: str | re.Pattern,
        label: int,
        *,
        flags: int = 0,
        column: str = "text",
        pre: Sequence[Preprocessor] | None = None,
        keywords: Sequence[str] | None = None,
    ) -> None:
        super().__init__(name, label, column=column, pre=pre)
        try:
            self.pattern = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
        except re.error as exc:
            raise ValueError(f"LF {name!r}: invalid regular expression {pattern!r}: {exc}") from exc
        if isinstance(pattern, re.Pattern) and flags:
            raise ValueError(f"LF {name!r}: pass flags= only with a pattern string, not a compiled pattern.")
        self.keywords = list(keywords) if keywords is not None else None
        if self.keywords is not None:
            self.kind = "keyword"
        self._register()

    def _register(self) -> None:
        self._prefilter = prefilter(self.pattern)
        self._clauses, self._icase = LITERALS.register(self._prefilter)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_clauses"]  # literal ids are per process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._clauses, self._icase = LITERALS.register(self._prefilter)

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        hits = view.cached(("regex", self.pattern), lambda: self._hits(view))
        per_text = self._abstain(len(view))
        per_text[hits] = self.label
        return view.broadcast(per_text)

    def _hits(self, view) -> np.ndarray:
        idx = LITERALS.candidates(view, self._clauses, self._icase)
        texts = view.texts
        search = self.pattern.search
        if idx is None:
            return np.flatnonzero([search(t) is not None for t in texts]).astype(np.intp)
        return np.asarray([i for i in idx.tolist() if search(texts[i]) is not None], dtype=np.intp)

    def explain(self, text: str) -> list[Span]:
        spans = []
        for m in self.pattern.finditer(text):
            if m.end() > m.start() or not spans:
                what = f"keyword {m.group()!r}" if self.keywords is not None else f"regex {self.pattern.pattern}"
                spans.append(Span(m.start(), m.end(), what))
        return spans

    @property
    def info(self) -> dict[str, Any]:
        extra = {"keywords": self.keywords} if self.keywords is not None else {}
        return {**super().info, "pattern": self.pattern.pattern, "flags": int(self.pattern.flags), **extra}


def regex_lf(
    name: str,
    pattern: str | re.Pattern,
    label: int,
    *,
    flags: int = 0,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> RegexLF:
    """An LF that votes ``label`` when a regular expression matches anywhere in the text.

    The batch path tests each distinct text of a chunk once, and first rules out texts that lack a
    literal the pattern needs (found for all regex LFs together in one Aho-Corasick pass), so most
    texts never reach ``re.search``. Votes are exactly those of ``re.search(pattern, text, flags)``.

    Parameters
    ----------
    name : str
        LF name.
    pattern : str or re.Pattern
        Python regular expression.
    label : int
        Class id voted on a match.
    flags : int
        ``re`` flags, e.g. ``re.IGNORECASE`` (only with a pattern string).
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Returns
    -------
    RegexLF
        ``lf.explain(text)`` lists the matched spans.

    Examples
    --------
    >>> lf = regex_lf("check_out", r"check\\s+(it\\s+)?out", 1, flags=re.I)
    >>> lf(pd.DataFrame({"text": ["Check it out!", "nice song"]})).tolist()
    [1, -1]
    >>> lf.explain("Check it out!")
    [Span(start=0, end=12, what='regex check\\\\s+(it\\\\s+)?out')]
    """
    return RegexLF(name, pattern, label, flags=flags, column=column, pre=pre)


def keyword_lf(
    name: str,
    keywords: str | Iterable[str],
    label: int,
    *,
    case: bool = False,
    whole_word: bool = False,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> RegexLF:
    """An LF that votes ``label`` when any of the keywords occurs in the text.

    Parameters
    ----------
    name : str
        LF name.
    keywords : str or iterable of str
        Phrases matched literally (no regex syntax).
    label : int
        Class id voted when one occurs.
    case : bool
        Match case exactly (default: case-insensitive).
    whole_word : bool
        Only match whole words: ``"win"`` does not fire on ``"window"``.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = keyword_lf("subscribe", ["subscribe", "sub4sub"], 1)
    >>> lf(pd.DataFrame({"text": ["Please SUBSCRIBE", "great video"]})).tolist()
    [1, -1]
    """
    words = [keywords] if isinstance(keywords, str) else list(keywords)
    if not words or not all(isinstance(w, str) and w for w in words):
        raise ValueError(f"LF {name!r}: keywords must be non-empty strings; got {keywords!r}.")
    # Longest first so that the reported span is the longest keyword at a position.
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    pattern = rf"(?<!\w)(?:{alternation})(?!\w)" if whole_word else f"(?:{alternation})"
    return RegexLF(
        name, pattern, label, flags=0 if case else re.IGNORECASE, column=column, pre=pre, keywords=words
    )


class LengthLF(RuleLF):
    """Votes ``label`` when the text's length lies within bounds (see :func:`length_lf`)."""

    kind = "length"

    def __init__(
        self, name: str, label: int, *, min_len: int | None, max_len: int | None, unit: str,
        column: str, pre: Sequence[Preprocessor] | None,
    ) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if unit not in ("words", "chars"):
            raise ValueError(f"LF {name!r}: unit={unit!r} is not one of {{'words', 'chars'}}.")
        if min_len is None and max_len is None:
            raise ValueError(f"LF {name!r}: give min_len, max_len or both.")
        if min_len is not None and max_len is not None and min_len > max_len:
            raise ValueError(f"LF {name!r}: min_len={min_len} is larger than max_len={max_len}.")
        self.min_len, self.max_len, self.unit = min_len, max_len, unit

    def _lengths(self, view) -> np.ndarray:
        if self.unit == "chars":
            return np.fromiter((len(t) for t in view.texts), np.int64, len(view))
        return view.cached("n_words", lambda: np.fromiter((len(t.split()) for t in view.texts), np.int64, len(view)))

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        n = self._lengths(view)
        ok = np.ones(len(view), dtype=bool)
        if self.min_len is not None:
            ok &= n >= self.min_len
        if self.max_len is not None:
            ok &= n <= self.max_len
        per_text = self._abstain(len(view))
        per_text[ok] = self.label
        return view.broadcast(per_text)

    def explain(self, text: str) -> list[Span]:
        n = len(text) if self.unit == "chars" else len(text.split())
        if (self.min_len is None or n >= self.min_len) and (self.max_len is None or n <= self.max_len):
            return [Span(0, len(text), f"length {n} {self.unit} in [{self.min_len}, {self.max_len}]")]
        return []

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "min_len": self.min_len, "max_len": self.max_len, "unit": self.unit}


def length_lf(
    name: str,
    label: int,
    *,
    min_len: int | None = None,
    max_len: int | None = None,
    unit: str = "words",
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> LengthLF:
    """An LF that votes ``label`` when the text has between ``min_len`` and ``max_len`` words (or chars).

    Parameters
    ----------
    name : str
        LF name.
    label : int
        Class id voted when the length is in range.
    min_len, max_len : int, optional
        Inclusive bounds; give one or both.
    unit : {"words", "chars"}
        Words are whitespace-separated tokens.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = length_lf("short", 0, max_len=4)
    >>> lf(pd.DataFrame({"text": ["cool video", "check out my new channel please"]})).tolist()
    [0, -1]
    """
    return LengthLF(name, label, min_len=min_len, max_len=max_len, unit=unit, column=column, pre=pre)
