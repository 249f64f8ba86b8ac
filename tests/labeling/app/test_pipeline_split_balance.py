"""Finding 6: ``groups`` in the pipeline YAML, and a warning and fallback when grouping unbalances the splits."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from labeling.dataset import assign_splits
from labeling.app.pipeline import PipelineError, build_from_config
from labeling.dataset.split import SplitBalanceWarning

BASE = ("this is a long comment about the new music video that everyone is sharing today and it keeps "
        "going with more words so that a small change at the end keeps it a near duplicate of the others")


def _chained(n: int = 1000, n_chain: int = 930, seed: int = 0) -> pd.DataFrame:
    """``n_chain`` near-duplicate rows (one chain) from many users, plus unrelated rows."""
    rng = np.random.default_rng(seed)
    words = np.array("alpha beta gamma delta kappa sigma omega zeta theta lambda rho tau phi chi psi".split())
    texts = [f"{BASE} {i}" for i in range(n_chain)]
    texts += [" ".join(rng.choice(words, 12)) + f" {i}" for i in range(n - n_chain)]
    return pd.DataFrame({"text": texts, "label": rng.integers(0, 2, n), "user": [f"u{i % 400}" for i in range(n)]},
                        index=[f"r{i}" for i in range(n)])


def test_chaining_groups_warn_and_fall_back():
    df = _chained()
    with pytest.warns(SplitBalanceWarning, match="near-duplicate grouping left split"):
        where = assign_splits(df, groups="user", near_duplicate_threshold=0.7, random_state=0)
    sizes = where.value_counts()
    for name, share in {"train": 0.8, "valid": 0.1, "test": 0.1}.items():
        assert abs(sizes[name] - share * len(df)) <= 0.05 * len(df), sizes.to_dict()
    # The user groups are still never split.
    assert (df.assign(split=where).groupby("user")["split"].nunique() == 1).all()


def test_balanced_grouping_does_not_warn(recwarn):
    df = _chained(n_chain=20)
    where = assign_splits(df, groups="user", near_duplicate_threshold=0.7, random_state=0)
    assert not [w for w in recwarn if issubclass(w.category, SplitBalanceWarning)]
    near = df.index[:20]
    assert where[near].nunique() == 1  # the near-duplicates stayed together


def test_pipeline_groups_key(tmp_path, caplog):
    df = _chained()
    df.rename_axis("id").reset_index().to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "lfs.py").write_text(
        "from labeling import labeling_function\n\n@labeling_function()\ndef lf(row):\n"
        "    return 1 if 'music' in row.text else 0\n", encoding="utf-8")
    config = {
        "class_names": ["HAM", "SPAM"], "progress": False,
        "sources": [{"path": str(tmp_path / "rows.csv"), "id_column": "id", "keep_columns": ["user"]}],
        "lfs": {"python": str(tmp_path / "lfs.py")}, "label_model": {"name": "mv"},
        "clean": {"near_duplicates": False, "pii": False},
        "split": {"groups": "user", "group_near_duplicates": 0.7},
    }
    with caplog.at_level(logging.WARNING, logger="votewise.build"):
        result = build_from_config(config)
    assert "near-duplicate grouping left split" in caplog.text
    assert result.counts["split"]["balance_warnings"] == 1
    assert 750 <= result.counts["split"]["train"] <= 850
    rows = pd.concat([f.assign(split=name) for name, f in result.splits.items()])
    assert (rows.groupby("user")["split"].nunique() == 1).all()
    with pytest.raises(PipelineError, match="key 'split.groups'|key 'groups'.*keep_columns"):
        build_from_config({**config, "split": {"groups": "author"}})
