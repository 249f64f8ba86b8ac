"""Builders for regular-expression, keyword and length LFs."""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import regex

from labeling import Preprocessor
from labeling.core.safe_yaml import short_repr

from ._batch import LITERALS, column_view
from ._prefilter import prefilter
from ._re2 import NON_ASCII_WORD, UnsupportedPattern, compile_re2
from .base import RuleLF, Span

__all__ = ["RegexLF", "RegexTimeout", "UnsupportedPattern", "regex_lf", "keyword_lf", "LengthLF", "length_lf",
           "ENGINES", "REGEX_TIMEOUT"]

ENGINES = ("re2", "python")
"""Regex engines: ``"re2"`` (the default: linear time by construction, see :mod:`rules._re2`) and ``"python"``
(backtracking, for back-references and lookarounds, each search under a time limit)."""

REGEX_TIMEOUT = 1.0
"""Seconds one search on one text may take with ``engine="python"`` before the LF stops with :class:`RegexTimeout`."""

# re's flag values differ from regex's (ASCII is 256 in re, 128 in regex): translate by name.
_FLAG_PAIRS = [(re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE), (re.DOTALL, regex.DOTALL),
               (re.VERBOSE, regex.VERBOSE), (re.ASCII, regex.ASCII)]


class RegexTimeout(TimeoutError):
    """A search with ``engine="python"`` ran past its time limit; names the LF, pattern and text."""


def _python_engine(pattern: re.Pattern) -> Any:
    """The pattern compiled by ``regex`` in ``re``-compatible mode: the backtracking engine that takes a timeout."""
    flags = regex.VERSION0
    for ours, theirs in _FLAG_PAIRS:
        if pattern.flags & ours:
            flags |= theirs
    return regex.compile(pattern.pattern, flags)


class RegexLF(RuleLF):
    """Votes ``label`` when the pattern matches somewhere in the text (see :func:`regex_lf`)."""

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
        group: int = 0,
        engine: str = "re2",
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if not isinstance(pattern, (str, re.Pattern)):
            raise TypeError(f"LF {name!r}: the pattern must be a string; got {type(pattern).__name__} {short_repr(pattern)}.")
        if isinstance(pattern, re.Pattern) and flags:
            raise ValueError(f"LF {name!r}: pass flags= only with a pattern string, not a compiled pattern.")
        if engine not in ENGINES:
            raise ValueError(f"LF {name!r}: engine={engine!r} is not one of {set(ENGINES)}.")
        if engine == "re2" and timeout is not None:
            raise ValueError(f"LF {name!r}: timeout= applies to engine='python' only; RE2 runs in linear time.")
        try:
            self.pattern = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
        except re.error as exc:
            raise ValueError(f"LF {name!r}: invalid regular expression {short_repr(pattern)}: {exc}") from exc
        self.engine = engine
        self.timeout = (REGEX_TIMEOUT if timeout is None else float(timeout)) if engine == "python" else None
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"LF {name!r}: timeout={timeout!r}; expected a number of seconds > 0.")
        self.group = group  # the group whose span explain() reports (whole-word keywords match their context)
        self.keywords = list(keywords) if keywords is not None else None
        if self.keywords is not None:
            self.kind = "keyword"
        self._register()

    def _register(self) -> None:
        self._prefilter = prefilter(self.pattern)
        self._clauses, self._icase = LITERALS.register(self._prefilter)
        self._compiled = self._compile()
        # RE2's \b sees only ASCII word characters: texts with others run on the backtracking engine
        # (under REGEX_TIMEOUT), so the pattern means what Python says on every text.
        self._boundary_engine = (_python_engine(self.pattern) if self.engine == "re2"
                                 and self._compiled.word_boundary else None)

    def _compile(self) -> Any:
        if self.engine == "python":
            return _python_engine(self.pattern)
        try:
            return compile_re2(self.pattern)
        except UnsupportedPattern as exc:
            raise UnsupportedPattern(
                f"LF {self.name!r}: regex {short_repr(self.pattern.pattern)}: {exc}. Rewrite it without that "
                "construct, or run it with Python's backtracking engine under a time limit: "
                "engine='python' (in a rule file, `engine: python` in the rule)."
            ) from None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_clauses"]  # literal ids are per process
        state.pop("_compiled", None)  # rebuilt from the pattern
        state.pop("_boundary_engine", None)
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("engine", "re2")
        state.setdefault("group", 0)
        self.__dict__.update(state)
        self._register()

    def _timed_out(self, text: str, limit: float) -> RegexTimeout:
        where = f" (from {self.source})" if getattr(self, "source", None) else ""
        if self.engine == "python":
            why, fix = "(engine='python')", "Rewrite it so that RE2 can run it (the default engine), or raise timeout=."
        else:
            why = "(Python's engine, which runs \\b on texts with non-ASCII letters)"
            fix = "Rewrite it without nested repeats, or match the context instead of \\b, e.g. '(?:^|\\W)word'."
        return RegexTimeout(
            f"LF {self.name!r}{where}: regex {short_repr(self.pattern.pattern)} ran past its {limit:g} s limit "
            f"{why} on the text {short_repr(text)}; the pattern backtracks catastrophically. {fix}"
        )

    def _backtracking(self, text: str) -> Any:
        """The backtracking engine when ``text`` needs it (``engine="python"``, or \\b beside a non-ASCII
        word character), else None (RE2)."""
        if self.engine == "python":
            return self._compiled
        if self._boundary_engine is not None and NON_ASCII_WORD.search(text):
            return self._boundary_engine
        return None

    def _search(self, text: str, pos: int = 0) -> Any:
        return self._search_on(self._backtracking(text), text, pos)

    def _search_on(self, engine: Any, text: str, pos: int = 0) -> Any:
        """Search ``text`` with ``engine`` (a backtracking one, under its time limit) or, for None, RE2."""
        if engine is None:
            return self._compiled.search(text, pos)
        limit = self.timeout if self.timeout is not None else REGEX_TIMEOUT
        try:
            return engine.search(text, pos, timeout=limit)
        except TimeoutError:
            raise self._timed_out(text, limit) from None

    def _matching(self, texts: Any, idx: Any) -> list[int]:
        """Positions ``i`` (of ``idx``, or of all texts) whose text the pattern matches."""
        positions = range(len(texts)) if idx is None else idx.tolist()
        if self.engine == "re2" and self._boundary_engine is None:
            exists = self._compiled.exists
            return [i for i in positions if exists(texts[i])]
        hits = []
        for i in positions:
            engine = self._backtracking(texts[i])   # chosen once per text
            if self._compiled.exists(texts[i]) if engine is None else self._search_on(engine, texts[i]) is not None:
                hits.append(i)
        return hits

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        hits = view.cached(("regex", self.engine, self.pattern), lambda: self._hits(view))
        per_text = self._abstain(len(view))
        per_text[hits] = self.label
        return view.broadcast(per_text)

    def _hits(self, view) -> np.ndarray:
        idx = LITERALS.candidates(view, self._clauses, self._icase)
        return np.asarray(self._matching(view.texts, idx), dtype=np.intp)

    def explain(self, text: str) -> list[Span]:
        spans: list[Span] = []
        pos = 0
        while pos <= len(text):
            m = self._search(text, pos)
            if m is None:
                break
            start, end = m.span(self.group)
            if end > start or not spans:
                what = f"keyword {m.group(self.group)!r}" if self.keywords is not None else f"regex {self.pattern.pattern}"
                spans.append(Span(start, end, what))
            # Go on after the reported span (whole-word keywords share their context with the next match).
            pos = max(end, m.start() + 1) if end > m.start() else m.start() + 1
        return spans

    @property
    def info(self) -> dict[str, Any]:
        extra = {"keywords": self.keywords} if self.keywords is not None else {}
        engine = {"engine": self.engine, "timeout": self.timeout} if self.engine != "re2" else {}
        return {**super().info, "pattern": self.pattern.pattern, "flags": int(self.pattern.flags), **engine, **extra}


def regex_lf(
    name: str,
    pattern: str | re.Pattern,
    label: int,
    *,
    flags: int = 0,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
    engine: str = "re2",
    timeout: float | None = None,
) -> RegexLF:
    """An LF that votes ``label`` when a regular expression matches anywhere in the text.

    The pattern is written in Python's ``re`` syntax and runs on RE2, whose search time grows
    linearly with the text whatever the pattern, so no rule can hang a run (``(a+)+$`` on 150,000
    characters takes about a millisecond). Votes are those of ``re.search(pattern, text, flags)``
    (see :mod:`rules._re2` for the two documented differences). A pattern RE2 cannot run (a
    back-reference, a lookahead or lookbehind) raises :class:`UnsupportedPattern` here, naming the
    LF and the construct; ``engine="python"`` runs it on Python's backtracking engine instead, each
    search under a time limit, past which the run stops with :class:`RegexTimeout`.

    The batch path tests each distinct text of a chunk once, and first rules out texts that lack a
    literal the pattern needs (found for all regex LFs together in one Aho-Corasick pass), so most
    texts never reach the search.

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
    engine : {"re2", "python"}
        ``"re2"`` (linear time) or ``"python"`` (backtracking, time-limited; only when asked for).
    timeout : float, optional
        With ``engine="python"``: seconds one search may take (default :data:`REGEX_TIMEOUT`).

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
    return RegexLF(name, pattern, label, flags=flags, column=column, pre=pre, engine=engine, timeout=timeout)


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
    if keywords is None or not isinstance(keywords, (str, Iterable)) or isinstance(keywords, (bytes, dict)):
        raise ValueError(f"LF {name!r}: keywords must be a string or a list of strings; got {short_repr(keywords)}.")
    words = [keywords] if isinstance(keywords, str) else list(keywords)
    if not words or not all(isinstance(w, str) and w for w in words):
        raise ValueError(f"LF {name!r}: keywords must be non-empty strings; got {short_repr(keywords)}.")
    # Longest first so that the reported span is the longest keyword at a position.
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    # Whole words: the keyword with a non-word character or the text's edge on each side, matched as
    # context (RE2 has no lookaround); group 1 is the keyword itself, the span explain() reports.
    pattern = rf"(?:\A|\W)({alternation})(?:\W|\Z)" if whole_word else f"(?:{alternation})"
    return RegexLF(
        name, pattern, label, flags=0 if case else re.IGNORECASE, column=column, pre=pre, keywords=words,
        group=1 if whole_word else 0,
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
