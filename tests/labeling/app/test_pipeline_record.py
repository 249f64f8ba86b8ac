"""What `votewise build` ships and records: PII masked before dedup, removed rows masked, a complete datasheet,
ids in every export, the ``alpaca`` layout name."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from labeling.app.pipeline import build_from_config

from tests.conftest import ROOT  # noqa: E402

EXAMPLE = ROOT / "examples" / "youtube_spam"
LFS = EXAMPLE / "lfs.py"


def _comments() -> pd.DataFrame:
    """The bundled Shakira video comments, plus SMS-style rows that differ only in a phone number."""
    csv = pd.read_csv(EXAMPLE / "data" / "Youtube05-Shakira.csv")
    rows = pd.DataFrame({"id": csv["COMMENT_ID"], "text": csv["CONTENT"]})
    extra = pd.DataFrame({
        "id": ["sms1", "sms2", "sms3", "short1"],
        "text": ["you have 1 new message. please call 07946 746291 to subscribe to my channel",
                 "you have 1 new message. please call 07880 867867 to subscribe to my channel",
                 "mail jane.doe@example.com to win, check out my channel http://x.example",
                 "tel 07946 746291"],
    })
    return pd.concat([rows, extra], ignore_index=True)


def _config(tmp_path, **overrides) -> dict:
    _comments().to_csv(tmp_path / "rows.csv", index=False)
    config = {
        "name": "shakira", "seed": 0, "progress": False, "output": str(tmp_path / "out"),
        "class_names": ["HAM", "SPAM"],
        "sources": [{"path": "rows.csv", "id_column": "id"}],
        "lfs": {"python": str(LFS)},
        "label_model": {"name": "mv"},
        "clean": {"min_chars": 20},
        "split": {"fractions": {"train": 0.7, "valid": 0.1, "test": 0.2}},
        "augment": {"methods": {"swap": 1, "delete": 1}, "alpha": 0.2, "fraction": 0.5},
        "export": {"formats": ["jsonl", "chat", "alpaca"], "drop_uncovered": False,
                   "system_prompt": "You moderate comments.", "prompt_template": "Spam? {text}"},
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("record")
    result = build_from_config(_config(tmp), base_dir=tmp)
    return result, tmp / "out"


def test_pii_is_masked_before_dedup(built):
    result, _ = built
    # The two messages differ only in their phone numbers: once masked they are one message, and dedup
    # (which runs on the masked text) keeps one of them.
    removed = result.removed
    dup = removed[removed["step"] == "dedup_exact"]
    assert "sms2" in dup.index and dup.loc["sms2", "duplicate_of"] == "sms1"
    shipped = pd.concat(result.splits.values())
    assert "sms1" in shipped.index and "sms2" not in shipped.index
    assert shipped.loc["sms1", "text"] == "you have 1 new message. please call [PHONE] to subscribe to my channel"
    assert result.counts["pii"]["phone"] >= 3 and result.counts["pii"]["email"] == 1
    steps = list(result.counts)
    assert steps.index("pii") < steps.index("dedup_exact") < steps.index("dedup_near")


def test_removed_rows_keep_no_raw_pii(built):
    result, out = built
    removed = pd.read_csv(out / "removed.csv", index_col=0)
    # A row dropped as too short and a row dropped as a duplicate both held a phone number.
    assert removed.loc["short1", "reason"] == "too_short" and removed.loc["short1", "text"] == "tel [PHONE]"
    assert removed.loc["sms2", "text"].count("[PHONE]") == 1
    raw = (out / "removed.csv").read_text(encoding="utf-8")
    for secret in ("07946 746291", "07880 867867", "jane.doe@example.com"):
        assert secret not in raw


def test_removed_rows_of_pii_drop_are_masked(tmp_path):
    config = _config(tmp_path, clean={"pii": {"action": "drop"}}, augment=None)
    result = build_from_config(config, base_dir=tmp_path)
    dropped = result.removed[result.removed["step"] == "pii"]
    assert {"sms1", "sms2", "sms3"} <= set(dropped.index)
    assert dropped.loc["sms3", "pii_kinds"] == "email"
    text = (tmp_path / "out" / "removed.csv").read_text(encoding="utf-8")
    assert "jane.doe@example.com" not in text and "07880 867867" not in text and "[EMAIL]" in text


def test_every_export_carries_row_ids(built):
    result, out = built
    for fmt in ("chat", "alpaca"):
        for split, n in result.export.counts.items():
            records = [json.loads(x) for x in (out / fmt / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
            assert len(records) == n
            ids = [r["id"] for r in records]
            assert len(set(ids)) == n and set(ids) <= set(result.splits[split].index.astype(str))
    alpaca = [json.loads(x) for x in (out / "alpaca" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert set(alpaca[0]) == {"id", "instruction", "input", "output"}
    augmented = result.splits["train"].dropna(subset=["augmentation"])
    rid = str(augmented.index[0])
    assert rid in {r["id"] for r in alpaca}  # an augmented record names its own id (source~method)
    jsonl = [json.loads(x) for x in (out / "jsonl" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in jsonl} == {r["id"] for r in alpaca}


def test_datasheet_records_everything_done(built):
    result, out = built
    sheet = (out / "DATASET.md").read_text(encoding="utf-8")
    # Split fractions, sizes and grouping
    assert "## Splits" in sheet and "| train | 0.7 |" in sheet and "| test | 0.2 |" in sheet
    assert "near-duplicates (Jaccard >= 0.7) kept in one split" in sheet
    assert "stratified by label: yes" in sheet
    # The leakage check's result
    pairs = len(result.leakage)
    assert "## Leakage check" in sheet
    assert ("no near-duplicate pair spans two splits" in sheet) == (pairs == 0)
    # Augmentation methods and parameters
    assert "swap (1 per row), delete (1 per row)" in sheet
    assert "alpha (share of words changed): 0.2" in sheet
    assert "fraction (share of training rows augmented): 0.5" in sheet
    # The LF file's hash
    assert hashlib.sha256(LFS.read_bytes()).hexdigest() in sheet
    # The templates
    assert "Spam? {text}" in sheet and "You moderate comments." in sheet and "Classify the text as one of" in sheet
    # PII kinds looked for, found and not looked for
    assert "## Personal data" in sheet
    assert f"| phone | yes | {result.counts['pii']['phone']} |" in sheet and "| email | yes | 1 |" in sheet
    from labeling.dataset.privacy import kinds_missing

    if "person" in kinds_missing("auto"):  # the built-in recognisers alone: names are not looked for
        assert "person | no (needs `pip install 'votewise[privacy]'`)" in sheet
    else:
        assert "| person | yes |" in sheet
    # Every step with its settings and counts
    table = sheet.split("## Build steps", 1)[1]
    for step in ("sources", "lfs", "label_model", "clean", "pii", "dedup_exact", "dedup_near", "split", "augment",
                 "leakage", "export"):
        assert f"\n| {step} |" in table, step
    assert "threshold=0.8" in table and "action=mask" in table and "min_chars=20" in table
    assert f"exact_duplicate={result.counts['dedup_exact']['exact_duplicate']}" in table
    assert "rows.csv" in sheet and str(out.parent) not in table  # paths relative to the config


def test_datasheet_says_when_pii_was_not_looked_for(tmp_path):
    config = _config(tmp_path, clean={"pii": False}, augment=None, export={"formats": ["jsonl"]})
    build_from_config(config, base_dir=tmp_path)
    sheet = (tmp_path / "out" / "DATASET.md").read_text(encoding="utf-8")
    assert "Not looked for (clean.pii: false)" in sheet
    partial = _config(tmp_path, output=str(tmp_path / "out2"), clean={"pii": {"kinds": ["email"]}}, augment=None)
    build_from_config(partial, base_dir=tmp_path)
    sheet = (tmp_path / "out2" / "DATASET.md").read_text(encoding="utf-8")
    assert "| phone | no (not in clean.pii.kinds) | - |" in sheet
    assert "Kinds not looked for may remain in the text: " in sheet
