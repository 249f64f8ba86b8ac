import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rules
from labeling import (
    ABSTAIN, LFError, PatternCounts, apply_lfs, apply_lfs_to_file, fit_from_patterns, iter_chunks,
    labeling_function, read_votes, vote_patterns,
)
from models import MajorityVote
from tests.conftest import pattern_table

SPAM, HAM = 1, 0


def lfs():
    @labeling_function()
    def kw_my(x):
        return SPAM if "my" in x.text.lower().split() else ABSTAIN

    @labeling_function()
    def re_check_out(x):
        return SPAM if re.search(r"check.*out", x.text, flags=re.I) else ABSTAIN

    return [kw_my, re_check_out, rules.keyword_lf("kw_song", "song", HAM), rules.length_lf("short", HAM, max_len=4)]


@pytest.fixture(scope="module")
def frame(youtube):
    return youtube.train.data[["text"]].rename_axis("id").reset_index()


@pytest.fixture(scope="module")
def files(frame, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    frame.to_csv(folder / "rows.csv", index=False)
    frame.to_json(folder / "rows.jsonl", orient="records", lines=True)
    frame.to_parquet(folder / "rows.parquet", row_group_size=300)
    return folder


@pytest.fixture(scope="module")
def expected(frame):
    return apply_lfs(frame.set_index("id", drop=False), lfs(), progress=False)


@pytest.mark.parametrize("name", ["rows.csv", "rows.jsonl", "rows.parquet"])
def test_streamed_votes_equal_in_memory_apply(files, tmp_path, expected, name):
    result = apply_lfs_to_file(files / name, lfs(), tmp_path / "L.npy", chunk_size=128, id_column="id", progress=False)
    assert result.n_rows == len(expected)
    L = read_votes(tmp_path / "L.npy")
    assert np.array_equal(L.values, expected.values)
    assert isinstance(np.load(tmp_path / "L.npy", mmap_mode="r"), np.memmap)
    assert L.lf_names == expected.lf_names
    assert [str(i) for i in L.index] == [str(i) for i in expected.index]
    exact = vote_patterns(expected)
    assert pattern_table(result.patterns.patterns, result.patterns.counts) == pattern_table(exact.patterns, exact.counts)


def test_positions_count_from_the_start_of_the_file(files, tmp_path, frame):
    @labeling_function()
    def lf_picky(x):
        if "song" in x.text:
            raise RuntimeError("boom")
        return SPAM

    song = np.flatnonzero(frame.text.str.contains("song").to_numpy())
    with pytest.warns(UserWarning, match=f"{len(song)} LF call"):
        result = apply_lfs_to_file(
            files / "rows.csv", [lf_picky], tmp_path / "L.npy", chunk_size=100, fault_tolerant=True,
            max_failures=5, progress=False,
        )
    assert result.n_failures == len(song)
    assert [f.position for f in result.failures] == song[:5].tolist()
    assert [f.row_id for f in result.failures] == song[:5].tolist()  # no id column: row number
    assert (result.votes()[song, 0] == ABSTAIN).all()
    with pytest.raises(LFError, match=rf"'lf_picky' failed on row {song[0]} \(id {song[0]}\)"):
        apply_lfs_to_file(files / "rows.csv", [lf_picky], tmp_path / "M.npy", chunk_size=100, progress=False)
    assert not (tmp_path / "M.npy").exists()  # no half-written matrix is left behind


def test_error_in_a_later_chunk_names_the_file_row(files, tmp_path, frame):
    counts = frame.text.value_counts()
    late = next(i for i in range(350, len(frame)) if counts[frame.text[i]] == 1)
    target = frame.text[late]
    lf = labeling_function(name="lf_late")(lambda x: 1 // 0 if x.text == target else ABSTAIN)
    with pytest.raises(LFError, match=rf"'lf_late' failed on row {late} \(id '{frame.id[late]}'\): ZeroDivisionError"):
        apply_lfs_to_file(files / "rows.parquet", [lf], tmp_path / "M.npy", chunk_size=100, id_column="id", progress=False)


def test_iter_chunks_and_bad_arguments(files, tmp_path):
    sizes = [len(c) for c in iter_chunks(files / "rows.jsonl", chunk_size=500)]
    assert sizes[:-1] == [500] * (len(sizes) - 1) and sum(sizes) > 1500
    (tmp_path / "rows.txt").touch()
    with pytest.raises(ValueError, match="Cannot tell the format of 'rows.txt'"):
        next(iter_chunks(tmp_path / "rows.txt", chunk_size=5))
    with pytest.raises(ValueError, match="ending in .npy"):
        apply_lfs_to_file(files / "rows.csv", lfs(), tmp_path / "L.npz")
    with pytest.raises(KeyError, match="no id column 'uid'"):
        apply_lfs_to_file(files / "rows.csv", lfs(), tmp_path / "L.npy", id_column="uid", progress=False)


def test_majority_vote_from_patterns_equals_fit_on_rows(expected):
    vp = vote_patterns(expected)
    patterns, counts = vp.patterns, vp.counts
    assert counts.sum() == len(expected) and len(patterns) < len(expected) / 10
    from_counts = fit_from_patterns(MajorityVote(cardinality=2), patterns, counts)
    full = MajorityVote(cardinality=2).fit(expected)
    assert np.allclose(from_counts.predict_proba(expected), full.predict_proba(expected))
    with pytest.raises(ValueError, match="one non-negative integer per pattern"):
        fit_from_patterns(MajorityVote(), patterns, counts[:-1])


def test_fit_from_patterns_prefers_weighted_fit():
    seen = {}

    class Weighted(MajorityVote):
        def fit(self, L, y=None, *, sample_weight=None):
            seen["weight"] = sample_weight
            return super().fit(L)

    fit_from_patterns(Weighted(), [[0, 1], [1, 1]], [3, 4])
    assert seen["weight"].tolist() == [3, 4]


@settings(max_examples=40, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(1, 60), st.integers(1, 4)), elements=st.integers(-1, 2)), st.data())
def test_patterns_merged_over_any_split_equal_one_pass(L, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(L)), max_size=4)))
    parts = [PatternCounts().add(p) for p in np.split(L, cuts) if len(p)]
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(p)
    exact = vote_patterns(L)
    assert pattern_table(merged.patterns, merged.counts) == pattern_table(exact.patterns, exact.counts)
    assert merged.n_rows == len(L)
    # Numeric order, first LF first.
    assert [tuple(p) for p in merged.patterns] == sorted(tuple(p) for p in merged.patterns)
    expanded = np.repeat(merged.patterns, merged.counts, axis=0)
    assert sorted(map(tuple, expanded)) == sorted(map(tuple, L))


def test_parquet_memory_does_not_grow_with_the_file(tmp_path, frame):
    pa = pytest.importorskip("pyarrow")
    texts = np.resize(frame.text.to_numpy(), 100_000)
    big = pd.DataFrame({"text": [f"{i} {t}" for i, t in enumerate(texts)]})  # distinct: ~10 MB of text
    big.to_parquet(tmp_path / "big.parquet", row_group_size=5_000, compression="none")
    seen = []

    @labeling_function(vectorized=True)
    def lf_memory(df):
        seen.append(pa.total_allocated_bytes())
        return np.full(len(df), ABSTAIN)

    apply_lfs_to_file(tmp_path / "big.parquet", [lf_memory], tmp_path / "L.npy", chunk_size=2_000, progress=False)
    assert len(seen) > 40
    assert max(seen[10:]) - seen[10] < 2 * 2**20  # Arrow memory stays at about one chunk


@pytest.mark.parametrize("n_lfs", [3, 70])  # 70 LFs do not fit one int64 per row: the byte-string path
def test_pattern_counts_match_a_plain_count(n_lfs):
    from collections import Counter

    rng = np.random.default_rng(0)
    L = np.where(rng.random((500, n_lfs)) < 0.9, ABSTAIN, rng.integers(0, 2, (500, n_lfs))).astype(np.int8)
    L[::7] = L[3]  # some repeated rows
    counts = PatternCounts().add(L[:200]).add(L[200:])
    expected = Counter(map(tuple, L.tolist()))
    assert dict(zip(map(tuple, counts.patterns.tolist()), counts.counts.tolist())) == expected


def test_weighted_rows_count_as_their_repeats():
    L = np.array([[0, -1], [1, 1], [0, -1]])
    weighted = PatternCounts().add(L, counts=[2, 3, 4]).add([[1, 1]])
    plain = PatternCounts().add(np.repeat(L, [2, 3, 4], axis=0)).add([[1, 1]])
    assert np.array_equal(weighted.patterns, plain.patterns) and weighted.counts.tolist() == plain.counts.tolist() == [6, 4]
    with pytest.raises(ValueError, match=r"counts must hold one non-negative integer per row \(3\)"):
        PatternCounts().add(L, counts=[1, -1, 2])
