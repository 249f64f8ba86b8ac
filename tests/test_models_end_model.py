"""End model on probabilistic labels, metrics and calibration."""

import numpy as np
import pandas as pd
import pytest

from models import (
    EndModel,
    LabelModel,
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
    assert em.n_train_rows_ == int((youtube.train.L.values != -1).any(axis=1).sum())
    # Snorkel's spam tutorial end model reaches 94.4.
    assert em.score(youtube.test.data["text"], youtube.test.y) >= 0.944
    report = em.report(youtube.test.data["text"], youtube.test.y, label_names=["HAM", "SPAM"])
    assert list(report.index) == ["HAM", "SPAM", "macro", "accuracy"]
    assert report.loc["macro", "f1"] > 0.9
    cm = em.confusion(youtube.test.data["text"], youtube.test.y)
    assert cm.shape == (2, 3) and cm.sum() == 250 and cm[:, 2].sum() == 0
    balanced = EndModel(class_weight="balanced").fit(youtube.train.data["text"], probs, L=youtube.train.L)
    assert balanced.score(youtube.test.data["text"], youtube.test.y) >= 0.92


def test_end_model_errors():
    em = EndModel()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        em.predict(["x"])
    with pytest.raises(ValueError, match=r"probs must have shape \(2, n_classes\)"):
        em.fit(["a", "b"], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="Every row has no LF vote"):
        em.fit(["a", "b"], [[0.5, 0.5], [0.5, 0.5]], L=[[-1], [-1]])
    with pytest.raises(ValueError, match="class_weight='x' is not one of"):
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
