import numpy as np
import pytest

from models import DawidSkene, MajorityVote, NotFittedError, hash_tie_index, probs_to_preds


@pytest.mark.parametrize(
    "dataset, published", [("youtube", 0.8400), ("trec", 0.6080)]
)
def test_reproduces_published_majority_vote(request, dataset, published):
    ds = request.getfixturevalue(dataset)
    mv = MajorityVote(cardinality=ds.cardinality).fit(ds.train.L)
    assert mv.score(ds.test.L, ds.test.y) == pytest.approx(published, abs=1e-12)


def test_tie_rules_differ_as_documented(youtube):
    mv = MajorityVote().fit(youtube.train.L)
    L, y = youtube.test.L, youtube.test.y
    assert mv.score(L, y, tie_break="first") == pytest.approx(0.776)
    preds = mv.predict(L, tie_break="abstain")
    probs = mv.predict_proba(L)
    tied = np.isclose(probs[:, 0], probs[:, 1])
    assert (preds[tied] == -1).all() and (preds[~tied] >= 0).all()
    random_preds = mv.predict(L)
    assert set(np.unique(random_preds[tied])) == {0, 1}  # the hash rule picks both classes


def test_hash_rule_is_snorkels():
    import hashlib

    for i in range(50):
        assert hash_tie_index(i, 3) == int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % 3


def test_probabilities(trec):
    mv = MajorityVote().fit(trec.train.L)
    assert mv.cardinality_ == 6
    probs = mv.predict_proba(trec.test.L)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    none = (trec.test.L.values == -1).all(axis=1)
    assert none.any()
    np.testing.assert_allclose(probs[none], 1 / 6)
    row = np.array([[0, 0, 2, -1] + [-1] * 64])
    np.testing.assert_allclose(mv.predict_proba(row)[0], [2 / 3, 0, 1 / 3, 0, 0, 0])


def test_errors(youtube, trec):
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        MajorityVote().predict(youtube.test.L)
    mv = MajorityVote().fit(youtube.train.L)
    with pytest.raises(ValueError, match="has 68 LF columns; expected 10"):
        mv.predict(trec.test.L)
    with pytest.raises(ValueError, match=r"is 5; expected -1 or 0..1 for cardinality=2"):
        mv.predict_proba(np.full((2, 10), 5))
    with pytest.raises(ValueError, match="tie_break='rnd' is not one of 'random', 'abstain', 'first'"):
        mv.predict(youtube.test.L, tie_break="rnd")
    with pytest.raises(ValueError, match=r"'tie_break' parameter of MajorityVote must be a str among .*Got 'x'"):
        MajorityVote(tie_break="x").fit(youtube.train.L)
    with pytest.raises(ValueError, match=r"'smoothing' parameter of DawidSkene must be a float in the range \[0.0, inf\)"):
        DawidSkene(smoothing=-1).fit(youtube.train.L)
    with pytest.raises(ValueError, match="L has 1686 rows, y has shape"):
        MajorityVote().fit(youtube.train.L, y=[0, 1])


def test_probs_to_preds_first_and_abstain():
    probs = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    assert probs_to_preds(probs, tie_break="first").tolist() == [0, 2]
    assert probs_to_preds(probs, tie_break="abstain").tolist() == [-1, 2]


def test_params_roundtrip():
    mv = MajorityVote(cardinality=3, tie_break="first")
    assert mv.get_params() == {"cardinality": 3, "tie_break": "first"}
    assert repr(mv) == "MajorityVote(cardinality=3, tie_break='first')"
    with pytest.raises(ValueError, match="Invalid parameter 'alpha'"):
        mv.set_params(alpha=1)
