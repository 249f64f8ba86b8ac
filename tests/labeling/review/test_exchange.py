"""JSONL and Label Studio round trips of a review store: every decision kind, the log, payloads, ``needed``."""

from __future__ import annotations

import json

import pytest

from labeling.review import ReviewStore, agreement_report
from labeling.review.exchange import label_studio_config

CLASSES = ["HAM", "SPAM"]


@pytest.fixture
def full_store(tmp_path):
    """A store with every kind of state a week of review leaves behind."""
    s = ReviewStore(tmp_path / "full.sqlite", class_names=CLASSES)
    for i in range(8):
        s.put_sample(f"r{i}", f"text {i} &amp; <b>more</b>", position=i, needed=2 if i < 3 else 1,
                     priority=10.0 - i, batch=1 + i // 4,
                     payload={"votes": {"kw": i % 2}, "probs": [0.3 + i / 20, 0.7 - i / 20],
                              "spans": [[0, 4, "kw"]]})
    # r0: double review, agreement; r1: disagreement then adjudication; r2: disagreement, unsettled.
    s.record("r0", 1, reviewer="ann")
    s.record("r0", 1, reviewer="bob")
    s.record("r1", 0, reviewer="ann")
    s.record("r1", 1, reviewer="bob")
    s.adjudicate("r1", 1, reviewer="lead")
    s.record("r2", 0, reviewer="ann", note="looks like ham")
    s.record("r2", 1, reviewer="bob")
    s.skip("r3", reviewer="ann")
    s.unsure("r4", reviewer="bob")
    s.unsure("r5", 0, reviewer="ann")
    s.record("r6", 1, reviewer="ann")
    s.undo(reviewer="ann")                      # r6's label is undone, kept in the log
    s.release("r6", "ann")
    s.record("r6", 0, reviewer="ann@example.org")
    # r7 stays undecided
    yield s
    s.close()


def snapshot(s: ReviewStore) -> dict:
    """Everything a round trip must keep, field by field (decision times included)."""
    samples = {sid: (x.text, x.payload, x.position, x.needed) for sid in s.sample_ids() for x in [s.sample(sid)]}
    log = {}
    for d in s.decisions(include_undone=True):
        log.setdefault(d.sample_id, []).append(
            (d.reviewer, d.kind, d.label, d.note, round(d.created_at, 6),
             None if d.undone_at is None else round(d.undone_at, 6)))
    pairs, _ = agreement_report(s)
    return {"class_names": s.class_names, "samples": samples, "queue": s.queue_state(), "log": log,
            "resolved": s.resolved_labels(), "to_adjudicate": sorted(s.to_adjudicate()), "progress": s.progress(),
            "pairs": pairs.to_dict(orient="records")}


def test_fixture_covers_every_case(full_store):
    snap = snapshot(full_store)
    assert {k for entries in snap["log"].values() for (_, k, *_rest) in entries} == {
        "label", "skip", "unsure", "adjudication"}
    assert snap["to_adjudicate"] == ["r2"] and snap["resolved"]["r1"] == 1 and "r2" not in snap["resolved"]
    assert any(e[5] is not None for e in snap["log"]["r6"]) and "r7" not in snap["log"]


@pytest.mark.parametrize("fmt", ["jsonl", "label_studio"])
def test_round_trip_is_exact_and_idempotent(full_store, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    getattr(full_store, f"export_{fmt}")(out)
    fresh = ReviewStore(tmp_path / f"fresh_{fmt}.sqlite")   # no class names: they come from the file
    n = getattr(fresh, f"import_{fmt}")(out)
    assert n == len(full_store.decisions(include_undone=True)) == 12
    want, got = snapshot(full_store), snapshot(fresh)
    for key in want:
        assert got[key] == want[key], key
    # Importing again, into the copy or into the original, adds nothing.
    assert getattr(fresh, f"import_{fmt}")(out) == 0
    assert getattr(full_store, f"import_{fmt}")(out) == 0
    assert snapshot(fresh) == want and snapshot(full_store) == want
    # needed survives: a double-review sample with one label stays out of the training labels.
    fresh.record("r7", 1, reviewer="ann")
    assert fresh.sample("r0").needed == 2 and fresh.sample("r7").needed == 1
    one = ReviewStore(tmp_path / f"one_{fmt}.sqlite", class_names=CLASSES)
    one.put_sample("d", "x", needed=2)
    one.record("d", 1, reviewer="ann")
    one.export_jsonl(tmp_path / "one.jsonl") if fmt == "jsonl" else one.export_label_studio(tmp_path / "one.json")
    other = ReviewStore(tmp_path / f"other_{fmt}.sqlite")
    getattr(other, f"import_{fmt}")(tmp_path / ("one.jsonl" if fmt == "jsonl" else "one.json"))
    assert other.resolved_labels() == {} and other.sample("d").needed == 2


def test_jsonl_lines_carry_payloads_and_undecided_samples(full_store, tmp_path):
    assert full_store.export_jsonl(tmp_path / "s.jsonl") == 8
    header, *lines = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert header["class_names"] == CLASSES and header["votewise"] == "review-store"
    by_id = {r["id"]: r for r in lines}
    assert by_id["r7"]["decisions"] == [] and by_id["r7"]["payload"]["spans"] == [[0, 4, "kw"]]
    assert by_id["r0"]["needed"] == 2 and by_id["r1"]["decisions"][-1]["kind"] == "adjudication"
    assert by_id["r2"]["decisions"][0]["note"] == "looks like ham"


def test_label_studio_tasks_follow_label_studios_format(full_store, tmp_path):
    full_store.export_label_studio(tmp_path / "ls.json")
    tasks = {t["data"]["votewise_id"]: t for t in json.loads((tmp_path / "ls.json").read_text())}
    for t in tasks.values():
        assert t["data"]["text"].startswith("text ")
        for ann in t["annotations"]:
            assert set(ann["completed_by"]) == {"email"} and "@" in ann["completed_by"]["email"]
        (pred,) = t["predictions"]
        assert pred["model_version"] == "votewise" and 0.5 <= pred["score"] <= 1
        assert pred["result"][0]["value"]["choices"][0] in CLASSES
    assert tasks["r0"]["predictions"][0]["result"][0]["value"]["choices"] == ["SPAM"]
    assert [a["completed_by"]["email"] for a in tasks["r6"]["annotations"]] == ["ann@example.org"]
    skip, = tasks["r3"]["annotations"]
    assert skip["was_cancelled"] is True and skip["result"] == []
    adj = tasks["r1"]["annotations"][-1]
    assert adj["ground_truth"] is True and adj["completed_by"] == {"email": "lead@votewise.local"}
    assert {r["from_name"]: r["value"]["choices"] for r in adj["result"]} == {
        "label": ["SPAM"], "decision": ["adjudication"]}
    unsure, = tasks["r5"]["annotations"]
    assert {r["from_name"]: r["value"]["choices"] for r in unsure["result"]} == {
        "label": ["HAM"], "decision": ["unsure"]}
    assert tasks["r7"]["annotations"] == []
    config = label_studio_config(CLASSES)
    assert '<Choice value="SPAM"/>' in config and 'name="decision"' in config


def test_label_studio_work_comes_back(full_store, tmp_path):
    """Annotations made in Label Studio (user ids, e-mails, no votewise log) are added once."""
    full_store.export_label_studio(tmp_path / "ls.json")
    tasks = json.loads((tmp_path / "ls.json").read_text())
    r7 = next(t for t in tasks if t["data"]["votewise_id"] == "r7")
    r7["annotations"].append({"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                          "value": {"choices": ["SPAM"]}}],
                              "completed_by": {"email": "cy@votewise.local"},
                              "was_cancelled": False, "created_at": "2026-01-02T03:04:05.000006Z"})
    r2 = next(t for t in tasks if t["data"]["votewise_id"] == "r2")
    r2["annotations"].append({"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                          "value": {"choices": ["HAM"]}}], "completed_by": 7, "ground_truth": True})
    (tmp_path / "ls.json").write_text(json.dumps(tasks))
    assert full_store.import_label_studio(tmp_path / "ls.json") == 2
    assert full_store.resolved_labels()["r7"] == 1
    assert full_store.reviews_of("r7")[0].reviewer == "cy"
    assert full_store.to_adjudicate() == [] and full_store.resolved_labels()["r2"] == 0
    assert full_store.reviews_of("r2")[-1].reviewer == "label-studio-user-7"
    assert full_store.import_label_studio(tmp_path / "ls.json") == 0


def test_hand_made_jsonl_lines(tmp_path):
    path = tmp_path / "hand.jsonl"
    path.write_text('{"id": "a", "text": "hi", "label_name": "SPAM", "reviewer": "ann"}\n'
                    '{"id": "b", "text": "yo", "label": 0}\n')
    s = ReviewStore(tmp_path / "h.sqlite", class_names=CLASSES)
    assert s.import_jsonl(path) == 2 and s.import_jsonl(path) == 0
    assert s.resolved_labels() == {"a": 1, "b": 0}
    path.write_text('{"id": "a", "label_name": "EGGS"}\n')
    with pytest.raises(ValueError, match=r"hand.jsonl, line 1, field 'label_name': class \"EGGS\" is not one of"):
        s.import_jsonl(path)


def test_label_studios_own_export_comes_back_once(full_store, tmp_path):
    """Label Studio re-exports annotations under user ids with new times: they match, and only new work is added."""
    full_store.export_label_studio(tmp_path / "ls.json")
    tasks = json.loads((tmp_path / "ls.json").read_text())
    ids = {"ann@votewise.local": 1, "bob@votewise.local": 2, "lead@votewise.local": 3, "ann@example.org": 4}
    for t in tasks:
        for k, ann in enumerate(t["annotations"]):
            ann.update(id=100 * len(t["data"]["text"]) + k, completed_by=ids[ann["completed_by"]["email"]],
                       created_at="2027-01-01T00:00:00Z", updated_at="2027-01-01T00:00:00Z", lead_time=3.2)
    r7 = next(t for t in tasks if t["data"]["votewise_id"] == "r7")
    r7["annotations"].append({"id": 9, "completed_by": 5, "was_cancelled": False, "ground_truth": False,
                              "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                          "value": {"choices": ["HAM"]}}]})
    (tmp_path / "ls.json").write_text(json.dumps(tasks))
    want = snapshot(full_store)
    assert full_store.import_label_studio(tmp_path / "ls.json", users={5: "dee"}) == 1
    assert [(d.reviewer, d.label) for d in full_store.reviews_of("r7")] == [("dee", 0)]
    assert full_store.import_label_studio(tmp_path / "ls.json", users={5: "dee"}) == 0
    fresh = ReviewStore(tmp_path / "fresh.sqlite")
    assert fresh.import_label_studio(tmp_path / "ls.json") == 12 + 1
    got = snapshot(fresh)
    assert got["log"]["r7"][0][:3] == ("label-studio-user-5", "label", 0)
    del got["log"]["r7"]   # the one new decision; everything else equals the original
    assert got["log"] == want["log"]


# Imports that validate: every record is checked, errors name file, line and field, nothing is half-imported ---
def _store_state(s):
    return (s.sample_ids(), [(d.sample_id, d.reviewer, d.kind, d.label, d.undone_at)
                             for d in s.decisions(include_undone=True)], s.queue_state())


@pytest.mark.parametrize("line, field, message", [
    ('{"id": "r7", "label": 7}', "label", "7 is not a class id; expected 0..1"),
    ('{"id": "r7", "label": -2}', "label", "-2 is not a class id"),
    ('{"id": "r7", "label": 1.5}', "label", "expected an integer; got 1.5"),
    ('{"id": "r7", "label": true}', "label", "expected an integer; got true"),
    ('{"id": "r7", "label": "1"}', "label", 'expected an integer; got "1"'),
    ('{"id": "r7"}', "label", "a 'label' decision needs a class"),
    ('{"id": "r7", "label": 0, "kind": "maybe"}', "kind", '"maybe" is not one of'),
    ('{"id": "r7", "label": 0, "reviewer": 5}', "reviewer", "expected a non-empty string; got 5"),
    ('{"id": "r7", "label": 0, "reviewer": ""}', "reviewer", "expected a non-empty string"),
    ('{"id": "r7", "label": 0, "created_at": "yesterday"}', "created_at", '"yesterday" is not a time'),
    ('{"id": "r7", "label": 0, "created_at": 1767225600000}', "created_at", "not milliseconds"),
    ('{"id": "r7", "label": 0, "created_at": -5}', "created_at", "is not a time"),
    ('{"id": "r7", "label": 0, "created_at": 100, "undone_at": 50}', "undone_at", "undone before it was made"),
    ('{"id": ["r7"], "label": 0}', "id", "expected a non-empty string or integer sample id"),
    ('{"id": "nobody", "label": 0}', "id", "no sample 'nobody'"),
    ('{"id": "r7", "label": 0, "text": 5}', "text", "expected the sample's text as a string"),
    ('{"id": "r9", "text": "x", "decisions": [{"kind": "label", "label": 3}]}', "decisions[0].label",
     "3 is not a class id"),
    ('{"id": "r9", "text": "x", "decisions": {"kind": "label"}}', "decisions", "expected a JSON list"),
    ('{"id": "r9", "text": "x", "decisions": ["label"]}', "decisions[0]", "expected a JSON object"),
    ('{"id": "r9", "text": "x", "needed": 0, "decisions": []}', "needed", "at least 1"),
    ('{"id": "r9", "text": "x", "payload": [1], "decisions": []}', "payload", "expected a JSON object"),
    ('{"votewise": "review-store", "class_names": ["A", "B"]}', "class_names", "this store has ['HAM', 'SPAM']"),
])
def test_jsonl_import_refuses_bad_records_naming_line_and_field(full_store, tmp_path, line, field, message):
    """The bad line is the third: the two good lines before it are not imported either."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "r7", "label_name": "SPAM", "reviewer": "cy"}\n\n'
                    '{"id": "new", "text": "fresh sample", "label": 0, "reviewer": "cy"}\n' + line + "\n")
    before = _store_state(full_store)
    with pytest.raises(ValueError) as err:
        full_store.import_jsonl(path)
    assert str(err.value).startswith(f"{path}, line 4, field {field!r}: ")
    assert message in str(err.value)
    assert _store_state(full_store) == before


@pytest.mark.parametrize("content, message", [
    (b'[{"data": {"text": "a"}, "annotations": []},\n {"data": {"text": "b"', "line 2, column"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", r"line 1: not UTF-8 \(byte 0x89\)"),
    (b'[{"data": {"text": "a"}},\n {"data": {"text": "caf\xe9"}}]', r"line 2: not UTF-8 \(byte 0xe9\)"),
    (b'[{"data": {"text": "a"}}]\x00\x00', "NUL byte"),
    (b"", "the file is empty"),
    (b'{"data": {"text": "a"}}', "got an object at the top level"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_label_studio_import_refuses_unreadable_files(full_store, tmp_path, content, message):
    path = tmp_path / "tasks.json"
    path.write_bytes(content)
    before = _store_state(full_store)
    with pytest.raises(ValueError, match=message) as err:
        full_store.import_label_studio(path)
    assert str(err.value).startswith(str(path)) and "Label Studio's JSON export" in str(err.value)
    assert _store_state(full_store) == before


@pytest.mark.parametrize("edit, field, message", [
    (lambda t: t.__setitem__("data", "text"), "data", "expected a JSON object"),
    (lambda t: t.__setitem__("annotations", {"a": 1}), "annotations", "expected a JSON list"),
    (lambda t: t["annotations"].append("SPAM"), "annotations[1]", "expected a JSON object"),
    (lambda t: t["annotations"][0].__setitem__("result", "SPAM"), "annotations[0].result", "expected a JSON list"),
    (lambda t: t["annotations"][0]["result"][0]["value"].__setitem__("choices", ["EGGS"]),
     "annotations[0].result[0].value.choices[0]", 'class "EGGS" is not one of'),
    (lambda t: t["annotations"][0].__setitem__("was_cancelled", "no"), "annotations[0].was_cancelled",
     "expected true or false"),
    (lambda t: t["annotations"][0].__setitem__("created_at", "soon"), "annotations[0].created_at",
     '"soon" is not a time'),
    (lambda t: t["annotations"][0].__setitem__("completed_by", [3]), "annotations[0].completed_by",
     "expected a user id"),
    (lambda t: t["data"]["votewise"]["decisions"][0].__setitem__("label", 9),
     "data.votewise.decisions[0].label", "9 is not a class id"),
    (lambda t: t["data"].__setitem__("text", {"x": 1}), "text", "expected the sample's text as a string"),
])
def test_label_studio_import_refuses_bad_fields_naming_line_task_and_field(full_store, tmp_path, edit, field,
                                                                           message):
    full_store.export_label_studio(tmp_path / "ls.json")
    tasks = json.loads((tmp_path / "ls.json").read_text())
    tasks[7]["annotations"].append({"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                                "value": {"choices": ["SPAM"]}}], "completed_by": 9})
    edit(tasks[6])   # r6: it has an active annotation and a log with an undone decision
    # One task a line, after the opening bracket's line: task 6 is on line 8.
    (tmp_path / "ls.json").write_text("[\n" + ",\n".join(json.dumps(t) for t in tasks) + "\n]\n")
    line = 7
    before = _store_state(full_store)
    with pytest.raises(ValueError) as err:
        full_store.import_label_studio(tmp_path / "ls.json")
    assert str(err.value).startswith(f"{tmp_path / 'ls.json'}, line {line + 1} (task 6), field {field!r}: ")
    assert message in str(err.value)
    assert _store_state(full_store) == before   # task 7's new annotation was not imported either


def test_label_studio_export_of_another_tool_needs_class_names(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"id": 1, "data": {"text": "hi"}, "annotations": [
        {"completed_by": 1, "result": [{"from_name": "label", "value": {"choices": ["SPAM"]}}]}]}]))
    with pytest.raises(ValueError, match=r"line 1 \(task 0\), field 'annotations\[0\].result\[0\].value.choices\[0\]'"
                                         r": the store has no class names .*--classes"):
        ReviewStore(tmp_path / "new.sqlite").import_label_studio(path)
    s = ReviewStore(tmp_path / "named.sqlite", class_names=CLASSES)
    assert s.import_label_studio(path) == 1 and s.resolved_labels() == {"1": 1}


@pytest.mark.parametrize("fmt", ["jsonl", "label_studio"])
def test_an_undo_survives_re_export_into_another_store(full_store, tmp_path, fmt):
    export = getattr(full_store, f"export_{fmt}")
    out = tmp_path / f"first.{fmt}"
    export(out)
    other = ReviewStore(tmp_path / "other.sqlite")
    getattr(other, f"import_{fmt}")(out)
    assert other.resolved_labels()["r6"] == 0
    full_store.undo(reviewer="ann@example.org")          # r6's active label, undone after the first export
    assert "r6" not in full_store.resolved_labels()
    export(out)
    assert getattr(other, f"import_{fmt}")(out) == 1
    assert "r6" not in other.resolved_labels()
    assert other.reviews_of("r6") == []          # no active decision left on r6
    assert getattr(other, f"import_{fmt}")(out) == 0


@pytest.mark.parametrize("content, message", [
    (b'{"id": "r7", "label": 1, "reviewer": "cy"}\n{"id": "r6", "lab', r"line 2: malformed JSON"),
    (b'{"id": "r7", "label": 1, "reviewer": "cy"}\n["r6", 1]\n', r"line 2: expected a JSON object, got list"),
    (b'{"id": "r7", "label": 1, "reviewer": "cy"}\n\xff\xfe\x00b\x00i\x00n\n', r"UTF-8|utf-8|encoding"),
])
def test_jsonl_import_refuses_unreadable_files(full_store, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    before = _store_state(full_store)
    with pytest.raises(ValueError, match=message) as err:
        full_store.import_jsonl(path)
    assert str(path) in str(err.value)
    assert _store_state(full_store) == before    # line 1 was good: not imported either


def test_label_studio_tasks_written_with_other_class_names_are_refused(full_store, tmp_path):
    full_store.export_label_studio(tmp_path / "ls.json")
    tasks = json.loads((tmp_path / "ls.json").read_text())
    tasks[3]["data"]["votewise"]["class_names"] = ["SPAM", "HAM"]   # reordered classes flip every label
    (tmp_path / "ls.json").write_text("[\n" + ",\n".join(json.dumps(t) for t in tasks) + "\n]\n")
    fresh = ReviewStore(tmp_path / "fresh.sqlite")
    with pytest.raises(ValueError, match=r"line 5 \(task 3\), field 'data.votewise.class_names': the file was "
                                         r"written with class names \['SPAM', 'HAM'\]; this store has \['HAM', "):
        fresh.import_label_studio(tmp_path / "ls.json")
    assert fresh.sample_ids() == [] and fresh.class_names == []


def test_jsonl_export_saved_with_a_byte_order_mark_imports(full_store, tmp_path):
    full_store.export_jsonl(tmp_path / "out.jsonl")
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "out.jsonl").read_bytes())
    fresh = ReviewStore(tmp_path / "fresh.sqlite")
    assert fresh.import_jsonl(tmp_path / "bom.jsonl") == len(full_store.decisions(include_undone=True))
    assert fresh.class_names == CLASSES
