"""Necessary literals of a regular expression: a cheap test that rules out most texts before ``re.search``.

For a pattern we derive a conjunction of clauses, each a set of strings of which a text must contain at
least one for the pattern to match anywhere in it (the idea behind RE2's and Hyperscan's prefilters).
``(what|which) .* (is|was)`` gives ``[{"what", "which"}, {" is", " was"}]``-like clauses. The analysis
is conservative: anything it does not understand simply adds no clause, so the filter never drops a
text the pattern would match.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field

import numpy as np

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["Prefilter", "prefilter", "IcaseFold", "icase_fold"]

MAX_SET = 64  # cap on the alternatives one clause may hold (cross products grow fast)


@dataclass
class _Info:
    exact: set[str] | None  # the node matches exactly one of these strings (None: unknown / infinite)
    clauses: list[frozenset[str]] = field(default_factory=list)  # each: text contains one of these


def _minimise(strings: set[str]) -> frozenset[str]:
    # "contains one of {a, ab}" is the same test as "contains a": keep only strings with no shorter member inside.
    keep = []
    for s in sorted(strings, key=len):
        if not any(k in s for k in keep):
            keep.append(s)
    return frozenset(keep)


def _useful(clause: set[str] | frozenset[str]) -> bool:
    return bool(clause) and all(len(s) >= 2 for s in clause)


def _in_set(items: list) -> set[str] | None:
    chars = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))
        else:  # NEGATE, RANGE, CATEGORY...: not a small finite set we track
            return None
    return chars


def _flush(run: set[str] | None, clauses: list[frozenset[str]]) -> None:
    if run is not None and _useful(run):
        clauses.append(_minimise(run))


def _seq(items, state: dict) -> _Info:
    run: set[str] | None = {""}  # strings the current run of exact items can match
    all_exact = True
    clauses: list[frozenset[str]] = []
    for op, av in items:
        info = _node(op, av, state)
        clauses.extend(info.clauses)
        if info.exact is not None and run is not None and len(run) * len(info.exact) <= MAX_SET:
            run = {a + b for a in run for b in info.exact}
            continue
        _flush(run, clauses)
        if info.exact is None:
            all_exact = False
            run = {""}
        else:
            all_exact = False  # too many combinations: the run restarts at this node
            run = set(info.exact)
    if all_exact:
        return _Info(run, clauses)
    _flush(run, clauses)
    return _Info(None, clauses)


def _best(info: _Info) -> frozenset[str] | None:
    """The single clause a branch contributes to an alternation (the most selective one)."""
    candidates = list(info.clauses)
    if info.exact is not None and _useful(info.exact):
        candidates.append(_minimise(info.exact))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(s) for s in c), -len(c)))


def _node(op, av, state: dict) -> _Info:
    if op is C.LITERAL:
        return _Info({chr(av)})
    if op is C.AT:
        return _Info({""})  # zero-width: adds nothing to the matched text
    if op is C.IN:
        chars = _in_set(av)
        return _Info(chars if chars and len(chars) <= MAX_SET else None)
    if op is C.SUBPATTERN:
        add_flags, del_flags, sub = av[1], av[2], av[3]
        if (add_flags | del_flags) & re.IGNORECASE:
            state["icase"] = True  # scoped case flags: fall back to a case-insensitive test (a superset)
        return _seq(sub, state)
    if getattr(C, "ATOMIC_GROUP", None) is not None and op is C.ATOMIC_GROUP:
        return _seq(av, state)
    if op is C.BRANCH:
        infos = [_seq(branch, state) for branch in av[1]]
        exact: set[str] | None = set()
        for info in infos:
            if info.exact is None or exact is None or len(exact) + len(info.exact) > MAX_SET:
                exact = None
            else:
                exact |= info.exact
        bests = [_best(info) for info in infos]
        clauses = []
        if exact is None and all(b is not None for b in bests):
            union = set().union(*bests)
            if len(union) <= MAX_SET:
                clauses.append(_minimise(union))
        return _Info(exact, clauses)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT) or op is getattr(C, "POSSESSIVE_REPEAT", None):
        lo, hi, sub = av
        if hi == 0:
            return _Info({""})
        if lo == 0:
            return _Info(None)
        info = _seq(sub, state)
        if lo == hi == 1:
            return info
        return _Info(None, info.clauses + ([_minimise(info.exact)] if info.exact and _useful(info.exact) else []))
    return _Info(None)  # lookarounds, back-references, conditionals, ANY, CATEGORY...


@dataclass(frozen=True)
class Prefilter:
    """Clauses (AND of ORs of substrings) a text must satisfy for ``pattern.search`` to succeed.

    ``icase`` means the substrings are ASCII lower-case and must be tested on the text as folded by
    :meth:`IcaseFold.fold` (which is what ``re.IGNORECASE`` lets an ASCII literal match).
    """

    clauses: tuple[frozenset[str], ...]
    icase: bool

    @property
    def literals(self) -> set[str]:
        return set().union(*self.clauses) if self.clauses else set()


def prefilter(pattern: re.Pattern) -> Prefilter:
    """Derive the :class:`Prefilter` of a compiled pattern (no clauses when nothing is certain)."""
    if not isinstance(pattern.pattern, str):
        return Prefilter((), False)
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # an exotic construct the private parser disagrees on: no filtering, still correct
        return Prefilter((), False)
    state = {"icase": bool(pattern.flags & re.IGNORECASE)}
    info = _seq(list(parsed), state)
    clauses = list(info.clauses)
    if info.exact is not None and _useful(info.exact):
        clauses.append(_minimise(info.exact))
    icase = state["icase"]
    if icase:
        # Non-ASCII literals have folds (e.g. Kelvin sign, long s) that lower() does not capture: drop them.
        clauses = [frozenset(s.lower() for s in c) for c in clauses if all(s.isascii() for s in c)]
    unique = tuple(dict.fromkeys(_minimise(set(c)) for c in clauses))
    return Prefilter(unique, icase)


@dataclass(frozen=True)
class IcaseFold:
    """How ``re.IGNORECASE`` lets a text character match an ASCII pattern character.

    A text character matches ASCII ``p`` case-insensitively when it lower-cases to ``p.lower()`` or is one
    of a few non-ASCII characters Unicode case rules tie to an ASCII letter (KELVIN SIGN matches ``k``,
    LONG S matches ``s``, dotted and dotless I match ``i``). ``table`` maps each such character to the
    one ASCII lower-case letter it matches; ``unsure`` holds any that match several (texts holding one
    are never ruled out). ``special`` finds either kind in a text.
    """

    table: dict[int, str]
    unsure: frozenset[str]
    special: re.Pattern

    def fold(self, text: str) -> str:
        """``text`` lower-cased, with the special characters replaced by the ASCII letter they match.

        Each character maps to one character (``str.lower`` alone turns U+0130 into two), so an ASCII
        literal the pattern matches case-insensitively in ``text`` occurs verbatim in the result.
        """
        if not text.isascii() and self.special.search(text):
            text = text.translate(self.table)
        return text.lower()


@functools.cache
def icase_fold() -> IcaseFold:
    """The :class:`IcaseFold` of this Python's ``re`` module, computed from ``re`` itself (once per process, ~25 ms)."""
    # Every non-ASCII code point, scanned once by a case-insensitive ASCII class: a short candidate list,
    # each then checked against every ASCII literal (the tests confirm no other code point matches one).
    everything = np.arange(0x80, sys.maxunicode + 1, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    candidates = set(re.findall(r"[\x00-\x7f]", everything, re.IGNORECASE))
    table: dict[int, str] = {}
    unsure = set()
    for ch in sorted(candidates):
        matched = {chr(a).lower() for a in range(128) if re.fullmatch(re.escape(chr(a)), ch, re.IGNORECASE)}
        if len(matched) == 1:
            table[ord(ch)] = matched.pop()
        elif matched:
            unsure.add(ch)
    chars = "".join(sorted(map(chr, table))) + "".join(sorted(unsure))
    special = re.compile(f"[{re.escape(chars)}]" if chars else "(?!)")
    return IcaseFold(table, frozenset(unsure), special)
