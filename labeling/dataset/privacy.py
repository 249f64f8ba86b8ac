"""Finding personal data in text (e-mail, IBAN, payment card, IP address, phone, user handle) and masking it.

Each kind is found by a loose pattern and then confirmed by the check that kind has:

* phone numbers by ``phonenumbers`` (Google's libphonenumber metadata): a number written with ``+`` or
  ``00`` must be a possible number of its country; one written nationally with a trunk ``0``
  (``07946 746291``, ``030/12345678``) must be valid in one of ``regions``; a North American number
  must have the ``NXX NXX XXXX`` shape; any other digit group counts only after a word such as
  "call", "tel" or "WhatsApp";
* IP addresses by :mod:`ipaddress` (IPv4 and IPv6, compressed forms included);
* payment cards by the Luhn checksum and an issuer prefix (2-6), IBANs by their ISO 7064 mod-97 checksum.

A context rule then drops numbers that are not personal: a number after "ISBN", "EC" (enzyme numbers),
"version", "order", "lottery numbers" or a currency sign, or before "views", "people", "km", a date,
a year range, a decimal or a thousands-separated count (``13 960 000``). Digit runs inside URLs are ids.
Earlier kinds win where matches overlap (an e-mail is never also reported as a handle).
``docs/dataset.md`` gives precision and recall on a labelled set of cases from many countries.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from ._progress import progress_bar
from ._result import StepResult, check_text_column, removed_frame

__all__ = ["PII_KINDS", "PIIMatch", "DEFAULT_REGIONS", "find_pii", "mask_pii", "scrub_pii"]

# Regions whose national (trunk-0) formats are recognised without a + prefix; + numbers work for any country.
DEFAULT_REGIONS: tuple[str, ...] = (
    "GB", "DE", "FR", "IT", "NL", "BE", "CH", "AT", "IE", "SE", "AU", "NZ", "IN", "ZA", "NG", "BR", "AR", "JP",
    "KR", "CN", "TR", "EG", "PK", "ID", "TH", "UA", "RU",
)

_PATTERNS: dict[str, re.Pattern] = {
    "email": re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)"),
    "iban": re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\w)"),
    "card": re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.]|-\d)"),
    "ip": re.compile(
        r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)"
        r"|(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?![\w]|:\w)"
    ),
    # Loose on purpose: digits with single separators; the candidates are confirmed by _phone_ok.
    "phone": re.compile(r"(?<![\w@#/+.,:-])(?:\+|(?<!\d)00)?\(?\d[\d().\-/ ]{5,24}\d(?![\w@]|[.,]\d)"),
    "handle": re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])"),
}
PII_KINDS: tuple[str, ...] = tuple(_PATTERNS)
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2}))$")
_YEARS = re.compile(r"^(?:19|20)\d\d ?[-/] ?(?:19|20)\d\d$")
_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:([.,  ])\d{3})(?:\1\d{3})*$")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")
_NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\([2-9]\d\d\)|[2-9]\d\d)[ .-]?\d{3}[ .-]?\d{4}$")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SEPARATORS = re.compile(r"[().\-/ ]+")
# Words right before a number that say it is not personal: identifiers of books, enzymes, software,
# orders and draws, and amounts of money.
_NOT_PERSONAL_BEFORE = re.compile(
    r"(?:\b(?:isbn(?:-1[03])?|issn|ean|gtin|upc|sku|asin|ec|doi|version|ver|v|release|build|section|chapter|rule|order|invoice|"
    r"ref|reference|tracking|serial|patent|lottery|lotto|numbers|draw|page|pp|id|nr|code|model|part|"
    r"usd|eur|gbp|inr|rs|price|cost|total|pop|population)\b[\s:#.]*|[$€£¥₹]\s*)$",
    re.IGNORECASE,
)
_NOT_PERSONAL_AFTER = re.compile(
    r"^\s*(?:%|(?:views|likes|subscribers|followers|people|persons|times|votes|comments|downloads|users|copies|"
    r"units|dollars|euros|pounds|rupees|usd|eur|gbp|km|kg|mi|miles|metres|meters|years|tons|tonnes|"
    r"inhabitants|residents|visitors|hits|plays|streams)\b)",
    re.IGNORECASE,
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|calls|calling|tel|telephone|phone|mobile|mob|cell|txt|text|sms|whatsapp|ring|fax|dial|contact|"
    r"hotline|number|no)\b[^\d\n]{0,12}$",
    re.IGNORECASE,
)
_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TR": 26, "AE": 23, "SA": 24, "IL": 23, "BR": 29,
}
_NOT_IN_URL = frozenset({"card", "phone", "iban"})
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


def _card_ok(s: str) -> bool:
    digits = re.sub(r"\D", "", s)
    seps = set(re.sub(r"\d", "", s))
    # Issuer prefixes 2-6 (Mastercard, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay): an ISBN-13
    # (978...) or a long id that happens to pass Luhn is not a card. One kind of separator, or none.
    # Only Visa issued 13-digit numbers; other 13-digit Luhn-valid runs are article numbers (EAN-13).
    short_ok = len(digits) > 13 or digits[0] == "4"
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and short_ok and len(seps) <= 1 and _luhn(digits)


def _iban_ok(s: str) -> bool:
    code = s.replace(" ", "")
    expected = _IBAN_LENGTHS.get(code[:2])
    if (expected is not None and len(code) != expected) or not 15 <= len(code) <= 34:
        return False
    moved = code[4:] + code[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _ip_ok(s: str) -> bool:
    try:
        addr = ipaddress.ip_address(s)
    except ValueError:
        return False
    if addr.version == 6:
        # "a::b" or "::" are valid addresses but rarely meant as one; ask for a digit and two groups.
        groups = [g for g in s.split(":") if g]
        return any(c.isdigit() for c in s) and len(groups) >= 2
    return True


def _phonenumbers():
    try:
        import phonenumbers
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("Phone number detection needs phonenumbers: pip install phonenumbers") from exc
    return phonenumbers


def _phone_ok(s: str, context: bool, regions: Sequence[str]) -> bool:
    pn = _phonenumbers()
    digits = re.sub(r"\D", "", s)
    if not 7 <= len(digits) <= 15:
        return False
    if s.startswith(("+", "00")):
        try:
            num = pn.parse("+" + digits[2:] if s.startswith("00") else s, None)
        except pn.NumberParseException:
            return False
        return pn.is_possible_number(num)
    if _NANP.match(s):
        return True
    if digits.startswith("0") and not digits.startswith("00"):
        # A leading trunk 0 is how most of the world writes a national number, and counts never start with 0.
        for region in regions:
            try:
                if pn.is_valid_number(pn.parse(s, region)):
                    return True
            except pn.NumberParseException:
                continue
    if context:
        for region in ("US", *regions):
            try:
                if pn.is_possible_number(pn.parse(s, region)):
                    return True
            except pn.NumberParseException:
                continue
    return False


def _not_personal(text: str, s: int, e: int) -> bool:
    return bool(_NOT_PERSONAL_BEFORE.search(text[max(0, s - 24):s]) or _NOT_PERSONAL_AFTER.match(text[e:e + 24]))


def _phone_spans(text: str, s: int, e: int, regions: Sequence[str]) -> tuple[int, int] | None:
    """The longest run of digit groups inside a loose candidate that is a phone number, or None.

    The loose pattern can swallow a neighbouring number ("0800 542 0825 2 win"), so groups are trimmed
    from the end (and the first group dropped) until a number is confirmed.
    """
    cand = text[s:e]
    groups = [(m.start(), m.end()) for m in re.finditer(r"\+?\(?\d+\)?", cand)]
    # The first group is dropped only when a space sets it apart ("in 2 0800 ..."); "10.0.19041" is one token.
    starts = [0] + ([1] if len(groups) > 1 and cand[groups[0][1]:groups[1][0]].isspace() else [])
    for first in starts:
        for last in range(len(groups), first, -1):
            gs, ge = groups[first][0], groups[last - 1][1]
            piece = cand[gs:ge]
            if piece.count("(") != piece.count(")"):
                piece = piece.strip("()")
                gs = cand.index(piece, gs)
                ge = gs + len(piece)
            digits = sum(c.isdigit() for c in piece)
            if digits < 7:
                break
            if re.search(r"[().\-/ ]{2,}", piece.replace(") ", ")").replace(" (", "(")):
                continue
            context = bool(_PHONE_CONTEXT.search(text[max(0, s + gs - 30):s + gs]))
            if _DATE.match(piece) or _YEARS.match(piece) or _DECIMAL.match(piece):
                continue
            if _THOUSANDS.match(piece) and not context:
                continue  # "13 960 000": a count, unless a word such as "call" says otherwise
            if _not_personal(text, s + gs, s + ge) and not context:
                continue
            if _phone_ok(piece, context, regions):
                return s + gs, s + ge
    return None


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return PII_KINDS
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in _PATTERNS]
    if bad:
        raise ValueError(f"Unknown PII kind(s) {bad}; expected some of {list(PII_KINDS)}.")
    return kinds


def find_pii(
    text: str, *, kinds: Iterable[str] | None = None, regions: Sequence[str] = DEFAULT_REGIONS
) -> list[PIIMatch]:
    """Find personal data in a text.

    Parameters
    ----------
    text : str
        The text.
    kinds : iterable of str, optional
        Some of :data:`PII_KINDS` (default: all).
    regions : sequence of str
        ISO 3166 region codes whose national phone formats (with a trunk ``0``) are recognised; numbers
        written with ``+`` or ``00`` and North American numbers are recognised whatever this is.

    Returns
    -------
    list of PIIMatch
        Non-overlapping matches sorted by position.

    Examples
    --------
    >>> [m.kind for m in find_pii("mail bob@example.com or call +1 555-123-4567, @bob")]
    ['email', 'phone', 'handle']
    >>> find_pii("EC 1.14.16.1 and ISBN 978-3-16-148410-0 are not personal")
    []
    """
    kinds = _check_kinds(kinds)
    if not any(c.isdigit() or c == "@" for c in text):
        return []  # nothing to find: no digit, no @ (the common case, and cheap)
    taken: list[tuple[int, int]] = []
    urls = [m.span() for m in _URL.finditer(text)] if "http" in text or "www." in text else []
    found: list[PIIMatch] = []
    # Fixed precedence (PII_KINDS order): a card or IP address must not be read as a phone number.
    for kind in PII_KINDS:
        if kind not in kinds:
            continue
        for m in _PATTERNS[kind].finditer(text):
            s, e = m.span()
            if kind == "phone":
                span = _phone_spans(text, s, e, regions)
                if span is None:
                    continue
                s, e = span
            elif kind == "card":
                if not _card_ok(m.group()) or _not_personal(text, s, e):
                    continue
            elif kind == "iban":
                if not _iban_ok(m.group()):
                    continue
            elif kind == "ip":
                if not _ip_ok(m.group()) or _not_personal(text, s, e):
                    continue
            if any(s < te and ts < e for ts, te in taken):
                continue
            if kind in _NOT_IN_URL and any(us <= s and e <= ue for us, ue in urls):
                continue
            taken.append((s, e))
            found.append(PIIMatch(kind, s, e, text[s:e]))
    found.sort(key=lambda m: m.start)
    return found


def mask_pii(
    text: str,
    *,
    kinds: Iterable[str] | None = None,
    template: str = "[{kind}]",
    regions: Sequence[str] = DEFAULT_REGIONS,
) -> tuple[str, Counter]:
    """Replace personal data by a placeholder.

    Parameters
    ----------
    template : str
        Placeholder; ``{kind}`` becomes the upper-case kind (``[EMAIL]``, ``[PHONE]``, ...).
    kinds, regions
        As in :func:`find_pii`.

    Returns
    -------
    (str, Counter)
        The masked text and the number of matches per kind.

    Examples
    --------
    >>> mask_pii("write to bob@example.com")
    ('write to [EMAIL]', Counter({'email': 1}))
    """
    matches = find_pii(text, kinds=kinds, regions=regions)
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
    regions: Sequence[str] = DEFAULT_REGIONS,
    progress: bool = False,
) -> StepResult:
    """Mask personal data in the text column, or drop the rows that contain any.

    Parameters
    ----------
    action : {"mask", "drop", "report"}
        ``"mask"`` replaces each match by ``template``; ``"drop"`` removes the row (kept in
        ``removed`` with reason ``"pii"`` and the kinds in ``pii_kinds``); ``"report"`` only counts.
    kinds : iterable of str, optional
        Some of :data:`PII_KINDS` (default: all).
    regions : sequence of str
        National phone formats recognised (see :func:`find_pii`).
    progress : bool
        Show a progress bar.

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
    # Counts are kept for the rows with personal data only: an empty Counter per row is 100 bytes, a
    # tenth of a gigabyte at a million rows, to say nothing.
    masked, found = [], {}
    texts = df[text_column].astype(str)
    for pos, text in enumerate(progress_bar(texts, desc="pii", enabled=progress, min_total=50_000)):
        new, counts = mask_pii(text, kinds=kinds, template=template, regions=regions)
        masked.append(new)
        if counts:
            found[pos] = counts
    totals = Counter({k: 0 for k in kinds})
    for c in found.values():
        totals.update(c)
    has = np.zeros(len(texts), dtype=bool)
    has[list(found)] = True
    counts = {**{k: int(totals[k]) for k in kinds}, "rows_with_pii": int(has.sum())}
    if action == "drop":
        kinds_col = [",".join(sorted(found[pos])) for pos in sorted(found)]
        removed = removed_frame(df, has, "pii", pii_kinds=kinds_col)
        return StepResult(df.loc[~has], removed, counts)
    out = df.copy()
    if action == "mask":
        out[text_column] = masked
    return StepResult(out, df.iloc[:0].assign(reason=pd.Series(dtype=object)), counts)
