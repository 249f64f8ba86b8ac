"""One contract for every label model, plus Hypothesis invariants."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import MODEL_REGISTRY, NotFittedError, make_model

ALL = sorted(MODEL_REGISTRY)
FAST = [name for name in ALL if name != "snorkel"]  # Snorkel's SGD is too slow for many Hypothesis examples
# HyperLM is a pretrained network run over the whole matrix, and its rescaling of scores to probabilities
# uses the whole matrix's extremes: the per-row invariants below are the votewise models' own (and
# dozens of forward passes per example would take minutes).
PROPERTY_MODELS = [name for name in FAST if name != "hyperlm"]


def _model(name, **params):
    if name == "hyperlm":
        pytest.importorskip("hyperlm", reason="HyperLM is an optional extra: pip install 'votewise[hyperlm]'")
    if name == "snorkel":  # fewer epochs keep the suite fast; the contract is the same
        params = {"n_epochs": 20, "random_state": 0, **params}
    return make_model(name, **params)


def _fit(name, L, y=None, **params):
    return _model(name, **params).fit(L, y)


@pytest.mark.parametrize("name", ALL)
def test_contract_on_youtube(name, youtube):
    L, k = youtube.train.L, youtube.cardinality
    model = _model(name, cardinality=k)
    assert model.fit(L) is model
    assert model.cardinality_ == k and model.n_lfs_ == 10 and model.lf_names_ == list(L.lf_names)
    probs = model.predict_proba(youtube.test.L)
    assert probs.shape == (250, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    preds = model.predict(youtube.test.L)
    assert preds.dtype == np.int64 and set(np.unique(preds)) <= {0, 1}
    assert 0.5 < model.score(youtube.test.L, youtube.test.y) <= 1
    none = (youtube.test.L.values == -1).all(axis=1)
    expected = getattr(model, "class_prior_", np.full(k, 1 / k))
    np.testing.assert_allclose(probs[none], np.broadcast_to(expected, probs[none].shape), atol=1e-9)
    # int8 votes are accepted as they are, and give the same result as int64 votes.
    assert youtube.test.L.values.dtype == np.int8
    np.testing.assert_allclose(model.predict_proba(youtube.test.L.values.astype(np.int64)), probs)


@pytest.mark.parametrize("name", ALL)
def test_deterministic_and_params(name, youtube):
    a = _fit(name, youtube.train.L, cardinality=2).predict_proba(youtube.test.L)
    b = _fit(name, youtube.train.L, cardinality=2).predict_proba(youtube.test.L)
    np.testing.assert_array_equal(a, b)
    model = make_model(name)
    assert "cardinality" in model.get_params()
    with pytest.raises(ValueError, match="Invalid parameter 'nope'"):
        model.set_params(nope=1)


@pytest.mark.parametrize("name", ALL)
def test_errors(name, youtube, trec):
    model = make_model(name)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict_proba(youtube.test.L)
    with pytest.raises(ValueError, match=r"L\[0, 0\] is 0.5; expected an integer vote"):
        model.fit(np.array([[0.5, 1.0, -1.0]]))
    with pytest.raises(ValueError, match=r"L\[0, 1\] is nan"):
        model.fit(np.array([[0.0, np.nan, -1.0]]))
    with pytest.raises(ValueError, match="is 7; expected -1 or 0..1 for cardinality=2"):
        _model(name, cardinality=2).fit(np.array([[0, 1, 7]] * 4))
    with pytest.raises(ValueError, match="no rows"):
        model.fit(np.zeros((0, 3), dtype=int))
    fitted = _fit(name, youtube.train.L)
    with pytest.raises(ValueError, match="has 68 LF columns; expected 10"):
        fitted.predict(trec.test.L)
    with pytest.raises(ValueError, match="expected -1 or 0..1 for cardinality=2"):
        fitted.predict(np.full((1, 10), 3))
    with pytest.raises(ValueError, match="class_balance must be 2 non-negative numbers"):
        _model(name).fit(youtube.train.L, class_balance=[0.2, 0.2])


@pytest.mark.parametrize("name", ALL)
def test_all_abstain_column_and_partial_labels(name, trec):
    L = trec.train.L.values[:1500].copy()
    L[:, 0] = -1  # an LF that never fires is allowed
    y = np.full(len(L), -1)
    y[::10] = trec.train.y[:1500:10]
    model = _fit(name, L, y, cardinality=6)
    assert model.predict_proba(trec.test.L).shape == (500, 6)


@pytest.mark.parametrize("name", ALL)
def test_partial_labels_of_one_class(name, youtube):
    # The first batch of an active-learning loop often holds a single class.
    L = youtube.train.L.values
    y = np.full(len(L), -1)
    spam = np.flatnonzero(youtube.train.y == 1)[:10]
    y[spam] = 1
    probs = _fit(name, L, y, cardinality=2).predict_proba(youtube.test.L)
    assert probs.shape == (250, 2) and np.isfinite(probs).all()
    assert 0.6 < (probs.argmax(axis=1) == youtube.test.y).mean()


@pytest.mark.parametrize("name", FAST)
def test_one_lf_is_a_documented_result(name, youtube):
    # With a single LF every model follows it where it votes and gives no-vote rows the prior.
    L = youtube.train.L.values[:, [2]]
    model = _fit(name, L, cardinality=2)
    probs = model.predict_proba(youtube.test.L.values[:, [2]])
    fired = youtube.test.L.values[:, 2] != -1
    assert (probs[fired].argmax(axis=1) == 1).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_snorkel_needs_three_lfs():
    with pytest.raises(ValueError, match="needs at least 3 LFs; L has 2"):
        make_model("snorkel").fit(np.array([[0, 1], [1, 1], [0, -1]]))


votes = st.integers(1, 2).flatmap(
    lambda k: st.tuples(
        st.just(k + 1),
        st.lists(st.lists(st.integers(-1, k), min_size=4, max_size=4), min_size=3, max_size=25),
    )
)


@pytest.mark.parametrize("name", PROPERTY_MODELS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=votes, perm_seed=st.integers(0, 1000))
def test_properties(name, data, perm_seed):
    k, rows = data
    L = np.array(rows, dtype=np.int8)
    model = _fit(name, L, cardinality=k)
    probs = model.predict_proba(L)
    # Rows are distributions.
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert (probs >= 0).all()
    # An all-abstain row gets the class prior (uniform for models without one).
    blank = model.predict_proba(np.full((1, 4), -1))[0]
    np.testing.assert_allclose(blank, getattr(model, "class_prior_", np.full(k, 1 / k)), atol=1e-9)
    # Permuting LF columns changes no probability.
    perm = np.random.default_rng(perm_seed).permutation(4)
    permuted = _fit(name, L[:, perm], cardinality=k)
    np.testing.assert_allclose(permuted.predict_proba(L[:, perm]), probs, atol=1e-6)
    # Duplicating every row changes no parameter (up to EM's stopping tolerance, 1e-4: on tiny matrices the
    # class prior and a capped precision can still be creeping when n_iter runs out, and rounding differs).
    doubled = _fit(name, np.vstack([L, L]), cardinality=k)
    for attr in ("precision_", "class_prior_", "confusion_", "class_weights_"):
        if getattr(model, attr, None) is not None:
            np.testing.assert_allclose(getattr(doubled, attr), getattr(model, attr), atol=1e-4)
    np.testing.assert_allclose(doubled.predict_proba(L), probs, atol=1e-4)
