import threading

import numpy as np
import pytest

import rules
from labeling import ABSTAIN, LFCache, LFError, apply_lfs, labeling_function, preprocessor
from labeling.core.fingerprint import data_fingerprint, lf_fingerprint

SPAM, HAM = 1, 0


def make_lfs(song_word="song"):
    @labeling_function()
    def kw_check(x):
        return SPAM if "check" in x.text.lower() else ABSTAIN

    @labeling_function()
    def kw_song(x):
        return HAM if song_word in x.text.lower() else ABSTAIN

    return [kw_check, kw_song, rules.keyword_lf("kw_subscribe", ["subscribe"], SPAM), rules.length_lf("short", HAM, max_len=5)]


@pytest.fixture()
def cache(tmp_path):
    return LFCache(tmp_path / "cache")


@pytest.fixture(scope="module")
def data(youtube):
    return youtube.train.data


def test_second_run_reads_every_column(data, cache):
    first = apply_lfs(data, make_lfs(), cache=cache, progress=False)
    assert cache.misses_ == ["kw_check", "kw_song", "kw_subscribe", "short"] and cache.hits_ == []
    again = apply_lfs(data, make_lfs(), cache=cache, progress=False)
    assert cache.hits_ == ["kw_check", "kw_song", "kw_subscribe", "short"] and cache.misses_ == []
    assert again == first == apply_lfs(data, make_lfs(), progress=False)
    assert cache.size_bytes > 0


def test_editing_one_lf_recomputes_only_its_column(data, cache):
    apply_lfs(data, make_lfs(), cache=cache, progress=False)
    edited = make_lfs(song_word="music")  # closure value changed
    L = apply_lfs(data, edited, cache=cache, progress=False)
    assert cache.misses_ == ["kw_song"]
    assert L == apply_lfs(data, edited, progress=False)
    rule_edit = make_lfs()[:2] + [rules.keyword_lf("kw_subscribe", ["subscribe", "sub4sub"], SPAM), make_lfs()[3]]
    apply_lfs(data, rule_edit, cache=cache, progress=False)
    assert cache.misses_ == ["kw_subscribe"]


def test_changed_code_and_changed_resource_invalidate(data, cache):
    def spam_words(x, words):
        return SPAM if any(w in x.text.lower() for w in words) else ABSTAIN

    lf = labeling_function(name="lf_words", resources={"words": ["free", "win"]})(spam_words)
    apply_lfs(data, [lf], cache=cache, progress=False)
    same = labeling_function(name="lf_words", resources={"words": ["free", "win"]})(spam_words)
    apply_lfs(data, [same], cache=cache, progress=False)
    assert cache.hits_ == ["lf_words"]
    lf.resources["words"].append("money")  # resources mutated in place still count
    L = apply_lfs(data, [lf], cache=cache, progress=False)
    assert cache.misses_ == ["lf_words"]
    assert L == apply_lfs(data, [lf], progress=False)
    other_code = labeling_function(name="lf_words", resources={"words": ["free", "win", "money"]})(
        lambda x, words: SPAM if any(w in x.text for w in words) else ABSTAIN
    )
    apply_lfs(data, [other_code], cache=cache, progress=False)
    assert cache.misses_ == ["lf_words"]


def test_preprocessor_change_invalidates_but_moves_and_renames_do_not():
    @preprocessor()
    def lower(x):
        x.text = x.text.lower()
        return x

    @preprocessor()
    def upper(x):
        x.text = x.text.upper()
        return x

    def body(x):
        return SPAM if "free" in x.text else ABSTAIN

    a = labeling_function(name="a", pre=[lower])(body)
    b = labeling_function(name="renamed", pre=[lower])(body)
    c = labeling_function(name="a", pre=[upper])(body)
    assert lf_fingerprint(a) == lf_fingerprint(b) != lf_fingerprint(c)
    # The same code on another line (an LF moved in its file) keeps its fingerprint.
    one = labeling_function(name="x")(lambda x: SPAM if "free" in x.text else ABSTAIN)

    two = labeling_function(name="x")(lambda x: SPAM if "free" in x.text else ABSTAIN)
    three = labeling_function(name="x")(lambda x: SPAM if "FREE" in x.text else ABSTAIN)
    assert lf_fingerprint(one) == lf_fingerprint(two) != lf_fingerprint(three)


def test_changed_data_misses(data, cache):
    apply_lfs(data, make_lfs(), cache=cache, progress=False)
    edited = data.copy()
    edited.iloc[5, edited.columns.get_loc("text")] = "check out my free channel"
    L = apply_lfs(edited, make_lfs(), cache=cache, progress=False)
    assert len(cache.misses_) == 4 and L.values[5, 0] == SPAM
    assert data_fingerprint(data) == data_fingerprint(data.copy())
    assert data_fingerprint(data) != data_fingerprint(data.iloc[::-1])
    assert data_fingerprint(data) != data_fingerprint(data.set_axis(np.arange(len(data))))


def test_failures_are_cached_with_their_rows(data, cache):
    @labeling_function()
    def lf_picky(x):
        if "song" in x.text:
            raise RuntimeError("boom")
        return SPAM

    with pytest.warns(UserWarning, match="lf_picky"):
        first = apply_lfs(data, [lf_picky], cache=cache, fault_tolerant=True, progress=False)
    with pytest.warns(UserWarning, match="lf_picky"):
        again = apply_lfs(data, [lf_picky], cache=cache, fault_tolerant=True, progress=False)
    assert cache.hits_ == ["lf_picky"] and again == first
    assert again.failures == first.failures and len(first.failures) > 10
    with pytest.raises(LFError, match="LF 'lf_picky' failed on row"):
        apply_lfs(data, [lf_picky], cache=cache, progress=False)


def test_unfingerprintable_resource_is_recomputed_with_a_warning(data, cache):
    lf = labeling_function(name="lf_lock", resources={"lock": threading.Lock()})(lambda x, lock: ABSTAIN)
    with pytest.warns(UserWarning, match="'lf_lock'.*cannot be cached"):
        apply_lfs(data.head(20), [lf], cache=cache, progress=False)
    assert cache.misses_ == ["lf_lock"]


def test_clear_and_path_argument(data, tmp_path):
    apply_lfs(data, make_lfs(), cache=tmp_path / "c", progress=False)
    cache = LFCache(tmp_path / "c")
    apply_lfs(data, make_lfs(), cache=cache, progress=False)
    assert len(cache.hits_) == 4
    cache.clear()
    assert cache.size_bytes == 0
    apply_lfs(data, make_lfs(), cache=cache, progress=False)
    assert len(cache.misses_) == 4
    with pytest.raises(TypeError, match="cache= takes an LFCache or a folder path"):
        apply_lfs(data, make_lfs(), cache=3, progress=False)


def test_duplicate_rows_are_grouped_once_and_reused(data, cache):
    doubled = data[["text"]].iloc[np.r_[0:len(data), 0:len(data)]]
    doubled = doubled.set_axis([f"r{i}" for i in range(len(doubled))])
    first = apply_lfs(doubled, make_lfs(), cache=cache, progress=False)
    assert first == apply_lfs(doubled, make_lfs(), progress=False, dedup=False)
    edited = make_lfs(song_word="video")
    L = apply_lfs(doubled, edited, cache=cache, progress=False)
    assert cache.misses_ == ["kw_song"]
    assert L == apply_lfs(doubled, edited, progress=False, dedup=False)
    assert (cache.location / data_fingerprint(doubled) / "rows.npz").exists()
