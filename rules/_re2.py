"""Python regular expressions run on RE2, whose search time is linear in the text by construction.

A rule's pattern is written in Python's ``re`` syntax. :func:`compile_re2` parses it with ``re``'s own
parser and writes the same expression in RE2's syntax, so the pattern means what ``re`` says it means:
``\\w``, ``\\d`` and ``\\s`` (inside and outside ``[...]``) become the exact sets of characters Python's
``re`` matches, ``$`` keeps Python's "end, or before a final newline", ``\\Z`` becomes ``\\z``, verbose
patterns lose their whitespace and comments, and nested counted repeats of one character
(``(a{1,99}){1,99}``) are flattened, as RE2 refuses repeat counts past 1000. What RE2 cannot run
(back-references, lookahead and lookbehind, atomic groups, possessive repeats, conditionals) raises
:class:`UnsupportedPattern` naming the construct.

RE2's ``\\b`` and ``\\B`` treat only ASCII letters, digits and ``_`` as word characters, and no RE2
expression without lookaround says what Python's do; ``Re2Pattern.word_boundary`` tells the caller which
patterns need Python's engine on texts with other word characters. ``IGNORECASE`` follows RE2's Unicode
simple case folding.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

import numpy as np
import re2

from ._prefilter import C, icase_fold, sre_parse

__all__ = ["Re2Pattern", "UnsupportedPattern", "compile_re2", "translate"]

_MAX_REPEAT = 1000  # RE2's largest repeat count, also for the product of nested counts
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNANCHORED = getattr(getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None), "UNANCHORED", None)


class UnsupportedPattern(ValueError):
    """A pattern uses a construct RE2 cannot run in linear time (the message names it)."""


@functools.cache
def _everything() -> str:
    """Every code point once, in order, less the surrogates (no UTF-8 text holds one)."""
    cps = np.concatenate([np.arange(0xD800, dtype="<u4"), np.arange(0xE000, sys.maxunicode + 1, dtype="<u4")])
    return cps.tobytes().decode("utf-32-le")


@functools.cache
def _ranges_of(source: str, flags: int) -> tuple[tuple[int, int], ...]:
    """Code-point ranges of the characters that the one-character Python pattern ``source`` matches.

    Found by running ``re`` itself over every code point (a fraction of a second, once per pattern
    piece and process), so ``\\w``, ``\\d``, ``\\s`` and case-insensitive letters mean exactly what
    they mean to Python, whatever Unicode version RE2 was built with.
    """
    kept = "".join(re.findall(source, _everything(), flags))
    points = np.frombuffer(kept.encode("utf-32-le"), dtype="<u4").astype(np.int64)  # sorted: found in order
    if len(points) == 0:
        return ()
    breaks = np.flatnonzero(np.diff(points) != 1)
    starts = np.concatenate([[points[0]], points[breaks + 1]])
    ends = np.concatenate([points[breaks], [points[-1]]])
    return tuple(zip(starts.tolist(), ends.tolist()))


@functools.cache
def _python_class_text(source: str, flags: int, top: int = sys.maxunicode) -> str:
    """RE2 class text for the one-character Python pattern ``source`` (e.g. ``[\\w.]`` case-insensitively)."""
    return _ranges_text(_ranges_of(source, flags), top)


@functools.cache
def _ascii_icase(cp: int, ascii_only: int) -> tuple[int, ...]:
    """The characters ``re.IGNORECASE`` lets the ASCII character ``cp`` match, from ``re``'s own fold table."""
    ch = chr(cp)
    flags = re.IGNORECASE | ascii_only
    candidates = {ch, ch.lower(), ch.upper()}
    if not ascii_only:
        fold = icase_fold()
        candidates |= {chr(c) for c, letter in fold.table.items() if letter == ch.lower()} | set(fold.unsure)
    return tuple(sorted(ord(c) for c in candidates if re.fullmatch(re.escape(ch), c, flags)))


_CATEGORY_CODES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
                   C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}


def _py_char(cp: int) -> str:
    return f"\\U{cp:08x}"


def _char(cp: int) -> str:
    ch = chr(cp)
    return ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"\\x{{{cp:x}}}"


def _ranges_text(ranges: Any, top: int = sys.maxunicode) -> str:
    """RE2 class text for code-point ranges, leaving out code points past ``top``."""
    parts = []
    for lo, hi in ranges:
        if lo > top:
            continue
        hi = min(hi, top)
        # RE2 reads UTF-8: a class may not name the surrogate block, which no text holds there anyway.
        for a, b in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)):
            if a <= b:
                parts.append(_char(a) if a == b else f"{_char(a)}-{_char(b)}")
    return "".join(parts)


class _Writer:
    """Writes a parsed ``re`` pattern in RE2 syntax; raises :class:`UnsupportedPattern` on what RE2 lacks.

    ``flags`` passed down the tree are the ``re`` flags in force at each node. Case-insensitive
    characters and classes are written out as the exact classes Python matches (RE2's own case folding
    differs), so RE2 itself always runs case-sensitively.
    """

    def __init__(self, flags: int, *, capture: bool = True, ascii_text: bool = False) -> None:
        self.ascii = flags & re.ASCII
        self.capture = capture  # False: every group non-capturing (a yes/no search reports no groups)
        # For texts known to be ASCII, classes keep only their ASCII members: the same answers, and a
        # program a fraction of the size (Python's \w alone is some 700 ranges of code points).
        self.top = 0x7F if ascii_text else sys.maxunicode

    def unsupported(self, what: str, hint: str) -> UnsupportedPattern:
        return UnsupportedPattern(f"RE2 cannot run {what} ({hint})")

    def seq(self, items: Any, flags: int) -> str:
        return "".join(self.node(op, av, flags) for op, av in items)

    def klass(self, items: Any, flags: int) -> str:
        negate = bool(items) and items[0][0] is C.NEGATE
        if flags & re.IGNORECASE and not negate and all(
            op is C.LITERAL and av < 128 or op is C.RANGE and av[1] < 128 for op, av in items
        ):
            # ASCII characters only: each with the characters re.IGNORECASE ties to it.
            chars = {c for op, av in items for a in ([av] if op is C.LITERAL else range(av[0], av[1] + 1))
                     for c in _ascii_icase(a, self.ascii)}
            return f"[{_ranges_text([(c, c) for c in sorted(chars)], self.top)}]"
        if flags & re.IGNORECASE:
            # Python's own answer for this class under its case folding (RE2 folds differently).
            parts = []
            for op, av in items:
                if op is C.LITERAL:
                    parts.append(_py_char(av))
                elif op is C.RANGE:
                    parts.append(f"{_py_char(av[0])}-{_py_char(av[1])}")
                elif op is C.CATEGORY:
                    parts.append(_CATEGORY_CODES[av])
            source = f"[{'^' if negate else ''}{''.join(parts)}]"
            body = _python_class_text(source, re.IGNORECASE | self.ascii, self.top)
            return f"[{body}]" if body else "[^\\x00-\\x{10ffff}]"
        parts = []
        for op, av in items:
            if op is C.LITERAL:
                parts.append(_ranges_text([(av, av)], self.top))
            elif op is C.RANGE:
                parts.append(_ranges_text([(av[0], av[1])], self.top))
            elif op is C.CATEGORY:  # \w, \d, \s and their negations: the (cached) sets Python's re matches
                parts.append(_python_class_text(_CATEGORY_CODES[av], self.ascii, self.top))
        body = "".join(parts)  # RE2 takes overlapping ranges in one class as their union
        if not body:  # matches no character (or, negated, any)
            return "[\\x00-\\x{10ffff}]" if negate else "[^\\x00-\\x{10ffff}]"
        return f"[{'^' if negate else ''}{body}]"

    def literal(self, cp: int, flags: int) -> str:
        if not flags & re.IGNORECASE:
            return _char(cp)
        if cp < 128:
            chars = _ascii_icase(cp, self.ascii)
            chars = tuple(c for c in chars if c <= self.top)
            return _char(cp) if chars == (cp,) else f"[{''.join(map(_char, chars))}]"
        if self.top < cp:
            # An ASCII-only program: a non-ASCII letter still matches the ASCII letters it folds to
            # (U+0130 matches "i" and "I", the Kelvin sign "k"), and nothing else.
            body = _python_class_text(re.escape(chr(cp)), re.IGNORECASE | self.ascii, self.top)
            return f"[{body}]" if body else "[^\\x00-\\x{10ffff}]"
        if _ranges_of(re.escape(chr(cp)), re.IGNORECASE | self.ascii) == ((cp, cp),):
            return _char(cp)
        return f"[{_python_class_text(re.escape(chr(cp)), re.IGNORECASE | self.ascii)}]"

    def node(self, op: Any, av: Any, flags: int) -> str:
        if op is C.LITERAL:
            return self.literal(av, flags)
        if op is C.NOT_LITERAL:
            return self.klass([(C.NEGATE, None), (C.LITERAL, av)], flags)
        if op is C.ANY:
            return "(?s:.)" if flags & re.DOTALL else "[^\\n]"
        if op is C.IN:
            return self.klass(av, flags)
        if op is C.AT:
            return self.at(av, flags)
        if op is C.BRANCH:
            return "(?:" + "|".join(self.seq(b, flags) for b in av[1]) + ")"
        if op is C.SUBPATTERN:
            group, add, remove, body = av
            inner = self.seq(body, (flags | add) & ~remove)
            return f"({inner})" if group is not None and self.capture else f"(?:{inner})"
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            return self.repeat(op, av, flags)
        if op in (C.GROUPREF, getattr(C, "GROUPREF_EXISTS", None)):
            what = "a back-reference" if op is C.GROUPREF else "a conditional group (?(1)...)"
            raise self.unsupported(what, "RE2 matches without backtracking, so it cannot refer back to a group")
        if op in (C.ASSERT, C.ASSERT_NOT):
            what = {(C.ASSERT, 1): "a lookahead (?=...)", (C.ASSERT_NOT, 1): "a negative lookahead (?!...)",
                    (C.ASSERT, -1): "a lookbehind (?<=...)", (C.ASSERT_NOT, -1): "a negative lookbehind (?<!...)"}
            raise self.unsupported(what[op, av[0]],
                                   "match the context itself, e.g. '(?:^|\\W)word' instead of '(?<!\\w)word'")
        if op is getattr(C, "ATOMIC_GROUP", None):
            raise self.unsupported("an atomic group (?>...)", "RE2 never backtracks: write a plain group (?:...)")
        if op is getattr(C, "POSSESSIVE_REPEAT", None):
            raise self.unsupported("a possessive repeat (*+, ++, ?+)", "RE2 never backtracks: drop the extra +")
        raise self.unsupported(f"the construct {op}", "rewrite the pattern")  # pragma: no cover

    def at(self, code: Any, flags: int) -> str:
        if code is C.AT_BEGINNING:
            return "(?m:^)" if flags & re.MULTILINE else "\\A"
        if code is C.AT_BEGINNING_STRING:
            return "\\A"
        if code is C.AT_END:
            # Python's $ also matches before a newline that ends the text; RE2's only at the very end.
            return "(?m:$)" if flags & re.MULTILINE else "(?:\\n?\\z)"
        if code is C.AT_END_STRING:
            return "\\z"
        if code is C.AT_BOUNDARY:
            return "\\b"
        if code is C.AT_NON_BOUNDARY:
            return "\\B"
        raise self.unsupported(f"the anchor {code}", "rewrite the pattern")  # pragma: no cover

    def repeat(self, op: Any, av: Any, flags: int) -> str:
        lo, hi, body = av
        body = list(body)
        lazy = "?" if op is C.MIN_REPEAT else ""  # the same texts match either way; kept for explain spans
        unbounded = hi == C.MAXREPEAT
        nested = _single_repeat(body)
        if nested is not None and not unbounded:
            flat = _flatten(lo, hi, *nested)
            if flat is not None:  # (a{1,99}){1,99} is a{1,9801}: one counted repeat, no product of counts
                return self.counted(self.node(*nested[2], flags), flat[0], flat[1], lazy)
        inner = self.seq(body, flags)
        return self.counted(f"(?:{inner})", lo, None if unbounded else hi, lazy)

    def counted(self, atom: str, lo: int, hi: int | None, lazy: str) -> str:
        if hi is None:
            if lo == 0:
                return atom + "*" + lazy
            if lo == 1:
                return atom + "+" + lazy
            return self.big(atom, lo, lo, lazy) + atom + "*" + lazy
        if hi == 0:
            return ""
        if (lo, hi) == (0, 1):
            return atom + "?" + lazy
        return self.big(atom, lo, hi, lazy)

    def big(self, atom: str, lo: int, hi: int, lazy: str) -> str:
        """``atom{lo,hi}`` as a sequence of repeats of at most 1000 each (RE2's limit; counts add, not multiply)."""
        parts = []
        while lo > 0 or hi > 0:
            step_hi = min(hi, _MAX_REPEAT)
            step_lo = min(lo, step_hi)
            if step_lo == step_hi:
                parts.append(f"{atom}{{{step_lo}}}" if step_lo != 1 else atom)
            else:
                parts.append(f"{atom}{{{step_lo},{step_hi}}}{lazy}")
            lo -= step_lo
            hi -= step_hi
        return "".join(parts)


def _single_repeat(body: list) -> tuple[int, int, tuple] | None:
    """``(lo, hi, atom)`` when ``body`` is one repeat of one single-character matcher (``a{1,99}``), else None."""
    while len(body) == 1 and body[0][0] is C.SUBPATTERN and not body[0][1][1] and not body[0][1][2]:
        body = list(body[0][1][3])
    if len(body) != 1 or body[0][0] is not C.MAX_REPEAT and body[0][0] is not C.MIN_REPEAT:
        return None
    lo, hi, inner = body[0][1]
    inner = list(inner)
    if len(inner) != 1 or inner[0][0] not in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
        return None
    return lo, hi, inner[0]


def _flatten(m: int, n: int, a: int, b: int, atom: tuple) -> tuple[int, int] | None:
    """``(lo, hi)`` such that ``(c{a,b}){m,n}`` matches what ``c{lo,hi}`` does, when its lengths form one range.

    The lengths it matches are the union of ``[k*a, k*b]`` for ``k`` in ``m..n``; they form one range when
    consecutive intervals touch. With ``m == 0`` the empty match is one more length, which joins the range
    only when it starts at 0 or 1.
    """
    if b == C.MAXREPEAT or n * b > 10 * _MAX_REPEAT * _MAX_REPEAT:
        return None
    ks = range(max(m, 1), n + 1)
    if not ks:
        return None
    for k in ks[:-1]:
        if (k + 1) * a > k * b + 1:
            return None
    lo, hi = ks[0] * a, ks[-1] * b
    if m == 0 and lo > 0:
        if lo > 1:
            return None  # lengths 0 and lo.. are not one range: leave it to RE2 (and its error)
        lo = 0
    return lo, hi


def _single_char_repeat(op: Any, av: Any) -> tuple[int, int, tuple] | None:
    """``(lo, hi, atom)`` when the node is ``c{lo,hi}`` (or nested repeats of ``c`` that flatten to it), else None."""
    if op is not C.MAX_REPEAT and op is not C.MIN_REPEAT:
        return None
    lo, hi, body = av
    body = list(body)
    if len(body) == 1 and body[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
        return lo, hi, body[0]
    nested = _single_repeat(body)
    if nested is not None and hi != C.MAXREPEAT:
        flat = _flatten(lo, hi, *nested)
        if flat is not None:
            return flat[0], flat[1], nested[2]
    return None


def _trim_edges(items: list) -> list:
    """The pattern with a repeat of one character at either end cut to its least count: ``a{1,9801}$`` is ``a$``.

    For "does it match somewhere" (not for the span it matches) the two are the same: an unanchored
    match with ``k >= lo`` copies of ``c`` at its start contains one with exactly ``lo`` copies, and so at
    its end. RE2 stays linear either way, but a long counted repeat makes its automaton large (seconds on
    150,000 characters); votes use the trimmed pattern, explained spans the full one.
    """
    items = list(items)
    for end in (0, -1):
        while items:
            found = _single_char_repeat(*items[end])
            if found is None:
                break
            lo, _, atom = found
            if lo == 0:
                del items[end]
                continue
            items[end] = atom if lo == 1 else (C.MAX_REPEAT, (lo, lo, [atom]))
            break
    return items


class Re2Pattern:
    """A Python pattern compiled by RE2: ``exists``, ``search`` and ``finditer`` on ``str`` with ``re``'s offsets."""

    def __init__(self, pattern: re.Pattern) -> None:
        self.python = pattern
        self.translated = translate(pattern)
        #: Whether the pattern needs Python's engine on texts with a non-ASCII word character (\\b, \\B).
        self.word_boundary = _uses_word_boundary(pattern)
        self._compiled = self._compile(self.translated)
        trimmed = translate(pattern, trim=True)
        self._exists = self._compiled if trimmed == self.translated else self._compile(trimmed)
        trimmed_ascii = translate(pattern, trim=True, ascii_text=True)
        self._exists_ascii = self._exists if trimmed_ascii == trimmed else self._compile(trimmed_ascii)
        # The binding's own Match on UTF-8 bytes: a yes/no answer without building a match object (half
        # the time of .search on short texts). Older bindings without it use .search.
        self._match = self._low_level(self._exists)
        self._match_ascii = self._low_level(self._exists_ascii)

    @staticmethod
    def _low_level(compiled: Any) -> Any:
        return getattr(getattr(compiled, "_regexp", None), "Match", None) if _UNANCHORED is not None else None

    @staticmethod
    def _compile(expression: str) -> Any:
        options = re2.Options()
        options.log_errors = False  # errors are raised with the rule's name, not printed by RE2
        options.max_mem = 64 << 20  # room for long flattened repeats; RE2's default (8 MiB) refuses some
        try:
            return re2.compile(expression, options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            if "repetition size" in reason:
                reason += "; RE2 allows repeat counts up to 1000, also for counts of nested repeats multiplied"
            raise UnsupportedPattern(f"RE2 refuses the pattern ({reason})") from None

    @staticmethod
    def _utf8_safe(text: str) -> str:
        # A lone surrogate cannot be UTF-8: replace it by U+FFFD (one character, so offsets stay the same).
        return _SURROGATE.sub("\ufffd", text)

    def exists(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text`` (the vote)."""
        if text.isascii():
            compiled, match = self._exists_ascii, self._match_ascii
            data = text.encode("ascii")
        else:
            compiled, match = self._exists, self._match
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                data = self._utf8_safe(text).encode("utf-8")
        if match is None:  # pragma: no cover - bindings without the low-level Match
            return compiled.search(data.decode("utf-8")) is not None
        return match(_UNANCHORED, data, 0, len(data))[0][0] >= 0

    def search(self, text: str, pos: int = 0) -> Any:
        """The leftmost match at or after ``pos``, as ``re.Pattern.search`` finds it."""
        try:
            return self._compiled.search(text, pos)
        except UnicodeEncodeError:
            return self._compiled.search(self._utf8_safe(text), pos)

    def finditer(self, text: str) -> Any:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = self._utf8_safe(text)
        return self._compiled.finditer(text)

    def __getstate__(self) -> dict:
        return {"python": self.python}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["python"])


def translate(pattern: re.Pattern, *, trim: bool = False, ascii_text: bool = False) -> str:
    """The RE2 expression that matches what ``pattern`` matches (raises :class:`UnsupportedPattern`).

    With ``trim``, an expression that matches somewhere in the same texts, with repeats of one
    character at either end cut to their least count (see :func:`_trim_edges`) and no capturing groups.
    With ``ascii_text``, an expression that answers the same on ASCII texts (classes cut to ASCII).

    Examples
    --------
    >>> translate(re.compile(r"free\\Z"))
    'free\\\\z'
    """
    if not isinstance(pattern.pattern, str):
        raise UnsupportedPattern("RE2 runs text patterns only, not bytes")
    flags = pattern.flags
    parsed = sre_parse.parse(pattern.pattern, flags)
    flags |= parsed.state.flags if hasattr(parsed, "state") else 0
    items = _trim_edges(list(parsed)) if trim else parsed
    # Flags are applied node by node (see _Writer): the RE2 expression carries none of its own.
    return _Writer(flags, capture=not trim, ascii_text=ascii_text).seq(items, flags)


def _uses_word_boundary(pattern: re.Pattern) -> bool:
    """Whether ``pattern`` holds ``\\b`` or ``\\B`` that Python reads with Unicode word characters.

    Such a pattern means the same on RE2 only for texts without a non-ASCII word character
    (:data:`NON_ASCII_WORD`): RE2 sees a boundary between ``caf`` and ``é``, Python does not.
    """
    if not isinstance(pattern.pattern, str) or pattern.flags & re.ASCII:
        return False
    boundaries = (C.AT_BOUNDARY, C.AT_NON_BOUNDARY)

    def walk(node: Any) -> bool:
        if isinstance(node, sre_parse.SubPattern):
            node = list(node)
        if isinstance(node, (list, tuple)):
            if len(node) == 2 and node[0] is C.AT:
                return node[1] in boundaries
            return any(walk(child) for child in node)
        return False

    return walk(sre_parse.parse(pattern.pattern, pattern.flags))


#: A word character outside ASCII (Python's ``\\w``): where RE2's ``\\b`` and Python's part ways.
NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")


def compile_re2(pattern: re.Pattern) -> Re2Pattern:
    """Compile a Python pattern for RE2 (raises :class:`UnsupportedPattern` naming what RE2 cannot run)."""
    return Re2Pattern(pattern)
