"""Augmentation that keeps meaning, measured on the hand-written sentences of tests/data/augment/sentences.json:
synonyms keep the part of speech and inflection of the word they replace, and the words an LF voted on survive
every variant."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("lemminflect", reason="pip install 'votewise[augment]'")
pytest.importorskip("wordfreq", reason="pip install 'votewise[augment]'")

from labeling.dataset.augment import (  # noqa: E402
    MIN_ZIPF, augment, inflected_synonyms, penn_tags, penn_tags_batch, protected_words, random_delete,
    random_insert, random_swap, synonym_replace,
)
from rules import keyword_lf, length_lf  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "augment" / "sentences.json"


@pytest.fixture(scope="module")
def wordnet():
    from sources.nltk_data import MissingResourceError, require

    try:
        require("wordnet")
    except MissingResourceError:
        pytest.skip("WordNet is not installed; run `python -m sources.install_data`")


@pytest.fixture(scope="module")
def corpus():
    spec = json.loads(DATA.read_text(encoding="utf-8"))
    assert len(spec["sentences"]) >= 40 and spec["origin"]
    lfs = [keyword_lf(d["name"], d["keywords"], d["label"]) for d in spec["lfs"]]
    df = pd.DataFrame(spec["sentences"])
    df.index = [f"s{i}" for i in range(len(df))]
    return df, lfs


def _judge():
    """The tagger that judges the variants: spaCy when installed (independent of TextBlob), else TextBlob."""
    from labeling.dataset.augment import _spacy_tagger

    return "spacy" if _spacy_tagger() is not None else "textblob"


def _label_words(text, lfs):
    words = text.split()
    keep, _ = protected_words(text, words, lfs)
    return Counter(words[i] for i in keep)


@pytest.mark.slow  # loads WordNet, wordfreq's list (and spaCy for 'auto'): seconds
def test_synonyms_are_inflected_like_the_word_and_never_multi_word_or_rare(wordnet):
    assert "parent" not in inflected_synonyms("parents", "NNS")
    assert all(s.endswith("s") for s in inflected_synonyms("movies", "NNS"))  # films, pictures: still plural
    assert set(inflected_synonyms("won", "VBD")) <= {"acquired", "gained", "succeeded", "triumphed", "advanced"}
    assert "acquire" not in inflected_synonyms("won", "VBD")  # the base form would break the tense
    assert all(" " not in s for w, t in [("movie", "NN"), ("car", "NN"), ("fast", "RB")]
               for s in inflected_synonyms(w, t))
    assert "picture show" not in inflected_synonyms("movie", "NN")
    import wordfreq

    assert all(wordfreq.zipf_frequency(s, "en") >= MIN_ZIPF for s in inflected_synonyms("song", "NN"))
    assert "birdcall" not in inflected_synonyms("song", "NN")
    assert inflected_synonyms("Paris", "NNP") == ()  # proper nouns are never replaced


def test_protected_words_come_from_the_lf_spans(corpus):
    _, lfs = corpus
    text = "Please subscribe to my channel, I upload funny videos"
    words = text.split()
    keep, span_of = protected_words(text, words, lfs)
    assert [words[i] for i in sorted(keep)] == ["subscribe", "my", "channel,"]
    assert span_of[3] == span_of[4] is not None  # "my channel" is one span: nothing goes between
    # A span over the whole text (a length LF) judges the text, not a word: it protects nothing.
    assert protected_words(text, words, [length_lf("long", 0, min_len=3)])[0] == set()


def test_no_operation_touches_a_protected_word():
    words = "a b c d e f g h".split()
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert {"b", "e"} <= set(random_delete(words, 0.9, rng, protected={1, 4}))
        swapped = random_swap(words, 3, rng, protected={1, 4})
        assert swapped[1] == "b" and swapped[4] == "e"


@pytest.mark.slow  # loads WordNet, wordfreq's list (and spaCy for 'auto'): seconds
def test_insert_never_splits_a_matched_phrase(corpus, wordnet):
    _, lfs = corpus
    text = "Check out my channel for the best gaming tips and honest reviews."
    words = text.split()
    keep, span_of = protected_words(text, words, lfs)
    tags = penn_tags(words, tagger="textblob")
    rng = np.random.default_rng(1)
    for _ in range(30):
        out = " ".join(random_insert(words, 3, rng, protected=keep, span_of=span_of, tags=tags, tagger="textblob"))
        assert "Check out" in out and "my channel" in out  # two keyword spans, each kept whole


@pytest.mark.slow  # loads WordNet, wordfreq's list (and spaCy for 'auto'): seconds
def test_label_bearing_words_survive_every_variant(corpus, wordnet):
    df, lfs = corpus
    out = augment(df, methods={"synonym": 3, "delete": 2, "swap": 2, "insert": 2}, lfs=lfs, alpha=0.3,
                  random_state=0)
    assert set(out["augmentation"]) == {"synonym", "delete", "swap", "insert"}
    kept = 0
    for text, src in zip(out["text"], out["source_id"]):
        need = _label_words(df.loc[src, "text"], lfs)
        have = Counter(text.split())
        kept += all(have[w] >= n for w, n in need.items())
    assert kept == len(out)  # 100% of the variants
    # ... and so every LF that voted on a source votes the same on each of its variants.
    for lf in lfs:
        src_votes = np.asarray(lf(df.loc[out["source_id"]].reset_index(drop=True)))
        new_votes = np.asarray(lf(out[["text"]].reset_index(drop=True)))
        voted = src_votes != -1
        assert (new_votes[voted] == src_votes[voted]).all(), lf.name


def test_without_lfs_label_bearing_words_do_get_replaced(corpus, wordnet):
    # The protection above is what keeps them: without the LFs, deletion drops some.
    df, lfs = corpus
    out = augment(df, methods={"delete": 2}, alpha=0.3, random_state=0)
    lost = sum(not all(Counter(t.split())[w] >= n for w, n in _label_words(df.loc[s, "text"], lfs).items())
               for t, s in zip(out["text"], out["source_id"]))
    assert lost > 0


def pos_kept(df, out, judge):
    """(replacements, kept): a replaced word keeps its Penn tag when the judge tags both sentences."""
    syn = out[out["augmentation"] == "synonym"]
    sources = [df.loc[s, "text"].split() for s in syn["source_id"]]
    variants = [t.split() for t in syn["text"]]
    src_tags = penn_tags_batch(sources, tagger=judge)
    new_tags = penn_tags_batch(variants, tagger=judge)
    total = kept = 0
    for a, b, ta, tb in zip(sources, variants, src_tags, new_tags):
        assert len(a) == len(b)
        for i in range(len(a)):
            if a[i] != b[i]:
                total += 1
                kept += ta[i] == tb[i]
    return total, kept


@pytest.mark.slow  # loads WordNet, wordfreq's list (and spaCy for 'auto'): seconds
@pytest.mark.parametrize("tagger", ["textblob", "auto"])
def test_synonym_replacement_keeps_the_part_of_speech(corpus, wordnet, tagger):
    df, lfs = corpus
    out = augment(df, methods={"synonym": 3}, lfs=lfs, alpha=0.2, tagger=tagger, random_state=0)
    total, kept = pos_kept(df, out, _judge())
    assert total >= 80  # enough replacements to measure
    assert kept / total >= 0.95, (kept, total)


def test_augment_checks_the_tagger_name(corpus):
    df, _ = corpus
    with pytest.raises(ValueError, match=r"tagger='nltk' is not one of \('auto', 'spacy', 'textblob'\)"):
        augment(df, methods=["swap"], tagger="nltk")


def test_penn_tags_separate_punctuation_from_the_word():
    assert penn_tags(["My", "parents", "won."], tagger="textblob") == ["PRP$", "NNS", "VBD"]
    assert synonym_replace(["(great!)"], 1, np.random.default_rng(0), tags=["JJ"])[0][:1] == "("


def test_a_missing_inflection_library_names_the_extra(corpus, monkeypatch):
    import sys

    df, _ = corpus
    monkeypatch.setitem(sys.modules, "lemminflect", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'votewise\[augment\]'"):
        augment(df, methods=["synonym"], tagger="textblob")
    assert len(augment(df, methods=["swap"], random_state=0)) > 0  # swap and delete need neither


def test_a_variant_whose_votes_change_is_dropped(corpus):
    # A length LF's span is the whole text, so it protects no word; deletions that make the text short
    # enough for it to fire would change the row's votes, and those variants are dropped.
    df, lfs = corpus
    short = length_lf("short", 0, max_len=9)
    both = augment(df, methods={"delete": 3}, alpha=0.4, random_state=0)
    kept = augment(df, methods={"delete": 3}, alpha=0.4, lfs=[*lfs, short], random_state=0)
    fires = lambda texts: np.asarray(short(pd.DataFrame({"text": list(texts)})))  # noqa: E731
    src_votes = fires(df.loc[both["source_id"], "text"])
    assert ((fires(both["text"]) != src_votes)).any()  # without the LFs, some deletions flip it
    assert (fires(kept["text"]) == fires(df.loc[kept["source_id"], "text"])).all()
    assert 0 < len(kept) < len(both)
