"""labeling.core.patterns.distinct_rows: the one grouping of identical rows behind dedup, vote patterns and label models."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labeling.core.patterns import distinct_rows


def _check(L: np.ndarray) -> None:
    codes, first, counts = distinct_rows(L)
    rows = [tuple(r) for r in L.tolist()]
    order = list(dict.fromkeys(rows))  # distinct rows by first appearance
    assert [order[c] for c in codes] == rows
    assert first.tolist() == [rows.index(r) for r in order]
    assert counts.tolist() == [rows.count(r) for r in order]


@settings(max_examples=60, deadline=None)
@given(arrays(np.int16, st.tuples(st.integers(0, 40), st.integers(0, 60)), elements=st.integers(-1, 3000)))
def test_distinct_rows_matches_a_plain_python_grouping(L):
    _check(L)


def test_wide_rows_that_are_all_distinct_and_rows_that_repeat():
    rng = np.random.default_rng(1)
    distinct = rng.integers(-1, 1000, size=(500, 300))  # packing overflows many times; all rows differ
    _check(distinct)
    _check(distinct[rng.integers(0, 50, size=400)])
    codes, first, counts = distinct_rows(distinct)
    assert codes.tolist() == first.tolist() == list(range(500)) and counts.tolist() == [1] * 500


def test_sampled_repeat_share_reads_evenly_spaced_rows_of_the_youtube_votes(youtube):
    from labeling.core.patterns import sampled_repeat_share

    L = np.asarray(youtube.train.L)
    exact = 1 - len(distinct_rows(L)[1]) / len(L)
    assert sampled_repeat_share(len(L), lambda pos: len(distinct_rows(L[pos])[1])) == exact > 0.5
    seen = []
    share = sampled_repeat_share(len(L), lambda pos: seen.append(pos) or len(distinct_rows(L[pos])[1]), sample=100)
    assert len(seen[0]) == 100 and seen[0][0] == 0 and seen[0][-1] == len(L) - 1  # spread over the whole table
    assert 0 < share < 1
    assert sampled_repeat_share(len(L), lambda pos: None) is None  # rows that cannot be compared
