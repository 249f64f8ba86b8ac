"""Label-preserving text augmentation: synonym replacement, random insertion, deletion and swap, back-translation.

The four word-level operations are those of EDA (Wei and Zou, 2019); synonyms come from WordNet
through nltk, installed offline with ``python -m sources.install_data``. Every augmented row keeps the
label and other columns of its source row and names it in ``source_id``, so splits can keep them
together and exports can trace them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from labeling.dataset.text_metrics import sentence_bleu_scores
from sources.nltk_data import require

from ._progress import progress_bar
from ._result import check_text_column
from .translate import as_translator

__all__ = [
    "AUGMENTATIONS",
    "synonyms",
    "pos_tags",
    "synonym_replace",
    "random_insert",
    "random_delete",
    "random_swap",
    "augment",
]

AUGMENTATIONS = ("synonym", "insert", "delete", "swap", "back_translation")
# Function words carry no content to paraphrase; replacing them mostly breaks grammar.
_STOPWORDS = frozenset(
    "a an the and or but if then of at by for with about to from in out on off over under again i me my we our "
    "you your he him his she her it its they them their what which who whom this that these those am is are was "
    "were be been being have has had do does did will would shall should can could not no nor so than too very "
    "just s t don isn".split()
)
_WORD = re.compile(r"^[A-Za-z][A-Za-z'-]*$")


# Penn Treebank tag prefix -> WordNet part of speech; other tags (pronouns, numbers, ...) are not replaced.
_WORDNET_POS = {"NN": "n", "VB": "v", "JJ": "a", "RB": "r"}


def pos_tags(words: Sequence[str]) -> list[str | None]:
    """WordNet part of speech (``"n"``, ``"v"``, ``"a"``, ``"r"``) of each word, or None, from its context.

    Uses the lexicon-and-rules tagger that ships inside TextBlob (no download).

    Examples
    --------
    >>> pos_tags(["check", "my", "channel"])[2]
    'n'
    """
    from textblob.en import tag

    tagged = tag(" ".join(words), tokenize=False)
    if len(tagged) != len(words):  # a word with inner spaces would shift the tags: tag nothing
        return [None] * len(words)
    tags = [t for _, t in tagged]
    for i in range(1, len(tags)):
        # The lexicon tagger gives a word its most common tag; after a subject pronoun, a modal or "to"
        # ("I love", "will check", "to subscribe") the word is a verb.
        if tags[i] in ("NN", "NNS") and tags[i - 1] in ("PRP", "MD", "TO"):
            tags[i] = "VB"
    return [_WORDNET_POS.get(t[:2]) for t in tags]


@lru_cache(maxsize=50_000)
def synonyms(word: str, pos: str | None = None, senses: int | None = None) -> tuple[str, ...]:
    """WordNet synonyms of a word (lower-cased, without the word itself), in WordNet's order.

    Parameters
    ----------
    word : str
    pos : {"n", "v", "a", "r"}, optional
        The word's part of speech in its sentence: only senses of that part of speech are used (adjectives
        include WordNet's satellite adjectives).
    senses : int, optional
        Use only the first (most frequent) senses: "song" as a noun gives "vocal", not its rare sense
        "birdcall". Default: all senses.

    Raises ``rules.MissingResourceError`` with the install command when WordNet is not installed.

    Examples
    --------
    >>> "large" in synonyms("big")  # doctest: +SKIP
    True
    """
    require("wordnet")
    from nltk.corpus import wordnet

    word = word.lower()
    seen: dict[str, None] = {}
    found = wordnet.synsets(word, pos=pos)
    if pos == "a":
        found += [s for s in wordnet.synsets(word, pos="s") if s not in found]
    for synset in found[:senses]:
        for lemma in synset.lemmas():
            name = lemma.name().replace("_", " ").lower()
            if name != word and _WORD.match(name.replace(" ", "")):
                seen.setdefault(name, None)
    return tuple(seen)


def _candidates(words: Sequence[str]) -> list[int]:
    return [i for i, w in enumerate(words) if _WORD.match(w) and w.lower() not in _STOPWORDS]


# The most frequent senses of a word's part of speech; rarer ones ("channel" as a duct) change the meaning.
_SENSES = 2


def synonym_replace(words: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """Replace up to ``n`` content words by a random WordNet synonym of the same part of speech and sense."""
    words = list(words)
    tags = pos_tags(words)
    idx = [i for i in _candidates(words) if tags[i] is not None]
    rng.shuffle(idx)
    done = 0
    for i in idx:
        options = synonyms(words[i], tags[i], _SENSES)
        if options:
            words[i] = options[rng.integers(len(options))]
            done += 1
            if done >= n:
                break
    return words


def random_insert(words: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """Insert, ``n`` times, a synonym of a random content word at a random position."""
    words = list(words)
    for _ in range(n):
        tags = pos_tags(words)
        idx = [i for i in _candidates(words) if tags[i] is not None]
        rng.shuffle(idx)
        for i in idx[:10]:
            options = synonyms(words[i], tags[i], _SENSES)
            if options:
                words.insert(int(rng.integers(len(words) + 1)), options[rng.integers(len(options))])
                break
    return words


def random_delete(words: Sequence[str], p: float, rng: np.random.Generator) -> list[str]:
    """Delete each word with probability ``p``, keeping at least one word."""
    words = list(words)
    if len(words) <= 1:
        return words
    keep = rng.random(len(words)) >= p
    if not keep.any():
        keep[rng.integers(len(words))] = True
    return [w for w, k in zip(words, keep) if k]


def random_swap(words: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """Swap two random words, ``n`` times."""
    words = list(words)
    if len(words) < 2:
        return words
    for _ in range(n):
        i, j = rng.choice(len(words), size=2, replace=False)
        words[i], words[j] = words[j], words[i]
    return words


def _check_methods(methods: Sequence[str] | Mapping[str, int]) -> dict[str, int]:
    if isinstance(methods, str):
        methods = [methods]
    counts = dict(methods) if isinstance(methods, Mapping) else {m: 1 for m in methods}
    bad = [m for m in counts if m not in AUGMENTATIONS]
    if bad:
        raise ValueError(f"Unknown augmentation(s) {bad}; expected some of {list(AUGMENTATIONS)}.")
    for m, c in counts.items():
        if not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"Augmentation {m!r}: count {c!r} must be an integer >= 0.")
    return {m: int(c) for m, c in counts.items() if c > 0}


def augment(
    df: pd.DataFrame,
    *,
    methods: Sequence[str] | Mapping[str, int] = ("synonym", "insert", "delete", "swap"),
    text_column: str = "text",
    alpha: float = 0.1,
    fraction: float = 1.0,
    translator: tuple[Any, Any] | None = None,
    min_bleu: float | None = None,
    random_state: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Make augmented copies of rows, keeping every column except the text.

    Parameters
    ----------
    df : DataFrame
        Source rows indexed by id (the training split only: augmenting evaluation data leaks).
    methods : sequence or mapping of str
        Some of :data:`AUGMENTATIONS`; a mapping gives the number of variants per row and method.
    text_column : str
        The text column.
    alpha : float
        Share of a text's words changed by one operation (at least one word).
    fraction : float
        Share of rows augmented, drawn at random.
    translator : (forward, backward), optional
        Translators for ``"back_translation"`` (callables or MarianMT model folders); see
        :func:`labeling.dataset.back_translate`.
    min_bleu : float, optional
        Drop back-translations whose sentence BLEU (0-100) against their source is below this: they
        drifted too far to keep the label. Back-translated rows get a ``bleu`` column either way.
    random_state : int
        Seed: the same inputs give the same augmented rows.
    progress : bool
        Show a progress bar.

    Returns
    -------
    DataFrame
        Only the new rows, indexed ``"{source id}~{method}{k}"``, with the source's columns, the
        new text, ``source_id`` and ``augmentation``. Variants equal to their source text (or to an
        earlier variant) are skipped.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["please check out my new channel"], "label": [1]}, index=["c1"])
    >>> out = augment(df, methods={"swap": 2}, random_state=0)
    >>> out[["source_id", "augmentation", "label"]].values.tolist()
    [['c1', 'swap', 1], ['c1', 'swap', 1]]
    """
    check_text_column(df, text_column, "augment")
    counts = _check_methods(methods)
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha={alpha!r} must be in (0, 1].")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction!r} must be in [0, 1].")
    if "back_translation" in counts and translator is None:
        raise ValueError("methods include 'back_translation' but no translator=(forward, backward) was given.")
    rng = np.random.default_rng(random_state)
    chosen = np.flatnonzero(rng.random(len(df)) < fraction) if fraction < 1.0 else np.arange(len(df))
    sources = df.iloc[chosen]
    texts = sources[text_column].astype(str).tolist()

    if {"synonym", "insert"} & set(counts) and len(texts):
        synonyms("good")  # loads WordNet (seconds) before the progress bar starts
    variants: list[tuple[int, str, str]] = []  # (position in sources, method, text)
    ops = {"synonym": synonym_replace, "insert": random_insert, "swap": random_swap}
    for pos, text in enumerate(progress_bar(texts, desc="augment", enabled=progress)):
        words = text.split()
        n_change = max(1, int(round(alpha * len(words))))
        for method, n_variants in counts.items():
            if method == "back_translation":
                continue
            for _ in range(n_variants):
                if method == "delete":
                    new = random_delete(words, max(alpha, 1.0 / max(len(words), 1)), rng)
                else:
                    new = ops[method](words, n_change, rng)
                variants.append((pos, method, " ".join(new)))
    if "back_translation" in counts:
        forward, backward = translator  # type: ignore[misc]
        fwd, bwd = as_translator(forward), as_translator(backward)
        # Greedy decoding is deterministic, so more than one variant per row would repeat itself.
        back = bwd(fwd(texts))
        scores = sentence_bleu_scores(back, texts) if texts else np.zeros(0)
        bleu_of = {(pos, t.strip()): float(sc) for pos, (t, sc) in enumerate(zip(back, scores))}
        variants.extend(
            (pos, "back_translation", t) for pos, (t, sc) in enumerate(zip(back, scores))
            if min_bleu is None or sc >= min_bleu
        )

    seen: set[tuple[int, str]] = set()
    rows, index, src_ids, methods_col, new_texts = [], [], [], [], []
    per_method: dict[tuple[int, str], int] = {}
    for pos, method, text in sorted(variants, key=lambda v: v[0]):
        text = text.strip()
        key = (pos, text.lower())
        if not text or text == texts[pos] or key in seen:
            continue
        seen.add(key)
        k = per_method.get((pos, method), 0)
        per_method[(pos, method)] = k + 1
        rows.append(pos)
        index.append(f"{sources.index[pos]}~{method}{k}")
        src_ids.append(sources.index[pos])
        methods_col.append(method)
        new_texts.append(text)
    out = sources.iloc[rows].copy()
    out.index = pd.Index(index, name=df.index.name)
    out[text_column] = new_texts
    out["source_id"] = src_ids
    out["augmentation"] = methods_col
    if "back_translation" in counts:
        out["bleu"] = [
            bleu_of.get((pos, t)) if m == "back_translation" else np.nan
            for pos, m, t in zip(rows, methods_col, new_texts)
        ]
    return out
