"""Metrics with abstentions: a -1 prediction is no class, so it lowers recall and never precision."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from models import MajorityVote
from models.metrics import accuracy, precision_recall_f1, score_predictions


def test_binary_scores_accept_abstentions():
    # Under the default average="binary" a -1 prediction must not turn the target into a multiclass one.
    p, r, f = precision_recall_f1([1, 0, 1, 0], [1, -1, 0, 0])
    assert (p, r) == (1.0, 0.5) and f == pytest.approx(2 / 3)
    # An abstention on a positive row is a missed positive: recall falls, precision does not.
    p, r, _ = precision_recall_f1([1, 1, 1, 0], [1, 1, -1, 1])
    assert p == pytest.approx(2 / 3) and r == pytest.approx(2 / 3)
    assert score_predictions([1, 0, 1, 0], [1, -1, -1, 0], "f1") == pytest.approx(2 / 3)
    assert score_predictions([1, 0, 1, 0], [1, -1, -1, 0], "f1_macro") > 0


def test_binary_scores_equal_sklearn_without_abstentions(youtube):
    pred = MajorityVote(cardinality=2).fit(youtube.train.L).predict(youtube.test.L, tie_break="first")
    ours = precision_recall_f1(youtube.test.y, pred)
    theirs = precision_recall_fscore_support(youtube.test.y, pred, average="binary", zero_division=0)[:3]
    np.testing.assert_allclose(ours, theirs)


def test_abstaining_label_model_is_scored_on_real_votes(youtube):
    model = MajorityVote(cardinality=2).fit(youtube.train.L)
    pred = model.predict(youtube.test.L, tie_break="abstain")
    assert (pred == -1).any()
    y = youtube.test.y
    p, r, f = precision_recall_f1(y, pred)
    positive = pred == 1
    assert p == pytest.approx(float((y[positive] == 1).mean()))
    assert r == pytest.approx(float((pred[y == 1] == 1).mean()))  # abstentions on spam rows count as missed
    assert score_predictions(y, pred, "f1") == pytest.approx(f)
    assert score_predictions(y, pred, "accuracy") == accuracy(y, pred) == pytest.approx(float((pred == y).mean()))


def test_binary_refuses_more_than_two_classes():
    with pytest.raises(ValueError, match=r"average='binary' needs at most two classes; .* \[0, 1, 2\]"):
        precision_recall_f1([0, 1, 2], [0, 1, -1])
