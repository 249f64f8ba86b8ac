"""The response cache on its own: round trips, many keys, a damaged file, workers' connections, its folder."""

from __future__ import annotations

import pickle

import pytest

from labeling.core.cachedir import default_cache_dir
from sources.llm import Answer, OpenAIBackend, Prompt, ResponseCache, default_cache_path


def test_answers_round_trip_with_scores_and_tokens(tmp_path):
    cache = ResponseCache(tmp_path / "a.sqlite")
    answer = Answer("spam", {"spam": -0.1, "ham": -2.4}, "first_token", 31, 1)
    cache.put(b"k" * 20, "openai", answer)
    got = cache.get_many([b"k" * 20, b"x" * 20])
    assert list(got) == [b"k" * 20]
    assert got[b"k" * 20] == answer and got[b"k" * 20].cached
    assert len(ResponseCache(tmp_path / "a.sqlite")) == 1  # another connection sees the committed answer


def test_lookups_of_more_keys_than_one_statement_takes(tmp_path):
    cache = ResponseCache(tmp_path / "a.sqlite")
    backend = OpenAIBackend("m")
    keys = [backend.cache_key(Prompt((("user", f"comment {i}"),))) for i in range(1800)]
    for i, key in enumerate(keys[::2]):
        cache.put(key, "openai", Answer(f"a{i}"))
    got = cache.get_many(keys)
    assert len(got) == 900 and got[keys[2]].text == "a1"


def test_keys_name_model_parameters_and_prompt_not_the_url():
    prompt = Prompt((("user", "spam?"),), ("spam", "ham"))
    key = OpenAIBackend("m", base_url="http://a/v1").cache_key(prompt)
    assert OpenAIBackend("m", base_url="http://b/v1").cache_key(prompt) == key
    assert OpenAIBackend("m2").cache_key(prompt) != key
    assert OpenAIBackend("m", temperature=0.7).cache_key(prompt) != key
    assert OpenAIBackend("m").cache_key(Prompt((("user", "spam!"),), ("spam", "ham"))) != key
    # An endpoint is not sent the verbalisers: they do not change its answer.
    assert OpenAIBackend("m").cache_key(Prompt((("user", "spam?"),), ("yes", "no"))) == key


def test_a_damaged_cache_file_is_named(tmp_path):
    path = tmp_path / "a.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match=r"a.sqlite cannot be opened .* move it away"):
        ResponseCache(path).get_many([b"k" * 20])


def test_a_pickled_cache_opens_its_own_connection(tmp_path):
    cache = ResponseCache(tmp_path / "a.sqlite")
    cache.put(b"k" * 20, "openai", Answer("ham"))
    clone = pickle.loads(pickle.dumps(cache))
    assert clone._conn is None and clone.get_many([b"k" * 20])[b"k" * 20].text == "ham"


def test_default_path_is_in_the_shared_cache_folder(tmp_path, monkeypatch):
    """``$VOTEWISE_CACHE`` moves the answers with every other cache, ``~`` expanded; else the XDG folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VOTEWISE_CACHE", "~/vw")
    assert default_cache_path() == tmp_path / "vw" / "llm" / "responses.sqlite"
    assert default_cache_path().parent == default_cache_dir("llm")
    monkeypatch.delenv("VOTEWISE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "votewise" / "llm" / "responses.sqlite"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_path() == tmp_path / ".cache" / "votewise" / "llm" / "responses.sqlite"
