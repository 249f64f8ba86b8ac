"""Class balance of the rows without a vote: the Poisson count model, the smoothed labelled estimate."""

import warnings

import numpy as np

from models import LabelModel
from models.uncovered import _truncated_poisson_rate, poisson_uncovered, smoothed_uncovered, sources_per_row


def test_truncated_poisson_rate_inverts_the_truncated_mean():
    lam = np.array([1e-3, 0.1, 1.0, 3.0, 20.0])
    mean = lam / -np.expm1(-lam)
    np.testing.assert_allclose(_truncated_poisson_rate(mean), lam, rtol=1e-6)


def test_poisson_counts_give_back_the_class_balance():
    # Class 0 (70% of rows) is voted on rarely, class 1 often: most rows without a vote are class 0.
    rng = np.random.default_rng(0)
    y = (rng.random(200_000) < 0.3).astype(int)
    sources = rng.poisson(np.where(y == 1, 2.0, 0.4))
    post = np.eye(2)[y]  # the voted rows' classes known exactly
    prior, uncovered = poisson_uncovered(post, np.ones(len(y)), sources)
    np.testing.assert_allclose(prior, [0.7, 0.3], atol=0.01)
    silent = sources == 0
    np.testing.assert_allclose(uncovered, np.bincount(y[silent]) / silent.sum(), atol=0.01)
    voted_balance = np.bincount(y[~silent]) / (~silent).sum()
    assert abs(voted_balance[0] - 0.7) > 0.2  # the voted rows alone are far off


def test_groups_vote_once_per_row():
    P = np.array([[0, 0, -1], [-1, 1, 1], [-1, -1, -1]])
    assert sources_per_row(P, np.array([0, 0, 1])).tolist() == [1, 2, 0]
    assert sources_per_row(P, np.array([0, 1, 2])).tolist() == [2, 2, 0]


def test_estimated_prior_counts_the_rows_no_lf_votes(youtube, semeval):
    for ds in (youtube, semeval):
        L = np.asarray(ds.train.L)
        truth = np.bincount(ds.train.y, minlength=ds.cardinality) / len(ds.train.y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LabelModel(family="precision").fit(L)
        # The prior among the voted rows is what EM estimates; counting the silent rows brings it nearer the truth.
        assert np.abs(model.class_prior_ - truth).max() < np.abs(model.vote_prior_ - truth).max()
        blank = model.predict_proba(np.full((1, L.shape[1]), -1))[0]
        np.testing.assert_allclose(blank, model.uncovered_prior_)
        np.testing.assert_allclose(model.class_prior_.sum(), 1.0)


def test_smoothed_estimate_needs_more_than_a_handful_of_rows():
    prior = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(smoothed_uncovered(np.array([1.0, 0, 0]), prior), prior)
    np.testing.assert_allclose(smoothed_uncovered(np.array([2.0, 1, 1]), prior), prior)  # what the prior expects
    many = smoothed_uncovered(np.array([5.0, 5, 90]), prior)
    assert many.argmax() == 2 and 0.2 < many[2] < 0.9 and np.isclose(many.sum(), 1)
