"""``review`` and ``simulate`` subcommands, registered on an argparse parser as the main CLI does."""

from __future__ import annotations

import argparse
import io
import json


from labeling.review import ActiveLoop, ReviewStore
from labeling.app.review_cli import add_subcommands
from models import LabelModel


def parse(argv):
    parser = argparse.ArgumentParser(prog="votewise")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_simulate_prints_json_and_writes_a_plot(tmp_path, capsys):
    from conftest import DATA

    plot = tmp_path / "curve.png"
    args = parse(["simulate", str(DATA / "youtube"), "--strategy", "margin", "--budget", "20", "--batch", "10",
                  "--seeds", "2", "--no-end-model", "--json", "--quiet", "--plot", str(plot)])
    assert args.func(args) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["strategy"] for r in records} == {"random", "margin"}
    assert sorted({r["n_labels"] for r in records}) == [0, 10, 20]
    assert len(records) == 2 * 2 * 3 and all(0 < r["lm_acc"] <= 1 for r in records)
    assert plot.stat().st_size > 1000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_simulate_end_model_table(tmp_path, capsys):
    from conftest import DATA

    args = parse(["simulate", str(DATA / "youtube"), "--strategy", "uncovered", "--budget", "10", "--batch", "10",
                  "--seeds", "1", "--quiet"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "combined_acc" in out and "uncovered" in out


def test_review_command_records_keys(tmp_path, youtube, monkeypatch, capsys):
    path = tmp_path / "cli.sqlite"
    store = ReviewStore(path, class_names=youtube.label_names)
    ActiveLoop(LabelModel(cardinality=2), youtube.train.data, youtube.train.L, store=store, batch_size=3,
               random_state=0).next_batch()
    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n1\nq\n"))
    args = parse(["review", str(path), "--reviewer", "cli"])
    assert args.func(args) == 0
    assert sorted(ReviewStore(path).resolved_labels().values()) == [0, 1]
    assert "Recorded 2 decisions" in capsys.readouterr().err


def test_review_command_missing_store(tmp_path, capsys):
    args = parse(["review", str(tmp_path / "none.sqlite")])
    assert args.func(args) == 2
    assert "No review store" in capsys.readouterr().err
