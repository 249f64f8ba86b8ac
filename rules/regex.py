"""Regex and keyword LFs: vote when a pattern, or one of a list of keywords, occurs in the text.

The searches themselves, on RE2 or under a time limit on Python's backtracking engine, are
:mod:`rules._regex_engine`'s; an LF here adds the literal prefilter, the vote cache and the spans of
``explain``.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from labeling import Preprocessor
from labeling.core.safe_yaml import short_repr

from ._batch import LITERALS, column_view
from ._prefilter import prefilter
from ._re2 import UnsupportedPattern
from ._regex_engine import ENGINES, REGEX_TIMEOUT, Matcher, RegexTimeout
from .base import RuleLF, Span

__all__ = ["RegexLF", "regex_lf", "keyword_lf"]


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
        try:
            self._matcher = Matcher(self.pattern, self.engine, self.timeout)
        except UnsupportedPattern as exc:
            raise UnsupportedPattern(
                f"LF {self.name!r}: regex {short_repr(self.pattern.pattern)}: {exc}. Rewrite it without that "
                "construct, or run it with Python's backtracking engine under a time limit: "
                "engine='python' (in a rule file, `engine: python` in the rule)."
            ) from None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_clauses"]  # literal ids are per process
        state.pop("_matcher", None)  # rebuilt from the pattern, engine and timeout
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("engine", "re2")
        state.setdefault("group", 0)
        self.__dict__.update(state)
        self._register()

    @contextlib.contextmanager
    def _naming_this_lf(self) -> Iterator[None]:
        """A search past its time limit names this LF and, for a rule file's LF, its rule."""
        try:
            yield
        except RegexTimeout as exc:
            where = f" (from {self.source})" if getattr(self, "source", None) else ""
            raise RegexTimeout(f"LF {self.name!r}{where}: {exc}") from None

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        hits = view.cached(("regex", self.engine, self.pattern), lambda: self._hits(view))
        per_text = self._abstain(len(view))
        per_text[hits] = self.label
        return view.broadcast(per_text)

    def _hits(self, view) -> np.ndarray:
        idx = LITERALS.candidates(view, self._clauses, self._icase)
        positions = range(len(view.texts)) if idx is None else idx.tolist()
        with self._naming_this_lf():
            return np.asarray(self._matcher.matching(view.texts, positions), dtype=np.intp)

    def explain(self, text: str) -> list[Span]:
        spans: list[Span] = []
        pos = 0
        with self._naming_this_lf():
            while pos <= len(text):
                m = self._matcher.search(text, pos)
                if m is None:
                    break
                start, end = m.span(self.group)
                if end > start or not spans:
                    what = (f"keyword {m.group(self.group)!r}" if self.keywords is not None
                            else f"regex {self.pattern.pattern}")
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
