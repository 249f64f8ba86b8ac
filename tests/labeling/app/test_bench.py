"""The benchmark harness behind `votewise bench`."""

import json
import shutil

import pytest

from labeling.app.bench import BENCH_MODELS, format_bench_table, run_bench
from tests.conftest import DATA


def test_all_models_on_both_datasets():
    records = run_bench([str(DATA / "youtube"), str(DATA / "trec")], ["mv", "wmv", "ds", "default"], progress=False)
    got = {(r["dataset"], r["model"]): r["value"] for r in records}
    assert got[("youtube", "mv")] == pytest.approx(0.84) and got[("trec", "mv")] == pytest.approx(0.608)
    assert got[("youtube", "wmv")] == pytest.approx(0.78) and got[("trec", "wmv")] == pytest.approx(0.572)
    assert got[("youtube", "default")] >= 0.864 and got[("trec", "default")] >= 0.642
    for r in records:
        assert set(r) >= {"dataset", "model", "split", "metric", "value", "fit_seconds", "ece"}
        assert r["split"] == "test" and 0 <= r["ece"] <= 1
    uses = {r["model"]: r["valid_use"] for r in records}
    assert uses == {"mv": "none", "wmv": "class balance", "ds": "none", "default": "class balance + selection"}
    json.dumps(records)
    table = format_bench_table(records)
    assert "youtube" in table and "84.00" in table and "57.20" in table


def test_metric_fit_split_and_names(tmp_path):
    folder = tmp_path / "youtube"
    folder.mkdir()
    for name in ("label.json", "test.json", "valid.json"):
        shutil.copy(DATA / "youtube" / name, folder / name)
    with pytest.raises(ValueError, match="no train.json; use fit_split='test'"):
        run_bench([str(folder)], ["mv"], progress=False)
    records = run_bench([str(folder)], ["mv"], metric="f1", fit_split="test", progress=False)
    assert records[0]["metric"] == "f1" and 0 < records[0]["value"] < 1
    macro = run_bench([str(DATA / "trec")], "mv", metric="f1", progress=False)
    assert macro[0]["metric"] == "f1_macro"
    with pytest.raises(ValueError, match="Unknown model 'nope'"):
        run_bench([str(DATA / "trec")], ["nope"], progress=False)
    assert BENCH_MODELS == ("mv", "wmv", "ds", "snorkel", "hyperlm", "default")


def test_cli_bench_json_and_table(capsys):
    from labeling.app.cli import main

    assert main(["bench", str(DATA / "youtube"), "--model", "mv", "--model", "wmv", "--quiet", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["value"]) for r in records] == [("mv", 0.84), ("wmv", 0.78)]
    assert main(["bench", str(DATA / "trec"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "trec" in out and "60.80" in out and "ECE" in out
