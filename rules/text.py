"""Builders for regular-expression, keyword and length LFs."""

from __future__ import annotations

import re
import signal
import threading
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import regex

from labeling import Preprocessor
from labeling.core.safe_yaml import short_repr

from ._batch import LITERALS, column_view
from ._prefilter import C, prefilter, sre_parse
from .base import RuleLF, Span

__all__ = ["RegexLF", "RegexTimeout", "regex_lf", "keyword_lf", "LengthLF", "length_lf", "REGEX_TIMEOUT"]

REGEX_TIMEOUT = 1.0
"""Seconds one regex search on one text may take before the LF stops with :class:`RegexTimeout`.

Python's ``re`` backtracks: ``(a+)+$`` on thirty ``a`` and a ``!`` takes longer than the age of the
universe. Rule files are data, so a pattern from one must not hang a run: a pattern that could
backtrack badly (nested or several unbounded repeats, a repeated alternation, a backreference)
searches under this per-text limit, in ``re`` stopped by a SIGALRM watchdog in the main thread,
in the ``regex`` engine (``re``'s syntax, its own timeout) elsewhere; the others keep plain ``re``.
"""

# re's flag values differ from regex's (ASCII is 256 in re, 128 in regex): translate by name.
_FLAG_PAIRS = [(re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE), (re.DOTALL, regex.DOTALL),
               (re.VERBOSE, regex.VERBOSE), (re.ASCII, regex.ASCII)]


class RegexTimeout(TimeoutError):
    """A regex search ran past its time limit (catastrophic backtracking); names the LF, pattern and text."""


class _Expired(BaseException):
    """Raised by the watchdog's signal handler inside a stuck ``re`` search (BaseException: no LF code catches it)."""


class _Watchdog:
    """Interrupts a ``re`` search that makes no progress for ``timeout`` seconds, from a SIGALRM timer.

    CPython's ``re`` checks for signals while it backtracks, so a handler that raises stops it. The
    timer ticks every ``timeout`` seconds; a tick that finds the same text still being searched as
    at the tick before raises, so one text may take between ``timeout`` and twice that. Two
    system calls per LF and chunk instead of per text: the exact ``re`` engine at its own speed.
    Only possible in the main thread and when no other interval timer runs; :meth:`start` returns
    False otherwise and the caller uses the ``regex`` engine's own timeout instead.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.count = 0
        self._seen = -1
        self._previous: Any = None
        self._stopping = False

    def start(self) -> bool:
        if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
            return False
        if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
            return False  # someone else's timer: leave it alone
        self._stopping = False
        self._previous = signal.signal(signal.SIGALRM, self._tick)
        if self._previous is None:  # a handler not set from Python: restore the default afterwards
            self._previous = signal.SIG_DFL
        signal.setitimer(signal.ITIMER_REAL, self.timeout, self.timeout)
        return True

    def stop(self) -> None:
        if self._previous is None:
            return
        self._stopping = True  # a tick already on its way must not raise any more
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self._previous)
        self._previous = None
        self._seen = -1

    def _tick(self, signum: int, frame: Any) -> None:
        if self._stopping:
            return
        if self.count == self._seen:
            raise _Expired
        self._seen = self.count


def _risky(pattern: re.Pattern) -> bool:
    """Whether a search could take more than about quadratic time: backtracking can then blow up.

    Nested repeats (``(a+)+``), a repeated alternation (``(a|aa)+``), two unbounded repeats
    (``.*.*=``) or a backreference. A pattern with at most one unbounded repeat, none nested, tries
    each start position in linear time; those keep the ``re`` engine (and its exact case folding).
    """
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover - re compiled it, so its parser reads it
        return True
    unbounded = 0

    def walk(items: Any, inside_repeat: bool) -> bool:
        nonlocal unbounded
        for op, av in items:
            if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
                lo, hi, body = av
                big = hi == C.MAXREPEAT or hi > 100
                if inside_repeat and big:
                    return True
                unbounded += big
                if unbounded > 1 or walk(body, inside_repeat or big):
                    return True
            elif op in (C.GROUPREF, C.GROUPREF_EXISTS):
                return True
            elif op == C.BRANCH:
                if inside_repeat:
                    return True
                if any(walk(branch, inside_repeat) for branch in av[1]):
                    return True
            elif op == C.SUBPATTERN:
                if walk(av[-1], inside_repeat):
                    return True
            elif op in (C.ASSERT, C.ASSERT_NOT):
                if walk(av[1], inside_repeat):
                    return True
            elif op == getattr(C, "ATOMIC_GROUP", None):
                if walk(av, inside_repeat):
                    return True
        return False

    return walk(parsed, False)


def _guarded(pattern: re.Pattern) -> Any:
    """The pattern compiled by ``regex`` (which takes a timeout) when it is risky, else None (use ``re``)."""
    if not _risky(pattern):
        return None
    flags = regex.VERSION0
    for ours, theirs in _FLAG_PAIRS:
        if pattern.flags & ours:
            flags |= theirs
    try:
        return regex.compile(pattern.pattern, flags)
    except regex.error:  # pragma: no cover - a pattern re accepts and regex refuses: keep re, unguarded
        return None


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
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if not isinstance(pattern, (str, re.Pattern)):
            raise TypeError(f"LF {name!r}: the pattern must be a string; got {type(pattern).__name__} {short_repr(pattern)}.")
        try:
            self.pattern = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
        except re.error as exc:
            raise ValueError(f"LF {name!r}: invalid regular expression {short_repr(pattern)}: {exc}") from exc
        self.timeout = REGEX_TIMEOUT if timeout is None else float(timeout)
        if isinstance(pattern, re.Pattern) and flags:
            raise ValueError(f"LF {name!r}: pass flags= only with a pattern string, not a compiled pattern.")
        self.keywords = list(keywords) if keywords is not None else None
        if self.keywords is not None:
            self.kind = "keyword"
        self._register()

    def _register(self) -> None:
        self._prefilter = prefilter(self.pattern)
        self._clauses, self._icase = LITERALS.register(self._prefilter)
        self._engine = _guarded(self.pattern)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_clauses"]  # literal ids are per process
        state.pop("_engine", None)  # rebuilt from the pattern
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.timeout = state.get("timeout", REGEX_TIMEOUT)
        self._clauses, self._icase = LITERALS.register(self._prefilter)
        self._engine = _guarded(self.pattern)

    def _timed_out(self, text: str) -> RegexTimeout:
        where = f" (from {self.source})" if getattr(self, "source", None) else ""
        return RegexTimeout(
            f"LF {self.name!r}{where}: regex {short_repr(self.pattern.pattern)} ran past its {self.timeout:g} s "
            f"limit on the text {short_repr(text)}; the pattern backtracks catastrophically (nested repeats such "
            "as (a+)+). Rewrite it without nested quantifiers."
        )

    def _search(self, text: str) -> bool:
        # The regex engine's own timeout: for risky patterns where the watchdog cannot run.
        try:
            return self._engine.search(text, timeout=self.timeout) is not None
        except TimeoutError:
            raise self._timed_out(text) from None

    def _matching(self, texts: Any, idx: Any) -> list[int]:
        """Positions ``i`` (of ``idx``, or of all texts) whose text the pattern matches, time-limited when risky."""
        positions = range(len(texts)) if idx is None else idx.tolist()
        if self._engine is None:  # a pattern that cannot backtrack badly (see _risky): plain re
            search = self.pattern.search
            return [i for i in positions if search(texts[i]) is not None]
        dog = _Watchdog(self.timeout)
        if not dog.start():
            search = self._search
            return [i for i in positions if search(texts[i])]
        search = self.pattern.search
        out: list[int] = []
        todo = list(positions)
        k = 0
        try:
            while k < len(todo):
                try:
                    for k in range(k, len(todo)):
                        dog.count += 1
                        if search(texts[todo[k]]) is not None:
                            out.append(todo[k])
                    k = len(todo)
                except _Expired:
                    # re is stuck on this text: the regex engine, which avoids much of re's backtracking
                    # (it answers (a+)+$ at once), decides it under its own time limit, or names it.
                    dog.stop()
                    if self._search(texts[todo[k]]):
                        out.append(todo[k])
                    k += 1
                    if not dog.start():
                        out.extend(i for i in todo[k:] if self._search(texts[i]))
                        return out
        finally:
            dog.stop()
        return out

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        hits = view.cached(("regex", self.pattern), lambda: self._hits(view))
        per_text = self._abstain(len(view))
        per_text[hits] = self.label
        return view.broadcast(per_text)

    def _hits(self, view) -> np.ndarray:
        idx = LITERALS.candidates(view, self._clauses, self._icase)
        return np.asarray(self._matching(view.texts, idx), dtype=np.intp)

    def explain(self, text: str) -> list[Span]:
        spans = []
        if self._engine is not None and not self._matching([text], None):
            return spans  # (time-limited) no match: nothing to explain, and finditer below cannot hang
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
    timeout: float | None = None,
) -> RegexLF:
    """An LF that votes ``label`` when a regular expression matches anywhere in the text.

    The batch path tests each distinct text of a chunk once, and first rules out texts that lack a
    literal the pattern needs (found for all regex LFs together in one Aho-Corasick pass), so most
    texts never reach the search. Votes are exactly those of ``re.search(pattern, text, flags)``;
    the search itself runs in the ``regex`` engine under a per-text time limit, so a pattern that
    backtracks catastrophically stops the run with :class:`RegexTimeout` naming the LF, the
    pattern and the text (and :func:`~labeling.apply_lfs` names the row) instead of hanging.

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
    timeout : float, optional
        Seconds one search may take (default :data:`REGEX_TIMEOUT`).

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
    return RegexLF(name, pattern, label, flags=flags, column=column, pre=pre, timeout=timeout)


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
