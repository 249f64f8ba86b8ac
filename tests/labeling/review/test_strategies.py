"""Query strategies on the youtube votes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.review import STRATEGIES, select
from labeling.review.strategies import entropy_scores, lf_disagreement_scores, margin_scores
from models import LabelModel


@pytest.fixture(scope="module")
def yt(youtube):
    L = np.asarray(youtube.train.L)
    probs = LabelModel(cardinality=2).fit(L).predict_proba(L)
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer().fit_transform(youtube.train.data["text"])
    return L, probs, X


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_returns_distinct_allowed_rows(yt, strategy):
    L, probs, X = yt
    exclude = np.arange(0, 200)
    idx = select(probs, L, 25, strategy=strategy, exclude=exclude, features=X, random_state=0)
    assert len(idx) == 25 and len(set(idx.tolist())) == 25
    assert not set(idx.tolist()) & set(exclude.tolist())
    again = select(probs, L, 25, strategy=strategy, exclude=exclude, features=X, random_state=0)
    assert idx.tolist() == again.tolist()


def test_uncovered_picks_rows_without_votes(yt):
    L, probs, _ = yt
    idx = select(probs, L, 50, strategy="uncovered", random_state=1)
    assert ((L[idx] == -1).all(axis=1)).all()


def test_uncertainty_strategies_pick_the_least_sure_rows(yt):
    L, probs, _ = yt
    idx = select(probs, L, 30, strategy="margin", random_state=0)
    gap = np.abs(probs[:, 1] - probs[:, 0])
    assert gap[idx].max() <= np.sort(gap)[29] + 1e-12
    lfd = select(probs, L, 10, strategy="lf_disagreement", random_state=0)
    votes = L[lfd]
    assert all(len(set(v[v >= 0].tolist())) > 1 for v in votes)


def test_diverse_batch_avoids_duplicates(yt, youtube):
    L, probs, X = yt
    texts = youtube.train.data["text"].to_numpy()
    plain = select(probs, L, 20, strategy="entropy", random_state=0)
    diverse = select(probs, L, 20, strategy="diverse:entropy", features=X, random_state=0)
    assert len(set(texts[diverse])) >= len(set(texts[plain]))
    sims = (X[diverse] @ X[diverse].T).toarray()
    np.fill_diagonal(sims, 0)
    assert sims.max() < 0.999


def test_errors_name_the_problem(yt):
    L, probs, _ = yt
    with pytest.raises(ValueError, match="strategy='bogus' is not one of"):
        select(probs, L, 5, strategy="bogus")
    with pytest.raises(ValueError, match="needs `features`"):
        select(probs, L, 5, strategy="diverse:margin")
    with pytest.raises(ValueError, match="expected \\(1686, k\\)"):
        select(probs[:10], L, 5, strategy="entropy")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3), st.integers(0, 2))
def test_scores_are_invariant_to_class_permutation(raw, shift):
    p = np.asarray(raw)[None, :] / np.sum(raw)
    q = np.roll(p, shift, axis=1)
    assert np.allclose(entropy_scores(p), entropy_scores(q))
    assert np.allclose(margin_scores(p), margin_scores(q))


def test_vote_entropy_zero_when_lfs_agree():
    L = np.array([[1, 1, -1], [0, 1, -1], [-1, -1, -1]])
    s = lf_disagreement_scores(None, L)
    assert s[0] == 0 and s[2] == 0 and np.isclose(s[1], np.log(2))


def test_lf_audit_ignores_agreement_and_spreads_over_the_lfs(trec):
    L = np.asarray(trec.train.L)
    probs = np.full((len(L), 6), 1 / 6)
    first = select(probs, L, 10, strategy="lf_audit", random_state=0)
    # Rewriting every vote to one class changes agreement, not which LFs fired: same batch.
    same_class = np.where(L >= 0, 0, -1)
    assert select(probs, same_class, 10, strategy="lf_audit", random_state=0).tolist() == first.tolist()
    # The broadest LF (lf_41, 62% of the rows) is in the batch, but later picks favour other LFs.
    broad = (L != -1).mean(axis=0).argmax()
    assert L[first[0], broad] != -1
    assert len({j for i in first for j in np.flatnonzero(L[i] != -1)}) > len(np.flatnonzero(L[first[0]] != -1))
    # Once its rows are reviewed an LF counts for less: excluding the first batch changes the next.
    nxt = select(probs, L, 10, strategy="lf_audit", exclude=first, random_state=0)
    assert not set(nxt.tolist()) & set(first.tolist())


def test_lf_audit_reviews_expose_a_broad_imprecise_lf(trec):
    # 100 lf_audit reviews measure lf_41 (DESC, right on 23% of its votes) well enough
    # for the label model to stop trusting it.
    L, y = np.asarray(trec.train.L), np.asarray(trec.train.y)
    probs = np.full((len(L), 6), 1 / 6)
    taken = np.zeros(len(L), dtype=bool)
    for _ in range(10):
        taken[select(probs, L, 10, strategy="lf_audit", exclude=taken, random_state=0)] = True
    partial = np.where(taken, y, -1)
    j = (L != -1).mean(axis=0).argmax()
    gold = (y[L[:, j] != -1] == 0).mean()
    assert abs(LabelModel(cardinality=6).fit(L, partial).precision_[j, 0] - gold) < 0.1
    assert LabelModel(cardinality=6, review_strength=np.inf).fit(L, partial).precision_[j, 0] - gold > 0.15


def test_typical_reviews_cover_the_classes_sooner_than_random(trec):
    # Typical rows of the largest uncovered clusters: 30 reviews in batches of 10 reach at least as many of
    # trec's six classes as random draws do on average.
    from sklearn.feature_extraction.text import TfidfVectorizer

    from labeling.review import typical_batch

    X = TfidfVectorizer(sublinear_tf=True).fit_transform(trec.train.data["text"])
    y = np.asarray(trec.train.y)
    taken = np.zeros(len(y), dtype=bool)
    for _ in range(3):
        batch = typical_batch(X, taken, np.flatnonzero(~taken), 10, random_state=0)
        assert len(set(batch.tolist())) == 10 and not taken[batch].any()
        taken[batch] = True
    rng = np.random.default_rng(0)
    draws = [rng.choice(len(y), 30, replace=False) for _ in range(200)]
    random_classes = np.mean([len(np.unique(y[d])) for d in draws])
    assert len(np.unique(y[taken])) >= random_classes
    with pytest.raises(ValueError, match="strategy='typical' needs `features`"):
        select(np.full((len(y), 6), 1 / 6), np.asarray(trec.train.L), 5, strategy="typical")


def test_picks_drawn_at_random_from_a_tie_of_nearly_all_rows_are_representative(yt):
    L, probs, X = yt
    conflict = lf_disagreement_scores(probs, L) > 0
    assert 0.1 < conflict.mean() < 0.9
    # While rows whose LFs conflict remain, lf_disagreement picks them: chosen by the votes, not representative.
    idx, fair = select(probs, L, 10, strategy="lf_disagreement", random_state=0, return_representative=True)
    assert conflict[idx].all() and not fair.any()
    # Once they are all taken, the rest tie at 0 and are drawn at random: a fair sample of what is left.
    idx, fair = select(probs, L, 10, strategy="lf_disagreement", exclude=conflict, random_state=0,
                       return_representative=True)
    assert not conflict[idx].any() and fair.all()
    # A tie short of 90% of the candidates (the uncovered rows) is a stratum, not the data.
    uncovered = (L == -1).all(axis=1)
    assert uncovered.mean() < 0.9
    idx, fair = select(probs, L, 10, strategy="uncovered", random_state=0, return_representative=True)
    assert uncovered[idx].all() and not fair.any()
    # Model-free strategies are representative whatever the scores; spread (diverse) picks never.
    for strategy, expected in (("random", True), ("typical", True), ("diverse:lf_disagreement", False)):
        _, fair = select(probs, L, 10, strategy=strategy, exclude=conflict, features=X, random_state=0,
                         return_representative=True)
        assert fair.all() if expected else not fair.any(), strategy
