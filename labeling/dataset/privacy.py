"""Finding personal data in text (e-mail, phone, IP address, payment card, user handle) and masking it.

Patterns favour precision: a card number must pass the Luhn check, a phone number needs 7 to 15
digits written with a ``+`` prefix or separators and is not a date, a range of years or a
thousands-separated count (``2.124.821.694 views``); digit runs inside URLs are ids, not cards or phones, an IP address has four octets of at most 255 (or a full IPv6 form).
Earlier kinds win where matches overlap (an e-mail is never also reported as a handle).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, NamedTuple

import numpy as np
import pandas as pd

from ._result import StepResult, check_text_column, removed_frame

__all__ = ["PII_KINDS", "PIIMatch", "find_pii", "mask_pii", "scrub_pii"]

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PATTERNS: dict[str, re.Pattern] = {
    "email": re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)"),
    "card": re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.]|-\d)"),
    "ip": re.compile(
        rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)"
        r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
    ),
    "phone": re.compile(r"(?<![\w+.,:])(?<!\d )(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?!\w|[.,]\d)"),
    "handle": re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])"),
}
PII_KINDS: tuple[str, ...] = tuple(_PATTERNS)
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})$")
_YEARS = re.compile(r"^(?:19|20)\d\d ?- ?(?:19|20)\d\d$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Long digit runs inside a URL are ids (video, page, tracking), not cards or phone numbers.
_NOT_IN_URL = frozenset({"card", "phone"})
_ACTIONS = ("mask", "drop", "report")


class PIIMatch(NamedTuple):
    """One piece of personal data found in a text."""

    kind: str
    start: int
    end: int
    text: str


def _luhn(digits: str) -> bool:
    total = 0
    for pos, ch in enumerate(reversed(digits)):
        d = int(ch)
        if pos % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _valid(kind: str, s: str) -> bool:
    if kind == "card":
        digits = re.sub(r"\D", "", s)
        return 13 <= len(digits) <= 19 and _luhn(digits)
    if kind == "phone":
        n_digits = sum(c.isdigit() for c in s)
        # A bare run of digits is far more often a count ("1000000 views") than a phone number.
        grouped = s.startswith("+") or not s.isdigit()
        decimal = re.fullmatch(r"\d+\.\d+", s) is not None
        plausible = not (_DATE.match(s) or _YEARS.match(s) or _THOUSANDS.match(s) or decimal)
        return 7 <= n_digits <= 15 and grouped and plausible
    return True


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return PII_KINDS
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in _PATTERNS]
    if bad:
        raise ValueError(f"Unknown PII kind(s) {bad}; expected some of {list(PII_KINDS)}.")
    return kinds


def find_pii(text: str, *, kinds: Iterable[str] | None = None) -> list[PIIMatch]:
    """Find personal data in a text.

    Parameters
    ----------
    text : str
        The text.
    kinds : iterable of str, optional
        Some of :data:`PII_KINDS` (default: all).

    Returns
    -------
    list of PIIMatch
        Non-overlapping matches sorted by position.

    Examples
    --------
    >>> [m.kind for m in find_pii("mail bob@example.com or call +1 555-123-4567, @bob")]
    ['email', 'phone', 'handle']
    """
    kinds = _check_kinds(kinds)
    taken: list[tuple[int, int]] = []
    urls = [m.span() for m in _URL.finditer(text)]
    found: list[PIIMatch] = []
    # Fixed precedence (PII_KINDS order): a card or IP address must not be read as a phone number.
    for kind in PII_KINDS:
        if kind not in kinds:
            continue
        for m in _PATTERNS[kind].finditer(text):
            s, e = m.span()
            if not _valid(kind, m.group()) or any(s < te and ts < e for ts, te in taken):
                continue
            if kind in _NOT_IN_URL and any(us <= s and e <= ue for us, ue in urls):
                continue
            taken.append((s, e))
            found.append(PIIMatch(kind, s, e, m.group()))
    found.sort(key=lambda m: m.start)
    return found


def mask_pii(
    text: str, *, kinds: Iterable[str] | None = None, template: str = "[{kind}]"
) -> tuple[str, Counter]:
    """Replace personal data by a placeholder.

    Parameters
    ----------
    template : str
        Placeholder; ``{kind}`` becomes the upper-case kind (``[EMAIL]``, ``[PHONE]``, ...).

    Returns
    -------
    (str, Counter)
        The masked text and the number of matches per kind.

    Examples
    --------
    >>> mask_pii("write to bob@example.com")
    ('write to [EMAIL]', Counter({'email': 1}))
    """
    matches = find_pii(text, kinds=kinds)
    out, last = [], 0
    for m in matches:
        out.append(text[last : m.start])
        out.append(template.format(kind=m.kind.upper()))
        last = m.end
    out.append(text[last:])
    return "".join(out), Counter(m.kind for m in matches)


def scrub_pii(
    df: pd.DataFrame,
    *,
    text_column: str = "text",
    action: str = "mask",
    kinds: Iterable[str] | None = None,
    template: str = "[{kind}]",
) -> StepResult:
    """Mask personal data in the text column, or drop the rows that contain any.

    Parameters
    ----------
    action : {"mask", "drop", "report"}
        ``"mask"`` replaces each match by ``template``; ``"drop"`` removes the row (kept in
        ``removed`` with reason ``"pii"`` and the kinds in ``pii_kinds``); ``"report"`` only counts.
    kinds : iterable of str, optional
        Some of :data:`PII_KINDS` (default: all).

    Returns
    -------
    StepResult
        ``counts`` has the number of matches per kind and ``"rows_with_pii"``.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["mail me: a.b@mail.com", "nice"]}, index=["x", "y"])
    >>> res = scrub_pii(df)
    >>> res.data["text"].tolist(), res.counts["email"]
    (['mail me: [EMAIL]', 'nice'], 1)
    """
    check_text_column(df, text_column, "scrub_pii")
    if action not in _ACTIONS:
        raise ValueError(f"action={action!r} is not one of {_ACTIONS}.")
    kinds = _check_kinds(kinds)
    masked, per_row = [], []
    for text in df[text_column].astype(str):
        new, counts = mask_pii(text, kinds=kinds, template=template)
        masked.append(new)
        per_row.append(counts)
    totals = Counter({k: 0 for k in kinds})
    for c in per_row:
        totals.update(c)
    has = np.array([bool(c) for c in per_row], dtype=bool)
    counts = {**{k: int(totals[k]) for k in kinds}, "rows_with_pii": int(has.sum())}
    if action == "drop":
        kinds_col = [",".join(sorted(c)) for c, h in zip(per_row, has) if h]
        removed = removed_frame(df, has, "pii", pii_kinds=kinds_col)
        return StepResult(df.loc[~has], removed, counts)
    out = df.copy()
    if action == "mask":
        out[text_column] = masked
    return StepResult(out, df.iloc[:0].assign(reason=pd.Series(dtype=object)), counts)
