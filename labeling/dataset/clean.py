"""Text normalisation and dropping of empty rows."""

from __future__ import annotations

import html
import re
import unicodedata

import pandas as pd

from ._result import StepResult, check_text_column, removed_frame

__all__ = ["normalize_text", "clean_texts"]

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]{0,200}>")
_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Zero-width and BOM characters survive NFKC and make equal-looking texts differ.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_FORMS = ("NFC", "NFKC", "NFD", "NFKD")


def normalize_text(
    text: str,
    *,
    unicode_form: str | None = "NFKC",
    strip_markup: bool = True,
    collapse_whitespace: bool = True,
    lowercase: bool = False,
) -> str:
    """Normalise one text: HTML entities and tags, Unicode form, invisible characters, whitespace.

    Parameters
    ----------
    text : str
        The text.
    unicode_form : {"NFKC", "NFC", "NFKD", "NFD"} or None
        Unicode normalisation form; NFKC folds look-alike characters (full-width letters, ligatures).
    strip_markup : bool
        Unescape HTML entities (``&amp;`` -> ``&``), turn ``<br>`` into a space and drop other tags.
    collapse_whitespace : bool
        Replace runs of whitespace by one space and strip both ends.
    lowercase : bool
        Lower-case the result (off by default: case carries meaning for many tasks).

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_text("Check&nbsp;out <b>my</b>  channel\\ufeff")
    'Check out my channel'
    """
    if unicode_form is not None and unicode_form not in _FORMS:
        raise ValueError(f"unicode_form={unicode_form!r} is not one of {_FORMS} or None.")
    if strip_markup:
        text = html.unescape(text)
        text = _BR.sub(" ", text)
        text = _TAG.sub("", text)
    if unicode_form is not None:
        text = unicodedata.normalize(unicode_form, text)
    text = _INVISIBLE.sub("", text)
    if collapse_whitespace:
        text = _SPACE.sub(" ", text).strip()
    if lowercase:
        text = text.lower()
    return text


def clean_texts(
    df: pd.DataFrame,
    *,
    text_column: str = "text",
    normalize: bool = True,
    unicode_form: str | None = "NFKC",
    strip_markup: bool = True,
    lowercase: bool = False,
    min_chars: int = 1,
) -> StepResult:
    """Normalise the text column and drop rows whose text is missing, empty or too short.

    Parameters
    ----------
    df : DataFrame
        Rows indexed by id.
    text_column : str
        The text column.
    normalize : bool
        Apply :func:`normalize_text` (with ``unicode_form``, ``strip_markup``, ``lowercase``).
    min_chars : int
        Rows whose (normalised) text has fewer characters are dropped as ``"too_short"``.

    Returns
    -------
    StepResult
        ``counts`` has ``"missing"``, ``"empty"`` and ``"too_short"``; ``removed`` keeps the
        original (un-normalised) text of the dropped rows.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["Nice <i>song</i>", "  ", None]}, index=["a", "b", "c"])
    >>> res = clean_texts(df)
    >>> res.data["text"].tolist(), res.counts
    (['Nice song'], {'missing': 1, 'empty': 1, 'too_short': 0})
    """
    check_text_column(df, text_column, "clean_texts")
    if min_chars < 0:
        raise ValueError(f"min_chars={min_chars} must be >= 0.")
    raw = df[text_column]
    missing = raw.isna().to_numpy()
    texts = raw.where(~raw.isna(), "").astype(str)
    if normalize:
        texts = texts.map(
            lambda t: normalize_text(t, unicode_form=unicode_form, strip_markup=strip_markup, lowercase=lowercase)
        )
    empty = (texts.str.strip() == "").to_numpy() & ~missing
    short = (texts.str.len() < min_chars).to_numpy() & ~missing & ~empty
    reasons = pd.Series("", index=df.index, dtype=object)
    reasons[missing] = "missing"
    reasons[empty] = "empty"
    reasons[short] = "too_short"
    drop = missing | empty | short
    kept = df.loc[~drop].copy()
    kept[text_column] = texts[~drop]
    removed = removed_frame(df, drop, reasons[drop].tolist())
    counts = {"missing": int(missing.sum()), "empty": int(empty.sum()), "too_short": int(short.sum())}
    return StepResult(kept, removed, counts)
