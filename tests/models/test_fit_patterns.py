"""LabelModel.fit_patterns: fitting from pattern counts equals fitting the full matrix."""

import numpy as np
import pytest

from labeling import PatternCounts, fit_from_patterns
from labeling import vote_patterns
from models import LabelModel


@pytest.mark.parametrize("dataset", ["youtube", "trec"])
def test_fit_patterns_equals_fit(request, dataset):
    ds = request.getfixturevalue(dataset)
    full = LabelModel(cardinality=ds.cardinality).fit(ds.train.L)
    vp = vote_patterns(np.asarray(ds.train.L))
    from_counts = LabelModel(cardinality=ds.cardinality).fit_patterns(vp.patterns, vp.counts)
    np.testing.assert_allclose(from_counts.precision_, full.precision_, atol=1e-12)
    np.testing.assert_allclose(from_counts.class_prior_, full.class_prior_, atol=1e-12)
    np.testing.assert_array_equal(from_counts.predict(ds.test.L), full.predict(ds.test.L))


def test_chunked_counts_through_the_streaming_adapter(youtube):
    L = np.asarray(youtube.train.L)
    counts = PatternCounts()
    for start in range(0, len(L), 300):  # as a stream would deliver them
        counts.add(L[start : start + 300])
    model = fit_from_patterns(LabelModel(cardinality=2), counts.patterns, counts.counts)
    full = LabelModel(cardinality=2).fit(L)
    np.testing.assert_allclose(model.predict_proba(youtube.test.L), full.predict_proba(youtube.test.L), atol=1e-12)


def test_fit_patterns_with_known_labels_and_errors(youtube):
    vp = vote_patterns(np.asarray(youtube.train.L))
    y = np.full(len(vp.counts), -1)
    y[:5] = 1
    lm = LabelModel(cardinality=2).fit_patterns(vp.patterns, vp.counts, y)
    full = LabelModel(cardinality=2).fit(np.repeat(vp.patterns, vp.counts, axis=0), np.repeat(y, vp.counts))
    np.testing.assert_allclose(lm.precision_, full.precision_, atol=1e-12)
    unanchored = LabelModel(cardinality=2).fit_patterns(vp.patterns, vp.counts)
    assert not np.allclose(lm.precision_, unanchored.precision_)  # the known labels moved the fit
    with pytest.raises(ValueError, match="counts must hold one non-negative number per pattern"):
        LabelModel().fit_patterns(vp.patterns, vp.counts[:-1])
    with pytest.raises(ValueError, match="counts must hold one non-negative number per pattern"):
        LabelModel().fit_patterns(vp.patterns, -vp.counts)
    with pytest.raises(ValueError, match="counts sum to 0"):
        LabelModel().fit_patterns(vp.patterns, np.zeros(len(vp.counts), int))


def test_distinct_rows_skip_grouping_without_changing_the_fit(youtube):
    rng = np.random.default_rng(0)
    distinct = rng.integers(-1, 2, size=(60_000, 30)).astype(np.int8)
    repeated = np.repeat(distinct[:50], 1200, axis=0)
    vp = vote_patterns(distinct, only_if_worth_it=True)
    assert len(vp) == len(distinct) and (vp.counts == 1).all()
    assert len(vote_patterns(repeated, only_if_worth_it=True)) == 50
    # Grouped or not, EM sees the same weighted rows.
    grouped = LabelModel(cardinality=2).fit_patterns(*[getattr(vote_patterns(distinct), a) for a in ("patterns", "counts")])
    plain = LabelModel(cardinality=2).fit(distinct)
    np.testing.assert_allclose(plain.precision_, grouped.precision_, atol=1e-10)
