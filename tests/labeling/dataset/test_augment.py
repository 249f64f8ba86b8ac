"""Tests of EDA-style augmentation (WordNet synonyms, insertion, deletion, swap) on youtube comments."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.dataset import augment, random_delete, random_insert, random_swap, synonym_replace, synonyms


@pytest.fixture(scope="module")
def wordnet():
    from sources.nltk_data import MissingResourceError, require

    try:
        require("wordnet")
    except MissingResourceError:
        pytest.skip("WordNet is not installed; run `python -m sources.install_data`")


@pytest.fixture(scope="module")
def inflection(wordnet):
    pytest.importorskip("lemminflect", reason="pip install 'votewise[augment]'")
    pytest.importorskip("wordfreq", reason="pip install 'votewise[augment]'")


@pytest.fixture(scope="module")
def comments(youtube):
    df = youtube.valid.data.copy()
    df["label"] = youtube.valid.y
    df["confidence"] = np.linspace(0.5, 1.0, len(df))
    return df


words_st = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=6), min_size=0, max_size=20)


@settings(max_examples=100, deadline=None)
@given(words_st, st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_swap_keeps_the_words(words, n, seed):
    out = random_swap(words, n, np.random.default_rng(seed))
    assert Counter(out) == Counter(words)


@settings(max_examples=100, deadline=None)
@given(words_st, st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_delete_keeps_order_and_one_word(words, p, seed):
    out = random_delete(words, p, np.random.default_rng(seed))
    assert len(out) >= min(1, len(words))
    it = iter(words)
    assert all(w in it for w in out)  # a subsequence of the input


def test_random_state_is_a_seed_or_a_generator():
    words = list("abcdefgh")
    for edit, arg in ((random_swap, 3), (random_delete, 0.5)):
        assert edit(words, arg, random_state=7) == edit(words, arg, np.random.default_rng(7))
        shared = np.random.default_rng(1)
        first, second = edit(words, arg, shared), edit(words, arg, shared)
        again = np.random.default_rng(1)
        assert [first, second] == [edit(words, arg, again), edit(words, arg, again)]  # a Generator goes on
        assert len(edit(words, arg, None)) >= 1
        with pytest.raises(TypeError, match="rng"):
            edit(words, arg, rng=7)


def test_synonyms_from_wordnet(wordnet):
    assert "large" in synonyms("big")
    assert "big" not in synonyms("big")
    assert synonyms("xqzzyv") == ()


def test_synonym_replace_and_insert(inflection):
    words = "this song is really great".split()
    rng = np.random.default_rng(0)
    replaced = synonym_replace(words, 1, rng)
    assert len(replaced) == len(words)
    changed = [(a, b) for a, b in zip(words, replaced) if a != b]
    assert len(changed) == 1 and changed[0][1] in synonyms(changed[0][0])
    inserted = random_insert(words, 2, rng)
    assert len(inserted) == len(words) + 2


def test_augment_youtube(comments, inflection):
    out = augment(comments, methods={"synonym": 1, "swap": 1, "delete": 1, "insert": 1}, random_state=3)
    assert set(out["augmentation"]) == {"synonym", "swap", "delete", "insert"}
    assert out.index.is_unique
    assert out["source_id"].isin(comments.index).all()
    # Label and every other column come from the source row; the text differs.
    src = comments.loc[out["source_id"]]
    assert (out["label"].to_numpy() == src["label"].to_numpy()).all()
    assert (out["confidence"].to_numpy() == src["confidence"].to_numpy()).all()
    assert (out["text"].to_numpy() != src["text"].to_numpy()).all()
    assert all(i.startswith(f"{s}~") for i, s in zip(out.index, out["source_id"]))
    assert len(out) > 3 * len(comments)


def test_augment_is_seeded(comments):
    a = augment(comments, methods=["swap", "delete"], random_state=7)
    b = augment(comments, methods=["swap", "delete"], random_state=7)
    c = augment(comments, methods=["swap", "delete"], random_state=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["text"].equals(c["text"])


def test_augment_fraction(comments):
    out = augment(comments, methods=["swap"], fraction=0.25, random_state=0)
    assert 0.1 * len(comments) < out["source_id"].nunique() < 0.4 * len(comments)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"methods": ["shuffle"]}, ValueError, r"Unknown augmentation\(s\) \['shuffle'\]"),
    ({"methods": {"swap": -1}}, ValueError, "count -1 must be an integer >= 0"),
    ({"methods": ["back_translation"]}, ValueError, "no translator=.forward, backward. was given"),
    ({"alpha": 0}, ValueError, r"alpha=0 must be in \(0, 1\]"),
    ({"fraction": 2}, ValueError, r"fraction=2 must be in \[0, 1\]"),
    ({"text_column": "body"}, KeyError, "augment: no text column 'body'"),
])
def test_augment_errors(comments, kwargs, error, match):
    with pytest.raises(error, match=match):
        augment(comments, **kwargs)


def test_synonyms_follow_part_of_speech_and_common_senses(inflection):
    # "song" became "birdcall" and "channel" "duct" (rare noun senses), "love" a noun.
    from sources.nltk_data import MissingResourceError, require

    try:
        require("wordnet")
    except MissingResourceError:
        pytest.skip("WordNet is not installed")
    from labeling.dataset.augment import pos_tags, synonyms

    words = "I love this song , check out my channel".split()
    assert pos_tags(words)[1] == "v" and pos_tags(words)[3] == "n" and pos_tags(words)[8] == "n"
    assert "birdcall" not in synonyms("song", "n", 2) and "duct" not in synonyms("channel", "n", 2)
    assert "birdcall" in synonyms("song")  # all senses, as before, when no part of speech is given
    rng = np.random.default_rng(0)
    seen = {w for _ in range(200) for w in synonym_replace(words, 3, rng)}
    assert not seen & {"birdcall", "duct", "canal", "passion", "sexual love", "erotic love"}
