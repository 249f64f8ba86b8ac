"""nltk preprocessing and the offline data installer (CI runs `python -m sources.install_data` first)."""

import gzip

import nltk
import numpy as np
import pandas as pd
import pytest

import sources.nltk_data as nd
from labeling import apply_lfs
from rules import (
    MissingResourceError,
    clean_text,
    keyword_lf,
    lemmatize,
    remove_punctuation,
    remove_stopwords,
    require,
    sentences,
    stem,
    text_preprocessor,
    tokens_preprocessor,
    words,
)
from sources.install_data import LEXNAMES_MAN, _punkt_literals, install, lexnames_from_man, main


@pytest.mark.parametrize("resource", sorted(nd.RESOURCES))
def test_installed_resources_are_found_without_configuration(resource):
    assert require(resource)


def test_missing_resource_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("VOTEWISE_NLTK_DATA", str(tmp_path))
    monkeypatch.setattr(nd, "_PACKAGE_DIR", tmp_path / "pkg")
    monkeypatch.setattr(nd, "_USER_DIR", tmp_path / "user")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    with pytest.raises(MissingResourceError, match=r"'punkt_tab' is not installed.*python -m sources.install_data"):
        require("punkt_tab")
    with pytest.raises(ValueError, match="resource='bert' is not one of"):
        require("bert")


def test_lexnames_generated_from_the_manual_page_match_wordnet():
    with gzip.open(LEXNAMES_MAN, "rt") as f:
        table = lexnames_from_man(f.read())
    lines = table.splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[18] == "18\tnoun.person\t1" and lines[44] == "44\tadj.ppl\t3"


def test_punkt_model_is_read_as_data_never_imported():
    src = "X = frozenset(('a', 'b'))\nY = {'w': 4}\nZ = frozenset((\n))\nimport os\n"
    assert _punkt_literals(src) == {"X": frozenset({"a", "b"}), "Y": {"w": 4}, "Z": frozenset()}


def test_installer_is_idempotent(tmp_path, capsys):
    install(tmp_path)
    first = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["--dir", str(tmp_path)]) == 0
    again = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert first == again and "already installed" in capsys.readouterr().out
    for rel in nd.RESOURCES.values():
        assert (tmp_path / rel).exists()


def test_cleaning():
    raw = "<p>Visit https://spam.example/x?y=1 or www.a.b &amp; mail me: bob@mail.com, @bob_99 ﬁne</p>"
    assert clean_text(raw) == "Visit <URL> or <URL> & mail me: <EMAIL>, <USER> fine"
    assert clean_text("  A\u00a0B\n\nC ", lowercase=True) == "a b c"
    with pytest.raises(TypeError, match="takes a string; got float"):
        clean_text(float("nan"))


def test_tokenising_stemming_lemmatising():
    text = "Mr. Smith's geese were running. They ran to St. Louis!"
    assert sentences(text) == ["Mr. Smith's geese were running.", "They ran to St. Louis!"]
    toks = words(text)
    assert toks[:5] == ["Mr.", "Smith", "'s", "geese", "were"]
    content = remove_stopwords(remove_punctuation(toks))
    assert content == ["Mr.", "Smith", "'s", "geese", "running", "ran", "St.", "Louis"]
    assert stem(["running", "islands"]) == ["run", "island"]
    assert lemmatize(["geese", "running"]) == ["goose", "running"]
    assert lemmatize(["running", "ran"], pos="v") == ["run", "run"]


def test_preprocessors_feed_lfs_batch_and_row():
    df = pd.DataFrame({"text": ["Check <b>THIS</b> out: http://x.io", "Geese fly", "Check this out: http://x.io"]})
    pre = text_preprocessor(source="text", target="clean", lowercase=True)
    lf = keyword_lf("url", ["<url>"], 1, column="clean", pre=[pre])
    assert lf(df).tolist() == [1, -1, 1]
    toks = tokens_preprocessor(lemmatize=True)
    out = toks(df)
    assert out["tokens"][1] == ["goose", "fly"]
    row_pre = tokens_preprocessor(stem="porter", vectorized=False)
    from labeling import Row

    assert row_pre(Row({"text": "Running dogs"}))["tokens"] == ["run", "dog"]
    assert np.asarray(apply_lfs(df, [lf], progress=False)).ravel().tolist() == [1, -1, 1]


@pytest.fixture
def no_nltk_data(monkeypatch, tmp_path):
    """nltk with none of votewise's data installed, and no loaded reader left from other tests."""
    from rules import sentiment

    monkeypatch.setenv("VOTEWISE_NLTK_DATA", str(tmp_path))
    monkeypatch.setattr(nd, "_PACKAGE_DIR", tmp_path / "pkg")
    monkeypatch.setattr(nd, "_USER_DIR", tmp_path / "user")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    sentiment._vader.cache_clear()
    yield
    sentiment._vader.cache_clear()


def test_sentiment_lf_without_vader_fails_when_built_naming_the_command(no_nltk_data):
    from rules import sentiment_lf

    with pytest.raises(MissingResourceError, match=r"'vader_lexicon' is not installed.*python -m sources\.install_data"):
        sentiment_lf("positive", 0)
    assert sentiment_lf("positive", 0, method="textblob").vote_text("I love this great song!") == 0  # needs no nltk data


def test_lemmatizing_knowledge_base_without_wordnet_fails_when_built(no_nltk_data):
    from sources import KnowledgeBase

    with pytest.raises(MissingResourceError, match=r"'wordnet' is not installed.*python -m sources\.install_data"):
        KnowledgeBase(["island"], lemmatize=True)
    with pytest.raises(ValueError, match=r"lemmatize='porter' is not one of"):
        KnowledgeBase(["island"], lemmatize="porter")
    assert KnowledgeBase(["island"]).match("an island")  # plain matching needs no data
