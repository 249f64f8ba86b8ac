"""The build at scale: progress bars only where they can be seen, and the fast paths give the slow paths' results."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from labeling.dataset import _progress, export, minhash
from labeling.dataset import jaccard, shingles
from labeling.dataset.minhash import MinHashIndex, _bands, _bucket_pairs, _mix64
from labeling.dataset.split import _place, assign_splits


def test_progress_bar_shows_only_on_request_on_a_terminal_and_for_long_steps(monkeypatch):
    monkeypatch.setattr(_progress, "_visible", lambda: True)
    assert not _progress.progress_bar(range(10), desc="x", enabled=True).disable
    assert _progress.progress_bar(range(10), desc="x", enabled=False).disable  # --quiet / progress: false
    assert _progress.progress_bar(range(10), desc="x", enabled=True, min_total=11).disable
    monkeypatch.setattr(_progress, "_visible", lambda: False)  # a log file or a CI capture
    assert _progress.progress_bar(range(10), desc="x", enabled=True).disable


def test_progress_bar_is_off_when_stderr_is_captured(capsys):
    assert not _progress._visible()
    bar = _progress.progress_bar(range(3), desc="x", enabled=True)
    assert bar.disable and list(bar) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def _place_reference(codes: np.ndarray, strata: np.ndarray, fractions: Mapping[str, float], seed: int) -> np.ndarray:
    """The greedy placement with numpy for every group, as it was written first."""
    n = len(codes)
    uniq, inverse = np.unique(codes, return_inverse=True)
    counts = np.zeros((len(uniq), int(strata.max()) + 1))
    np.add.at(counts, (inverse, strata), 1)
    totals = counts.sum(axis=0)
    share = np.array(list(fractions.values()), dtype=float)
    target = share[:, None] * totals[None, :]
    current = np.zeros_like(target)
    order = np.random.default_rng(seed).permutation(len(uniq))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    where = np.empty(len(uniq), dtype=np.int64)
    scale = np.where(totals > 0, totals, 1.0)
    for g in order:
        score = ((target - current) / scale) @ counts[g] + 1e-6 * (share * n - current.sum(axis=1)) / max(n, 1)
        score[share == 0] = -np.inf
        where[g] = s = int(np.argmax(score))
        current[s] += counts[g]
    return where[inverse]


@pytest.mark.parametrize("seed", range(12))
def test_placement_equals_the_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    strata = rng.integers(0, int(rng.integers(1, 5)), n)
    # Singletons, small groups and a few large ones mixing classes.
    codes = np.arange(n) if seed % 3 == 0 else rng.integers(0, max(1, int(n * rng.choice([0.05, 0.5, 0.9]))), n)
    fractions = [{"train": 0.8, "valid": 0.1, "test": 0.1}, {"a": 0.5, "b": 0.5},
                 {"a": 0.0, "b": 0.7, "c": 0.3}][seed % 3]
    assert (_place(codes, strata, fractions, seed) == _place_reference(codes, strata, fractions, seed)).all()


def test_placement_of_no_rows():
    assert _place(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), {"a": 0.5, "b": 0.5}, 0).tolist() == []
    assert assign_splits(pd.DataFrame({"text": [], "label": []})).tolist() == []


def _candidates_reference(index: MinHashIndex, sig: np.ndarray, threshold: float, min_estimate: float) -> set:
    """Every band collision, then the signature estimate on full values."""
    m = len(sig)
    b, r = _bands(threshold, index.num_perm)
    codes = []
    for band in range(b):
        with np.errstate(over="ignore"):
            key = _mix64((sig[:, band * r:(band + 1) * r].astype(np.uint64) * index._band_mult[band * r:(band + 1) * r])
                         .sum(axis=1, dtype=np.uint64) + np.uint64(band))
        codes.append(_bucket_pairs(key, m, None))
    flat = np.unique(np.concatenate(codes))
    a, c = flat // m, flat % m
    keep = (sig[a] == sig[c]).mean(axis=1) >= min_estimate
    return set(zip(a[keep].tolist(), c[keep].tolist()))


@pytest.mark.parametrize("num_perm", [128, 40])
def test_candidate_filter_equals_the_full_estimate(youtube, num_perm):
    texts = youtube.train.data["text"].astype(str).tolist()[:800]
    index = MinHashIndex(num_perm=num_perm)
    sig = index.signatures(list(range(len(texts))), texts)
    for threshold, min_estimate in ((0.6, 0.5), (0.7, 0.6), (0.3, 0.2)):
        found = {tuple(p) for p in index.candidates(sig, threshold, min_estimate=min_estimate).tolist()}
        assert found == _candidates_reference(index, sig, threshold, min_estimate)
        assert found  # the comments repeat enough to have candidates at every threshold
    # Signatures of a subset read by position give the subset's pairs.
    rows = np.arange(0, len(texts), 2)
    by_rows = index.candidates(index._sig, 0.6, min_estimate=0.5, rows=index._positions(rows.tolist()))
    assert by_rows.tolist() == index.candidates(sig[rows], 0.6, min_estimate=0.5).tolist()


def test_jsonl_written_in_chunks_equals_one_piece(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"text": [f"text {i}" for i in range(25)], "label": rng.integers(0, 2, 25),
                       "confidence": rng.random(25), "covered": True, "label_source": "label_model"},
                      index=[f"r{i}" for i in range(25)])
    formats = ["jsonl", "chat", "instruction"]
    export_dataset = export.export_dataset
    export_dataset({"train": df}, tmp_path / "whole", class_names=["A", "B"], formats=formats, metadata=True)
    monkeypatch.setattr(export, "_CHUNK", 4)
    export_dataset({"train": df}, tmp_path / "chunks", class_names=["A", "B"], formats=formats, metadata=True)
    for fmt in formats:
        whole = (tmp_path / "whole" / fmt / "train.jsonl").read_text(encoding="utf-8")
        assert whole.count("\n") == 25
        assert (tmp_path / "chunks" / fmt / "train.jsonl").read_text(encoding="utf-8") == whole


def test_index_grows_in_place_and_overwrites_changed_rows():
    index = MinHashIndex()
    first = index.signatures(["a", "b"], ["check out my channel", "nice song"])
    index.add(["c", "a"], ["great video", "check out my [PHONE]"])
    assert index._sig.shape == (3, 128) and index._positions(["a", "b", "c"]).tolist() == [0, 1, 2]
    assert (index._sig[1] == first[1]).all() and not (index._sig[0] == first[0]).all()
    assert (index.signatures(["c"], ["great video"])[0] == MinHashIndex()._sign(["great video"])[0]).all()


@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_exact_check_in_numpy_equals_jaccard_of_shingles(youtube, k):
    rng = np.random.default_rng(k)
    texts = youtube.train.data["text"].astype(str).tolist()[:300]
    texts += ["ab", "abcde", "", "Ünïcödé ÇAFÉ &amp; <b>bold</b>", "emoji 🎉🎉 party", "中文文本测试一下",
              "x" * 40]
    index = MinHashIndex(k=k)
    pairs = np.sort(rng.integers(0, len(texts), (3000, 2)), axis=1)
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    sims, slow = index._exact_chars(texts, pairs)
    assert slow.sum() < len(pairs)
    for (i, j), sim in zip(pairs[~slow].tolist(), sims[~slow].tolist()):
        assert sim == jaccard(shingles(texts[i], k=k), shingles(texts[j], k=k)), (texts[i], texts[j])
    # A batch with more distinct characters than a shingle number can hold is left to the per-pair check.
    many = ["".join(map(chr, range(0x4E00 + 300 * i, 0x4E00 + 300 * i + 300))) for i in range(20)]
    assert MinHashIndex(k=8)._exact_chars(many, np.array([[0, 1], [2, 3]]))[1].all()
