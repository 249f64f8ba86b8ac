"""Finding personal data in text and masking it: votewise's own recognisers, Presidio's, or both merged.

Kinds (:data:`PII_KINDS`): e-mail addresses, secrets (tokens and keys, in URLs and code), IBANs, payment cards, IP
addresses, US social security numbers, UK National Insurance numbers, birth dates, phone numbers, postal
addresses, person names and ``@handles``.

Engines (``engine=``):

* ``"builtin"``: votewise's recognisers (:mod:`labeling.dataset._pii_rules`): a loose pattern per kind confirmed
  by the check the kind has (``phonenumbers``, Luhn, mod-97, :mod:`ipaddress`, SSA and HMRC rules) and context
  words. They find every kind but person names (:data:`BUILTIN_KINDS`);
* ``"presidio"``: Presidio's analyzer alone, with spaCy's ``en_core_web_sm`` and its default threshold;
* ``"merged"``: both, Presidio's findings kept where votewise's checks agree
  (:mod:`labeling.dataset._pii_presidio`);
* ``"auto"`` (default): ``"merged"`` when the ``privacy`` extra is installed, else ``"builtin"``.

:func:`kinds_checked` and :func:`kinds_missing` say which kinds an engine looks for, and
:func:`scrub_pii`'s result carries them, so a datasheet can say what was not looked for.
``docs/dataset.md`` gives recall and false positives per kind of each engine on a labelled set of cases.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ._pii_presidio import INSTALL_HINT, analyze_presidio, merge_matches, presidio_available
from ._pii_rules import BUILTIN_KINDS, DEFAULT_REGIONS, PIIMatch, find_builtin
from ._progress import progress_bar
from ._result import StepResult, check_text_column, removed_frame

__all__ = ["PII_KINDS", "BUILTIN_KINDS", "PII_ENGINES", "PIIMatch", "PIIResult", "DEFAULT_REGIONS", "find_pii",
           "mask_pii", "scrub_pii", "kinds_checked", "kinds_missing", "resolve_engine"]

PII_KINDS: tuple[str, ...] = (
    "email", "secret", "iban", "card", "ip", "us_ssn", "uk_nino", "birth_date", "phone", "address", "person",
    "handle",
)
PII_ENGINES: tuple[str, ...] = ("auto", "builtin", "presidio", "merged")
# Presidio reports no @handles; names need its model.
_PRESIDIO_ONLY_KINDS = tuple(k for k in PII_KINDS if k != "handle")
_ACTIONS = ("mask", "drop", "report")
# Short texts per second on one core, for the up-front estimate of a long run (docs/dataset.md has the figures).
_RATE = {"builtin": 9000, "presidio": 250, "merged": 600}
logger = logging.getLogger("votewise.build")


def resolve_engine(engine: str = "auto") -> str:
    """The engine that runs for ``engine``: ``"auto"`` is ``"merged"`` with the ``privacy`` extra, else ``"builtin"``.

    Raises
    ------
    ValueError
        For an unknown engine name.
    ImportError
        With the install command, for ``"presidio"`` or ``"merged"`` without the extra.
    """
    if engine not in PII_ENGINES:
        raise ValueError(f"engine={engine!r} is not one of {PII_ENGINES}.")
    if engine == "auto":
        return "merged" if presidio_available() else "builtin"
    if engine != "builtin" and not presidio_available():
        raise ImportError(f"engine={engine!r} needs Presidio and spaCy; install them with {INSTALL_HINT}")
    return engine


def kinds_checked(engine: str = "auto", kinds: Iterable[str] | None = None) -> tuple[str, ...]:
    """The kinds of personal data that ``engine`` looks for (of ``kinds``, default all), in :data:`PII_KINDS` order.

    Examples
    --------
    >>> "person" in kinds_checked("builtin")
    False
    """
    engine = resolve_engine(engine)
    wanted = _check_kinds(kinds)
    covered = {"builtin": BUILTIN_KINDS, "presidio": _PRESIDIO_ONLY_KINDS, "merged": PII_KINDS}[engine]
    return tuple(k for k in wanted if k in covered)


def kinds_missing(engine: str = "auto", kinds: Iterable[str] | None = None) -> tuple[str, ...]:
    """The kinds of ``kinds`` (default all) that ``engine`` does not look for.

    Examples
    --------
    >>> kinds_missing("builtin")
    ('person',)
    """
    checked = set(kinds_checked(engine, kinds))
    return tuple(k for k in _check_kinds(kinds) if k not in checked)


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return PII_KINDS
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in PII_KINDS]
    if bad:
        raise ValueError(f"Unknown PII kind(s) {bad}; expected some of {list(PII_KINDS)}.")
    return kinds


def _find_many(texts: Sequence[str], kinds: tuple[str, ...], regions: Sequence[str], engine: str,
               progress: bool = False) -> Iterable[list[PIIMatch]]:
    """Matches per text; Presidio runs over batches (spaCy's ``nlp.pipe``) rather than text by text."""
    bar = progress_bar(texts, desc=f"pii ({engine})", enabled=progress, min_total=50_000 if engine == "builtin" else 1)
    if engine == "builtin":
        for text in bar:
            yield find_builtin(text, kinds, regions)
        return
    for text, theirs in zip(bar, analyze_presidio(texts, for_merge=engine == "merged")):
        if engine == "presidio":
            yield [m for m in theirs if m.kind in kinds or m.kind not in PII_KINDS]
        else:
            yield merge_matches(text, find_builtin(text, kinds, regions), theirs, regions, kinds)


def find_pii(
    text: str,
    *,
    kinds: Iterable[str] | None = None,
    regions: Sequence[str] = DEFAULT_REGIONS,
    engine: str = "auto",
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
    engine : {"auto", "builtin", "presidio", "merged"}
        Which recognisers run (see the module's description). ``"presidio"`` reports every entity type
        Presidio returns, those without a votewise kind under Presidio's name in lower case.

    Returns
    -------
    list of PIIMatch
        Non-overlapping matches sorted by position (``"presidio"``: as Presidio returns them, overlaps included).

    Examples
    --------
    >>> [m.kind for m in find_pii("mail bob@example.com or call +1 555-123-4567, @bob", engine="builtin")]
    ['email', 'phone', 'handle']
    >>> find_pii("EC 1.14.16.1 and ISBN 978-3-16-148410-0 are not personal", engine="builtin")
    []
    """
    kinds = _check_kinds(kinds)
    return next(iter(_find_many([text], kinds, regions, resolve_engine(engine))))


def _mask(text: str, matches: list[PIIMatch], template: str) -> str:
    out, last = [], 0
    for m in sorted(matches, key=lambda m: (m.start, -m.end)):
        if m.start < last:
            if m.end > last:  # an overlapping span (Presidio alone reports them): mask its rest too
                out.append(template.format(kind=m.kind.upper()))
                last = m.end
            continue
        out.append(text[last:m.start])
        out.append(template.format(kind=m.kind.upper()))
        last = m.end
    out.append(text[last:])
    return "".join(out)


def mask_pii(
    text: str,
    *,
    kinds: Iterable[str] | None = None,
    template: str = "[{kind}]",
    regions: Sequence[str] = DEFAULT_REGIONS,
    engine: str = "auto",
) -> tuple[str, Counter]:
    """Replace personal data by a placeholder.

    Parameters
    ----------
    template : str
        Placeholder; ``{kind}`` becomes the upper-case kind (``[EMAIL]``, ``[PHONE]``, ...).
    kinds, regions, engine
        As in :func:`find_pii`.

    Returns
    -------
    (str, Counter)
        The masked text and the number of matches per kind.

    Examples
    --------
    >>> mask_pii("write to bob@example.com", engine="builtin")
    ('write to [EMAIL]', Counter({'email': 1}))
    """
    matches = find_pii(text, kinds=kinds, regions=regions, engine=engine)
    return _mask(text, matches, template), Counter(m.kind for m in matches)


@dataclass
class PIIResult(StepResult):
    """:class:`StepResult` of :func:`scrub_pii`, with what was looked for.

    Attributes
    ----------
    engine : str
        The engine that ran (``"builtin"``, ``"presidio"`` or ``"merged"``; ``"auto"`` resolved).
    kinds_checked : tuple of str
        The kinds asked for that the engine looks for.
    kinds_missing : tuple of str
        The kinds asked for that the engine does not look for (``("person",)`` without the ``privacy`` extra).
    """

    engine: str = "builtin"
    kinds_checked: tuple[str, ...] = field(default_factory=tuple)
    kinds_missing: tuple[str, ...] = field(default_factory=tuple)


def scrub_pii(
    df: pd.DataFrame,
    *,
    text_column: str = "text",
    action: str = "mask",
    kinds: Iterable[str] | None = None,
    template: str = "[{kind}]",
    regions: Sequence[str] = DEFAULT_REGIONS,
    progress: bool = False,
    engine: str = "auto",
) -> PIIResult:
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
    engine : {"auto", "builtin", "presidio", "merged"}
        Which recognisers run (see :func:`find_pii`). Presidio's model reads about a few hundred short texts a
        second on one core, the built-in recognisers tens of thousands: ``docs/dataset.md`` has the figures.

    Returns
    -------
    PIIResult
        ``counts`` has the number of matches per kind and ``"rows_with_pii"``; ``engine``,
        ``kinds_checked`` and ``kinds_missing`` say what was looked for.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["mail me: a.b@mail.com", "nice"]}, index=["x", "y"])
    >>> res = scrub_pii(df, engine="builtin")
    >>> res.data["text"].tolist(), res.counts["email"], res.kinds_missing
    (['mail me: [EMAIL]', 'nice'], 1, ('person',))
    """
    check_text_column(df, text_column, "scrub_pii")
    if action not in _ACTIONS:
        raise ValueError(f"action={action!r} is not one of {_ACTIONS}.")
    kinds = _check_kinds(kinds)
    ran = resolve_engine(engine)
    if progress and len(df) / _RATE[ran] > 30:
        logger.info("pii: %s engine on %d texts, about %.0f min on one core%s", ran, len(df),
                    len(df) / _RATE[ran] / 60, "; engine='builtin' takes seconds" if ran != "builtin" else "")
    # Counts are kept for the rows with personal data only: an empty Counter per row is 100 bytes, a
    # tenth of a gigabyte at a million rows, to say nothing.
    masked, found = [], {}
    texts = df[text_column].astype(str).tolist()
    for pos, (text, matches) in enumerate(zip(texts, _find_many(texts, kinds, regions, ran, progress))):
        masked.append(_mask(text, matches, template) if matches else text)
        if matches:
            found[pos] = Counter(m.kind for m in matches)
    totals = Counter({k: 0 for k in kinds})
    for c in found.values():
        totals.update(c)
    has = np.zeros(len(texts), dtype=bool)
    has[list(found)] = True
    counts = {**{k: int(totals[k]) for k in totals}, "rows_with_pii": int(has.sum())}
    meta = {"engine": ran, "kinds_checked": kinds_checked(ran, kinds), "kinds_missing": kinds_missing(ran, kinds)}
    if action == "drop":
        kinds_col = [",".join(sorted(found[pos])) for pos in sorted(found)]
        removed = removed_frame(df, has, "pii", pii_kinds=kinds_col)
        return PIIResult(df.loc[~has], removed, counts, **meta)
    out = df.copy()
    if action == "mask":
        out[text_column] = masked
    return PIIResult(out, df.iloc[:0].assign(reason=pd.Series(dtype=object)), counts, **meta)
