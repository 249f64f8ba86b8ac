"""The generators of benchmarks/synthetic.py make what their docstrings say (no model is fit here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "synthetic.py"
_spec = importlib.util.spec_from_file_location("synthetic_bench", PATH)
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)

N = 6000


def _accuracy(col: np.ndarray, y: np.ndarray) -> float:
    fired = col != -1
    return float(np.mean(col[fired] == y[fired]))


@pytest.mark.parametrize("name", list(synthetic.REGIMES))
def test_shapes_classes_and_seeding(name):
    gen, k, *_ = synthetic.REGIMES[name]
    L, y = gen(n=N, seed=1)
    assert L.ndim == 2 and L.shape[0] == N and y.shape == (N,)
    assert L.dtype.kind == "i" and y.dtype.kind == "i"
    assert L.min() >= -1 and L.max() < k and y.min() >= 0 and y.max() < k
    assert (L != -1).any(axis=0).all(), "every LF votes somewhere"
    L2, y2 = gen(n=N, seed=1)
    assert np.array_equal(L, L2) and np.array_equal(y, y2)
    L3, y3 = gen(n=N, seed=2)
    assert not np.array_equal(L, L3)


def test_baseline():
    L, y = synthetic.baseline(n=N, seed=0)
    assert L.shape == (N, 10) and set(np.unique(y)) == {0, 1}
    assert abs(y.mean() - 0.5) < 0.03
    rates = (L != -1).mean(axis=0)
    assert (rates > 0.08).all() and (rates < 0.52).all()
    accs = [_accuracy(L[:, j], y) for j in range(10)]
    assert min(accs) > 0.5 and max(accs) < 0.95


def test_imbalance_is_one_to_twenty_with_class_dependent_accuracy():
    L, y = synthetic.imbalance(n=20_000, seed=0)
    assert L.shape == (20_000, 10)
    ratio = (y == 0).sum() / (y == 1).sum()
    assert 17 < ratio < 23
    for j in range(10):
        assert set(np.unique(L[:, j])) == {-1, 0, 1}, "every LF votes both classes"
    pos, neg = y == 1, y == 0
    acc_pos = np.array([_accuracy(L[pos, j], y[pos]) for j in range(10)])
    acc_neg = np.array([_accuracy(L[neg, j], y[neg]) for j in range(10)])
    assert (acc_pos > 0.5).all() and (acc_neg > 0.5).all()
    assert acc_neg.mean() > acc_pos.mean() + 0.05
    # most positive votes are wrong: the positive class is rare
    votes_pos = L == 1
    assert np.mean(y[np.nonzero(votes_pos)[0]] == 1) < 0.5


def test_low_coverage_is_ten_percent():
    L, y = synthetic.low_coverage(n=N, seed=0)
    assert L.shape == (N, 10)
    coverage = (L != -1).any(axis=1).mean()
    assert 0.085 < coverage < 0.115
    assert abs(y.mean() - 0.5) < 0.03


def test_hundred_classes_each_lf_votes_a_few():
    L, y = synthetic.many_classes(n=N, seed=0)
    assert L.shape[0] == N and y.max() <= 99 and len(np.unique(y)) == 100
    voted = set()
    for j in range(L.shape[1]):
        classes = set(np.unique(L[:, j])) - {-1}
        assert 1 <= len(classes) <= 3
        voted |= classes
    assert voted == set(range(100)), "every class is voted by some LF"
    fired = L != -1
    assert np.mean(L[fired] == np.broadcast_to(y[:, None], L.shape)[fired]) > 0.5


def test_correlated_has_five_identical_columns():
    L, y = synthetic.correlated(n=N, seed=0)
    assert L.shape == (N, 11)
    copies = L[:, 6:]
    assert all(np.array_equal(copies[:, 0], copies[:, c]) for c in range(1, 5))
    assert not any(np.array_equal(L[:, j], copies[:, 0]) for j in range(6))
    assert 0.55 < _accuracy(copies[:, 0], y) < 0.65
    assert min(_accuracy(L[:, j], y) for j in range(6)) > 0.7


def test_adversarial_lf_is_worse_than_chance():
    L, y = synthetic.adversarial(n=N, seed=0)
    assert L.shape == (N, 10)
    assert _accuracy(L[:, 0], y) < 0.35
    assert min(_accuracy(L[:, j], y) for j in range(1, 10)) > 0.55


def test_sparse_lfs():
    L, y = synthetic.sparse_lfs(n=20_000, seed=0)
    assert L.shape == (20_000, 300) and set(np.unique(y)) == set(range(6))
    rates = (L != -1).mean(axis=0)
    assert 0.005 < rates.mean() < 0.01 and rates.min() > 0.002 and rates.max() < 0.015
    coverage = (L != -1).any(axis=1).mean()
    assert 0.85 < coverage < 0.93


def test_tables_format_without_fitting():
    records = [
        {"regime": "baseline", "seed": s, "model": m, "rows": 10, "lfs": 3, "classes": 2, "coverage": 1.0,
         "accuracy": a, "covered_accuracy": a, "ece": 0.1, "fit_seconds": 0.0}
        for s in range(2) for m, a in (("default", 0.8), ("mv", 0.7))
    ]
    summary = synthetic.summarize(records, ["baseline"], ["default", "mv", "snorkel"], False)
    verdicts = synthetic.claim(records, ["baseline"])
    assert verdicts[0]["beats"] and verdicts[0]["wins"] == 2
    text = synthetic.format_table(summary, verdicts)
    assert "80.00" in text and "holds" in text and "not run" in text
    assert "| baseline |" in synthetic.format_table(summary, verdicts, markdown=True)
