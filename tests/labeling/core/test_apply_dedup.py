"""Dedup before apply: identical rows are labelled once, yet ids and failures stay per row."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling import ABSTAIN, LFError, apply_lfs, distinct_rows, labeling_function

SPAM = 1


@pytest.fixture(scope="module")
def doubled(youtube):
    # Every text twice, the copies shuffled in, each row with its own id.
    data = youtube.train.data[["text"]]
    both = pd.concat([data, data.set_axis([f"{i}-copy" for i in data.index])])
    return both.sample(frac=1.0, random_state=0)


def counting_lf():
    calls = []

    @labeling_function()
    def lf_check(x):
        calls.append(1)
        return SPAM if "check" in x.text.lower() else ABSTAIN

    return lf_check, calls


def test_each_distinct_row_is_labelled_once(doubled):
    lf, calls = counting_lf()
    L = apply_lfs(doubled, [lf], progress=False)
    assert len(calls) == doubled.text.nunique() < len(doubled) / 1.9
    lf2, calls2 = counting_lf()
    assert L == apply_lfs(doubled, [lf2], progress=False, dedup=False)
    assert len(calls2) == len(doubled)
    assert L.index.equals(doubled.index)


def test_failures_name_every_duplicate_row(doubled):
    @labeling_function()
    def lf_picky(x):
        if "song" in x.text:
            raise RuntimeError("boom")
        return SPAM

    with pytest.warns(UserWarning, match="lf_picky"):
        L = apply_lfs(doubled, [lf_picky], progress=False, fault_tolerant=True, n_jobs=2)
    song = np.flatnonzero(doubled.text.str.contains("song").to_numpy())
    assert [f.position for f in L.failures] == song.tolist()
    assert [f.row_id for f in L.failures] == doubled.index[song].tolist()
    first = song[0]
    with pytest.raises(LFError, match=rf"failed on row {first} \(id '{doubled.index[first]}'\)"):
        apply_lfs(doubled, [lf_picky], progress=False)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.integers(0, 2)), min_size=1, max_size=30))
def test_distinct_rows_groups_exactly_equal_table_rows(rows):
    df = pd.DataFrame(rows, columns=["text", "n"], dtype=object)
    codes, first, counts = distinct_rows(df)
    keys = [tuple(r) for r in df.itertuples(index=False)]
    assert len(first) == len(set(keys))
    for i, key in enumerate(keys):
        assert keys[first[codes[i]]] == key
        assert first[codes[i]] == keys.index(key)
    assert counts.tolist() == [keys.count(keys[f]) for f in first]


def test_unhashable_columns_skip_dedup():
    df = pd.DataFrame({"tokens": [["a"], ["a"], ["b"]]})
    assert distinct_rows(df) is None
    lf = labeling_function(name="lf_a")(lambda x: SPAM if "a" in x.tokens else ABSTAIN)
    assert apply_lfs(df, [lf], progress=False).values.ravel().tolist() == [SPAM, SPAM, ABSTAIN]


def rows_seen_lf():
    seen = []

    @labeling_function(vectorized=True)
    def lf_song(df):
        seen.append(len(df))
        return np.where(df.text.str.contains("song"), 0, ABSTAIN)

    return lf_song, seen


@pytest.mark.parametrize("distinct, expect_dedup", [(True, False), (False, True)])
def test_batch_lfs_group_rows_only_when_a_sample_shows_duplicates(youtube, distinct, expect_dedup):
    texts = youtube.train.data.text.to_numpy()
    drawn = np.resize(texts, 100_000)
    data = pd.DataFrame({"text": [f"{i} {t}" for i, t in enumerate(drawn)] if distinct else drawn})
    lf, seen = rows_seen_lf()
    L = apply_lfs(data, [lf], progress=False)
    assert (sum(seen) < len(data)) == expect_dedup
    assert np.array_equal(L.values[:, 0], np.where(data.text.str.contains("song"), 0, ABSTAIN))
