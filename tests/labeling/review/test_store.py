"""The SQLite review store: commits, leases, undo, double review, export/import, crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from labeling.review import ReviewStore, agreement_report, cohen_kappa

from tests.conftest import ROOT  # noqa: E402


@pytest.fixture
def store(tmp_path, youtube):
    s = ReviewStore(tmp_path / "review.sqlite", class_names=youtube.class_names)
    data = youtube.train.data.iloc[:20]
    s.add_samples(data.index, data["text"])
    yield s
    s.close()


def test_every_label_is_committed_at_once(store, youtube):
    sid = str(youtube.train.data.index[0])
    store.record(sid, 1, reviewer="ann")
    # A second, independent connection sees it without any close or flush.
    con = sqlite3.connect(store.path)
    assert con.execute("SELECT label FROM labels WHERE sample_id = ?", (sid,)).fetchone() == (1,)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_reviewers_never_get_the_same_sample(store):
    other = ReviewStore(store.path)
    a = {s.sample_id for s in store.checkout("ann", 8)}
    b = {s.sample_id for s in other.checkout("bob", 8)}
    assert len(a) == 8 and len(b) == 8 and not a & b
    # ann's leases come back to ann, not to anyone else.
    assert {s.sample_id for s in store.checkout("ann", 8)} == a
    c = {s.sample_id for s in other.checkout("cy", 20)}
    assert not c & (a | b) and len(c) == 4


def test_expired_lease_is_offered_again(store):
    taken = store.checkout("ann", 20, lease_seconds=0.05)
    assert store.checkout("bob", 1) == []
    time.sleep(0.1)
    assert store.checkout("bob", 1)[0].sample_id == taken[0].sample_id


def test_undo_skip_unsure(store):
    first = store.checkout("ann", 1)[0].sample_id
    store.record(first, 0, reviewer="ann")
    second = store.checkout("ann", 1)[0].sample_id
    store.skip(second, reviewer="ann")
    third = store.checkout("ann", 1)[0].sample_id
    store.unsure(third, reviewer="ann")
    assert store.progress()["skipped"] == 1 and store.progress()["unsure"] == 1
    assert store.undo(reviewer="ann").sample_id == third
    assert store.undo(reviewer="ann").kind == "skip"
    undone = store.undo(reviewer="ann")
    assert undone.sample_id == first and undone.label == 0
    assert store.resolved_labels() == {}
    # Nothing is deleted: the log keeps the undone decisions.
    assert len(store.decisions(include_undone=True)) == 3
    assert store.checkout("ann", 1)[0].sample_id in {first, second, third}
    assert store.undo(reviewer="nobody") is None


def test_double_review_and_adjudication(tmp_path, youtube):
    s = ReviewStore(tmp_path / "d.sqlite", class_names=youtube.class_names, double_review=1.0, random_state=0)
    s.add_samples(["a", "b", "c"], ["x", "y", "z"])
    for sid, (la, lb) in zip("abc", [(1, 1), (0, 1), (0, 0)]):
        s.record(sid, la, reviewer="ann")
        assert sid not in s.resolved_labels()  # one review is not enough
        assert s.checkout("ann", 3) == [] or sid not in {x.sample_id for x in s.checkout("ann", 3)}
        s.record(sid, lb, reviewer="bob")
    assert s.resolved_labels() == {"a": 1, "c": 0}
    assert s.to_adjudicate() == ["b"]
    s.adjudicate("b", 1, reviewer="lead")
    assert s.resolved_labels() == {"a": 1, "b": 1, "c": 0}
    pairs, per_class = agreement_report(s)
    assert pairs.loc[0, "n"] == 3 and pairs.loc[0, "agreement"] == pytest.approx(2 / 3)
    assert pairs.loc[0, "kappa"] == pytest.approx(cohen_kappa([1, 0, 0], [1, 1, 0]))
    assert list(per_class.index) == youtube.class_names


def test_record_errors(store):
    with pytest.raises(ValueError, match=r"label=5 for sample .*expected a class id 0..1"):
        store.record(store.sample_ids()[0], 5, reviewer="ann")
    with pytest.raises(KeyError, match="No sample 'nope'"):
        store.record("nope", 0, reviewer="ann")
    with pytest.raises(ValueError, match="kind='maybe' is not one of"):
        store.record(store.sample_ids()[0], 0, reviewer="ann", kind="maybe")
    with pytest.raises(ValueError, match="was created with class names"):
        ReviewStore(store.path, class_names=["a", "b", "c"])


def test_jsonl_and_label_studio_round_trip(store, tmp_path):
    ids = store.sample_ids()
    store.record(ids[0], 1, reviewer="ann")
    store.record(ids[1], 0, reviewer="bob")
    store.skip(ids[2], reviewer="ann")
    assert store.export_jsonl(tmp_path / "out.jsonl") == 20   # every sample, decided or not
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()[1:]]
    assert lines[0]["decisions"][0]["label_name"] == "SPAM" and lines[2]["decisions"][0]["kind"] == "skip"
    fresh = ReviewStore(tmp_path / "fresh.sqlite", class_names=store.class_names)
    assert fresh.import_jsonl(tmp_path / "out.jsonl") == 3
    assert fresh.resolved_labels() == store.resolved_labels()

    assert store.export_label_studio(tmp_path / "ls.json") == 20
    tasks = json.loads((tmp_path / "ls.json").read_text())
    assert tasks[0]["annotations"][0]["result"][0]["value"]["choices"] == ["SPAM"]
    ls = ReviewStore(tmp_path / "ls.sqlite", class_names=store.class_names)
    assert ls.import_label_studio(tmp_path / "ls.json") == 3
    assert ls.resolved_labels() == store.resolved_labels()


def test_record_refuses_a_sample_leased_to_someone_else(store):
    from labeling.review.store import LeaseError

    (sample,) = store.checkout("ann", 1)
    with pytest.raises(LeaseError, match=f"Sample '{sample.sample_id}' is leased to 'ann' until .*'bob' cannot"):
        store.record(sample.sample_id, 1, reviewer="bob")
    assert store.decisions() == []
    assert [s.sample_id for s in store.checkout("ann", 1)] == [sample.sample_id]   # ann still holds it
    store.record(sample.sample_id, 1, reviewer="ann")
    store.record(sample.sample_id, 0, reviewer="bob")   # no lease any more: a second opinion is fine
    (other,) = store.checkout("ann", 1, lease_seconds=-1)   # an expired lease does not block
    store.record(other.sample_id, 0, reviewer="bob")


def test_sigkill_mid_review_loses_nothing_recorded(tmp_path, youtube):
    path = tmp_path / "crash.sqlite"
    s = ReviewStore(path, class_names=youtube.class_names)
    data = youtube.train.data.iloc[:500]
    s.add_samples(data.index, data["text"])
    s.close()
    # The child labels as fast as it can and prints each id after record() returns;
    # whatever it printed must be in the file after SIGKILL.
    code = textwrap.dedent(f"""
        import sys
        from labeling.review import ReviewStore
        s = ReviewStore({str(path)!r})
        i = 0
        while True:
            got = s.checkout("child", 1)
            if not got:
                break
            s.record(got[0].sample_id, i % 2, reviewer="child")
            print(got[0].sample_id, i % 2, flush=True)
            i += 1
        print("DONE", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen: dict[str, int] = {}
    for line in proc.stdout:
        sid, label = line.split()
        seen[sid] = int(label)
        if len(seen) >= 40:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    after = ReviewStore(path).resolved_labels()
    assert len(seen) == 40
    for sid, label in seen.items():
        assert after[sid] == label
