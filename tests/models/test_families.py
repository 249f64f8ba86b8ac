"""LabelModel's families, LF groups, class-prior warning and validated fit, on the bundled WRENCH data."""

import warnings

import numpy as np
import pytest

from models import LabelModel, class_balance_from_labels, fit_with_validation
from models.family_choice import clear_lead, held_out_agreement, paired_z
from models.lf_groups import find_lf_groups, group_vote_weights
from labeling import vote_patterns


def _copies(L: np.ndarray, column: int, n: int) -> np.ndarray:
    return np.hstack([L] + [L[:, [column]]] * n)


def test_copies_of_an_lf_are_found_and_count_once(youtube):
    L = np.asarray(youtube.train.L)
    copied = _copies(L, 0, 4)  # lf_0 five times
    model = LabelModel(family="precision").fit(copied)
    groups = model.lf_groups_
    assert len(set(groups[[0, 10, 11, 12, 13]])) == 1
    assert len(np.unique(groups)) == L.shape[1]  # the original LFs are not near-duplicates of each other
    plain = LabelModel(family="precision").fit(L)
    # Counted once, the copies leave the posterior where the single LF puts it; counted five times they would not.
    np.testing.assert_allclose(model.predict_proba(copied), plain.predict_proba(L), atol=0.05)
    ungrouped = LabelModel(family="precision").fit(copied, lf_groups=None)
    assert (ungrouped.lf_groups_ == groups).all()  # detection does not need declared groups


def test_declared_groups_join_lfs_the_votes_do_not_link(youtube):
    L = np.asarray(youtube.train.L)
    model = LabelModel(family="precision").fit(L, lf_groups=["a", "a", None, None, None, None, None, None, "b", "b"])
    g = model.lf_groups_
    assert g[0] == g[1] and g[8] == g[9] and g[0] != g[8] and len(np.unique(g)) == 8
    assert not np.allclose(model.predict_proba(L), LabelModel(family="precision").fit(L).predict_proba(L))
    with pytest.raises(ValueError, match=r"lf_groups has 3 entries; expected one per LF column \(10\)"):
        LabelModel().fit(L, lf_groups=["a", "b", "c"])
    with pytest.raises(TypeError, match=r"lf_groups\[0\] is \['x'\], which is not hashable"):
        LabelModel().fit(L, lf_groups=[["x"]] + [None] * 9)


def test_group_vote_weights_share_a_row_within_a_group():
    P = np.array([[1, 1, -1, 0], [1, -1, -1, -1], [-1, -1, -1, -1]])
    w = group_vote_weights(P, np.array([0, 0, 0, 1]))
    np.testing.assert_allclose(w, [[0.5, 0.5, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]])
    groups = find_lf_groups(P, np.ones(3), 2)
    assert groups.tolist() == [0, 1, 2, 3]  # LF 0 and LF 1 share one of LF 0's two votes: Jaccard 0.5
    assert find_lf_groups(P, np.ones(3), cardinality=2, threshold=0.5).tolist() == [0, 0, 1, 2]


def test_without_labels_the_precision_family_stays_on_wrench(youtube, trec):
    # On WRENCH's keyword LFs no other family predicts held-out LFs' votes clearly better.
    for ds in (youtube, trec):
        auto = LabelModel().fit(ds.train.L)
        assert auto.family_ == "precision"
        assert set(auto.family_scores_) == {"precision", "confusion", "majority"}
        fixed = LabelModel(family="precision").fit(ds.train.L)
        np.testing.assert_allclose(auto.predict_proba(ds.test.L), fixed.predict_proba(ds.test.L))


def test_held_out_agreement_ranks_a_better_model_higher(youtube):
    L = np.asarray(youtube.train.L)
    vp = vote_patterns(L)
    counts = vp.counts.astype(float)
    groups = np.arange(L.shape[1])
    good = LabelModel(family="precision").fit(L)
    # The same model with its vote classes swapped predicts the opposite class everywhere.
    agree_good, w = held_out_agreement(good._predict_proba, vp.patterns, counts, groups)
    agree_bad, w2 = held_out_agreement(lambda P: good._predict_proba(P)[:, ::-1], vp.patterns, counts, groups)
    assert (w == w2).all() and paired_z(agree_good - agree_bad, w) > 4


def test_confusion_family_learns_an_lf_worse_than_chance(youtube):
    # lf_1 of youtube votes SPAM; its flipped copy votes HAM exactly where lf_1 votes SPAM, so it is right only
    # where lf_1 is wrong. The confusion family reads it as evidence *for* SPAM; the precision family cannot.
    L = np.asarray(youtube.train.L).astype(np.int64)
    flipped = np.where(L[:, 1] >= 0, 1 - L[:, 1], -1)
    L = np.column_stack([L, flipped])
    model = LabelModel(family="confusion").fit(L)
    conf = model.confusion_fit_.confusion[-1]  # (true class, vote or abstain) of the flipped LF
    assert conf[1, 0] > 0.5 > conf[0, 0]
    y = youtube.train.y
    right = (y[flipped == 0] == 0).mean()
    assert right < 0.2  # the flipped LF really is worse than chance


def test_class_prior_warning_when_a_class_gets_no_vote(youtube):
    L = np.asarray(youtube.train.L).copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LabelModel().fit(L)  # WRENCH youtube identifies its class balance: no warning
    L[L == 0] = -1
    with pytest.warns(UserWarning, match="no LF votes class 0"):
        LabelModel(cardinality=2).fit(L)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LabelModel(cardinality=2).fit(L, class_balance=[0.5, 0.5])  # a given balance needs no warning


def test_class_prior_warning_when_no_two_lfs_meet():
    # Each row has one vote: nothing compares LFs, so their accuracies and the balance are not identified.
    L = np.full((300, 3), -1)
    L[np.arange(300), np.arange(300) % 3] = np.arange(300) % 2
    with pytest.warns(UserWarning, match="have votes of two independent LFs"):
        LabelModel().fit(L)


def test_validated_fit_is_the_estimator_s_own(youtube):
    ds = youtube
    model = LabelModel().fit(ds.train.L, L_valid=ds.valid.L, y_valid=ds.valid.y)
    table = model.valid_table_
    assert list(table["candidate"])[0] == "precision (own settings)"
    assert table["chosen"].sum() == 1
    # A candidate other than the estimator's own settings is only chosen with a clear lead.
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["candidate"] == "precision (own settings)" or chosen["lead_z"] >= 1.96
    via_function = fit_with_validation(LabelModel(), ds.train.L, ds.valid.L, ds.valid.y)
    np.testing.assert_allclose(model.predict_proba(ds.test.L), via_function.predict_proba(ds.test.L))
    assert model.score(ds.test.L, ds.test.y) >= 0.864
    # The chosen settings are the estimator's parameters.
    assert model.get_params()["temperature"] != 1.0 or model.family_ != "precision"
    with pytest.raises(ValueError, match="L_valid and y_valid go together"):
        LabelModel().fit(ds.train.L, L_valid=ds.valid.L)
    with pytest.raises(ValueError, match=r"y_valid\[0\] is 7; expected -1 or 0..1"):
        LabelModel().fit(ds.train.L, L_valid=ds.valid.L, y_valid=np.full(len(ds.valid.y), 7))


def test_clear_lead_needs_more_than_a_few_rows():
    y = np.array([0, 1] * 100)
    a = y.copy()
    a[:20] = 1 - a[:20]  # 90% right
    b = y.copy()
    b[:18] = 1 - b[:18]  # 91% right: two rows better
    assert clear_lead(y, a, b, "accuracy") < 1.96
    c = y.copy()  # 100% right
    assert clear_lead(y, a, c, "accuracy") > 1.96
    assert clear_lead(y, a, c, "f1") > 1.96


def test_rows_without_a_vote_get_the_validation_rows_balance(youtube):
    ds = youtube
    # Two LFs leave most rows without a vote; which classes those rows hold is only seen on labelled rows.
    L, Lv, Lt = (np.asarray(s.L)[:, :2] for s in (ds.train, ds.valid, ds.test))
    silent = (Lv == -1).all(axis=1)
    assert silent.sum() > 40
    plain = LabelModel().fit(L)
    model = LabelModel().fit(L, L_valid=Lv, y_valid=ds.valid.y)
    observed = np.bincount(ds.valid.y[silent], minlength=2) / silent.sum()
    # Between the class prior and what the labelled rows without a vote show, closer to the latter.
    assert np.abs(model.uncovered_prior_ - observed).max() < np.abs(model.class_prior_ - observed).max()
    np.testing.assert_allclose(model.predict_proba(np.full((1, 2), -1))[0], model.uncovered_prior_)
    unc = (Lt == -1).all(axis=1)
    assert np.mean(model.predict(Lt)[unc] == ds.test.y[unc]) >= np.mean(ds.test.y[unc] == plain.class_prior_.argmax())



def test_validated_fit_keeps_the_label_free_fit_when_validation_shows_it_is_better(trec):
    # trec/sub10 of the generalisation suite: 40 of trec's 68 LFs. The validation class balance the incumbent
    # fixes misleads here; the fit made from the votes alone wins on the validation rows by a clear lead.
    cols = [2, 3, 4, 7, 8, 10, 11, 13, 16, 17, 18, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 36, 37, 38,
            41, 43, 46, 48, 50, 51, 52, 53, 55, 57, 61, 63, 66, 67]
    L, Lv, Lt = (np.asarray(s.L)[:, cols] for s in (trec.train, trec.valid, trec.test))
    model = LabelModel().fit(L, L_valid=Lv, y_valid=trec.valid.y)
    table = model.valid_table_
    assert list(table["candidate"])[-1] == "as fit without validation labels"
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["candidate"] == "as fit without validation labels" and chosen["lead_z"] >= 1.96
    plain = LabelModel().fit(L)
    voted = (Lt != -1).any(axis=1)
    np.testing.assert_array_equal(model.predict(Lt)[voted], plain.predict(Lt)[voted])
    # The incumbent it replaced is worse on the test split too.
    own = LabelModel(detect_groups=False, family="precision").fit(
        L, class_balance=class_balance_from_labels(trec.valid.y, 6))
    assert model.score(Lt, trec.test.y) > own.score(Lt, trec.test.y) + 0.02


def test_identical_gains_on_a_few_entries_are_not_a_clear_lead():
    # Zero sample variance says nothing: n entries all on one side are a sign test (P = 2**-n).
    assert paired_z(np.full(2, 0.5), np.ones(2)) < 1.0
    assert paired_z(np.full(5, 0.5), np.ones(5)) < 1.96 < paired_z(np.full(6, 0.5), np.ones(6))
    assert paired_z(np.full(6, -0.5), np.ones(6)) < -1.96


def test_mirror_image_votes_give_the_same_fit_in_any_column_order():
    # These votes support two solutions that swap the classes equally; which one EM reaches must not depend
    # on the order of the LF columns (float noise would otherwise choose).
    L = np.array([[0, 0, 1, 1], [1, 1, 0, -1], [1, -1, 0, 0]])
    for family in ("auto", "confusion"):
        probs = LabelModel(family=family).fit(L).predict_proba(L)
        for perm in ([3, 1, 2, 0], [1, 0, 3, 2], [2, 3, 0, 1]):
            other = LabelModel(family=family).fit(L[:, perm]).predict_proba(L[:, perm])
            np.testing.assert_allclose(other, probs, atol=1e-9)
