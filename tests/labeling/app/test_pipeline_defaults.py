"""Finding 1: a pipeline without a ``clean:`` section still masks personal data and drops near-duplicates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labeling.app.pipeline import build_from_config

LFS = '''
from labeling import labeling_function

@labeling_function()
def has_link(row):
    return 1 if "http" in row.text or "call" in row.text else 0
'''


def _config(tmp_path, **extra):
    rng = np.random.default_rng(0)
    words = "song band video guitar voice drums lyrics dance beat chorus melody piano singer stage tour".split()
    rows = [" ".join(rng.choice(words, size=8)) + f" take {i}" for i in range(40)]
    rows += [
        "write to jane.doe@example.com for the free prize",
        "call +44 20 7946 0958 now to claim",
        rows[3] + "!",  # a near-duplicate of row 3
    ]
    pd.DataFrame({"text": rows}).to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "lfs.py").write_text(LFS, encoding="utf-8")
    config = {
        "class_names": ["HAM", "SPAM"], "seed": 0, "progress": False, "output": str(tmp_path / "out"),
        "sources": [{"path": str(tmp_path / "rows.csv")}],
        "lfs": {"python": str(tmp_path / "lfs.py")},
        "label_model": {"name": "mv"},
        "split": {"fractions": {"train": 0.5, "test": 0.5}},
        "export": {"formats": ["jsonl"]},
    }
    config.update(extra)
    return config


@pytest.mark.parametrize("clean", [None, {}, {"normalize": True}, {"pii": None}])
def test_missing_clean_section_keeps_privacy_and_dedup_on(tmp_path, clean):
    config = _config(tmp_path) if clean is None else _config(tmp_path, clean=clean)
    result = build_from_config(config)
    texts = " ".join(pd.concat(result.splits.values())["text"])
    assert "jane.doe@example.com" not in texts and "7946 0958" not in texts
    assert "[EMAIL]" in texts and "[PHONE]" in texts
    assert result.counts["dedup_near"]["near_duplicate"] == 1
    assert result.counts["pii"]["email"] == 1 and result.counts["pii"]["phone"] == 1
    exported = [json.loads(x)["text"] for f in (tmp_path / "out" / "jsonl").glob("*.jsonl")
                for x in f.read_text(encoding="utf-8").splitlines()]
    assert not any("@example.com" in t for t in exported)
    sheet = (tmp_path / "out" / "DATASET.md").read_text(encoding="utf-8")
    assert "## Processing" in sheet
    assert "- **pii**: on (mask: " in sheet and "- **near_duplicates**: on (Jaccard >= 0.8" in sheet


def test_clean_steps_off_only_when_asked_and_the_datasheet_says_so(tmp_path):
    result = build_from_config(_config(tmp_path, clean={"near_duplicates": False, "pii": False}))
    assert "pii" not in result.counts and "dedup_near" not in result.counts
    texts = " ".join(pd.concat(result.splits.values())["text"])
    assert "jane.doe@example.com" in texts
    sheet = (tmp_path / "out" / "DATASET.md").read_text(encoding="utf-8")
    assert "- **pii**: off (clean.pii: false)" in sheet
    assert "- **near_duplicates**: off (clean.near_duplicates: false)" in sheet
