"""Tests of the declarative pipeline: the YouTube example end to end, WRENCH sources, reviews, config errors."""

from __future__ import annotations

import json
import re
import logging

import numpy as np
import pandas as pd
import pytest
import yaml

from labeling import covered_rows
from labeling.dataset import leakage_report
from labeling.app.pipeline import PipelineError, build_from_config

from tests.conftest import DATA, ROOT  # noqa: E402
EXAMPLE = ROOT / "examples" / "youtube_spam" / "pipeline.yaml"
YOUTUBE = DATA / "youtube"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    from sources.nltk_data import MissingResourceError, require

    try:
        require("wordnet")  # the example's synonym augmentation
    except MissingResourceError:
        pytest.skip("WordNet is not installed; run `python -m sources.install_data`")
    out = tmp_path_factory.mktemp("youtube_chat")
    handler_records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            handler_records.append(record)

    logger = logging.getLogger("votewise.build")
    keep = Keep(level=logging.INFO)
    logger.addHandler(keep)
    level = logger.level
    logger.setLevel(logging.INFO)  # the library adds no handler and sets no level: the caller chooses
    try:
        result = build_from_config(EXAMPLE, output=out, progress=False)
    finally:
        logger.removeHandler(keep)
        logger.setLevel(level)
    return result, out, [r.getMessage() for r in handler_records]


def test_example_builds_a_chat_dataset(example):
    result, out, _ = example
    assert result.counts["sources"] == {"files": 5, "rows": 1956}
    assert result.counts["dedup_exact"]["exact_duplicate"] == 245
    assert result.counts["dedup_near"]["near_duplicate"] > 0
    assert set(result.export.counts) == {"train", "valid", "test"}
    for split, n in result.export.counts.items():
        records = [json.loads(x) for x in (out / "chat" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(records) == n > 50
        for rec in records[:20]:
            system, user, assistant = rec["messages"]
            assert system["role"] == "system" and user["role"] == "user" and assistant["role"] == "assistant"
            assert user["content"].startswith("Is this YouTube comment spam?")
            assert assistant["content"] in ("HAM", "SPAM")
    sheet = (out / "DATASET.md").read_text(encoding="utf-8")
    assert "# Datasheet: youtube-spam-chat" in sheet and "keyword_subscribe" in sheet
    assert "exact_duplicate: 245" in sheet
    removed = pd.read_csv(out / "removed.csv")
    assert len(removed) == (result.counts["dedup_exact"]["exact_duplicate"] + result.counts["dedup_near"]["near_duplicate"]
                            + result.counts["leakage"]["dropped_augmented"])
    assert set(removed["step"]) <= {"dedup_exact", "dedup_near", "leakage"}


def test_example_splits_are_leak_free(example):
    result, _, _ = example
    assert result.leakage.empty
    # Source rows: near-duplicates were grouped at 0.7, so none straddle two splits even at 0.7.
    sources = {name: f[f["augmentation"].isna()] if "augmentation" in f else f for name, f in result.splits.items()}
    assert leakage_report(sources, threshold=0.7).empty
    for name in ("valid", "test"):
        assert "augmentation" not in result.splits[name] or result.splits[name]["augmentation"].isna().all()
    train = result.splits["train"]
    augmented = train[train["augmentation"].notna()]
    assert len(augmented) > 500
    assert augmented["source_id"].isin(train.index).all()
    assert (augmented["label"].to_numpy() == train.loc[augmented["source_id"], "label"].to_numpy()).all()


def test_example_logs_every_step(example):
    _, _, messages = example
    steps = [m.split()[0] for m in messages]
    for step in ("sources", "lfs", "label_model", "clean", "dedup_exact", "dedup_near", "pii", "split",
                 "augment", "leakage", "export"):
        assert step in steps, step
    assert any(m.startswith("sources") and "rows=1956" in m for m in messages)


def _wrench_config(tmp_path, **overrides):
    config = {
        "name": "yt-wrench",
        "seed": 3,
        "output": str(tmp_path / "out"),
        "sources": [{"wrench": str(YOUTUBE), "splits": ["valid", "test"]}],
        "clean": {"near_duplicates": {"threshold": 0.9}},
        "split": {"fractions": {"train": 0.7, "test": 0.3}},
        "augment": {"methods": {"swap": 1, "delete": 1}},
        "export": {"formats": ["instruction", "parquet"], "drop_uncovered": False},
        "progress": False,
    }
    config.update(overrides)
    return config


def test_wrench_source_with_stored_votes_and_reviews(tmp_path, youtube):
    reviews = pd.DataFrame({"id": ["valid/0", "valid/1", "test/5"], "label": ["SPAM", 0, "HAM"], "who": ["ann"] * 3})
    reviews.to_csv(tmp_path / "reviews.csv", index=False)
    config = _wrench_config(tmp_path, review={"path": str(tmp_path / "reviews.csv"), "reviewer_column": "who"})
    result = build_from_config(config)
    assert result.counts["sources"]["rows"] == len(youtube.valid) + len(youtube.test)
    assert result.counts["lfs"]["lfs"] == youtube.valid.L.shape[1]  # WRENCH's stored votes
    assert result.counts["review"]["human_labels"] == 3
    human = result.data[result.data["label_source"] == "human"]
    expected = {"valid/0": 1, "valid/1": 0, "test/5": 0}
    assert len(human) >= 2  # a reviewed row may still be dropped as a duplicate
    assert all(expected[rid] == label for rid, label in zip(human.index, human["label"]))
    assert (human["confidence"] == 1.0).all()
    assert (human["reviewer"] == "ann").all()
    inst = [json.loads(x) for x in (tmp_path / "out" / "instruction" / "train.jsonl").read_text().splitlines()]
    # Every record carries its row id by default, so an exported line traces back to its source row.
    assert inst and all(set(rec) == {"id", "instruction", "input", "output"} for rec in inst)
    train = result.splits["train"]
    assert {rec["id"] for rec in inst} <= set(train.index.astype(str))
    assert all(rec["input"] == train.loc[rec["id"], "text"] for rec in inst[:50])
    again = build_from_config(_wrench_config(tmp_path, review=config["review"], output=str(tmp_path / "out2")))
    pd.testing.assert_frame_equal(result.splits["train"], again.splits["train"])  # seeded end to end


def test_build_leaves_out_uncovered_rows_by_default(tmp_path, youtube, caplog):
    # Three rows no LF voted on, reviewed by a person: a human label is evidence, so they stay.
    uncovered = [f"valid/{i}" for i in np.flatnonzero(~covered_rows(youtube.valid.L))[:3]]
    pd.DataFrame({"id": uncovered, "label": [1, 0, 1]}).to_csv(tmp_path / "reviews.csv", index=False)
    config = _wrench_config(
        tmp_path, augment=None, review={"path": str(tmp_path / "reviews.csv")}, export={"formats": ["jsonl"]},
        # tie_break "first" labels every row, the uncovered ones with a class they have no evidence for.
        label_model={"name": "mv", "tie_break": "first"},
    )
    with caplog.at_level(logging.INFO, logger="votewise.build"):
        result = build_from_config(config)
    rows = pd.concat(result.splits.values())
    assert (rows["label"] >= 0).all()
    prior_only = ~rows["covered"] & (rows["label_source"] == "label_model")
    n = int(prior_only.sum())
    assert result.export.filtered["uncovered"] == n > 0
    assert f"filtered_uncovered={n}" in caplog.text
    assert f"uncovered: {n}" in (tmp_path / "out" / "DATASET.md").read_text(encoding="utf-8")
    exported = {json.loads(line)["id"] for split in result.splits
                for line in (tmp_path / "out" / "jsonl" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()}
    assert len(exported) == sum(result.export.counts.values()) == len(rows) - n
    assert exported.isdisjoint(rows.index[prior_only])
    reviewed_uncovered = set(rows.index[~rows["covered"] & (rows["label_source"] == "human")])
    assert reviewed_uncovered and reviewed_uncovered <= exported

    kept = build_from_config({**config, "output": str(tmp_path / "kept"),
                              "export": {"formats": ["jsonl"], "drop_uncovered": False}})
    assert kept.export.filtered.get("uncovered", 0) == 0
    assert sum(kept.export.counts.values()) == len(rows)


@pytest.mark.parametrize(
    "change, step, key",
    [
        ({"clean": {"near_duplicates": {"threshold": "high"}}}, "clean", "near_duplicates.threshold"),
        ({"clean": {"near_dups": True}}, "clean", "near_dups"),
        ({"clean": {"pii": {"action": "erase"}}}, "clean", "pii.action"),
        ({"clean": {"pii": {"kinds": ["ssn"]}}}, "clean", "pii.kinds"),
        ({"split": {"fractions": {"train": 0.5, "test": 0.2}}}, "split", "fractions"),
        ({"augment": {"methods": ["shuffle"]}}, "augment", "methods"),
        ({"augment": {"methods": ["back_translation"]}}, "augment", "back_translation"),
        ({"augment": {"methods": ["back_translation"], "back_translation": {"forward": "nowhere"}}},
         "augment", "back_translation.forward"),
        ({"export": {"formats": ["xml"]}}, "export", "formats"),
        ({"export": {"min_confidence": 2}}, "export", "min_confidence"),
        ({"label_model": {"name": "nonexistent"}}, "label_model", "name"),
        ({"label_model": {"params": {"alpha": 1}}}, "label_model", "params.alpha"),
        ({"sources": [{"path": "missing/*.csv"}]}, "sources", "[0].path"),
        ({"sources": [{"wrench": str(YOUTUBE), "text_colum": "x"}]}, "sources", "[0].text_colum"),
        ({"lfs": {"python": "missing_lfs.py"}}, "lfs", "python"),
        ({"review": {"path": "missing.csv"}}, "review", "path"),
        ({"seed": "zero"}, "config", "seed"),
        ({"stages": []}, "config", "stages"),
    ],
)
def test_bad_config_names_step_and_key(tmp_path, change, step, key):
    with pytest.raises(PipelineError, match=re.escape(f"pipeline step '{step}', key '{key}'")) as info:
        build_from_config(_wrench_config(tmp_path, **change), base_dir=tmp_path)
    assert info.value.step == step and info.value.key == key


def test_unknown_key_suggests_the_right_one(tmp_path):
    with pytest.raises(PipelineError, match="Did you mean 'near_duplicates'"):
        build_from_config(_wrench_config(tmp_path, clean={"near_duplicate": {}}))


def test_cli_build(tmp_path, capsys):
    from labeling.app.cli import main

    config = _wrench_config(tmp_path, augment=None)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["build", str(path)]) == 0
    assert (tmp_path / "out" / "DATASET.md").is_file()
    config["clean"] = {"min_chars": -1}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["build", str(path)]) == 2
    assert "pipeline step 'clean', key 'min_chars'" in capsys.readouterr().err


def test_review_store_labels_enter_with_provenance(tmp_path):
    from labeling.review import ReviewStore

    store = ReviewStore(tmp_path / "reviews.sqlite", class_names=["ham", "spam"])
    store.add_samples(["test/0", "test/1", "test/2"], ["a", "b", "c"])
    for sid, label in (("test/0", 1), ("test/1", 0), ("test/2", 1)):
        store.record(sid, label, reviewer="ann")
    store.close()
    config = _wrench_config(tmp_path, review={"store": "reviews.sqlite"}, augment=None,
                            sources=[{"wrench": str(YOUTUBE), "splits": ["test"]}])
    result = build_from_config(config, base_dir=tmp_path)
    assert result.counts["review"]["human_labels"] == 3
    human = result.data[result.data["label_source"] == "human"]
    assert (human["reviewer"] == "ann").all()
    assert all({"test/0": 1, "test/1": 0, "test/2": 1}[i] == lab for i, lab in zip(human.index, human["label"]))
    with pytest.raises(PipelineError, match="step 'review', key 'store'"):
        build_from_config(_wrench_config(tmp_path, review={"store": "nowhere.sqlite"}), base_dir=tmp_path)


def test_jsonl_source_with_format_keep_columns_and_python_lfs(tmp_path):
    csv = pd.read_csv(ROOT / "examples" / "youtube_spam" / "data" / "Youtube05-Shakira.csv")
    lines = [json.dumps({"cid": r.COMMENT_ID, "body": r.CONTENT, "date": r.DATE, "author": r.AUTHOR})
             for r in csv.itertuples()]
    (tmp_path / "comments.txt").write_text("\n".join(lines), encoding="utf-8")
    config = {
        "class_names": ["HAM", "SPAM"], "progress": False, "output": "out",
        "sources": [{"path": "comments.txt", "format": "jsonl", "text_column": "body", "id_column": "cid",
                     "keep_columns": ["date"]}],
        "lfs": {"python": str(ROOT / "examples" / "youtube_spam" / "lfs.py")},
        "export": {"formats": ["csv"]},
    }
    result = build_from_config(config, base_dir=tmp_path)
    assert result.counts["sources"]["rows"] == len(csv)
    assert result.counts["lfs"]["lfs"] == 8
    exported = pd.read_csv(tmp_path / "out" / "csv" / "train.csv")
    assert "date" in exported and "author" not in exported  # only the kept columns travel
    assert exported["id"].isin(csv["COMMENT_ID"]).all()
    with pytest.raises(PipelineError, match=r"key '\[0\]\.format'"):
        build_from_config({**config, "sources": [{"path": "comments.txt", "format": "xml"}]}, base_dir=tmp_path)
    with pytest.raises(PipelineError, match=r"key '\[0\]\.id_column'.*no column 'comment_id'"):
        build_from_config({**config, "sources": [{**config["sources"][0], "id_column": "comment_id"}]},
                          base_dir=tmp_path)


def test_missing_wordnet_is_a_pipeline_error(tmp_path, monkeypatch):
    import importlib

    import sources.nltk_data
    from labeling.dataset.augment import synonyms

    def missing(resource):
        raise sources.nltk_data.MissingResourceError(f"{resource} is not installed; run python -m sources.install_data")

    # The module, not the function of the same name that the package exports.
    monkeypatch.setattr(importlib.import_module("labeling.dataset.augment"), "require", missing)
    synonyms.cache_clear()
    try:
        with pytest.raises(PipelineError, match=r"step 'augment', key 'methods'.*python -m sources.install_data"):
            build_from_config(_wrench_config(tmp_path, augment={"methods": ["synonym"]}))
    finally:
        synonyms.cache_clear()
