"""The engine behind every regex LF: which engine searches a text, and the time limit on backtracking.

A pattern runs on RE2 (:mod:`rules._re2`), whose search time is linear in the text, except in two cases,
where it runs on the backtracking engine of the ``regex`` package in ``re``-compatible mode:

- ``engine="python"``, asked for by the LF to run what RE2 cannot (a back-reference, a lookaround): every
  text;
- a pattern holding ``\\b`` or ``\\B`` (without ``re.ASCII``): the texts holding a word character outside
  ASCII (:data:`rules._re2.NON_ASCII_WORD`), where RE2's boundaries part from Python's; RE2 searches
  every other text.

Each backtracking search runs under a time limit (``timeout``, by default :data:`REGEX_TIMEOUT`) and
raises :class:`RegexTimeout` past it.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import regex

from labeling.core.safe_yaml import short_repr

from ._re2 import NON_ASCII_WORD, compile_re2

__all__ = ["ENGINES", "REGEX_TIMEOUT", "Matcher", "RegexTimeout"]

ENGINES = ("re2", "python")
"""Regex engines: ``"re2"`` (the default: linear time by construction, see :mod:`rules._re2`) and ``"python"``
(backtracking, for back-references and lookarounds, each search under a time limit)."""

REGEX_TIMEOUT = 1.0
"""Seconds one backtracking search on one text may take before it stops with :class:`RegexTimeout`."""

# re's flag values differ from regex's (ASCII is 256 in re, 128 in regex): translate by name.
_FLAG_PAIRS = [(re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE), (re.DOTALL, regex.DOTALL),
               (re.VERBOSE, regex.VERBOSE), (re.ASCII, regex.ASCII)]


class RegexTimeout(TimeoutError):
    """A backtracking search ran past its time limit; names the LF, pattern and text."""


def _python_engine(pattern: re.Pattern) -> Any:
    """The pattern compiled by ``regex`` in ``re``-compatible mode: a backtracking engine that takes a timeout.

    ``regex`` rather than ``re`` because its timeout needs no signal or thread: it works in any thread and
    leaves the caller's signal handlers alone.
    """
    flags = regex.VERSION0
    for ours, theirs in _FLAG_PAIRS:
        if pattern.flags & ours:
            flags |= theirs
    return regex.compile(pattern.pattern, flags)


class Matcher:
    """Searches for one Python pattern, each text on the engine it needs (see the module docstring).

    Parameters
    ----------
    pattern : re.Pattern
        The compiled Python pattern; its matches are those of ``pattern.search``.
    engine : {"re2", "python"}
        ``"re2"``: RE2, and the backtracking engine only for texts where ``\\b`` needs it;
        ``"python"``: the backtracking engine for every text.
    timeout : float, optional
        Seconds one backtracking search may take (default :data:`REGEX_TIMEOUT`).

    Raises
    ------
    UnsupportedPattern
        With ``engine="re2"``, for a pattern RE2 cannot run; the message names the construct.

    Examples
    --------
    >>> m = Matcher(re.compile(r"\\bcaf\\b"))
    >>> m.exists("un caf!"), m.exists("un café!")  # the second runs on the backtracking engine
    (True, False)
    """

    def __init__(self, pattern: re.Pattern, engine: str = "re2", timeout: float | None = None) -> None:
        self.pattern, self.engine, self.timeout = pattern, engine, timeout
        self._re2 = compile_re2(pattern) if engine == "re2" else None
        needs_backtracking = self._re2 is None or self._re2.word_boundary
        self._backtracking = _python_engine(pattern) if needs_backtracking else None

    def _backtracking_for(self, text: str) -> Any:
        """The backtracking engine when ``text`` needs it, else None (RE2)."""
        if self._re2 is None:
            return self._backtracking
        if self._backtracking is not None and NON_ASCII_WORD.search(text):
            return self._backtracking
        return None

    def exists(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text`` (raises :class:`RegexTimeout`)."""
        engine = self._backtracking_for(text)
        if engine is None:
            return self._re2.exists(text)
        return self._timed_search(engine, text, 0) is not None

    def search(self, text: str, pos: int = 0) -> Any:
        """The leftmost match at or after ``pos``, as ``re.Pattern.search`` finds it, or None."""
        engine = self._backtracking_for(text)
        if engine is None:
            return self._re2.search(text, pos)
        return self._timed_search(engine, text, pos)

    def matching(self, texts: Sequence[str], positions: Sequence[int]) -> list[int]:
        """The positions ``i`` whose text ``texts[i]`` the pattern matches."""
        # The common case, RE2 on every text, skips the per-text choice of engine.
        exists = self._re2.exists if self._backtracking is None else self.exists
        return [i for i in positions if exists(texts[i])]

    def _timed_search(self, engine: Any, text: str, pos: int) -> Any:
        limit = REGEX_TIMEOUT if self.timeout is None else self.timeout
        try:
            return engine.search(text, pos, timeout=limit)
        except TimeoutError:
            raise self._timed_out(text, limit) from None

    def _timed_out(self, text: str, limit: float) -> RegexTimeout:
        if self._re2 is None:
            why, fix = "(engine='python')", "Rewrite it so that RE2 can run it (the default engine), or raise timeout=."
        else:
            why = "(Python's engine, which runs \\b on texts with non-ASCII letters)"
            fix = "Rewrite it without nested repeats, or match the context instead of \\b, e.g. '(?:^|\\W)word'."
        return RegexTimeout(
            f"regex {short_repr(self.pattern.pattern)} ran past its {limit:g} s limit {why} on the text "
            f"{short_repr(text)}; the pattern backtracks catastrophically. {fix}"
        )

    # Compiled engines are per process: a pickle carries the pattern and settings and compiles them again.
    def __getstate__(self) -> dict:
        return {"pattern": self.pattern, "engine": self.engine, "timeout": self.timeout}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["pattern"], state["engine"], state["timeout"])
