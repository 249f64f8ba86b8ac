"""End model on probabilistic labels, metrics and calibration."""

import numpy as np
import pandas as pd
import pytest

from labeling import covered_rows
from models import (
    EndModel,
    LabelModel,
    MajorityVote,
    NotFittedError,
    classification_report,
    confusion_matrix,
    expected_calibration_error,
    fit_with_validation,
    reliability_table,
    soft_label_rows,
)


def test_end_model_on_youtube_soft_labels(youtube):
    lm = fit_with_validation(LabelModel(), youtube.train.L, youtube.valid.L, youtube.valid.y)
    probs = lm.predict_proba(youtube.train.L)
    em = EndModel().fit(youtube.train.data["text"], probs, L=youtube.train.L)
    assert em.n_train_rows_ == int(covered_rows(youtube.train.L).sum())
    # Snorkel's spam tutorial end model reaches 94.4.
    assert em.score(youtube.test.data["text"], youtube.test.y) >= 0.944
    report = em.report(youtube.test.data["text"], youtube.test.y, class_names=["HAM", "SPAM"])
    assert list(report.index) == ["HAM", "SPAM", "macro", "accuracy"]
    assert report.loc["macro", "f1"] > 0.9
    cm = em.confusion(youtube.test.data["text"], youtube.test.y)
    assert cm.shape == (2, 3) and cm.sum() == 250 and cm[:, 2].sum() == 0
    balanced = EndModel(class_weight="balanced").fit(youtube.train.data["text"], probs, L=youtube.train.L)
    assert balanced.score(youtube.test.data["text"], youtube.test.y) >= 0.92


def test_review_loop_configuration_trains_on_hard_labels_and_weighs_reviews(youtube):
    texts = youtube.train.data["text"].astype(str).tolist()
    probs = LabelModel(cardinality=2).fit(youtube.train.L).predict_proba(youtube.train.L)
    em = EndModel.for_review_loop().fit(texts, probs, L=youtube.train.L)
    assert len(em.vectorizers_) == 2  # word and character n-grams
    assert em.score(youtube.test.data["text"], youtube.test.y) >= 0.9
    # A reviewed row weighs human_weight: at 3, flipping 30 labels of reviewed rows moves the model more than
    # flipping them on unreviewed rows (at the default 1 the two are the same fit).
    em = EndModel.for_review_loop(human_weight=3.0).fit(texts, probs, L=youtube.train.L)
    gold = np.asarray(youtube.train.y)
    rows = np.flatnonzero(covered_rows(youtube.train.L))[:30]
    flipped = probs.copy()
    flipped[rows] = np.eye(2)[1 - gold[rows]]
    reviewed = np.zeros(len(texts), bool)
    reviewed[rows] = True
    X = em.transform([texts[i] for i in rows])
    keep = covered_rows(youtube.train.L)
    as_votes = em.train_classifier(em.transform(texts), flipped, keep=keep, human=np.zeros(len(texts), bool))
    as_reviews = em.train_classifier(em.transform(texts), flipped, keep=keep, human=reviewed)
    follows = lambda clf: (clf.predict(X) == 1 - gold[rows]).mean()  # noqa: E731
    assert follows(as_reviews) > follows(as_votes)


def test_end_model_leaves_out_uncovered_rows_unless_reviewed(youtube):
    texts = youtube.train.data["text"].tolist()
    L = youtube.train.L
    probs = MajorityVote(cardinality=2).fit(L).predict_proba(L)
    covered = covered_rows(L)
    n_uncovered = int((~covered).sum())
    assert 0 < n_uncovered < len(texts)

    em = EndModel().fit(texts, probs, L=L)
    assert em.n_train_rows_ == int(covered.sum()) and em.n_uncovered_dropped_ == n_uncovered
    # Left out means not seen at all: the same fit as on the covered rows alone.
    alone = EndModel().fit([t for t, c in zip(texts, covered) if c], probs[covered])
    np.testing.assert_allclose(em.predict_proba(texts[:50]), alone.predict_proba(texts[:50]))

    # Five uncovered rows labelled by a person: kept, with their one-hot label.
    reviewed = np.zeros(len(texts), dtype=bool)
    reviewed[np.flatnonzero(~covered)[:5]] = True
    gold = np.asarray(youtube.train.y)
    with_reviews = probs.copy()
    with_reviews[reviewed] = np.eye(2)[gold[reviewed]]
    em_h = EndModel().fit(texts, with_reviews, L=L, reviewed=reviewed)
    assert em_h.n_train_rows_ == int(covered.sum()) + 5 and em_h.n_uncovered_dropped_ == n_uncovered - 5

    everything = EndModel().fit(texts, probs, L=L, drop_uncovered=False)
    assert everything.n_train_rows_ == len(texts) and everything.n_uncovered_dropped_ == 0
    with pytest.raises(ValueError, match=r"reviewed must be a boolean mask with one entry per text \(4\)"):
        EndModel().fit(texts[:4], probs[:4], L=L.values[:4], reviewed=[0, 1, 0, 0])


def test_end_model_errors():
    em = EndModel()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        em.predict(["x"])
    with pytest.raises(ValueError, match=r"probs must have shape \(2, n_classes\)"):
        em.fit(["a", "b"], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="Every row has no LF vote"):
        em.fit(["a", "b"], [[0.5, 0.5], [0.5, 0.5]], L=[[-1], [-1]])
    with pytest.raises(ValueError, match=r"'class_weight' parameter of EndModel must be a str among \{'balanced'\} or None. Got 'x'"):
        EndModel(class_weight="x").fit(["spam money", "nice song"], [[0, 1], [1, 0]])
    with pytest.raises(TypeError, match="single string"):
        EndModel().fit(["spam money", "nice song"], [[0, 1], [1, 0]]).predict("money")


def test_soft_label_rows_keep_the_mass():
    rows, labels, weights = soft_label_rows([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    assert rows.tolist() == [0, 0, 1] and labels.tolist() == [0, 1, 0]
    np.testing.assert_allclose(np.bincount(rows, weights=weights), 1.0)


def test_confusion_and_report():
    y, p = [0, 0, 1, 2, 2], [0, 1, 1, 2, -1]
    assert confusion_matrix(y, p).tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]]
    report = classification_report(y, p)
    assert report.loc["0", "precision"] == 1.0 and report.loc["0", "recall"] == 0.5
    assert report.loc["2", "recall"] == 0.5 and report.loc["accuracy", "f1"] == pytest.approx(0.6)
    assert report.loc["macro", "support"] == 5


def test_expected_calibration_error():
    # Perfectly calibrated: 80% confident and right 4 times out of 5.
    probs = np.tile([0.8, 0.2], (5, 1))
    assert expected_calibration_error(probs, [0, 0, 0, 0, 1]) == pytest.approx(0.0)
    assert expected_calibration_error(np.tile([1.0, 0.0], (4, 1)), [1, 1, 1, 1]) == pytest.approx(1.0)
    table = reliability_table(probs, [0, 0, 0, 0, 1])
    assert isinstance(table, pd.DataFrame) and table["count"].sum() == 5
    with pytest.raises(ValueError, match="n_rows = len"):
        expected_calibration_error(probs, [0, 1])
