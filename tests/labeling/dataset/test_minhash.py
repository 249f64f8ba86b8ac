"""Finding 7: one MinHash index shared by near-dedup, split grouping and the leakage check."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from labeling.dataset import drop_exact_duplicates, jaccard, shingles
from labeling.dataset.minhash import MinHashIndex
from labeling.app.pipeline import build_from_config


def test_index_recall_against_brute_force(youtube):
    texts = drop_exact_duplicates(youtube.train.data).data["text"].tolist()[:700]
    sets = [shingles(t) for t in texts]
    for threshold in (0.5, 0.7, 0.9):
        truth = {(i, j) for i, j in itertools.combinations(range(len(texts)), 2)
                 if jaccard(sets[i], sets[j]) >= threshold}
        found = {(i, j) for i, j, _ in MinHashIndex().pairs(list(range(len(texts))), texts, threshold=threshold)}
        assert found <= truth and len(found) >= 0.95 * len(truth), (threshold, len(found), len(truth))


def test_signatures_are_reused_and_refreshed_when_text_changes():
    index = MinHashIndex()
    a = index.signatures(["x", "y"], ["check out my channel", "nice song"])
    assert a.shape == (2, 128) and a.dtype == np.uint32
    b = index.signatures(["y", "x"], ["nice song", "check out my channel"])
    assert (b[::-1] == a).all()
    c = index.signatures(["x"], ["check out my [PHONE]"])
    assert not (c[0] == a[0]).all()


def test_pipeline_signs_each_row_once(tmp_path, monkeypatch):
    signed = []
    original = MinHashIndex._sign

    def counting(self, texts):
        signed.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(MinHashIndex, "_sign", counting)
    rng = np.random.default_rng(0)
    words = "song band video guitar voice drums lyrics dance beat chorus melody piano singer stage tour".split()
    rows = [" ".join(rng.choice(words, 10)) + f" {i}" for i in range(300)] + ["call me +44 20 7946 0958"]
    pd.DataFrame({"text": rows}).to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "lfs.py").write_text("from labeling import labeling_function\n\n@labeling_function()\n"
                                     "def lf(row):\n    return int('song' in row.text)\n", encoding="utf-8")
    result = build_from_config({
        "class_names": ["HAM", "SPAM"], "progress": False, "sources": [str(tmp_path / "rows.csv")],
        "lfs": {"python": str(tmp_path / "lfs.py")}, "label_model": {"name": "mv"},
        "augment": {"methods": {"swap": 1}},
    })
    n_rows = result.counts["dedup_exact"]["rows_out"]
    n_aug = result.counts["augment"]["added"]
    assert result.counts["pii"]["rows_with_pii"] == 1
    # Three passes, yet every row is signed once; only augmented variants are new. Masking runs before
    # dedup, so the masked text is the one signed and no row is signed again after masking.
    assert sum(signed) == n_rows + n_aug
