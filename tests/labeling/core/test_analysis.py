import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from snorkel.labeling import LFAnalysis

from labeling import label_conflict, label_coverage, label_overlap, lf_summary, plot_lf_summary, wilson_interval


@pytest.mark.parametrize("dataset", ["youtube", "trec"])
@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_lf_summary_equals_snorkel(request, dataset, split):
    s = request.getfixturevalue(dataset)[split]
    ours = lf_summary(s.L, s.y)
    theirs = LFAnalysis(np.asarray(s.L, dtype=np.int64)).lf_summary(Y=s.y)
    assert list(ours.index) == list(s.L.lf_names)
    assert [list(p) for p in ours["polarity"]] == [sorted(int(v) for v in p) for p in theirs["Polarity"]]
    for a, b in [("coverage", "Coverage"), ("overlaps", "Overlaps"), ("conflicts", "Conflicts")]:
        np.testing.assert_allclose(ours[a], theirs[b], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours["correct"], theirs["Correct"])
    np.testing.assert_array_equal(ours["incorrect"], theirs["Incorrect"])
    # Snorkel reports 0 for an LF that never fires on labelled rows; we report "unknown" (NaN).
    fired = (ours["correct"] + ours["incorrect"]) > 0
    np.testing.assert_allclose(ours.loc[fired, "emp_acc"], theirs.loc[fired.to_numpy(), "Emp. Acc."], atol=1e-12)
    assert ours.loc[~fired, "emp_acc"].isna().all()
    assert (ours["emp_acc_low"][fired] <= ours["emp_acc"][fired] + 1e-12).all()
    assert (ours["emp_acc"][fired] <= ours["emp_acc_high"][fired] + 1e-12).all()


def test_dataset_level_rates_match_snorkel(trec):
    L = trec.train.L
    a = LFAnalysis(np.asarray(L, dtype=np.int64))
    assert label_coverage(L) == pytest.approx(a.label_coverage())
    assert label_overlap(L) == pytest.approx(a.label_overlap())
    assert label_conflict(L) == pytest.approx(a.label_conflict())
    assert 0.9 < label_coverage(L) < 1  # published: 95.2% of trec train rows have a vote


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(np.array([9, 0, 50]), np.array([10, 4, 100]))
    np.testing.assert_allclose(lo, [0.5958, 0.0, 0.4038], atol=1e-4)
    np.testing.assert_allclose(hi, [0.9821, 0.4899, 0.5962], atol=1e-4)
    lo0, hi0 = wilson_interval(0, 0)
    assert np.isnan(lo0) and np.isnan(hi0)


def test_partial_gold_labels_only_count_known_rows(youtube):
    s = youtube.test
    y = s.y.copy()
    y[::2] = -1
    part = lf_summary(s.L, y)
    full = lf_summary(s.L.values[1::2], s.y[1::2])
    np.testing.assert_array_equal(part["correct"], full["correct"])
    np.testing.assert_array_equal(part["incorrect"], full["incorrect"])
    with pytest.raises(ValueError, match="L has 250 rows, y has 3"):
        lf_summary(s.L, [0, 1, 0])


def test_plot_has_a_bar_per_lf_and_accuracy_panel(youtube):
    summary = lf_summary(youtube.test.L, youtube.test.y)
    fig = plot_lf_summary(summary, title="youtube")
    ax_bars, ax_acc = fig.axes
    assert [t.get_text() for t in ax_bars.get_yticklabels()] == list(summary.index)
    assert len(ax_bars.patches) == 3 * len(summary)
    assert ax_acc.get_xlabel().startswith("empirical accuracy")
    fig_no_gold = plot_lf_summary(lf_summary(youtube.test.L))
    assert len(fig_no_gold.axes) == 1


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=st.integers(-1, 3)),
    st.data(),
)
def test_lf_summary_equals_snorkel_on_any_matrix(L, data):
    y = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=L.shape[0], max_size=L.shape[0])))
    ours = lf_summary(L, y)
    theirs = LFAnalysis(L).lf_summary(Y=y)
    np.testing.assert_allclose(ours["coverage"], theirs["Coverage"])
    np.testing.assert_allclose(ours["overlaps"], theirs["Overlaps"])
    np.testing.assert_allclose(ours["conflicts"], theirs["Conflicts"])
    np.testing.assert_array_equal(ours["correct"], theirs["Correct"])
    # Permuting rows changes no statistic.
    perm = np.random.default_rng(0).permutation(L.shape[0])
    again = lf_summary(L[perm], y[perm])
    np.testing.assert_allclose(again[["coverage", "overlaps", "conflicts"]], ours[["coverage", "overlaps", "conflicts"]])
