"""``queue``, ``review``, ``export-store``, ``import-store``, ``simulate``: registered on a parser as the CLI does."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from labeling.review import ActiveLoop, ReviewStore
from labeling.app.review_cli import add_subcommands
from models import LabelModel


def parse(argv):
    parser = argparse.ArgumentParser(prog="votewise")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_simulate_prints_json_and_writes_a_plot(tmp_path, capsys):
    from tests.conftest import DATA

    plot = tmp_path / "curve.png"
    args = parse(["simulate", str(DATA / "youtube"), "--strategy", "margin", "--budget", "20", "--batch", "10",
                  "--seeds", "2", "--no-end-model", "--json", "--quiet", "--plot", str(plot)])
    assert args.func(args) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["strategy"] for r in records} == {"random", "margin"}
    assert sorted({r["n_labels"] for r in records}) == [0, 10, 20]
    assert len(records) == 2 * 2 * 3 and all(0 < r["lm_acc"] <= 1 for r in records)
    assert plot.stat().st_size > 1000 and plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_simulate_end_model_table(tmp_path, capsys):
    from tests.conftest import DATA

    args = parse(["simulate", str(DATA / "youtube"), "--strategy", "uncovered", "--budget", "10", "--batch", "10",
                  "--seeds", "1", "--quiet"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "combined_acc" in out and "uncovered" in out


def test_review_command_records_keys(tmp_path, youtube, monkeypatch, capsys):
    path = tmp_path / "cli.sqlite"
    store = ReviewStore(path, class_names=youtube.class_names)
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


def _comments_csv(tmp_path, n=120):
    import pandas as pd
    from tests.conftest import EXAMPLES

    raw = pd.read_csv(EXAMPLES / "youtube_spam" / "data" / "Youtube01-Psy.csv").head(n)
    path = tmp_path / "comments.csv"
    raw.rename(columns={"COMMENT_ID": "id", "CONTENT": "text"})[["id", "text"]].to_csv(path, index=False)
    return path


def test_queue_creates_and_extends_a_store(tmp_path, capsys):
    from tests.conftest import EXAMPLES

    data, store_path = _comments_csv(tmp_path), tmp_path / "q.sqlite"
    lfs = str(EXAMPLES / "youtube_spam" / "lfs.py")
    base = ["queue", str(store_path), "--data", str(data), "--lfs", lfs, "--id-column", "id", "--quiet"]
    args = parse(base)
    assert args.func(args) == 2 and "name the classes with --classes" in capsys.readouterr().err
    args = parse([*base, "--classes", "HAM,SPAM", "--batch", "5", "--strategy", "diverse:entropy",
                  "--double-review", "0.5"])
    assert args.func(args) == 0
    err = capsys.readouterr().err
    assert "Created" in err and "queued 5 rows" in err and "votewise review" in err
    store = ReviewStore(store_path)
    assert store.class_names == ["HAM", "SPAM"] and len(store.queued_ids()) == 5 and store.double_review == 0.5
    first = [s.sample_id for s in store.checkout("ann", 5)]
    assert all(len(sid) > 20 for sid in first)   # the CSV's ids, not row numbers
    assert any(store.sample(sid).payload["spans"] for sid in first)   # rule LFs explain their votes
    for sid in first:
        store.record(sid, 1, reviewer="ann")
    store.close()
    args = parse([*base, "--batch", "4", "--audit-fraction", "0.5", "--labels-out", str(tmp_path / "labels.csv")])
    assert args.func(args) == 0
    err = capsys.readouterr().err
    assert "Extended" in err and "queued 4 rows" in err
    import pandas as pd

    labels = pd.read_csv(tmp_path / "labels.csv")
    store = ReviewStore(store_path)
    resolved = store.resolved_labels()
    assert len(labels) == 120 and (labels["source"] == "human").sum() == len(resolved) >= 1
    assert set(labels.loc[labels["source"] == "human", "id"]) == set(resolved)
    queue = store.queue_state()
    assert len(queue) == 9 and {queue[sid]["batch"] for sid in first} == {1}
    assert max(q["priority"] for sid, q in queue.items() if q["batch"] == 2) < min(
        queue[sid]["priority"] for sid in first)   # the new batch comes after the old one
    assert sum(bool(store.sample(sid).payload.get("audit")) for sid in queue) == 2
    store.close()
    args = parse([*base, "--batch", "0"])   # refit and report only
    assert args.func(args) == 0 and "queued 0 rows" in capsys.readouterr().err
    assert len(ReviewStore(store_path).queued_ids()) == 9


def test_export_and_import_store_commands(tmp_path, capsys):
    store = ReviewStore(tmp_path / "s.sqlite", class_names=["HAM", "SPAM"])
    store.put_sample("a", "x", needed=2, payload={"probs": [0.2, 0.8]})
    store.record("a", 1, reviewer="ann")
    store.close()
    for out in ("e.jsonl", "e.json"):
        args = parse(["export-store", str(tmp_path / "s.sqlite"), str(tmp_path / out),
                      "--label-studio-config", str(tmp_path / "config.xml")])
        assert args.func(args) == 0
        args = parse(["import-store", str(tmp_path / f"copy_{out}.sqlite"), str(tmp_path / out)])
        assert args.func(args) == 0 and args.func(args) == 0
        copy = ReviewStore(tmp_path / f"copy_{out}.sqlite")
        assert len(copy.decisions()) == 1 and copy.sample("a").needed == 2 and copy.resolved_labels() == {}
    assert "Added 1 decisions" in capsys.readouterr().err
    tasks = json.loads((tmp_path / "e.json").read_text())
    tasks[0]["annotations"].append({"completed_by": 3, "result": [{"from_name": "label", "to_name": "text",
                                                                  "type": "choices", "value": {"choices": ["HAM"]}}]})
    (tmp_path / "e.json").write_text(json.dumps(tasks))
    args = parse(["import-store", str(tmp_path / "s.sqlite"), str(tmp_path / "e.json"), "--user", "3=cy"])
    assert args.func(args) == 0
    assert [d.reviewer for d in ReviewStore(tmp_path / "s.sqlite").decisions()] == ["ann", "cy"]
    args = parse(["import-store", str(tmp_path / "s.sqlite"), str(tmp_path / "e.json"), "--user", "cy"])
    with pytest.raises(ValueError, match="expected a Label Studio user id and a reviewer name"):
        args.func(args)
    assert '<Choice value="SPAM"/>' in (tmp_path / "config.xml").read_text()


@pytest.mark.slow
def test_shell_loop_one_keypress_and_ctrl_c(tmp_path):
    """queue -> review (keys without Enter, then Ctrl-C) -> queue again, as a user runs it in a terminal."""
    import os
    import pty
    import select
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import EXAMPLES, ROOT

    data, store_path = _comments_csv(tmp_path), tmp_path / "shell.sqlite"
    votewise = [sys.executable, "-m", "labeling.app.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*votewise, "queue", str(store_path), "--data", str(data), "--lfs",
                    str(EXAMPLES / "youtube_spam" / "lfs.py"), "--classes", "HAM,SPAM", "--batch", "5",
                    "--id-column", "id", "--quiet"], check=True, env=env, cwd=tmp_path)
    master, slave = pty.openpty()
    # A terminal's foreground program gets Ctrl-C; a test suite started as a background job of a
    # non-interactive shell ignores SIGINT, and its children would inherit that and never stop.
    proc = subprocess.Popen([*votewise, "review", str(store_path), "--reviewer", "tty"], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=tmp_path, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    seen = b""

    def wait_for(marker: bytes, count: int) -> None:
        nonlocal seen
        end = time.time() + 60
        while seen.count(marker) < count and time.time() < end:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        assert seen.count(marker) >= count, seen.decode(errors="replace")

    wait_for(b"q=quit", 1)
    os.write(master, b"2")          # no Enter
    wait_for(b"q=quit", 2)
    os.write(master, b"1")
    wait_for(b"q=quit", 3)
    os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C
    # Keep reading while it exits: a pty's buffer is small, and a child writing to a full one blocks forever.
    end = time.time() + 90
    while proc.poll() is None and time.time() < end:
        try:
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 4096)
        except OSError:
            break
    assert proc.wait(5) == 0
    try:
        while select.select([master], [], [], 0.5)[0]:
            seen += os.read(master, 4096)
    except OSError:
        pass
    os.close(master)
    text = seen.decode(errors="replace")
    assert "Traceback" not in text and "Stopped; 2 decisions recorded" in text and "given back" in text
    store = ReviewStore(store_path)
    assert [(d.reviewer, d.label) for d in store.decisions()] == [("tty", 1), ("tty", 0)]
    assert store.leased_to_others("someone") == (0, None)   # the third sample is free again
