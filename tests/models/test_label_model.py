"""Quality and behaviour of the label models on the real WRENCH data."""

import numpy as np
import pytest

import models.label_model as label_model_module
from labeling import vote_patterns
from models import (
    DawidSkene,
    LabelModel,
    MajorityVote,
    WeightedMajorityVote,
    class_balance_from_labels,
    fit_with_validation,
    select_on_valid,
)


@pytest.mark.parametrize("dataset, published", [("youtube", 0.7800), ("trec", 0.5720)])
def test_weighted_majority_vote_reproduces_wrench(request, dataset, published):
    ds = request.getfixturevalue(dataset)
    balance = class_balance_from_labels(ds.valid.y, ds.cardinality)
    wmv = WeightedMajorityVote().fit(ds.train.L, class_balance=balance)
    assert wmv.score(ds.test.L, ds.test.y) == pytest.approx(published, abs=1e-12)
    # Without a class balance it is plain majority vote.
    plain = WeightedMajorityVote().fit(ds.train.L).predict_proba(ds.test.L)
    np.testing.assert_allclose(plain, MajorityVote().fit(ds.train.L).predict_proba(ds.test.L))


@pytest.mark.parametrize("dataset, expected", [("youtube", 0.832), ("trec", 0.502)])
def test_dawid_skene_matches_published_level(request, dataset, expected):
    # WRENCH reports DS 83.20 (youtube) and 50.00 (trec).
    ds = request.getfixturevalue(dataset)
    model = DawidSkene().fit(ds.train.L)
    assert model.score(ds.test.L, ds.test.y) == pytest.approx(expected, abs=1e-9)
    np.testing.assert_allclose(model.confusion_.sum(axis=2), 1.0)


@pytest.mark.parametrize("dataset, target, mv", [("youtube", 0.864, 0.84), ("trec", 0.642, 0.608)])
def test_default_model_beats_published_numbers(request, dataset, target, mv):
    ds = request.getfixturevalue(dataset)
    model = fit_with_validation(LabelModel(), ds.train.L, ds.valid.L, ds.valid.y)
    acc = model.score(ds.test.L, ds.test.y)
    assert acc >= target and acc > mv
    # Without validation labels the defaults still beat majority vote.
    assert LabelModel().fit(ds.train.L).score(ds.test.L, ds.test.y) > mv


def test_selection_table_and_tie_rule(youtube):
    balance = class_balance_from_labels(youtube.valid.y, 2)
    best, table = select_on_valid(
        LabelModel(), youtube.train.L, youtube.valid.L, youtube.valid.y, class_balance=balance
    )
    assert len(table) == np.prod([len(v) for v in LabelModel.selection_grid.values()])
    assert set(table.columns) >= {"accuracy_prior", "prior_strength", "abstain_evidence", "accuracy", "log_likelihood"}
    top = table[table["accuracy"] == table["accuracy"].max()]
    chosen = top.loc[top["log_likelihood"].idxmax()]
    assert (best.accuracy_prior, best.prior_strength, best.abstain_evidence) == (
        chosen["accuracy_prior"], chosen["prior_strength"], chosen["abstain_evidence"]
    )
    np.testing.assert_allclose(best.class_prior_, balance)
    # A grid of one setting is a plain fit.
    only, table = select_on_valid(
        LabelModel(), youtube.train.L, youtube.valid.L, youtube.valid.y, param_grid={"prior_strength": [0.1]}
    )
    assert len(table) == 1 and only.prior_strength == 0.1


def test_fits_on_patterns(trec):
    model = LabelModel().fit(trec.train.L)
    assert model.n_patterns_ == len(vote_patterns(trec.train.L.values)) < 300 < len(trec.train.L.values)
    assert model.precision_.shape == model.weights_.shape == (68, 6)
    np.testing.assert_allclose(model.class_prior_.sum(), 1.0)


def test_known_labels_anchor_the_fit(trec):
    L, y = trec.train.L, trec.train.y
    partial = np.full(len(y), -1)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(y), size=len(y) // 4, replace=False)
    partial[idx] = y[idx]
    free = LabelModel().fit(L)
    anchored = LabelModel().fit(L, partial)
    # Precisions move toward those measured on the known rows.
    votes = L.values[idx]
    hit = (votes == y[idx, None]) & (votes >= 0)
    fired = votes >= 0
    lf = fired.sum(axis=0) >= 20
    measured = hit.sum(axis=0)[lf] / fired.sum(axis=0)[lf]
    voted_class = np.array([np.bincount(col[col >= 0], minlength=6).argmax() for col in L.values.T])[lf]
    err_free = np.abs(free.precision_[lf, voted_class] - measured).mean()
    err_anchor = np.abs(anchored.precision_[lf, voted_class] - measured).mean()
    assert err_anchor < err_free
    assert anchored.score(trec.test.L, trec.test.y) >= free.score(trec.test.L, trec.test.y) - 0.01


@pytest.mark.parametrize("dataset", ["youtube", "trec"])
def test_a_hundred_reviewed_rows_correct_the_precisions(request, dataset):
    # A sample of 100 reviewed rows, as the active loop gathers: each seed's
    # anchored model must be more accurate than EM alone would make it.
    ds = request.getfixturevalue(dataset)
    L, y = ds.train.L, ds.train.y
    for seed in range(3):
        idx = np.random.default_rng(seed).choice(len(y), size=100, replace=False)
        partial = np.full(len(y), -1)
        partial[idx] = y[idx]
        em_only = LabelModel(review_strength=np.inf).fit(L, partial)
        reviewed = LabelModel().fit(L, partial)
        # On trec's 500 test rows the corrected precisions move no test prediction of the default
        # (the shared confusion already settles the conflicts they decide); the 5,033 train rows move.
        assert reviewed.score(ds.test.L, ds.test.y) >= em_only.score(ds.test.L, ds.test.y)
        assert reviewed.score(L, y) > em_only.score(L, y)
    if dataset == "trec":
        # lf_41 votes DESC on 62% of the rows and is right on 23% of them; EM keeps it near its prior.
        j = L.lf_names.index("lf_41") if L.lf_names else 41
        assert reviewed.precision_[j, 0] < 0.35 < em_only.precision_[j, 0]


def test_many_class_path_matches_dense_path(trec, monkeypatch):
    # Without the shared confusion (which only the dense path models) the two paths are the same model.
    L, partial = trec.train.L, np.where(np.arange(len(trec.train.y)) % 7 == 0, trec.train.y, -1)
    dense = LabelModel(class_prior="estimate", confusion_strength=None).fit(L, partial)
    assert dense.dense_
    monkeypatch.setattr(label_model_module, "_DENSE_CELLS", 0)
    cells = LabelModel(class_prior="estimate", confusion_strength=None).fit(L, partial)
    assert not cells.dense_
    # With the default the cell path falls back to the prior-proportional confusion, as documented.
    assert LabelModel().fit(L).confusion_ is None
    np.testing.assert_allclose(cells.precision_, dense.precision_, atol=1e-10)
    # Rows without a vote differ: only the dense path estimates their classes apart (uncovered_prior_).
    voted = (np.asarray(trec.test.L) != -1).any(axis=1)
    np.testing.assert_allclose(cells.predict_proba(trec.test.L)[voted], dense.predict_proba(trec.test.L)[voted],
                               atol=1e-10)


def test_many_classes_stays_sparse():
    # 400 classes, a few votes per row: the cell path never builds rows x classes during fit.
    rng = np.random.default_rng(0)
    n, m, k = 3000, 8, 400
    y = rng.integers(0, k, n)
    L = np.where(rng.random((n, m)) < 0.5, y[:, None], -1).astype(np.int16)
    L[rng.random((n, m)) < 0.1] = rng.integers(0, k)
    model = LabelModel(cardinality=k).fit(L)
    assert model.score(L, y) > 0.9


def _classifier_lfs(rng, y, m, acc_rare, acc_common):
    """Binary LFs that fire whatever the class and vote both classes (class-dependent accuracy)."""
    L = np.full((len(y), m), -1, dtype=np.int64)
    for j in range(m):
        fires = rng.random(len(y)) < rng.uniform(0.2, 0.6)
        right = rng.random(len(y)) < np.where(y == 1, acc_rare[j], acc_common[j])
        L[fires, j] = np.where(right, y, 1 - y)[fires]
    return L


def test_classifier_lfs_on_a_rare_class_are_not_trusted_like_keywords():
    # 1 positive in 21; each LF is better than chance on both classes, so most of its positive votes are
    # wrong. Counting votes over-predicts the positives; the default learns that a positive vote only
    # raises the odds and must not let a lone one outweigh the class balance.
    rng = np.random.default_rng(0)
    y = (rng.random(20_000) < 1 / 21).astype(np.int64)
    L = _classifier_lfs(rng, y, 10, rng.uniform(0.6, 0.85, 10), rng.uniform(0.8, 0.95, 10))
    model = LabelModel(family="precision").fit(L)
    assert model.chooses_.all()
    true_precision = np.array([(y[L[:, j] == 1] == 1).mean() for j in range(10)])
    assert (true_precision < 0.4).all() and (model.precision_[:, 1] < 0.5).all()
    assert model.score(L, y) > MajorityVote().fit(L).score(L, y) + 0.01
    assert model.class_prior_[1] < 0.1
    # These votes follow Dawid and Skene's model exactly; the default finds that its confusion family predicts
    # held-out LFs better, and is then at least as accurate.
    auto = LabelModel().fit(L)
    assert auto.family_ == "confusion" and auto.score(L, y) >= model.score(L, y)
    # A keyword LF (one class only) keeps the keyword prior and floor, even with a few stray votes.
    keyword = np.where((y == 1) & (rng.random(len(y)) < 0.5), 1, -1)
    keyword[np.flatnonzero(keyword == -1)[:3]] = 0
    model = LabelModel(family="precision").fit(np.column_stack([L, keyword]))
    assert not model.chooses_[-1].any() and model.chooses_[:-1].all()
    lone = np.full((1, 11), -1)
    lone[0, -1] = 1
    assert model.predict(lone)[0] == 1


def test_parameter_errors(youtube):
    with pytest.raises(ValueError, match=r"'accuracy_prior' parameter of LabelModel must be a float in the range \(0.0, 1.0\)\. Got 1.5"):
        LabelModel(accuracy_prior=1.5).fit(youtube.train.L)
    with pytest.raises(ValueError, match=r"'review_strength' parameter of LabelModel must be a float in the range \(0.0, inf\]\. Got 0"):
        LabelModel(review_strength=0).fit(youtube.train.L, youtube.train.y)
    with pytest.raises(ValueError, match=r"'class_prior' parameter of LabelModel must be a str among .*Got 'x'"):
        LabelModel(class_prior="x").fit(youtube.train.L)
    with pytest.raises(ValueError, match="y holds class 3; expected 0..1"):
        class_balance_from_labels([0, 3], 2)


def test_patterns_exact_when_rows_do_not_fit_one_integer():
    # 200 LFs over 50 classes: the packed row codes are renumbered many times on the way.
    rng = np.random.default_rng(0)
    base = rng.integers(-1, 50, size=(300, 200))
    L = base[rng.integers(0, len(base), size=2_000)]
    got = vote_patterns(L)
    expected, counts = np.unique(L, axis=0, return_counts=True)
    assert len(got) == len(expected)
    order = np.lexsort(got.patterns.T[::-1])
    np.testing.assert_array_equal(got.patterns[order], expected)
    np.testing.assert_array_equal(got.counts[order], counts)
    np.testing.assert_array_equal(got.patterns[got.inverse], L)
    # Patterns are numbered by first occurrence.
    assert got.inverse[0] == 0 and np.all(np.diff(np.unique(got.inverse, return_index=True)[1]) > 0)


def test_precision_never_exceeds_prior_over_coverage(semeval, trec):
    # P(y=c | vote c) * P(vote c) <= P(y=c), whatever EM would like.
    for ds in (semeval, trec):
        model = LabelModel().fit(ds.train.L)
        voted = model.coverage_ > 0
        bound = model.class_prior_[None, :] / np.where(voted, model.coverage_, 1.0)
        assert (model.precision_[voted] <= bound[voted] + 1e-9).all()


def test_broad_lf_loses_its_conflicts_on_semeval(semeval):
    # One LF votes Member-Collection (6) on 52% of train rows and is right on 55%; where it conflicts with the
    # Component-Whole LF (93% right) the default follows the narrow LF, majority vote flips a coin.
    L, test = semeval.train.L.values, semeval.test
    broad = int(np.argmax((L != -1).sum(axis=0)))
    assert set(np.unique(L[:, broad])) == {-1, 6} and (L[:, broad] != -1).mean() > 0.5
    model = LabelModel().fit(semeval.train.L)
    mv = MajorityVote().fit(semeval.train.L)
    conflict = (test.L.values[:, broad] == 6) & ((test.L.values != -1) & (test.L.values != 6)).any(axis=1)
    assert conflict.sum() > 50
    model_right = (model.predict(test.L)[conflict] == test.y[conflict]).mean()
    assert model_right > 0.85 > (mv.predict(test.L)[conflict] == test.y[conflict]).mean()
    # Without validation labels the default is above majority vote on the whole test split.
    assert model.score(test.L, test.y) > mv.score(test.L, test.y)


def test_shared_confusion_is_learnt_and_improves_trec(trec):
    with_confusion = fit_with_validation(LabelModel(), trec.train.L, trec.valid.L, trec.valid.y)
    without = fit_with_validation(LabelModel(confusion_strength=None), trec.train.L, trec.valid.L, trec.valid.y)
    conf = with_confusion.confusion_
    assert conf.shape == (6, 6) and np.allclose(np.diag(conf), 0) and np.allclose(conf.sum(axis=1), 1)
    assert without.confusion_ is None
    assert with_confusion.score(trec.test.L, trec.test.y) > without.score(trec.test.L, trec.test.y)


def test_temperature_changes_probabilities_not_predictions(youtube):
    model = fit_with_validation(LabelModel(), youtube.train.L, youtube.valid.L, youtube.valid.y)
    fitted_t = model.temperature
    probs, preds = model.predict_proba(youtube.valid.L), model.predict(youtube.valid.L)
    onehot = np.eye(2)[youtube.valid.y]
    brier = ((probs - onehot) ** 2).sum(axis=1).mean()
    for t in (0.5, 1.0, 2.0):
        other = model.set_params(temperature=t)
        np.testing.assert_array_equal(other.predict(youtube.valid.L), preds)
        # The fitted temperature has the lowest validation Brier score of all tried.
        assert ((other.predict_proba(youtube.valid.L) - onehot) ** 2).sum(axis=1).mean() >= brier - 1e-12
    model.set_params(temperature=fitted_t)
    # Rows with no vote keep the class prior at any temperature.
    none = (youtube.valid.L.values == -1).all(axis=1)
    np.testing.assert_allclose(probs[none], np.broadcast_to(model.class_prior_, probs[none].shape), atol=1e-9)


def test_f1_threshold_is_chosen_on_validation(youtube):
    from models import fit_threshold, score_predictions

    model = fit_with_validation(LabelModel(), youtube.train.L, youtube.valid.L, youtube.valid.y, metric="f1")
    # The validated fit tries a threshold and keeps it only on a clear lead on the validation rows.
    table = model.valid_table_
    assert "precision (own settings), threshold" in set(table["candidate"])
    chosen = table[table["chosen"]].iloc[0]
    if chosen["candidate"] == "precision (own settings)":
        assert model.threshold is None
    else:
        assert chosen["lead_z"] >= 1.96
    model.set_params(threshold=None)
    f1_without = score_predictions(youtube.valid.y, model.predict(youtube.valid.L), "f1")
    assert fit_threshold(model, youtube.valid.L, youtube.valid.y) == model.threshold
    assert model.threshold is not None
    assert score_predictions(youtube.valid.y, model.predict(youtube.valid.L), "f1") >= f1_without
    with pytest.raises(ValueError, match=r"'threshold' parameter of LabelModel must be a float in the range \[0.0, 1.0\] or None. Got 2"):
        LabelModel(threshold=2).fit(youtube.train.L)


def test_rows_without_votes_get_the_prior_with_abstention_evidence(youtube):
    # Abstentions are evidence only beside a vote: a row nobody voted on still gets exactly uncovered_prior_,
    # whatever the temperature.
    model = LabelModel(abstain_evidence=True, temperature=0.5).fit(youtube.train.L)
    blank = model.predict_proba(np.full((2, 10), -1))
    np.testing.assert_allclose(blank, np.broadcast_to(model.uncovered_prior_, blank.shape))
