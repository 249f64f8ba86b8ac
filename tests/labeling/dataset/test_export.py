"""Tests of the exports (JSONL, CSV, Parquet, HF DatasetDict, instruction, chat) and the datasheet."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from labeling import covered_rows, lf_summary
from labeling.dataset import export_dataset, label_model_estimates, select_rows, to_chat, to_instruction
from models import MajorityVote

NAMES = ["HAM", "SPAM"]


def _labelled(split, model):
    probs = model.predict_proba(split.L)
    df = split.data[["text"]].copy()
    df["label"] = model.predict(split.L, tie_break="abstain")
    df["confidence"] = probs.max(axis=1)
    df["prob_HAM"], df["prob_SPAM"] = probs[:, 0], probs[:, 1]
    df["covered"] = covered_rows(split.L)
    df["label_source"] = "label_model"
    return df


@pytest.fixture(scope="module")
def model(youtube):
    return MajorityVote(cardinality=2).fit(youtube.train.L)


@pytest.fixture(scope="module")
def splits(youtube, model):
    out = {"train": _labelled(youtube.valid, model), "test": _labelled(youtube.test, model)}
    # Five uncovered training rows reviewed by a person, with the gold label.
    uncovered = out["train"].index[~out["train"]["covered"]][:5]
    pos = out["train"].index.get_indexer(uncovered)
    out["train"].loc[uncovered, "label"] = youtube.valid.y[pos]
    out["train"].loc[uncovered, "label_source"] = "human"
    out["train"].loc[uncovered, "confidence"] = 1.0
    return out


def test_select_rows_filters(splits):
    train = splits["train"]
    kept, filtered = select_rows(train, min_confidence=0.7, drop_uncovered=True)
    human = train["label_source"] == "human"
    assert filtered["no_label"] == int((train["label"] < 0).sum()) > 0  # ties abstained
    assert human[kept.index].sum() == 5  # reviewed rows pass coverage and confidence filters
    assert (kept.loc[~human[kept.index], "confidence"] >= 0.7).all()
    assert kept.loc[~human[kept.index], "covered"].all()
    assert sum(filtered.values()) + len(kept) == len(train)
    without, f2 = select_rows(train, include_reviewed=False)
    assert f2["human_reviewed"] == 5 and not (without["label_source"] == "human").any()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"min_confidence": 1.5}, ValueError, r"min_confidence=1.5 must be in \[0, 1\]"),
    ({"label_column": "gold"}, KeyError, "No label column 'gold'"),
])
def test_select_rows_errors(splits, kwargs, error, match):
    with pytest.raises(error, match=match):
        select_rows(splits["train"], **kwargs)


def test_fine_tuning_layouts(splits):
    rows = splits["test"][splits["test"]["label"] >= 0].iloc[:3]
    inst = to_instruction(rows, class_names=NAMES, metadata=True)
    assert [r["output"] for r in inst] == [NAMES[i] for i in rows["label"]]
    assert inst[0]["input"] == rows["text"].iloc[0]
    assert inst[0]["instruction"].startswith("Classify the text as one of: HAM, SPAM.")
    assert inst[0]["metadata"]["id"] == str(rows.index[0])
    chat = to_chat(rows, class_names=NAMES, system_prompt="You are a moderator.",
                   prompt_template="Spam ({labels})? {text}")
    roles = [m["role"] for m in chat[0]["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert chat[0]["messages"][1]["content"] == f"Spam (HAM, SPAM)? {rows['text'].iloc[0]}"
    assert chat[0]["messages"][2]["content"] == NAMES[rows["label"].iloc[0]]
    with pytest.raises(KeyError, match=r"prompt template .* uses \{author\}, which is not a column"):
        to_chat(rows, class_names=NAMES, prompt_template="{author}: {text}")


def test_fine_tuning_records_carry_their_row_id_by_default(tmp_path, splits):
    rows = splits["test"][splits["test"]["label"] >= 0].iloc[:5]
    ids = [str(i) for i in rows.index]
    assert [r["id"] for r in to_chat(rows, class_names=NAMES)] == ids
    assert [r["id"] for r in to_instruction(rows, class_names=NAMES)] == ids
    assert "id" not in to_chat(rows, class_names=NAMES, ids=False)[0]
    assert set(to_instruction(rows, class_names=NAMES, ids=False)[0]) == {"instruction", "input", "output"}
    res = export_dataset({"test": rows}, tmp_path, class_names=NAMES, formats=["alpaca", "instruction", "chat"])
    alpaca = (tmp_path / "alpaca" / "test.jsonl").read_text(encoding="utf-8")
    # "alpaca" names the instruction layout: the same records, in their own folder.
    assert alpaca == (tmp_path / "instruction" / "test.jsonl").read_text(encoding="utf-8")
    assert [json.loads(x)["id"] for x in alpaca.splitlines()] == ids
    assert [json.loads(x)["id"] for x in (tmp_path / "chat" / "test.jsonl").read_text().splitlines()] == ids
    assert res.paths["alpaca"] == [tmp_path / "alpaca" / "test.jsonl"]


def test_export_all_formats(tmp_path, splits, youtube, model):
    try:
        import datasets  # noqa: F401

        has_hf = True
    except ModuleNotFoundError:  # the hf extra is optional; every other format is still checked
        has_hf = False
    sheet = dict(name="youtube", lf_summary=lf_summary(youtube.valid.L), label_model=label_model_estimates(model),
                 cleaning={"dedup_exact": {"exact_duplicate": 7}})
    res = export_dataset(
        splits, tmp_path, class_names=NAMES,
        formats=["jsonl", "csv", "parquet", "instruction", "chat"] + (["hf"] if has_hf else []),
        min_confidence=0.6, keep_probs=True, datasheet=sheet,
    )
    n_train, n_test = res.counts["train"], res.counts["test"]
    assert n_train > 0 and n_test > 0
    lines = (tmp_path / "jsonl" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert len(lines) == n_train
    assert {"id", "text", "label", "label_name", "prob_SPAM", "label_source"} <= set(first)
    csv = pd.read_csv(tmp_path / "csv" / "test.csv")
    pq = pd.read_parquet(tmp_path / "parquet" / "test.parquet")
    assert len(csv) == len(pq) == n_test
    assert csv["id"].astype(str).tolist() == pq["id"].tolist()
    if has_hf:
        from datasets import load_from_disk

        dd = load_from_disk(str(tmp_path / "hf"))
        assert dd["train"].num_rows == n_train and dd["test"]["text"] == pq["text"].tolist()
    chat = [json.loads(x) for x in (tmp_path / "chat" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(chat) == n_train and chat[0]["messages"][-1]["content"] in NAMES
    reviewed = [json.loads(x) for x in lines if json.loads(x)["label_source"] == "human"]
    assert len(reviewed) == 5  # human rows exported with their provenance
    md = res.datasheet.read_text(encoding="utf-8")
    assert f"| train | {n_train} | 0 | 5 |" in md
    assert "## Labeling functions" in md and "## Label model" in md and "MajorityVote" in md
    assert "exact_duplicate: 7" in md and "low_confidence" in md


def test_export_without_probs_and_errors(tmp_path, splits):
    res = export_dataset(splits, tmp_path, class_names=NAMES, formats=["csv"])
    assert not any(c.startswith("prob_") for c in pd.read_csv(res.paths["csv"][0]).columns)
    with pytest.raises(ValueError, match=r"Unknown export format\(s\) \['xml'\]"):
        export_dataset(splits, tmp_path, class_names=NAMES, formats=["xml"])
    with pytest.raises(ValueError, match="has no \\{text\\} field"):
        export_dataset(splits, tmp_path, class_names=NAMES, formats=["chat"], prompt_template="Classify.")
    with pytest.raises(ValueError, match="class_names has only 1 classes"):
        export_dataset(splits, tmp_path, class_names=["HAM"], formats=["csv"])


@pytest.fixture()
def prior_labelled(splits):
    """The splits as a label model labels them: rows no LF voted on get the prior's class, not -1."""
    out = {}
    for name, frame in splits.items():
        frame = frame.copy()
        prior_only = ~frame["covered"] & (frame["label_source"] == "label_model")
        frame.loc[prior_only, "label"] = 0
        frame.loc[prior_only, "confidence"] = 0.55
        out[name] = frame
    return out


def test_select_rows_leaves_out_uncovered_rows_by_default(prior_labelled):
    train = prior_labelled["train"]
    human = train["label_source"] == "human"
    prior_only = ~train["covered"] & ~human
    assert prior_only.sum() > 0 and (~train["covered"] & human).sum() == 5
    kept, filtered = select_rows(train)
    assert filtered["uncovered"] == int(prior_only.sum())
    assert not prior_only[kept.index].any()
    assert human[kept.index].sum() == 5  # reviewed rows have no LF vote either, but a human label is evidence
    assert sum(filtered.values()) + len(kept) == len(train)
    everything, f2 = select_rows(train, drop_uncovered=False)
    assert "uncovered" not in f2 and prior_only[everything.index].sum() == prior_only.sum()
    assert len(everything) == len(kept) + filtered["uncovered"]


def test_export_leaves_out_uncovered_rows_by_default_and_keeps_them_on_request(tmp_path, prior_labelled):
    n_prior_only = sum(int((~f["covered"] & (f["label_source"] == "label_model")).sum())
                       for f in prior_labelled.values())
    res = export_dataset(prior_labelled, tmp_path / "default", class_names=NAMES, formats=["jsonl"])
    assert res.filtered["uncovered"] == n_prior_only > 0
    lines = (tmp_path / "default" / "jsonl" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines]
    train = prior_labelled["train"]
    exported = train[train.index.astype(str).isin({r["id"] for r in rows})]
    assert len(exported) == len(rows) and exported["covered"].sum() == len(rows) - 5
    assert (exported.loc[~exported["covered"], "label_source"] == "human").all()
    assert f"uncovered: {n_prior_only}" in res.datasheet.read_text(encoding="utf-8")

    kept = export_dataset(prior_labelled, tmp_path / "kept", class_names=NAMES, formats=["jsonl"],
                          drop_uncovered=False)
    assert kept.filtered.get("uncovered", 0) == 0
    assert sum(kept.counts.values()) == sum(res.counts.values()) + n_prior_only


def test_export_without_covered_column_says_how_to_fix(tmp_path, prior_labelled):
    bare = {name: f.drop(columns=["covered"]) for name, f in prior_labelled.items()}
    with pytest.raises(KeyError, match=r"needs a boolean 'covered' column.*covered_rows\(L\).*drop_uncovered=False"):
        export_dataset(bare, tmp_path, class_names=NAMES, formats=["csv"])
    res = export_dataset(bare, tmp_path, class_names=NAMES, formats=["csv"], drop_uncovered=False)
    assert sum(res.counts.values()) == sum(int((f["label"] >= 0).sum()) for f in bare.values())
