"""votewise's own recognisers of personal data: a loose pattern per kind, then the check that kind has.

* phone numbers by ``phonenumbers`` (libphonenumber's metadata), see :func:`phone_ok`;
* IP addresses by :mod:`ipaddress` (IPv4, IPv6 with compressed forms and zone ids such as ``fe80::1%eth0``);
* payment cards by the Luhn checksum and an issuer prefix, IBANs by ISO 7064 mod-97 and the country's length
  (upper or lower case), US social security numbers by the SSA's area/group/serial rules, UK National
  Insurance numbers by the HMRC prefix rules;
* secrets by the shape of the value (known token prefixes, or a key such as ``token=`` / ``api_key:`` followed by
  a long value mixing letters and digits);
* birth dates by a date after a word such as "born", "DOB" or "birthday" (an ordinary date is not personal);
* postal addresses by a house number and a street type, a UK postcode or a US "City, ST 12345".

Context rules then drop numbers that are not personal (after "ISBN", "order", a currency sign, before "views",
"km"; dates, decimals, counts; digit runs inside URLs). Person names need a named-entity model: they come from
the ``privacy`` extra (see :mod:`labeling.dataset._pii_presidio`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, NamedTuple, Sequence

__all__ = ["PIIMatch", "BUILTIN_KINDS", "DEFAULT_REGIONS", "find_builtin", "phone_ok", "luhn", "iban_ok",
           "ssn_ok", "nino_ok", "ip_ok", "BIRTH_CONTEXT"]


class PIIMatch(NamedTuple):
    """One piece of personal data found in a text: its kind, its span and the text of the span."""

    kind: str
    start: int
    end: int
    text: str


# Regions whose national (trunk-0) formats are recognised without a + prefix; + numbers work for any country.
DEFAULT_REGIONS: tuple[str, ...] = (
    "GB", "DE", "FR", "IT", "NL", "BE", "CH", "AT", "IE", "SE", "AU", "NZ", "IN", "ZA", "NG", "BR", "AR", "JP",
    "KR", "CN", "TR", "EG", "PK", "ID", "TH", "UA", "RU",
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.%+-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,}(?![\w@])"
    # "jane.doe [at] example [dot] com": the usual way of hiding an address from crawlers.
    r"|(?<![\w.+-])[\w.+-]+\s*[\[(<{]\s*at\s*[\])>}]\s*[\w-]+(?:\s*[\[(<{]\s*dot\s*[\])>}]\s*[\w-]+)+",
    re.IGNORECASE,
)
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\w)", re.IGNORECASE)
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w]|[.,-]\d)")
_IP = re.compile(
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)"
    r"|(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})"
    r"(?:%(?:25)?[0-9A-Za-z._~-]+)?(?![\w%]|:\w)"
)
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w]|-\d)")
_NINO = re.compile(r"(?<![\w])([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?!\w)", re.IGNORECASE)
# Loose on purpose: digits with single separators; the candidates are confirmed by phone_ok. A colon may
# come right before ("Tel:020 ..."), but not a digit and a colon (a time such as 22:28).
_PHONE = re.compile(r"(?<![\w@#/+.,-])(?<!\d:)(?:\+|(?<!\d)00)?\(?\d[\d().\-/ ]{5,24}\d(?![\w@]|[.,]\d)")
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
           r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_DATE_ANY = re.compile(
    rf"(?<![\w/.-])(?:\d{{4}}[-./]\d{{1,2}}[-./]\d{{1,2}}|\d{{1,2}}[-./]\d{{1,2}}[-./](?:\d{{4}}|\d{{2}})"
    rf"|{_DAY}(?:\s+of)?\s+{_MONTHS},?(?:\s+(?:\d{{4}}|'\d\d))?|{_MONTHS}\s+{_DAY}(?:,?\s+(?:\d{{4}}|'\d\d))?)"
    r"(?![\w/-]|\.\d)",
    re.IGNORECASE,
)
# Words that say the date that follows is a birth date.
BIRTH_CONTEXT = re.compile(
    r"(?:\b(?:born|birth|birthday|bday|b-day|dob|d\.o\.b|geboren|née?|nacido|nata?o)\b|\bb\.)"
    r"[^\d\n]{0,20}$",
    re.IGNORECASE,
)

_BIRTH_HINT = re.compile(r"(?i:born|birth|bday|b-day|dob|d\.o\.b|geboren|née?|nacid|nat[ao]|\bb\.)")

_STREET_TYPES = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Close|"
    r"Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Gardens|Grove|Row|Mews|Walk|Hill)"
)
_UK_POSTCODE = r"(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})"
_US_STATE_ZIP = r"[A-Z]{2} \d{5}(?:-\d{4})?"
_ADDRESS = re.compile(
    # "221B Baker Street", "1600 Pennsylvania Ave NW, Apt 4, Washington, DC 20500"
    r"(?<![\w.,])(?:(?:Flat|Apt|Apartment|Unit|Suite)\s+\w{1,4},?\s+)?"
    rf"\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][a-z'-]+\.?\s+){{1,3}}{_STREET_TYPES}\b\.?"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|#)\.?\s*#?\w{1,5})?"
    rf"(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?(?=,|\s+{_UK_POSTCODE}\b|\s+{_US_STATE_ZIP}\b|\s*$|\s*[.;!?\n]|\s+[a-z]))?"
    rf"(?:,?\s+(?:{_US_STATE_ZIP}|{_UK_POSTCODE})\b)?"
    # "Hauptstraße 5, 10115 Berlin"
    r"|(?<![\w])[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|platz|allee|gasse|damm|ring)\s+\d{1,4}[a-z]?"
    r"(?:,\s*\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+)?"
    # "12 rue de la Paix, 75002 Paris"
    r"|(?<![\w.,])\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai)"
    r"\s+(?:(?:de|du|des|la|le|l'|d')\s*)*[A-ZÉ][\w'-]+(?:\s+[A-ZÉ][\w'-]+)*(?:,\s*\d{5}\s+[A-Z][\w-]+)?"
    # "PO Box 1234"
    r"|\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b"
    # "Springfield, IL 62704" and a UK postcode on its own ("London SW1A 1AA")
    rf"|\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s{_US_STATE_ZIP}\b"
    rf"|(?<![\w-]){_UK_POSTCODE}(?![\w-])"
)
_NAMED_SECRET = re.compile(
    # Known token formats: GitHub, OpenAI-style, Slack, AWS access key ids, Google API keys, JSON web tokens.
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,}|sk-(?:proj-|live_|test_)?[A-Za-z0-9_-]{20,}"
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
# "?token=...", "api_key: ...", "DB_PASSWORD = '...'", "Authorization: Bearer ...": the value after a secret's
# name (quoted values may hold any character but a quote or a space).
_KEYED_SECRET = re.compile(
    r"(?:(?<![A-Za-z0-9])(?:access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|token|api[_-]?key|apikey|"
    r"client[_-]?secret|secret(?:[_-]?key)?|private[_-]?key|passw(?:or)?d|pwd|pass|sig|signature|"
    r"session(?:[_-]?id)?|sid|auth|key|code|x-amz-signature|x-amz-credential)(?![A-Za-z0-9])[\"']?\s*[:=]\s*"
    r"|\b(?:Bearer|Basic|token)\s+)"
    r"(?:[\"']([^\"'\s]{6,})[\"']|([A-Za-z0-9._~+/%-]{8,}={0,2}))",
    re.IGNORECASE,
)
_ADDRESS_HINT = re.compile(
    rf"\b{_STREET_TYPES}\b|stra(?:ße|sse)|str\.|(?:weg|platz|allee|gasse|damm|ring)\s+\d|"
    r"\b(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai)\b|\bBox\b|\b[A-Z]{1,2}\d|[A-Z]{2} \d{5}"
)
_SECRET_PREFIX = re.compile(r"gh[pousr]_|github_pat_|sk-|[spr]k_|xox|AKIA|ASIA|AIza|eyJ")
# Every secret's name holds one of these (in lower case); a text with none of them is not searched further.
_SECRET_WORDS = ("token", "key", "secret", "passw", "pwd", "pass", "sig", "session", "sid", "auth", "code",
                 "bearer", "basic", "amz", "://")
_URL_USERINFO = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@]+:([^\s/@]+)@", re.IGNORECASE)

_DIGIT = re.compile(r"\d")
_DIGIT_RUN = re.compile(r"(?<![\d+.,])\d{10,15}(?!\d)")
_AT_WORD = re.compile(r"[\[(<{]\s*at\s*[\])>}]", re.IGNORECASE)
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2}))$")
_YEARS = re.compile(r"^(?:19|20)\d\d ?[-/] ?(?:19|20)\d\d$")
_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:([.,  ])\d{3})(?:\1\d{3})*$")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")
_NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\([2-9]\d\d\)|[2-9]\d\d)[ .-]?\d{3}[ .-]?\d{4}$")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Words right before a number that say it is not personal: identifiers of books, enzymes, software,
# orders and draws, and amounts of money.
_NOT_PERSONAL_BEFORE = re.compile(
    r"(?:\b(?:isbn(?:-1[03])?|issn|ean|gtin|upc|sku|asin|ec|doi|version|ver|v|release|build|section|chapter|rule|"
    r"order|invoice|ref|reference|tracking|serial|patent|lottery|lotto|numbers|draw|page|pp|id|nr|code|model|"
    r"part|usd|eur|gbp|inr|rs|price|cost|total|pop|population|case|ticket|booking|confirmation|account|acct|"
    r"item|product|batch|lot|bug|issue|pr|commit|build|job|run|tx|transaction|parcel|shipment|"
    r"container|flight|train|bus|route|room|seat)\b[\s:#.]*(?:no\.?\s*|number\s*)?|[$€£¥₹]\s*"
    # code: "order_id = ...", "userId: ..."
    r"|[A-Za-z]\w*(?:_id|_no|_num|_number|_ref|Id|ID)[\"']?\s*[:=]\s*[\"']?)$",
    re.IGNORECASE,
)
_FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "pdf", "txt", "csv", "json",
                              "js", "css", "py", "html", "zip", "mp3", "mp4"})
_BROADCAST = frozenset({"everyone", "here", "channel", "all", "team"})
_NOT_PERSONAL_AFTER = re.compile(
    r"^\s*(?:%|(?:views|likes|subscribers|followers|people|persons|times|votes|comments|downloads|users|copies|"
    r"units|dollars|euros|pounds|rupees|usd|eur|gbp|km|kg|mi|miles|metres|meters|years|tons|tonnes|"
    r"inhabitants|residents|visitors|hits|plays|streams|bytes|rows|items|records|ms|seconds)\b)",
    re.IGNORECASE,
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|calls|calling|tel|telephone|phone|mobile|mob|cell|txt|text|sms|whatsapp|ring|fax|dial|contact|"
    r"hotline|number|no|ph)\b[^\d\n]{0,12}$",
    re.IGNORECASE,
)
_SSN_CONTEXT = re.compile(r"\b(?:ssn|ss#|social\s+security(?:\s+(?:number|no))?|soc\.?\s*sec)\b[^\d\n]{0,15}$",
                          re.IGNORECASE)
_NINO_CONTEXT = re.compile(r"\b(?:ni|nino|national\s+insurance)\b[^\n]{0,20}$", re.IGNORECASE)
_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TR": 26, "AE": 23, "SA": 24, "IL": 23, "BR": 29,
}
# HMRC never issues these first letters / prefixes (and D, F, I, Q, U, V in either place).
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def luhn(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum (payment cards, IMEIs)."""
    total = 0
    for pos, ch in enumerate(reversed(digits)):
        d = int(ch)
        if pos % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_ok(s: str) -> bool:
    """Whether ``s`` is a payment card number: 13-19 digits, an issuer prefix 2-6, one kind of separator, Luhn."""
    digits = re.sub(r"\D", "", s)
    seps = set(re.sub(r"\d", "", s))
    # An ISBN-13 (978...) or a long id that happens to pass Luhn is not a card. Only Visa issued 13-digit
    # numbers; other 13-digit Luhn-valid runs are article numbers (EAN-13).
    short_ok = len(digits) > 13 or digits[:1] == "4"
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and short_ok and len(seps) <= 1 and luhn(digits)


def iban_ok(s: str) -> bool:
    """Whether ``s`` is an IBAN: the country's length (where known) and the ISO 7064 mod-97 checksum."""
    code = s.replace(" ", "").upper()
    expected = _IBAN_LENGTHS.get(code[:2])
    if not code[:2].isalpha() or (expected is not None and len(code) != expected) or not 15 <= len(code) <= 34:
        return False
    moved = code[4:] + code[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """Whether the three parts can be a US social security number (the SSA never issues 000, 666, 9xx areas)."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def nino_ok(prefix: str, suffix: str) -> bool:
    """Whether a UK National Insurance number's letters are ones HMRC issues."""
    p = prefix.upper()
    return (p not in _NINO_BAD_PREFIX and p[0] not in "DFIQUV" and p[1] not in "DFIQUVO"
            and suffix.upper() in "ABCD")


def ip_ok(s: str) -> bool:
    """Whether ``s`` is an IPv4 or IPv6 address (a zone id such as ``%eth0`` allowed)."""
    s = s.replace("%25", "%", 1)
    try:
        addr = ipaddress.ip_address(s)
    except ValueError:
        return False
    if addr.version == 6:
        # "a::b" or "::" are valid addresses but rarely meant as one; ask for a digit and two groups.
        groups = [g for g in s.split("%")[0].split(":") if g]
        return any(c.isdigit() for c in s) and len(groups) >= 2
    return True


def _phonenumbers():
    try:
        import phonenumbers
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("Phone number detection needs phonenumbers: pip install phonenumbers") from exc
    return phonenumbers


def phone_ok(s: str, context: bool, regions: Sequence[str]) -> bool:
    """Whether ``s`` is a phone number, by libphonenumber's metadata.

    With ``+`` or ``00``: a possible number of its country. Written nationally with a trunk ``0``: a valid
    number in one of ``regions``. A North American number: the ``NXX NXX XXXX`` shape. Any other digit group
    only when ``context`` (a word such as "call" or "tel" comes before it) and possible in some region.
    """
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


def not_personal(text: str, s: int, e: int) -> bool:
    """Whether the words around ``text[s:e]`` say the number is an id, an amount or a count, not personal."""
    return bool(_NOT_PERSONAL_BEFORE.search(text[max(0, s - 30):s]) or _NOT_PERSONAL_AFTER.match(text[e:e + 24]))


def phone_context(text: str, s: int) -> bool:
    """Whether a word such as "call", "tel" or "WhatsApp" comes right before position ``s``."""
    return bool(_PHONE_CONTEXT.search(text[max(0, s - 30):s]))


def _phone_spans(text: str, s: int, e: int, regions: Sequence[str]) -> list[tuple[int, int]]:
    """The phone numbers inside a loose candidate.

    The loose pattern can swallow neighbouring numbers ("0800 542 0825 2 win", "07946746291/07880867867",
    "89693. 08715500022"), so groups are trimmed from the end until a number is confirmed, and a new number may
    start at any group set apart by a space or a slash.
    """
    cand = text[s:e]
    groups = [(m.start(), m.end()) for m in re.finditer(r"\+?\(?\d+\)?", cand)]
    # A number may start at the first group, or at one set apart by whitespace or a slash; "10.0.19041" is one token.
    starts = [0] + [i for i in range(1, len(groups))
                    if re.search(r"[\s/]", cand[groups[i - 1][1]:groups[i][0]])]
    found: list[tuple[int, int]] = []
    next_free = 0
    for first in starts:
        if first < next_free:
            continue
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
            if re.search(r"[().\-/ ]{2,}", piece.replace(") ", ")").replace(" (", "(")) or "/" in piece and \
                    not re.fullmatch(r"\+?\(?0\d{1,5}\)?/[\d -]+", piece):
                continue  # "a / b" or "07946746291/0788..." is two numbers; "030/12345678" is one
            context = phone_context(text, s + gs)
            if _DATE.match(piece) or _YEARS.match(piece) or _DECIMAL.match(piece):
                continue
            if _THOUSANDS.match(piece) and not context:
                continue  # "13 960 000": a count, unless a word such as "call" says otherwise
            if not_personal(text, s + gs, s + ge) and not context:
                continue
            if phone_ok(piece, context, regions):
                found.append((s + gs, s + ge))
                next_free = last
                break
    return found


def _spans_email(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    if "@" not in text and not _AT_WORD.search(text):
        return []
    # "icon@2x.png" is a file name: no top-level domain is a file extension.
    return [m.span() for m in _EMAIL.finditer(text) if m.group().rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS]


def _spans_secret(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    # Cheap tests first: most texts have no token prefix, no "=" or ":" and no "Bearer"/"Basic"/"token".
    out = [m.span() for m in _NAMED_SECRET.finditer(text)] if _SECRET_PREFIX.search(text) else []
    low = text.lower()
    if not any(word in low for word in _SECRET_WORDS):
        return out
    for m in _KEYED_SECRET.finditer(text):
        group = 1 if m.group(1) is not None else 2
        value = m.group(group)
        # A secret mixes letters and digits (or is long); "password=hunter22" yes, "token=example" no.
        mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
        if mixed or len(value) >= 24:
            out.append(m.span(group))
    out += [m.span(1) for m in _URL_USERINFO.finditer(text)]
    return out


def _spans_iban(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    return [m.span() for m in _IBAN.finditer(text) if iban_ok(m.group())]


def _spans_card(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    return [m.span() for m in _CARD.finditer(text) if card_ok(m.group()) and not not_personal(text, *m.span())]


def _spans_ip(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    return [m.span() for m in _IP.finditer(text) if ip_ok(m.group()) and not not_personal(text, *m.span())]


def _spans_ssn(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    out = []
    for m in _SSN.finditer(text):
        if not ssn_ok(m.group(1), m.group(3), m.group(4)):
            continue
        context = bool(_SSN_CONTEXT.search(text[max(0, m.start() - 30):m.start()]))
        # "078-05-1120" is an SSN by its shape; nine bare digits or spaced groups only after "SSN".
        if context or (m.group(2) == "-" and not not_personal(text, *m.span())):
            out.append(m.span())
    return out


def _spans_uk_nino(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    out = []
    for m in _NINO.finditer(text):
        if not nino_ok(m.group(1), m.group(5)):
            continue
        upper = m.group().isupper()
        if upper or _NINO_CONTEXT.search(text[max(0, m.start() - 30):m.start()]):
            out.append(m.span())
    return out


def _glued_phone(text: str, s: int, e: int, regions: Sequence[str]) -> tuple[int, int] | None:
    """A phone number in a run of digits glued to words ("call09050000327", "help:08700621170150p/min").

    SMS adverts glue numbers to the words around them and to the rate after them ("...0150p" is the
    number and "150p"). A run that starts with a trunk ``0`` is a phone number when it, or its first 11 or 10
    digits followed by the rest and a letter, is a valid number in one of ``regions``; a run that starts with
    a country code ("447801259231") when it is valid with a ``+``.
    """
    pn = _phonenumbers()
    run = text[s:e]
    if not_personal(text, s, e):
        return None
    if run[0] == "0":
        # "...0150p", "...79am", "...701.50gbp": the rest is a rate or a time glued on
        glued_after = text[e:e + 1].isalpha() or bool(re.match(r"[.,]\d", text[e:e + 2]))
        for n in (len(run), 11, 10):
            if n > len(run) or (n < len(run) and not glued_after):
                continue
            for region in regions:
                try:
                    if pn.is_valid_number(pn.parse(run[:n], region)):
                        return s, s + n
                except pn.NumberParseException:
                    continue
        return None
    if 11 <= len(run) <= 13 and not re.match(r"[.,]\d", text[e:e + 2]):
        try:
            if pn.is_valid_number(pn.parse("+" + run, None)):
                return s, e
        except pn.NumberParseException:
            return None
    return None


def _spans_phone(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in _PHONE.finditer(text):
        out += _phone_spans(text, *m.span(), regions)
    for m in _DIGIT_RUN.finditer(text):
        if not any(s <= m.start() < e for s, e in out):
            span = _glued_phone(text, *m.span(), regions)
            if span:
                out.append(span)
    return out


def _spans_birth_date(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    if not _BIRTH_HINT.search(text):
        return []
    return [m.span() for m in _DATE_ANY.finditer(text) if BIRTH_CONTEXT.search(text[max(0, m.start() - 30):m.start()])]


def _spans_address(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    if not _ADDRESS_HINT.search(text):
        return []  # no street word, box, postcode or ZIP shape: the full pattern cannot match
    return [m.span() for m in _ADDRESS.finditer(text)]


def _spans_handle(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    if "@" not in text:
        return []
    out = []
    for m in _HANDLE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        # "@dataclass(frozen=True)" / "@pytest.mark.slow" on a line of their own are decorators, and
        # "@everyone" / "@here" address a channel, not a person.
        decorator = not text[line_start:m.start()].strip() and re.match(r"[\w.]*(?:\(|\s*$)", text[m.end():])
        if not decorator and m.group()[1:].lower() not in _BROADCAST:
            out.append(m.span())
    return out


# In precedence order: where two kinds claim overlapping text, the earlier wins (an e-mail is never also a
# handle, a card or an IBAN never a phone number, an SSN never a phone number).
_FINDERS: dict[str, Callable[[str, Sequence[str]], list[tuple[int, int]]]] = {
    "email": _spans_email,
    "secret": _spans_secret,
    "iban": _spans_iban,
    "card": _spans_card,
    "ip": _spans_ip,
    "us_ssn": _spans_ssn,
    "uk_nino": _spans_uk_nino,
    "birth_date": _spans_birth_date,
    "phone": _spans_phone,
    "address": _spans_address,
    "handle": _spans_handle,
}
BUILTIN_KINDS: tuple[str, ...] = tuple(_FINDERS)
_NOT_IN_URL = frozenset({"card", "phone", "iban", "us_ssn", "uk_nino", "address", "birth_date"})
# Every pattern of these kinds has a digit (addresses: a house number, postcode or box number).
_NEEDS_DIGIT = frozenset({"iban", "card", "ip", "us_ssn", "uk_nino", "phone", "birth_date", "address"})


def find_builtin(text: str, kinds: Sequence[str], regions: Sequence[str]) -> list[PIIMatch]:
    """The built-in recognisers' matches of ``kinds`` in ``text``: non-overlapping, sorted by position."""
    has_digit = _DIGIT.search(text) is not None
    urls = [m.span() for m in _URL.finditer(text)] if "http" in text or "www." in text else []
    taken: list[tuple[int, int]] = []
    found: list[PIIMatch] = []
    for kind, finder in _FINDERS.items():
        if kind not in kinds or (kind in _NEEDS_DIGIT and not has_digit):
            continue
        for s, e in finder(text, regions):
            if any(s < te and ts < e for ts, te in taken):
                continue
            if kind in _NOT_IN_URL and any(us <= s and e <= ue for us, ue in urls):
                continue
            taken.append((s, e))
            found.append(PIIMatch(kind, s, e, text[s:e]))
    found.sort(key=lambda m: m.start)
    return found
