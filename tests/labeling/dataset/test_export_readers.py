"""Finding 4: every export is read back by its own ecosystem's reader, with one schema across splits."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from labeling.dataset import export_dataset

NAMES = ["HAM", "SPAM"]


def _splits() -> dict[str, pd.DataFrame]:
    train = pd.DataFrame(
        {
            "text": ["win a prize", "nice song", "free money", "great voice"],
            "label": [1, 0, 1, 0],
            "confidence": [0.9, np.nan, 0.8, 1.0],  # NaN: a row whose confidence is unknown
            "covered": [True, True, True, True],
            "label_source": ["label_model", "label_model", "label_model", "human"],
            "extra": [1, "one", 2.5, None],  # numbers and strings in one object column
        },
        index=pd.Index(["t0", "t1", "t2", "t3"], name="id"),
    )
    # Augmented rows exist in train only: valid and test have no source_id / augmentation columns.
    aug = train.iloc[:1].assign(text="win a big prize", source_id="t0", augmentation="swap")
    aug.index = pd.Index(["t0~swap0"], name="id")
    train = pd.concat([train, aug])
    valid = train.iloc[:0][["text", "label", "confidence", "covered", "label_source", "extra"]]  # empty split
    test = pd.DataFrame(
        {"text": ["buy now", "lovely"], "label": [1, 0], "confidence": [0.7, 0.6], "covered": [True, True],
         "label_source": ["label_model"] * 2, "extra": [3, 4]},
        index=pd.Index(["s0", "s1"], name="id"),
    )
    return {"train": train, "valid": valid, "test": test}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    result = export_dataset(_splits(), out, class_names=NAMES,
                            formats=["jsonl", "csv", "parquet", "hf", "chat", "instruction"], metadata=True)
    return out, result


def test_jsonl_is_json_with_null_and_pyarrow_reads_it(exported):
    out, result = exported
    raw = (out / "jsonl" / "train.jsonl").read_text(encoding="utf-8")
    assert "NaN" not in raw
    rows = [json.loads(line) for line in raw.splitlines()]
    assert rows[1]["confidence"] is None
    schemas = set()
    for split in ("train", "test"):
        table = pa_json.read_json(out / "jsonl" / f"{split}.jsonl")
        schemas.add(tuple(table.column_names))
    assert len(schemas) == 1 and "augmentation" in schemas.pop()  # the same columns in every split
    assert (out / "jsonl" / "valid.jsonl").read_text() == ""
    for fmt in ("chat", "instruction"):
        assert pa_json.read_json(out / fmt / "train.jsonl").num_rows == result.counts["train"]


def test_csv_has_one_header(exported):
    out, _ = exported
    headers = {tuple(pd.read_csv(out / "csv" / f"{s}.csv").columns) for s in ("train", "valid", "test")}
    assert len(headers) == 1


def test_parquet_splits_share_one_schema(exported):
    out, _ = exported
    schemas = [pq.read_table(out / "parquet" / f"{s}.parquet").schema for s in ("train", "valid", "test")]
    assert all(s.equals(schemas[0]) for s in schemas)
    assert pq.read_table(out / "parquet" / "valid.parquet").num_rows == 0
    extra = pq.read_table(out / "parquet" / "train.parquet").column("extra").to_pylist()
    assert extra == ["1", "one", "2.5", None, "1"]  # mixed values coerced to strings


def test_hf_dataset_with_an_empty_split_loads(exported):
    datasets = pytest.importorskip("datasets")
    out, result = exported
    dd = datasets.load_from_disk(str(out / "hf"))
    assert {n: len(dd[n]) for n in dd} == result.counts == {"train": 5, "valid": 0, "test": 2}
    assert dd["valid"].features == dd["train"].features == dd["test"].features
    assert dd["train"][1]["confidence"] is None


def test_mixed_types_are_named(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="votewise.build"):
        export_dataset(_splits(), tmp_path / "a", class_names=NAMES, formats=["parquet"])
    assert "column 'extra' mixes number and str values" in caplog.text
    bad = _splits()
    bad["test"]["extra"] = pd.Series([[1, 2], 3], index=bad["test"].index, dtype=object)
    with pytest.raises(ValueError, match=r"Column 'extra' mixes lists or mappings .* row 's0' of split 'test'"):
        export_dataset(bad, tmp_path / "b", class_names=NAMES, formats=["parquet"])
