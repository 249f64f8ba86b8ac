"""The hand-written LF sets of the generalisation suite run on their real datasets and do what they claim."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.lfsets import HAND_SETS, LF_SETS
from labeling import apply_lfs

# The bundled copies of the datasets (sms is not bundled; its sets are checked by the suite itself).
BUNDLED = [(name, label) for name in ("youtube", "trec", "semeval") for label in HAND_SETS[name]]


@pytest.fixture(scope="module")
def train_votes(request):
    """``(name, label) -> (L, y, cardinality)`` on the train split, each set applied once (datasets: conftest)."""
    cache = {}

    def votes(name, label):
        if (name, label) not in cache:
            ds = request.getfixturevalue(name)
            L = apply_lfs(ds["train"].data, HAND_SETS[name][label].LFS, progress=False, cardinality=ds.cardinality)
            cache[name, label] = (np.asarray(L), np.asarray(ds["train"].y), ds.cardinality)
        return cache[name, label]

    return votes


def test_every_dataset_has_two_independent_sets():
    for name, sets in HAND_SETS.items():
        assert sets["hand"] is LF_SETS[name]
        assert len(sets) >= 2
        lf_names = [{lf.name for lf in module.LFS} for module in sets.values()]
        assert not set.intersection(*lf_names), f"{name}: the sets share LF names"
        assert len({module.METRIC for module in sets.values()}) == 1  # one dataset, one metric


@pytest.mark.parametrize("name,label", BUNDLED)
def test_set_votes_valid_classes_and_every_lf_fires(train_votes, name, label):
    module = HAND_SETS[name][label]
    L, y, k = train_votes(name, label)
    assert L.shape == (len(y), len(module.LFS))
    assert L.min() >= -1 and L.max() < k
    fired = (L != -1).mean(axis=0)
    dead = [lf.name for lf, share in zip(module.LFS, fired) if share == 0]
    assert not dead, f"{name}/{label}: LFs that never vote on train: {dead}"
    # The styles the suite is for: at least one broad LF (a third of the rows or more) and a sparse one.
    assert fired.max() >= 0.3 and fired.min() < 0.05


@pytest.mark.parametrize("name,label", BUNDLED)
def test_set_holds_an_lf_worse_than_chance_and_a_precise_one(train_votes, name, label):
    L, y, _ = train_votes(name, label)
    precision = [float(np.mean(L[L[:, j] != -1, j] == y[L[:, j] != -1])) for j in range(L.shape[1])]
    assert min(precision) < 0.5, f"{name}/{label}: no LF is worse than chance, the 'bad LF' style is missing"
    assert max(precision) > 0.85, f"{name}/{label}: no precise LF"
