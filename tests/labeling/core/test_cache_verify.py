"""The cache verifies what it returns: state no fingerprint sees is caught on a sample of rows.

Each case edits something an LF reads that its static fingerprint does not cover (or may not), and
checks that the cached run still returns the votes of a fresh run, on the bundled YouTube comments.
"""

from __future__ import annotations

import logging
import os
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from labeling import LFCache, LFError, apply_lfs, labeling_function
from labeling.core.cache import StaleCacheWarning
from labeling.core.fingerprint import data_fingerprint
from labeling.core.stream import apply_lfs_to_file, read_votes


@pytest.fixture(autouse=True)
def _restore_helpers():
    saved = HELPERS[:]
    yield
    HELPERS[:] = saved


@pytest.fixture(scope="module")
def comments(youtube):
    return youtube["train"].data[["text"]]


def _hit(text: str, word: str) -> int:
    return 1 if word in text.lower() else -1


NESTED = {"spam": {"terms": {"words": ["check"]}}}
HELPERS = [lambda text: _hit(text, "check")]
CFG = types.SimpleNamespace(WORDS=["check"])
DEEP = {"word": "check"}


class Settings:
    WORD = "check"


class Matcher:
    def hit(self, text):
        return _hit(text, "check")


MATCHER = Matcher()


def _level4(text):
    return _hit(text, DEEP["word"])


def _level3(text):
    return _level4(text)


def _level2(text):
    return _level3(text)


def _level1(text):
    return _level2(text)


@labeling_function()
def lf_nested(x):
    return 1 if any(w in x.text.lower() for w in NESTED["spam"]["terms"]["words"]) else -1


@labeling_function()
def lf_env(x):
    return _hit(x.text, os.environ.get("VOTEWISE_TEST_WORD", "check"))


@labeling_function()
def lf_class_attr(x):
    return _hit(x.text, Settings.WORD)


@labeling_function()
def lf_method(x):
    return MATCHER.hit(x.text)


@labeling_function()
def lf_helper_list(x):
    return HELPERS[0](x.text)


@labeling_function()
def lf_getattr(x):
    return 1 if any(w in x.text.lower() for w in getattr(CFG, "WORDS")) else -1


@labeling_function()
def lf_deep(x):
    return _level1(x.text)


def _edit_nested(mp):
    mp.setitem(NESTED["spam"]["terms"], "words", ["subscribe"])


def _edit_env(mp):
    mp.setenv("VOTEWISE_TEST_WORD", "subscribe")


def _edit_class_attr(mp):
    mp.setattr(Settings, "WORD", "subscribe")


def _edit_method(mp):
    mp.setattr(Matcher, "hit", lambda self, text: _hit(text, "subscribe"))


def _edit_helper_list(mp):
    HELPERS[0] = lambda text: _hit(text, "subscribe")  # in place: the global is the same list (restored below)


def _edit_getattr(mp):
    mp.setattr(CFG, "WORDS", ["subscribe"])


def _edit_deep(mp):
    mp.setitem(DEEP, "word", "subscribe")


CASES = [
    (lf_nested, _edit_nested), (lf_env, _edit_env), (lf_class_attr, _edit_class_attr), (lf_method, _edit_method),
    (lf_helper_list, _edit_helper_list), (lf_getattr, _edit_getattr), (lf_deep, _edit_deep),
]


@pytest.mark.parametrize("lf, edit", CASES, ids=[lf.name for lf, _ in CASES])
def test_an_edit_the_fingerprint_may_miss_never_returns_old_votes(lf, edit, comments, tmp_path, monkeypatch):
    cache = LFCache(tmp_path / "cache", random_state=0)
    before = apply_lfs(comments, [lf], cache=cache, progress=False)
    edit(monkeypatch)
    fresh = apply_lfs(comments, [lf], progress=False)
    assert (fresh.values != before.values).sum() > 50  # the edit changes many votes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = apply_lfs(comments, [lf], cache=cache, progress=False)
    assert again == fresh
    # Either the fingerprint saw the edit (a miss) or the sample did (a stale column, recomputed and said so).
    assert cache.misses_ == [lf.name] and cache.hits_ == []
    if cache.stale_:
        assert cache.stale_ == [lf.name]
        assert any(issubclass(w.category, StaleCacheWarning) and repr(lf.name) in str(w.message) for w in caught)
    # The recomputed column is stored again: the next run hits and verifies clean.
    third = apply_lfs(comments, [lf], cache=cache, progress=False)
    assert third == fresh and cache.hits_ == [lf.name] and cache.stale_ == []


def test_an_unchanged_lf_hits_and_the_check_costs_the_documented_sample(comments, tmp_path):
    cache = LFCache(tmp_path, random_state=1)
    first = apply_lfs(comments, [lf_nested, lf_env], cache=cache, progress=False)
    assert cache.verified_rows_ == 0  # nothing cached yet: nothing to check
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleCacheWarning)
        second = apply_lfs(comments, [lf_nested, lf_env], cache=cache, progress=False)
    assert second == first and cache.hits_ == ["lf_nested", "lf_env"] and cache.stale_ == []
    assert cache.verified_rows_ == 200  # 1% of 1,686 rows is below the floor of 200


def test_the_check_is_what_catches_it(comments, tmp_path, monkeypatch):
    cache = LFCache(tmp_path, verify=0)
    before = apply_lfs(comments, [lf_env], cache=cache, progress=False)
    monkeypatch.setenv("VOTEWISE_TEST_WORD", "subscribe")
    assert apply_lfs(comments, [lf_env], cache=cache, progress=False) == before  # unchecked: the stale column
    with pytest.warns(StaleCacheWarning, match="lf_env"):
        assert apply_lfs(comments, [lf_env], cache=LFCache(tmp_path, random_state=0), progress=False) != before


def test_an_lf_that_now_raises_is_rerun_and_raises(comments, tmp_path, monkeypatch):
    cache = LFCache(tmp_path, random_state=0)
    apply_lfs(comments, [lf_deep], cache=cache, progress=False)
    monkeypatch.setitem(DEEP, "word", None)  # "in" with None raises TypeError
    with pytest.warns(StaleCacheWarning, match="now raises"):
        with pytest.raises(LFError, match="lf_deep"):
            apply_lfs(comments, [lf_deep], cache=cache, progress=False)


def test_the_first_cached_run_says_what_the_cache_cannot_see(comments, tmp_path, caplog):
    import labeling.core.cache as cache_module

    cache_module._WARNED.discard("labeling.core.cache")
    cache = LFCache(tmp_path, random_state=0)
    apply_lfs(comments, [lf_nested], cache=cache, progress=False)
    with caplog.at_level(logging.WARNING, logger="labeling.core.cache"):
        apply_lfs(comments, [lf_nested], cache=cache, progress=False)
        apply_lfs(comments, [lf_nested], cache=cache, progress=False)
    notes = [r.getMessage() for r in caplog.records if r.name == "labeling.core.cache"]
    assert len(notes) == 1 and "environment variable" in notes[0] and "200 sampled rows" in notes[0]


def test_verify_is_checked():
    with pytest.raises(ValueError, match="verify=2"):
        LFCache(verify=2)


@pytest.mark.parametrize("a, b", [
    ([None, "x"], [np.nan, "x"]), ([1, "x"], ["1", "x"]), ([True, "x"], ["True", "x"]), ([1, "x"], [1.0, "x"]),
    ([None, "x"], ["None", "x"]), ([pd.NA, "x"], [None, "x"]),
])
def test_the_data_fingerprint_tells_values_of_other_types_apart(a, b):
    fa = data_fingerprint(pd.DataFrame({"text": ["a", "b"], "extra": pd.Series(a, dtype=object)}))
    fb = data_fingerprint(pd.DataFrame({"text": ["a", "b"], "extra": pd.Series(b, dtype=object)}))
    assert fa != fb


def test_none_and_nan_cells_get_their_own_votes(tmp_path):
    @labeling_function()
    def lf_none(x):
        return 1 if x.extra is None else 0

    cache = LFCache(tmp_path, verify=0)  # the fingerprint alone must tell the two frames apart
    with_none = pd.DataFrame({"text": ["a", "b"], "extra": pd.Series([None, "x"], dtype=object)})
    with_nan = pd.DataFrame({"text": ["a", "b"], "extra": pd.Series([np.nan, "x"], dtype=object)})
    assert apply_lfs(with_none, [lf_none], cache=cache, progress=False).values[:, 0].tolist() == [1, 0]
    assert apply_lfs(with_nan, [lf_none], cache=cache, progress=False).values[:, 0].tolist() == [0, 0]


# --- resumed streams ----------------------------------------------------------------------------

def _stream_source(tmp_path, comments):
    path = tmp_path / "comments.csv"
    comments.assign(id=[f"c{i}" for i in range(len(comments))]).to_csv(path, index=False)
    return path


def _kill_after(monkeypatch, chunks):
    import labeling.core.stream as stream

    real, done = stream.compute_votes, []

    def killed(*args, **kwargs):
        if len(done) == chunks:
            raise KeyboardInterrupt
        done.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, "compute_votes", killed)
    return lambda: monkeypatch.setattr(stream, "compute_votes", real)


def test_resume_compares_lf_fingerprints_not_names(tmp_path, comments, monkeypatch):
    path, out = _stream_source(tmp_path, comments), tmp_path / "v.npy"
    restore = _kill_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        apply_lfs_to_file(path, [lf_deep], out, chunk_size=200, id_column="id", progress=False)
    restore()
    monkeypatch.setitem(DEEP, "word", "subscribe")  # covered by lf_deep's fingerprint (a global four calls deep)

    @labeling_function(name="lf_deep")
    def edited(x):  # same name, other code
        return _hit(x.text, "subscribe")

    with pytest.warns(UserWarning, match="LF 'lf_deep' \\(edited\\); starting afresh"):
        result = apply_lfs_to_file(path, [edited], out, chunk_size=200, id_column="id", progress=False, resume=True)
    fresh = apply_lfs(comments, [edited], progress=False)
    assert (result.label_matrix().values == fresh.values).all()


def test_a_votes_file_without_its_json_is_refused(tmp_path, comments, monkeypatch):
    import labeling.core.stream as stream

    path, out = _stream_source(tmp_path, comments), tmp_path / "v.npy"
    real = stream._write_json

    def killed_before_the_json(target, obj):
        if target == out.with_suffix(".json"):
            raise KeyboardInterrupt  # killed between renaming the votes and writing their .json
        real(target, obj)

    monkeypatch.setattr(stream, "_write_json", killed_before_the_json)
    with pytest.raises(KeyboardInterrupt):
        apply_lfs_to_file(path, [lf_nested], out, chunk_size=500, id_column="id", progress=False)
    monkeypatch.setattr(stream, "_write_json", real)
    assert out.exists() and not out.with_suffix(".json").exists()
    with pytest.raises(ValueError, match=r"has no v\.json beside it: the run that wrote it did not finish"):
        read_votes(out)
    with pytest.raises(ValueError, match="resume=True: .* stopped while it renamed its files"):
        apply_lfs_to_file(path, [lf_nested], out, chunk_size=500, id_column="id", progress=False, resume=True)
    apply_lfs_to_file(path, [lf_nested], out, chunk_size=500, id_column="id", progress=False)
    assert read_votes(out).shape == (len(comments), 1)


def test_resume_refuses_an_lf_it_cannot_fingerprint(tmp_path, comments, monkeypatch):
    path, out = _stream_source(tmp_path, comments), tmp_path / "v.npy"
    lock = __import__("threading").Lock()

    @labeling_function()
    def lf_locked(x):
        with lock:  # a lock cannot be pickled: no fingerprint
            return _hit(x.text, "check")

    restore = _kill_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        apply_lfs_to_file(path, [lf_locked], out, chunk_size=200, id_column="id", progress=False)
    restore()
    with pytest.raises(ValueError, match="cannot tell whether LF 'lf_locked' is the LF"):
        apply_lfs_to_file(path, [lf_locked], out, chunk_size=200, id_column="id", progress=False, resume=True)
