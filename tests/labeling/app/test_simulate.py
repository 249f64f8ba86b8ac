"""The simulation's final classifier: end model x label model x reviewed-rows model, on real data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from labeling.app.simulation import leading_token_leak, simulate
from labeling.review import ActiveLoop, ReviewStore
from models import combine
from models.final import (
    FinalClassifier, _best_review_weight, _clearly_better, end_model_agreement, fit_review_model, min_representative,
    other_experts,
    preferred_label_model_weight, review_probabilities,
)
from models import EndModel
from models.end_model import class_probabilities, stack_features
from labeling.core.matrix import ABSTAIN, covered_rows
from models import LabelModel


def texts(split):
    return split.data["text"].astype(str).tolist()


def test_trec_test_split_carries_its_fine_label_as_first_token(trec, youtube):
    # WRENCH's trec test texts read "city What county is ...": a leak the simulation must see.
    assert leading_token_leak(texts(trec.train), texts(trec.test)) > 0.95
    assert leading_token_leak(texts(youtube.train), texts(youtube.test)) < 0.5
    assert leading_token_leak(texts(trec.train), texts(trec.valid)) < 0.05


def test_simulate_strips_the_leaked_prefix_with_a_warning(trec):
    from tests.conftest import DATA

    with pytest.warns(UserWarning, match="first token"):
        auto = simulate(DATA / "trec", strategies=["random"], budget=10, batch_size=10, seeds=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = simulate(DATA / "trec", strategies=["random"], budget=10, batch_size=10, seeds=1,
                        strip_test_prefix=False)
    # The label model reads votes only; the end model gains from reading the gold prefix.
    assert auto["lm_acc"].tolist() == kept["lm_acc"].tolist()
    assert (kept["end_acc"] >= auto["end_acc"]).all() and (kept["end_acc"] > auto["end_acc"]).any()


def features(train_texts, test_texts, em=None):
    vectorizers = (em or EndModel.for_review_loop()).make_vectorizers()
    return stack_features(vectorizers, train_texts, fit=True), stack_features(vectorizers, test_texts)


def test_review_proba_is_uniform_until_two_classes_and_then_shrinks_toward_uniform(youtube):
    X_train, X_test = features(texts(youtube.train), texts(youtube.test))
    y = np.full(len(youtube.train), ABSTAIN)
    y[:5] = 1
    assert np.allclose(review_probabilities(*fit_review_model(X_train, y, prior=25.0), X_test, 2), 0.5)
    gold = np.asarray(youtube.train.y)
    some = np.random.default_rng(0).choice(len(gold), 100, replace=False)
    y[:5] = ABSTAIN
    y[some] = gold[some]
    p = review_probabilities(*fit_review_model(X_train, y, prior=25.0), X_test, 2)
    lam = 100 / 125
    assert np.allclose(p.sum(1), 1) and p.max() <= lam + (1 - lam) / 2 + 1e-9 and p.min() >= (1 - lam) / 2 - 1e-9
    # 100 gold labels alone already separate spam from ham.
    assert (p.argmax(1) == youtube.test.y).mean() > 0.8


def test_final_classifier_checks_its_input(youtube):
    texts_ = texts(youtube.train)[:50]
    with pytest.raises(RuntimeError, match="not fitted"):
        FinalClassifier().predict(texts_)
    with pytest.raises(ValueError, match="one row of each per text"):
        FinalClassifier().fit(texts_, np.full((49, 2), 0.5), np.full(50, -1))
    with pytest.raises(ValueError, match="one row of each per text"):
        FinalClassifier().fit(texts_, np.full(50, 0.5), np.full(50, -1))


@pytest.mark.parametrize("param, value, allowed", [
    ("label_model_weight", "x", r"a float in the range \[0.0, inf\) or a str among \{'auto'\}"),
    ("label_model_weight", -0.5, r"a float in the range \[0.0, inf\) or a str among \{'auto'\}"),
    ("review_C", 0.0, r"a float in the range \(0.0, inf\)"),
    ("review_prior", -1.0, r"a float in the range \[0.0, inf\)"),
    ("random_state", "seed", r"an int in the range \[0, inf\) or None"),
    ("label_model", "mv", r"an object implementing 'predict_proba' or None"),
])
def test_final_classifier_refuses_a_bad_parameter_before_vectorising(param, value, allowed):
    clf = FinalClassifier(**{param: value})
    message = rf"The '{param}' parameter of FinalClassifier must be {allowed}"
    with pytest.raises(ValueError, match=message):
        clf.fit(["a text", "another"], np.full((2, 2), 0.5), np.full(2, ABSTAIN))
    assert not hasattr(clf, "vectorizers_") and not hasattr(clf, "end_")  # refused before any work: unfitted
    with pytest.raises(ValueError, match=message):
        clf.fit_features(np.zeros((2, 1)), np.full((2, 2), 0.5), np.full(2, ABSTAIN), np.ones(2, bool))


def test_final_classifier_leaves_out_uncovered_rows_unless_reviewed(youtube):
    texts_ = texts(youtube.train)
    L = np.asarray(youtube.train.L)
    covered = covered_rows(L)
    probs = np.where(covered[:, None], np.eye(2)[np.asarray(youtube.train.y)], 0.5)
    y = np.full(len(texts_), ABSTAIN)
    reviewed = np.flatnonzero(~covered)[:4]
    y[reviewed] = np.asarray(youtube.train.y)[reviewed]
    clf = FinalClassifier().fit(texts_, probs, y, L)
    assert clf.n_uncovered_dropped_ == int((~covered).sum()) - 4 > 0  # reviewed rows stay
    assert FinalClassifier().fit(texts_, probs, y, L, drop_uncovered=False).n_uncovered_dropped_ == 0
    assert FinalClassifier().fit(texts_, probs, y).n_uncovered_dropped_ == 0  # no votes, no way to tell
    with pytest.raises(ValueError, match="L has 10 rows but"):
        FinalClassifier().fit(texts_, probs, y, L[:10])


def test_combine_leaves_the_label_model_out_where_no_lf_fired():
    end = np.array([[0.6, 0.4], [0.6, 0.4]])
    lm = np.array([[0.1, 0.9], [0.1, 0.9]])
    L = np.array([[1, -1], [-1, -1]])
    out = combine(end, lm, L)
    assert out[0].argmax() == 1 and np.allclose(out[1], end[1])
    review = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert combine(end, lm, L, review)[1].argmax() == 1


def test_reviewed_rows_model_never_lowers_the_combination_on_trec(trec):
    """100 reviews where the LFs disagree: the third expert gets the weight its held-out reviews support."""
    train, test = trec.train, trec.test
    gold = np.asarray(train.y)
    store = ReviewStore(":memory:", class_names=trec.class_names)
    loop = ActiveLoop(LabelModel(cardinality=6), train.data, train.L, strategy="lf_disagreement", store=store,
                      batch_size=25, random_state=0)
    pos = {sid: i for i, sid in enumerate(loop.ids)}
    loop.run(lambda ids: [int(gold[pos[i]]) for i in ids], budget=100)
    em = EndModel.for_review_loop()
    test_texts = [t.split(maxsplit=1)[1] for t in texts(test)]  # without the leaked fine label
    X_train, X_test = features(texts(train), test_texts, em)
    y_h = loop.human_labels()
    human = y_h != ABSTAIN
    covered = covered_rows(train.L)
    end_clf = em.train_classifier(X_train, loop.predict_proba(), keep=covered | human, human=human)
    end = class_probabilities(end_clf, X_test, 6)
    lm = np.asarray(loop.model.predict_proba(np.asarray(test.L)))
    two = (combine(end, lm, np.asarray(test.L)).argmax(1) == test.y).mean()
    base = other_experts(end_clf, X_train, 6, loop.model.predict_proba(np.asarray(train.L)), np.asarray(train.L))
    clf, weight = fit_review_model(X_train, y_h, base)
    assert 0.0 <= weight <= 100 / 125  # at most the n / (n + review_prior) cap
    three = (combine(end, lm, np.asarray(test.L), review_probabilities(clf, weight, X_test, 6))
             .argmax(1) == test.y).mean()
    # Reviews never hurt: the held-out choice of weight keeps the product at least where the two experts are.
    assert three >= two, (two, three)
    # The loop's hand-over classifier is the same product of experts (with the label model's exponent fixed at 1,
    # as above).
    final = loop.final_classifier(label_model_weight=1.0)
    assert (final.predict(test_texts, L=np.asarray(test.L)) == test.y).mean() == pytest.approx(three, abs=0.004)
    text_only = (final.predict(test_texts) == test.y).mean()
    # Without the test rows' votes it still works; with the default label model's labels the text experts
    # alone reach what the votes add (67.0 both), so the votes may not lower it.
    assert 0.5 < text_only <= three


def test_label_model_weight_zero_leaves_the_label_model_out_of_the_product(youtube):
    train, test = youtube.train, youtube.test
    L, L_test = np.asarray(train.L), np.asarray(test.L)
    lm = LabelModel(cardinality=2).fit(L)
    probs = lm.predict_proba(L)
    y = np.full(len(probs), ABSTAIN)
    y[:40] = np.asarray(train.y)[:40]
    texts_, test_texts = texts(train), texts(test)
    with_lm = FinalClassifier(lm, label_model_weight=1.0).fit(texts_, probs, y, L)
    without = FinalClassifier(lm, label_model_weight=0.0).fit(texts_, probs, y, L)
    X = without._features(test_texts)
    end = class_probabilities(without.end_, X, 2)
    review = review_probabilities(without.review_, without.review_weight_, X, 2)
    # Weight 0: the votes change nothing, the product is end model x reviewed-rows model.
    np.testing.assert_allclose(without.predict_proba(test_texts, L=L_test), combine(end, np.ones_like(end), L_test, review))
    np.testing.assert_allclose(without.predict_proba(test_texts, L=L_test), without.predict_proba(test_texts))
    # Weight 1 lets the label model move the rows where an LF fired.
    moved = np.abs(with_lm.predict_proba(test_texts, L=L_test) - with_lm.predict_proba(test_texts)).max(axis=1)
    covered = covered_rows(L_test)
    assert (moved[covered] > 1e-6).mean() > 0.9 and np.allclose(moved[~covered], 0)
    assert (without.predict(test_texts, L=L_test) == test.y).mean() > 0.85


def test_auto_label_model_weight_is_chosen_on_representative_reviews_only(trec):
    train, test = trec.train, trec.test
    L, L_test = np.asarray(train.L), np.asarray(test.L)
    y_gold = np.asarray(train.y)
    rng = np.random.default_rng(0)
    reviewed = rng.choice(len(y_gold), 60, replace=False)
    y = np.full(len(y_gold), ABSTAIN)
    y[reviewed] = y_gold[reviewed]
    lm = LabelModel(cardinality=6).fit(L, y)
    probs = lm.predict_proba(L)
    probs[reviewed] = np.eye(6)[y_gold[reviewed]]
    texts_ = texts(train)
    representative = np.zeros(len(y), dtype=bool)
    representative[reviewed] = True
    # Without rows picked independently of the model nothing is judged: the preferred exponent, review_C as given.
    plain = FinalClassifier(lm).fit(texts_, probs, y, L)
    assert plain.label_model_weight_ == preferred_label_model_weight(plain.end_model_agreement_)
    assert plain.review_C_ == 10.0
    few = representative & (np.cumsum(representative) < min_representative(6))
    fit_few = FinalClassifier(lm).fit(texts_, probs, y, L, representative=few)
    assert fit_few.label_model_weight_ == plain.label_model_weight_ and fit_few.review_C_ == 10.0
    auto = FinalClassifier(lm).fit(texts_, probs, y, L, representative=representative)
    assert auto.label_model_weight_ in (0.0, 0.5, 1.0) and auto.review_C_ in (10.0, 100.0)
    # Within the n / (n + review_prior) cap, or in full where the held-out reviews clearly support it.
    assert 0.0 <= auto.review_weight_ <= 60 / 85 + 1e-12 or auto.review_weight_ == 1.0
    # trec's end model reproduces the label model's class on most rows (it learns its mistakes too), so
    # counting the LFs twice overstates them: the exponent is below 1.
    assert auto.end_model_agreement_ >= 0.9 and auto.label_model_weight_ < 1.0
    assert auto.predict_proba(texts(test)[:50], L=L_test[:50]).shape == (50, 6)
    with pytest.raises(ValueError, match="'label_model_weight' parameter of FinalClassifier must be"):
        FinalClassifier(lm, label_model_weight="x").fit(texts_, probs, y, L)


@pytest.mark.parametrize("name, expected", [("youtube", 0.0), ("semeval", 1.0)])
def test_preferred_exponent_follows_whether_the_end_model_reproduces_the_label_model(name, expected, request):
    ds = request.getfixturevalue(name)
    train, test = ds.train, ds.test
    L, L_test = np.asarray(train.L), np.asarray(test.L)
    k = ds.cardinality
    lm = LabelModel(cardinality=k).fit(L)
    probs = lm.predict_proba(L)
    em = EndModel.for_review_loop()
    X, X_test = features(texts(train), texts(test), em)
    agreement = end_model_agreement(em, X, probs, covered_rows(L))
    assert 0.0 < agreement <= 1.0
    # The same rows and seed give the same measure.
    assert end_model_agreement(em, X, probs, covered_rows(L)) == agreement
    assert preferred_label_model_weight(agreement) == expected
    # The preference is the better exponent on the test split, with no review at all: youtube's end model reads
    # the spam cues itself; semeval's cannot learn the relation patterns its LFs encode.
    end = class_probabilities(em.train_classifier(X, probs, keep=covered_rows(L), human=np.zeros(len(L), bool)), X_test, k)
    acc = {w: (combine(end, lm.predict_proba(L_test), L_test, label_model_weight=w).argmax(1) == test.y).mean()
           for w in (0.0, 1.0)}
    assert acc[expected] > acc[1.0 - expected]
    fitted = FinalClassifier(lm, end_model=em).fit(texts(train), probs, np.full(len(L), ABSTAIN), L)
    assert fitted.end_model_agreement_ == pytest.approx(agreement, abs=0.03)
    assert fitted.label_model_weight_ == expected


def test_a_one_row_lead_is_not_clearly_better():
    a = np.array([True] * 30 + [True, False, False])
    b = np.array([True] * 30 + [False, False, False])
    assert not _clearly_better(a, b)            # 1 row to 0: a lead of one standard error at most
    assert _clearly_better(np.r_[a, True], np.r_[b, False])   # 2 to 0
    assert not _clearly_better(np.r_[a, True, False], np.r_[b, False, True])  # 2 to 1
    assert not _clearly_better(b, a) and not _clearly_better(a, a)


def test_reviewed_rows_model_joins_on_a_clear_lead_and_may_count_in_full():
    truth = np.zeros(40, dtype=int)
    # The other experts get 34 rows right and are confidently wrong on 6; the reviewed-rows model is sure of all.
    base = np.tile([0.8, 0.2], (40, 1))
    base[:6] = [0.1, 0.9]
    held = np.tile([0.99, 0.01], (40, 1))
    cap = 0.5
    # Only full weight overrules a 0.9 mistake (at the cap: 0.1 x 0.745 < 0.9 x 0.255), and six rows to none is clear.
    assert _best_review_weight(base, held, truth, cap) == 1.0
    # Right where the others are already right, and wrong on one more row: no lead, so it stays out.
    held_worse = held.copy()
    held_worse[:7] = [0.01, 0.99]
    assert _best_review_weight(base, held_worse, truth, cap) == 0.0
    # One row gained is no clear lead either.
    one = base.copy()
    one[1:6] = [0.8, 0.2]
    assert _best_review_weight(one, held, truth, cap) == 0.0


def test_loop_marks_rows_picked_without_the_model(youtube, tmp_path):
    train = youtube.train
    for strategy, audit, expected in (("random", 0.0, 10), ("typical", 0.0, 10), ("lf_disagreement", 0.3, 3),
                                      ("lf_disagreement", 0.0, 0)):
        path = tmp_path / f"{strategy}-{audit}.sqlite"
        store = ReviewStore(path, class_names=["HAM", "SPAM"])
        loop = ActiveLoop(LabelModel(cardinality=2), train.data, train.L, strategy=strategy, store=store,
                          batch_size=10, audit_fraction=audit, random_state=0)
        batch = loop.next_batch()
        mask = loop.representative_rows()
        in_batch = np.zeros(len(mask), dtype=bool)
        in_batch[[loop.ids.index(str(i)) for i in batch.index]] = True
        assert mask.sum() == expected and not (mask & ~in_batch).any(), strategy
        store.close()
        # A loop reopened on the store knows them again.
        reopened = ActiveLoop(LabelModel(cardinality=2), train.data, train.L, strategy="lf_disagreement",
                              store=ReviewStore(path), batch_size=10)
        np.testing.assert_array_equal(reopened.representative_rows(), mask)
