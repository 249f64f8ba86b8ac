"""Tests of perplexity (nltk.lm) and BLEU (sacrebleu and nltk) on youtube comments."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from labeling.dataset import bleu, fit_ngram_model, perplexity, sentence_bleu_scores
from labeling.dataset.text_metrics import tokenize


@pytest.fixture(scope="module")
def texts(youtube):
    return youtube.train.data["text"].tolist(), youtube.test.data["text"].tolist()


def test_unigram_laplace_perplexity_by_hand(texts):
    train, test = texts[0][:300], texts[1][:50]
    counts = Counter(tok for t in train for tok in tokenize(t))
    n, v = sum(counts.values()), len(counts) + 1  # nltk's vocabulary adds <UNK>
    test_toks = [tok for t in test for tok in tokenize(t)]
    logp = [math.log2((counts.get(tok, 0) + 1) / (n + v)) for tok in test_toks]
    expected = 2 ** (-sum(logp) / len(logp))
    assert perplexity(test, train_texts=train, order=1) == pytest.approx(expected, rel=1e-9)


def test_perplexity_orders_in_and_out_of_domain(texts):
    train, test = texts
    model = fit_ngram_model(train, order=2)
    in_domain = perplexity(test, model=model)
    off_topic = perplexity(["the committee approved the quarterly budget of the municipal water authority"],
                           model=model)
    assert 1 < in_domain < off_topic
    assert perplexity(train[:50], model=model) < in_domain  # seen text is the most predictable
    # Witten-Bell needs <UNK> counts (rare training words) for words it never saw; it then beats add-one.
    laplace = perplexity(test, model=fit_ngram_model(train, order=2, unk_cutoff=2))
    witten_bell = perplexity(test, model=fit_ngram_model(train, order=2, smoothing="witten_bell", unk_cutoff=2))
    assert witten_bell < laplace
    assert math.isinf(perplexity(test, model=fit_ngram_model(train, order=2, smoothing="witten_bell")))


@pytest.mark.parametrize("kwargs, match", [
    ({}, "Give exactly one of train_texts= or model="),
    ({"train_texts": ["a"], "order": 0}, "order=0 must be >= 1"),
    ({"train_texts": ["a"], "smoothing": "good_turing"}, "smoothing='good_turing' is not one of"),
    ({"train_texts": ["a"], "unk_cutoff": 0}, "unk_cutoff=0 must be >= 1"),
    ({"train_texts": ["!!"], "order": 1}, None),
])
def test_perplexity_errors(kwargs, match):
    if match is None:
        assert perplexity(["!!"], **kwargs) > 0
        return
    with pytest.raises(ValueError, match=match):
        perplexity(["a b"], **kwargs)


def test_bleu_backends_agree_on_pretokenised_text(texts):
    pytest.importorskip("sacrebleu")
    refs = [" ".join(tokenize(t)) for t in texts[1][:100]]
    rng = np.random.default_rng(0)
    hyps = []
    for r in refs:  # drop a fifth of the words: a degraded "translation"
        words = r.split()
        keep = rng.random(len(words)) > 0.2
        hyps.append(" ".join(w for w, k in zip(words, keep) if k) or words[0])
    a, b = bleu(hyps, refs, backend="sacrebleu"), bleu(hyps, refs, backend="nltk")
    assert 20 < a < 95
    assert a == pytest.approx(b, abs=1.0)  # two implementations of corpus BLEU


def test_bleu_bounds_and_multiple_references():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100)
    assert bleu(["zebra quantum"], ["the cat sat on the mat"]) == pytest.approx(0)
    one = bleu(["the cat sat on the mat"], [["a cat sat on a mat"]])
    two = bleu(["the cat sat on the mat"], [["a cat sat on a mat", "the cat sat on a mat"]])
    assert two > one


@pytest.mark.parametrize("backend", ["nltk", "sacrebleu"])
def test_sentence_bleu_scores(backend):
    if backend == "sacrebleu":
        pytest.importorskip("sacrebleu")
    scores = sentence_bleu_scores(["check out my new channel", "zzz", ""],
                                  ["check out my new channel", "nice song", "nice song"], backend=backend)
    assert scores[0] == pytest.approx(100) and scores[1] == pytest.approx(0, abs=1e-6) and scores[2] == 0


@pytest.mark.parametrize("args, match", [
    ((["a"], ["a", "b"]), "Got 1 hypotheses but 2 references"),
    ((["a"], [[]]), "at least one reference"),
])
def test_bleu_errors(args, match):
    with pytest.raises(ValueError, match=match):
        bleu(*args)
    with pytest.raises(ValueError, match="backend='moses' is not one of"):
        bleu(["a"], ["a"], backend="moses")


def test_precision_recall_f1_equals_sklearn_with_predicted_only_classes():
    # Finding 8: a class predicted but absent from the gold labels was dropped (micro precision 0.469 vs 0.307).
    from sklearn.metrics import precision_recall_fscore_support

    from models import precision_recall_f1

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    pred = rng.integers(0, 5, 300)  # classes 3 and 4 are never gold
    for average in ("micro", "macro", "weighted", None):
        ours = precision_recall_f1(y, pred, average=average)
        ref = precision_recall_fscore_support(y, pred, average=average, zero_division=0)[:3]
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b)
    # Abstentions (-1) are no class: they lower recall only.
    pred[:50] = -1
    labels = np.arange(5)
    p, r, _ = precision_recall_f1(y, pred, average="micro")
    ref = precision_recall_fscore_support(y, pred, average="micro", labels=labels, zero_division=0)
    assert (p, r) == pytest.approx(ref[:2])
    ys, ps = y[50:], pred[50:]
    assert p == pytest.approx(np.mean(ys == ps))
    binary = precision_recall_f1(y > 1, pred > 1)
    assert binary == pytest.approx(precision_recall_fscore_support(y > 1, pred > 1, average="binary")[:3])


def test_cjk_text_is_split_into_characters():
    from labeling.dataset.text_metrics import bleu, tokenize

    assert tokenize("我喜欢这首歌") == list("我喜欢这首歌")
    assert tokenize("この歌が好き") == list("この歌が好き")
    # One character differs: a partial match, not zero as when the sentence was one token.
    assert 0 < bleu(["我非常喜欢这首歌曲"], ["我非常喜欢这首歌啊"], backend="nltk") < 100
    assert 0 < bleu(["我非常喜欢这首歌曲"], ["我非常喜欢这首歌啊"], backend="sacrebleu") < 100
