"""Text normalisation and dropping of empty rows."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser

import pandas as pd

from ._progress import progress_bar
from ._result import StepResult, check_text_column, removed_frame

__all__ = ["normalize_text", "clean_texts", "strip_markup_text"]

# Zero-width space, word joiner, BOM and soft hyphen are invisible and make equal-looking texts differ.
# Bidirectional controls (embeddings, overrides, isolates, LRM/RLM/ALM) reorder how text is displayed, so a
# text can show something other than what it holds; C1 control characters are never text.
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x80-\x9f]")
# ASCII control characters other than whitespace (NUL, BEL, ESC, DEL, ...): never text, and NUL breaks C
# readers and terminals. Tab, newline, vertical tab, form feed and carriage return are whitespace.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f]")
# ZWJ and ZWNJ are letters' business in emoji sequences (👨‍👩‍👧), Persian, Arabic and Indic scripts: they
# are only dropped where a side is ASCII (or the text's edge), where they can only be noise.
_STRAY_JOINER = re.compile("[\u200c\u200d](?![^\x00-\x7f])|(?<![^\x00-\x7f])[\u200c\u200d]")
_FORMS = ("NFC", "NFKC", "NFD", "NFKD")
# HTML elements (WHATWG list plus common obsolete ones): only these are markup. Anything else in angle
# brackets (``<ukp>``, ``<3``, ``x < y and y > z``) is text and kept.
_HTML_TAGS = frozenset("""
a abbr acronym address area article aside audio b base basefont bdi bdo big blink blockquote body br button canvas
caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl dt em embed fieldset
figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins
kbd label legend li link main map mark marquee menu meta meter nav nobr noframes noscript object ol optgroup option
output p param picture pre progress q rp rt ruby s samp script search section select slot small source span strike
strong style sub summary sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul var
video wbr math
""".split())
# Elements whose content is code or metadata, not text.
_SKIP_CONTENT = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"})
# Elements that separate words, so removing them must leave a space ("one<br>two", "</p><p>").
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ul", "ol",
                     "table", "section", "article", "header", "footer", "blockquote", "pre", "dd", "dt", "title"})


class _MarkupStripper(HTMLParser):
    """Text of an HTML fragment: known tags removed, script/style bodies dropped, entities decoded once."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _SKIP_CONTENT:
            self._skip += 1
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(f"</{tag}>")
        elif tag in _SKIP_CONTENT:
            self._skip = max(0, self._skip - 1)
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_markup_text(text: str) -> str:
    """Remove HTML markup with an HTML parser; anything that is not a known HTML tag stays as text.

    Entities are decoded once, after parsing, so an escaped tag (``&lt;div&gt;``) is text and stays.

    Examples
    --------
    >>> strip_markup_text("if x < y and y > z then <b>stop</b>")
    'if x < y and y > z then stop'
    >>> strip_markup_text("&lt;div&gt; <script>alert(1)</script>ok <ukp>")
    '<div> ok <ukp>'
    """
    if "<" not in text:
        # No tag can start: the parser would pass the whole text to handle_data with its entities
        # decoded by html.unescape, which is what this does without the parser's per-call cost.
        return html.unescape(text) if "&" in text else text
    parser = _MarkupStripper()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


@lru_cache(maxsize=1)
def _kept_compat() -> re.Pattern:
    """Characters whose compatibility form changes what they say: fractions, super- and subscripts.

    NFKC maps ``½`` to ``1⁄2`` (so ``1½`` reads ``11⁄2``) and ``m²`` to ``m2``; these are left as they are.
    """
    chars = [chr(c) for c in range(0x30000)
             if unicodedata.decomposition(chr(c)).startswith(("<fraction>", "<super>", "<sub>"))]
    return re.compile("([" + "".join(re.escape(c) for c in chars) + "])")


def _normalize_form(text: str, form: str) -> str:
    if text.isascii():
        return text
    if form in ("NFC", "NFD"):
        return unicodedata.normalize(form, text)
    if unicodedata.is_normalized(form, text):
        return text  # the common case, decided in C; a kept character is never in normal form
    kept = _kept_compat()
    if not kept.search(text):
        return unicodedata.normalize(form, text)
    parts = kept.split(text)  # odd positions are the kept characters
    return "".join(p if i % 2 else unicodedata.normalize(form, p) for i, p in enumerate(parts))


def normalize_text(
    text: str,
    *,
    unicode_form: str | None = "NFKC",
    strip_markup: bool = True,
    collapse_whitespace: bool = True,
    lowercase: bool = False,
) -> str:
    """Normalise one text: HTML markup, Unicode form, invisible and control characters, whitespace.

    Only markup is removed, never words: an HTML parser finds the tags, and text in angle brackets that
    is not an HTML tag (``x < y``, ``<ukp>``) is kept.

    Parameters
    ----------
    text : str
        The text.
    unicode_form : {"NFKC", "NFC", "NFKD", "NFD"} or None
        Unicode normalisation form; NFKC folds look-alike characters (full-width letters, ligatures) but
        fractions, superscripts and subscripts are kept (``1½`` stays ``1½``, not ``11⁄2``).
    strip_markup : bool
        Drop HTML tags and the content of ``script``/``style`` elements, turn block tags and ``<br>`` into
        a space and decode entities (``&amp;`` -> ``&``) once: an escaped tag (``&lt;div&gt;``) is text.
    collapse_whitespace : bool
        Replace runs of whitespace by one space and strip both ends.
    lowercase : bool
        Lower-case the result (off by default: case carries meaning for many tasks).

    Invisible characters (zero-width space, BOM, soft hyphen), bidirectional controls (U+202A-U+202E,
    U+2066-U+2069, U+200E, U+200F, U+061C) and control characters other than whitespace (NUL, ESC, DEL,
    C1) are always removed.

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
        text = strip_markup_text(text)
    if unicode_form is not None:
        text = _normalize_form(text, unicode_form)
    if not text.isascii():
        text = _INVISIBLE.sub("", text)
        text = _STRAY_JOINER.sub("", text)
    if not text.isprintable():  # one C call; most texts have no control character at all
        text = _CONTROL.sub("", text)
    if collapse_whitespace:
        # str.split() splits on runs of the same Unicode whitespace as the regex \s+, stripping both ends.
        text = " ".join(text.split())
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
    progress: bool = False,
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
    progress : bool
        Show a progress bar.

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
        texts = pd.Series(
            [normalize_text(t, unicode_form=unicode_form, strip_markup=strip_markup, lowercase=lowercase)
             for t in progress_bar(texts, desc="normalize", enabled=progress, min_total=50_000)],
            index=texts.index, dtype=object,
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
