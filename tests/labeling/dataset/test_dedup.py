"""Tests of exact and MinHash near-duplicate detection on the WRENCH youtube comments."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from labeling.dataset import (
    drop_exact_duplicates,
    drop_near_duplicates,
    jaccard,
    near_duplicate_groups,
    near_duplicate_pairs,
    shingles,
    text_hash,
)


@pytest.fixture(scope="module")
def comments(youtube):
    df = youtube.train.data.copy()
    df["label"] = youtube.train.y
    return df


def test_text_hash_ignores_case_markup_and_spacing():
    assert text_hash("Nice <b>SONG</b>\ufeff") == text_hash("nice  song")
    assert text_hash("nice song") != text_hash("nice songs")


@pytest.mark.parametrize("unit, k, text, expected", [
    ("char", 3, "abcd", {"abc", "bcd"}),
    ("char", 5, "ab", {"ab"}),
    ("word", 2, "A b C", {"a b", "b c"}),
    ("word", 3, "one two", {"one two"}),
])
def test_shingles(unit, k, text, expected):
    assert shingles(text, k=k, unit=unit) == expected


def test_exact_duplicates_on_youtube(comments):
    res = drop_exact_duplicates(comments)
    assert res.counts == {"exact_duplicate": 270}
    assert len(res.data) + len(res.removed) == len(comments)
    keys = res.data["text"].map(text_hash)
    assert keys.is_unique
    # Every removed row points at a kept row with the same normalised text.
    for rid, row in res.removed.iterrows():
        assert text_hash(row["text"]) == text_hash(res.data.loc[row["duplicate_of"], "text"])


def test_near_duplicate_pairs_match_brute_force(comments):
    texts = drop_exact_duplicates(comments).data["text"].tolist()[:800]
    sets = [shingles(t) for t in texts]
    truth = {(i, j) for i, j in itertools.combinations(range(len(texts)), 2) if jaccard(sets[i], sets[j]) >= 0.6}
    found = near_duplicate_pairs(texts, threshold=0.6)
    pairs = {(i, j) for i, j, _ in found}
    assert pairs <= truth  # confirmed by exact Jaccard: no false positives
    assert len(truth) >= 30
    assert len(pairs) / len(truth) >= 0.9  # LSH recall
    assert all(sim >= 0.6 for _, _, sim in found)


def test_drop_near_duplicates_keeps_first_and_names_it(comments):
    exact = drop_exact_duplicates(comments).data
    res = drop_near_duplicates(exact, threshold=0.8)
    assert res.counts["near_duplicate"] == len(res.removed) > 10
    kept = set(res.data.index)
    for rid, row in res.removed.iterrows():
        assert row["duplicate_of"] in kept
        src = exact.loc[row["duplicate_of"], "text"]
        assert jaccard(shingles(row["text"]), shingles(src)) == pytest.approx(row["similarity"], abs=1e-4)
        assert row["similarity"] >= 0.8
        assert exact.index.get_loc(row["duplicate_of"]) < exact.index.get_loc(rid)


def test_near_duplicate_groups_chain():
    texts = ["check out my channel now", "check out my channel now!", "check out my channel now!!", "nice song"]
    assert near_duplicate_groups(texts, threshold=0.8).tolist() == [0, 0, 0, 3]


def test_seed_changes_nothing_for_clear_duplicates(comments):
    texts = comments["text"].tolist()[:300]
    a = {(i, j) for i, j, _ in near_duplicate_pairs(texts, threshold=0.9, random_state=0)}
    b = {(i, j) for i, j, _ in near_duplicate_pairs(texts, threshold=0.9, random_state=1)}
    assert a == b


@pytest.mark.parametrize("kwargs, match", [
    ({"threshold": 0}, r"threshold=0 must be in \(0, 1\]"),
    ({"threshold": 1.5}, r"threshold=1.5 must be in"),
    ({"unit": "line"}, "unit='line' is not one of"),
])
def test_near_duplicate_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        near_duplicate_pairs(["a b", "a b"], **kwargs)


def test_threshold_one_finds_exact_copies():
    assert [p[:2] for p in near_duplicate_pairs(["same text", "other", "same text"], threshold=1.0)] == [(0, 2)]


def test_missing_text_column():
    with pytest.raises(KeyError, match="drop_exact_duplicates: no text column 'text'"):
        drop_exact_duplicates(pd.DataFrame({"body": ["x"]}))
