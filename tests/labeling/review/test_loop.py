"""The active loop on real data: batches, human labels folded back, reports, LF suggestions."""

from __future__ import annotations

import numpy as np
import pytest

from labeling.review import ActiveLoop, ReviewStore, suggest_lfs, suggestion_to_lf
from models import LabelModel, MajorityVote


def make_loop(tmp_path, ds, *, strategy="entropy", model=None, batch_size=20, **kw):
    store = ReviewStore(tmp_path / "loop.sqlite", class_names=ds.class_names)
    model = model or LabelModel(cardinality=ds.cardinality)
    return ActiveLoop(model, ds.train.data, ds.train.L, strategy=strategy, store=store,
                      batch_size=batch_size, random_state=0, **kw)


def test_batches_never_repeat_and_are_queued(tmp_path, youtube):
    loop = make_loop(tmp_path, youtube)
    a = loop.next_batch()
    b = loop.next_batch()
    assert len(a) == len(b) == 20 and not set(a.index) & set(b.index)
    assert loop.store.queued_ids() == {str(i) for i in [*a.index, *b.index]}
    payload = loop.store.sample(a.index[0]).payload
    assert set(payload) == {"votes", "probs", "spans"} and len(payload["probs"]) == 2


@pytest.mark.parametrize("model_cls", [LabelModel, MajorityVote])
def test_reviewed_rows_take_the_human_label(tmp_path, youtube, model_cls):
    loop = make_loop(tmp_path, youtube, model=model_cls(cardinality=2))
    batch = loop.next_batch()
    # The "human" contradicts the model on purpose: the output must follow the human.
    pred = loop.predict()
    pos = [loop.ids.index(str(i)) for i in batch.index]
    for i, p in zip(batch.index, pred[pos]):
        loop.record(i, 1 - int(p), reviewer="ann")
    loop.refit()
    out = loop.predict()
    assert (out[pos] == 1 - pred[pos]).all()
    assert np.allclose(loop.predict_proba()[pos].max(axis=1), 1.0)


def test_refit_reports_gains_and_lf_accuracies(tmp_path, youtube):
    loop = make_loop(tmp_path, youtube, strategy="margin")
    y = youtube.train.y
    history = loop.run(lambda ids: [y[loop.ids.index(i)] for i in ids], budget=60)
    assert [r.n_reviewed for r in history] == [20, 40, 60]
    last = history[-1]
    assert last.n_new == 20 and 0 <= last.batch_accuracy <= 1
    # Both label sets are judged by the refitted model, which prefers its own labels: the gain is never negative.
    assert 0 < last.label_accuracy_after <= 1 and all(r.gain >= 0 for r in history)
    assert last.gain == pytest.approx(last.label_accuracy_after - last.label_accuracy_before)
    assert last.label_accuracy_after == pytest.approx(loop.estimated_accuracy())
    table = last.lf_accuracy
    assert list(table.index) == list(youtube.train.L.lf_names)
    assert {"est_accuracy_before", "est_accuracy_after", "reviewed_accuracy"} <= set(table.columns)
    # With every label spent, gold accuracy of the loop's output beats the label model alone.
    gold_acc = (loop.predict() == y).mean()
    lm_acc = (LabelModel(cardinality=2).fit(youtube.train.L).predict(youtube.train.L) == y).mean()
    assert gold_acc > lm_acc
    assert loop.should_stop(budget=60) and not loop.should_stop(budget=61)


def test_anchored_refit_uses_known_labels(tmp_path, trec):
    loop = make_loop(tmp_path, trec, strategy="lf_disagreement", batch_size=50)
    before = loop.fit().probs_.copy()
    y = trec.train.y
    loop.run(lambda ids: [y[loop.ids.index(i)] for i in ids], budget=100)
    unreviewed = loop.human_labels() == -1
    assert not np.allclose(before[unreviewed], loop.probs_[unreviewed])


def test_min_gain_stops_the_loop(tmp_path, youtube):
    loop = make_loop(tmp_path, youtube)
    y = youtube.train.y
    history = loop.run(lambda ids: [y[loop.ids.index(i)] for i in ids], budget=1000, min_gain=1.0)
    assert len(history) == 1


def test_suggestions_become_lfs(tmp_path, youtube):
    loop = make_loop(tmp_path, youtube, strategy="random", batch_size=200)
    y = youtube.train.y
    loop.run(lambda ids: [y[loop.ids.index(i)] for i in ids], budget=200)
    table = suggest_lfs(youtube.train.data["text"], loop.human_labels(), probs=loop.probs_,
                        class_names=youtube.class_names, min_support=4)
    assert len(table) > 0 and (table["precision_reviewed"] >= 0.8).all()
    top = table.iloc[0]
    m = len(loop.lf_names)
    loop.add_lf(suggestion_to_lf(top))
    assert len(loop.lf_names) == m + 1 and loop.L.shape[1] == m + 1
    fired = loop.L[:, -1] != -1
    assert fired.any() and (loop.L[fired, -1] == top["label"]).all()


def test_loop_errors(tmp_path, youtube):
    store = ReviewStore(tmp_path / "e.sqlite", class_names=youtube.class_names)
    with pytest.raises(ValueError, match="L has 10 rows but data has 1686"):
        ActiveLoop(MajorityVote(), youtube.train.data, youtube.train.L.values[:10], store=store)
    with pytest.raises(ValueError, match="batch_size=0"):
        ActiveLoop(MajorityVote(), youtube.train.data, youtube.train.L, store=store, batch_size=0)
    with pytest.raises(ValueError, match="no column 'body'"):
        ActiveLoop(MajorityVote(), youtube.train.data, youtube.train.L, store=store, text_column="body")


def test_refit_gain_has_the_sign_of_the_measured_gain(tmp_path, trec):
    """300 mostly-right labels in one refit raise gold accuracy; the report must say it gained (it once said -0.018)."""
    loop = make_loop(tmp_path, trec, strategy="lf_disagreement", batch_size=300)
    y = np.asarray(trec.train.y)
    before = (loop.fit().predict() == y).mean()
    report = loop.run(lambda ids: [y[loop.ids.index(i)] for i in ids], budget=300)[-1]
    measured = (loop.predict() == y).mean() - before
    assert measured > 0.01 and report.gain > 0, (measured, report.gain)
    # The newly reviewed rows count for "before" only where the old label was right.
    assert report.label_accuracy_before < report.label_accuracy_after


def test_audit_slice_is_random_flagged_and_unbiased(tmp_path, youtube):
    loop = make_loop(tmp_path, youtube, strategy="lf_disagreement", batch_size=10, audit_fraction=0.3)
    y = np.asarray(youtube.train.y)
    reviewed, truth = np.zeros(len(y), dtype=bool), []

    def oracle(ids):
        # The accuracy the audit estimates: that of the labels in hand, on the rows nobody has reviewed yet.
        pred = loop.probs_.argmax(axis=1)
        truth.append((pred[~reviewed] == y[~reviewed]).mean())
        rows = [loop.ids.index(i) for i in ids]
        reviewed[rows] = True
        return [y[i] for i in rows]

    history = loop.run(oracle, budget=60)
    flagged = [sid for sid in loop.store.sample_ids() if loop.store.sample(sid).payload.get("audit")]
    assert len(flagged) == 18  # 3 of every 10
    last = history[-1]
    assert last.audit_n == 18 and last.audit_low <= last.audit_accuracy <= last.audit_high
    assert history[0].audit_n == 3 and history[0].to_dict()["audit_n"] == 3
    # The audit estimates the labels' accuracy on unreviewed rows: its hits (3 per batch) match the true accuracy
    # of each batch's labels within three standard deviations of a binomial sum.
    hits, p = last.audit_accuracy * last.audit_n, np.asarray(truth)
    assert abs(hits - 3 * p.sum()) <= 3 * np.sqrt(3 * (p * (1 - p)).sum()) + 0.5, (hits, p)
    # A loop reopened on the same store knows which rows were audit rows.
    again = ActiveLoop(LabelModel(cardinality=2), youtube.train.data, youtube.train.L, strategy="entropy",
                       store=loop.store, random_state=1)
    assert again._audit.sum() == 18
    with pytest.raises(ValueError, match="audit_fraction=1.5"):
        make_loop(tmp_path, youtube, audit_fraction=1.5)


def test_loop_record_keeps_leases_and_payloads(tmp_path, youtube):
    from labeling.review import ActiveLoop, LeaseError, ReviewStore
    from models import LabelModel

    store = ReviewStore(tmp_path / "lease.sqlite", class_names=youtube.class_names)
    loop = ActiveLoop(LabelModel(cardinality=2), youtube.train.data, youtube.train.L, store=store, batch_size=2,
                      random_state=0)
    loop.next_batch()
    (held,) = store.checkout("ann", 1)
    with pytest.raises(LeaseError, match="leased to 'ann'"):
        loop.record(held.sample_id, 1, reviewer="bob")
    loop.record(held.sample_id, 1, reviewer="ann", note="clear spam")
    assert store.decisions()[0].note == "clear spam"
    outside = next(sid for sid in loop.ids if sid not in store.queued_ids())
    loop.record(outside, 0, reviewer="bob")   # never queued: added with the loop's payload
    assert {"votes", "probs", "spans"} <= set(store.sample(outside).payload)
