"""Text preprocessing with nltk, as plain functions and as ``pre=`` preprocessors for LFs.

Cleaning needs no data. Sentence and word tokenisation need punkt_tab, lemmatisation WordNet: both are
installed offline by ``python -m sources.install_data``, and a missing one raises
:class:`~rules.MissingResourceError` naming that command.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata
from functools import lru_cache
from typing import Callable, Iterable

import pandas as pd

from labeling import Preprocessor, Row

from sources.nltk_data import lemmatize_word, require

__all__ = [
    "clean_text",
    "sentences",
    "words",
    "remove_punctuation",
    "remove_stopwords",
    "stem",
    "lemmatize",
    "STOP_WORDS",
    "text_preprocessor",
    "tokens_preprocessor",
]

_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_WS = re.compile(r"\s+")
_PUNCT = set(string.punctuation) | {"``", "''", "--", "...", "…", "“", "”", "‘", "’"}


def _stop_words() -> frozenset[str]:
    # scikit-learn's English list: a dependency already, so stop words need no nltk corpus download.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


STOP_WORDS = _stop_words()


def clean_text(
    text: str,
    *,
    lowercase: bool = False,
    strip_html: bool = True,
    mask_urls: bool = True,
    mask_emails: bool = True,
    mask_handles: bool = True,
    normalize_unicode: bool = True,
) -> str:
    """Unicode NFKC, HTML tags and entities removed, URLs / e-mails / @handles masked, whitespace squeezed.

    The text LFs read after this preprocessor: URLs, e-mails and handles become placeholders
    (``<URL>``) that rules can match. It differs on purpose from ``sources.kb.normalize_text``, the
    knowledge base's case fold for matching (nothing removed or masked, every character mapped back to
    its input offset), and from ``labeling.dataset.clean.normalize_text``, which cleans the text that
    is exported (markup and invisible characters removed, fractions kept) and masks nothing.

    Examples
    --------
    >>> clean_text("Check <b>this</b> &amp; https://x.io/a @bob  now")
    'Check this & <URL> <USER> now'
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_text takes a string; got {type(text).__name__} {text!r}.")
    if strip_html:
        text = html.unescape(_TAG.sub(" ", text))
    if normalize_unicode:
        text = unicodedata.normalize("NFKC", text)
    if mask_urls:
        text = _URL.sub("<URL>", text)
    if mask_emails:
        text = _EMAIL.sub("<EMAIL>", text)
    if mask_handles:
        text = _HANDLE.sub("<USER>", text)
    text = _WS.sub(" ", text).strip()
    return text.lower() if lowercase else text


def sentences(text: str, *, language: str = "english") -> list[str]:
    """Split into sentences with nltk's Punkt model (punkt_tab).

    Examples
    --------
    >>> sentences("Mr. Smith went to Washington. He arrived at 5 p.m. today.")
    ['Mr. Smith went to Washington.', 'He arrived at 5 p.m. today.']
    """
    require("punkt_tab")
    from nltk.tokenize import sent_tokenize

    return sent_tokenize(text, language=language)


def words(text: str, *, language: str = "english") -> list[str]:
    """Word tokens (nltk's Treebank-style ``word_tokenize``, sentence by sentence).

    Examples
    --------
    >>> words("Don't stop.")
    ['Do', "n't", 'stop', '.']
    """
    require("punkt_tab")
    from nltk.tokenize import word_tokenize

    return word_tokenize(text, language=language)


def remove_punctuation(tokens: Iterable[str]) -> list[str]:
    """Drop tokens made only of punctuation."""
    return [t for t in tokens if not all(ch in _PUNCT or unicodedata.category(ch).startswith("P") for ch in t)]


def remove_stopwords(tokens: Iterable[str], stop_words: Iterable[str] | None = None) -> list[str]:
    """Drop stop words (case-insensitive; default: scikit-learn's English list)."""
    stop = STOP_WORDS if stop_words is None else frozenset(w.lower() for w in stop_words)
    return [t for t in tokens if t.lower() not in stop]


@lru_cache(maxsize=4)
def _stemmer(kind: str):
    from nltk.stem import PorterStemmer, SnowballStemmer

    return PorterStemmer() if kind == "porter" else SnowballStemmer("english")


def stem(tokens: Iterable[str], *, kind: str = "porter") -> list[str]:
    """Porter (or ``kind="snowball"``) stems; needs no data."""
    if kind not in ("porter", "snowball"):
        raise ValueError(f"kind={kind!r} is not one of {{'porter', 'snowball'}}.")
    s = _stemmer(kind)
    return [s.stem(t) for t in tokens]


def lemmatize(tokens: Iterable[str], *, pos: str = "n") -> list[str]:
    """WordNet lemmas (``pos`` one of n, v, a, r).

    Examples
    --------
    >>> lemmatize(["geese", "islands"])
    ['goose', 'island']
    """
    if pos not in ("n", "v", "a", "r", "s"):
        raise ValueError(f"pos={pos!r} is not one of 'n', 'v', 'a', 'r', 's'.")
    return [lemmatize_word(t, pos) for t in tokens]


def _tokens_fn(*, lowercase: bool, punctuation: bool, stopwords: bool, stemming: str | None,
               lemmas: bool) -> Callable[[str], list[str]]:
    if stemming is not None and lemmas:
        raise ValueError("Choose stem= or lemmatize=, not both.")

    def run(text: str) -> list[str]:
        toks = words(text)
        if lowercase:
            toks = [t.lower() for t in toks]
        if not punctuation:
            toks = remove_punctuation(toks)
        if not stopwords:
            toks = remove_stopwords(toks)
        if stemming is not None:
            toks = stem(toks, kind=stemming)
        if lemmas:
            toks = lemmatize(toks)
        return toks

    return run


def _make(name: str, fn: Callable[[str], object], source: str, target: str, vectorized: bool) -> Preprocessor:
    if vectorized:
        def batch(df: pd.DataFrame) -> pd.DataFrame:
            if source not in df.columns:
                raise KeyError(f"Preprocessor {name!r}: column {source!r} not found; columns are {list(df.columns)}.")
            codes, uniques = pd.factorize(df[source], use_na_sentinel=True)
            done = [fn(t) for t in uniques]  # each distinct text once
            out = df.copy()
            out[target] = pd.Series([done[c] if c >= 0 else None for c in codes], index=df.index, dtype=object)
            return out

        return Preprocessor(name, batch, vectorized=True)

    def row(x: Row) -> Row:
        x[target] = fn(x[source])
        return x

    return Preprocessor(name, row, memoize=True, memoize_key=lambda x: x[source])


def text_preprocessor(
    *,
    source: str = "text",
    target: str = "text",
    vectorized: bool = True,
    name: str | None = None,
    **clean_options: bool,
) -> Preprocessor:
    """A preprocessor writing :func:`clean_text` of ``source`` into ``target``.

    Vectorized (default, for batch LFs) it cleans each distinct text of a chunk once; as a row
    preprocessor it is memoised by the text. ``clean_options`` go to :func:`clean_text`.

    Examples
    --------
    >>> pre = text_preprocessor(lowercase=True)
    >>> lf = keyword_lf("link", ["<url>"], 1, pre=[pre])  # doctest: +SKIP
    """
    clean_text("", **clean_options)  # validate the options now
    return _make(name or f"clean_{source}_to_{target}", lambda t: clean_text(t, **clean_options),
                 source, target, vectorized)


def tokens_preprocessor(
    *,
    source: str = "text",
    target: str = "tokens",
    lowercase: bool = True,
    punctuation: bool = False,
    stopwords: bool = True,
    stem: str | None = None,
    lemmatize: bool = False,
    vectorized: bool = True,
    name: str | None = None,
) -> Preprocessor:
    """A preprocessor writing the word tokens of ``source`` into ``target`` (a list of str per row).

    Parameters
    ----------
    source, target : str
        Input text column and output column.
    lowercase : bool
        Lower-case tokens.
    punctuation, stopwords : bool
        Keep punctuation tokens / stop words (default: drop punctuation, keep stop words).
    stem : {"porter", "snowball"}, optional
        Stem tokens.
    lemmatize : bool
        WordNet-lemmatise tokens (nouns).
    vectorized : bool
        A chunk preprocessor (default) or a memoised row preprocessor.
    name : str, optional
        Preprocessor name.
    """
    require("punkt_tab")
    if lemmatize:
        require("wordnet")
    fn = _tokens_fn(lowercase=lowercase, punctuation=punctuation, stopwords=stopwords, stemming=stem,
                    lemmas=lemmatize)
    return _make(name or f"tokens_{source}_to_{target}", fn, source, target, vectorized)
