"""Moving a review store in and out: JSON lines and Label Studio tasks, both exact on a round trip.

Both formats carry every sample (decided or not) with its payload (LF votes, model
probabilities, highlighted spans), its review count ``needed``, priority and batch, and the
whole decision log: labels, skips, unsure marks and adjudications with reviewer, note and time,
undone decisions included. Importing is idempotent: a decision already in the store (same
sample, reviewer, kind, label and time) is not added again, so re-importing a file, or the
file a colleague sends back with a few new labels, adds only what is new.

Label Studio tasks (``export_label_studio``) use Label Studio's own fields where it has them,
so a team can review there and bring the work back:

- each active decision is an annotation: the class under ``from_name`` (a ``choices``
  result), ``was_cancelled`` for a skip, a ``decision`` choice (``unsure`` or ``adjudication``)
  for the kinds Label Studio has no word for, and ``ground_truth`` on adjudications;
- ``completed_by`` is ``{"email": ...}`` (Label Studio's importer rejects a plain name); a
  reviewer name without ``@`` gets ``reviewer_domain`` appended and loses it again on import;
- the model's probabilities become ``predictions`` (the most probable class with its
  probability as ``score``), which Label Studio shows as pre-annotations;
- votewise's own fields (the exact log, payload, ``needed``) sit under ``data["votewise"]``.

:func:`label_studio_config` writes the matching labeling interface.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from labeling.core.fileio import decode_utf8, iter_jsonl

# No import of .store here: ReviewStore's export/import methods call this module, and the
# no-cycles contract counts imports inside functions too. "ReviewStore" and "Decision" in the
# annotations below name labeling.review.store's classes (annotations are never evaluated).

__all__ = ["export_jsonl", "import_jsonl", "export_label_studio", "import_label_studio", "label_studio_config",
           "FORMAT_VERSION"]

#: Version of the export layout, written in the JSONL header line and in each task's ``data["votewise"]``.
FORMAT_VERSION = 1
_DECISION_CONTROL = "decision"


def _iso(t: float) -> str:
    # Microseconds kept: the exact time is part of a decision's identity on re-import.
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


#: Latest time accepted in an imported file (1 January 2200): a larger number is a mistake, most often
#: milliseconds where seconds since 1970 were meant.
_MAX_TIME = 7258118400.0


def _epoch(value: Any) -> float | None:
    """Seconds since 1970 of a number or an ISO 8601 string (UTC unless it names a zone); None if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        t = float(value)
        return t if math.isfinite(t) and 0 <= t <= _MAX_TIME else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _label_name(store: "ReviewStore", label: int | None) -> str | None:
    names = store.class_names
    return None if label is None or not 0 <= label < len(names) else names[label]


def _decision_record(store: "ReviewStore", d: "Decision") -> dict[str, Any]:
    return {"reviewer": d.reviewer, "kind": d.kind, "label": d.label, "label_name": _label_name(store, d.label),
            "note": d.note, "created_at": d.created_at, "undone_at": d.undone_at}


def _sample_records(store: "ReviewStore") -> list[dict[str, Any]]:
    """Every sample with its queue state and full decision log, in the store's order."""
    queue = store.queue_state()
    log: dict[str, list[dict[str, Any]]] = {}
    for d in store.decisions(include_undone=True):
        log.setdefault(d.sample_id, []).append(_decision_record(store, d))
    out = []
    for sid in store.sample_ids():
        s = store.sample(sid)
        q = queue.get(sid)
        out.append({
            "id": sid, "text": s.text, "position": s.position, "payload": s.payload,
            "queued": q is not None, "needed": q["needed"] if q else 1,
            "priority": q["priority"] if q else 0.0, "batch": q["batch"] if q else 0,
            "decisions": log.get(sid, []),
        })
    return out


# Validation of imported records -----------------------------------------------------------------------------
# Every record of a file is checked (and turned into the values the store takes) before anything is written;
# the writing then happens in one transaction, so a bad line anywhere leaves the store exactly as it was.
_KINDS = ("label", "skip", "unsure", "adjudication")


class _Check:
    """Reads the fields of one imported record, each failure naming the file, the line and the field."""

    def __init__(self, where: str, class_names: list[str]) -> None:
        self.where = where
        self.names = class_names

    def fail(self, field: str, problem: str) -> ValueError:
        return ValueError(f"{self.where}, field {field!r}: {problem}")

    def mapping(self, value: Any, field: str, *, optional: bool = True) -> dict:
        if value is None and optional:
            return {}
        if not isinstance(value, dict):
            raise self.fail(field, f"expected a JSON object; got {_kind(value)}.")
        return value

    def items(self, value: Any, field: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, f"expected a JSON list; got {_kind(value)}.")
        return value

    def sample_id(self, value: Any, field: str = "id") -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value):
            raise self.fail(field, f"expected a non-empty string or integer sample id; got {_shown(value)}.")
        return str(value)

    def text(self, value: Any, field: str = "text") -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(field, f"expected the sample's text as a string; got {_kind(value)}.")
        return value

    def string(self, value: Any, field: str, *, default: str | None = None) -> str | None:
        if value is None:
            return default
        if not isinstance(value, str) or (default is not None and not value.strip()):
            raise self.fail(field, f"expected a {'non-empty ' if default is not None else ''}string; "
                                   f"got {_shown(value)}.")
        return value

    def integer(self, value: Any, field: str, *, default: int | None, minimum: int | None = None) -> int | None:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise self.fail(field, f"expected an integer; got {_shown(value)}.")
        if minimum is not None and value < minimum:
            raise self.fail(field, f"expected an integer of at least {minimum}; got {_shown(value)}.")
        return int(value)

    def number(self, value: Any, field: str, *, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(field, f"expected a finite number; got {_shown(value)}.")
        return float(value)

    def flag(self, value: Any, field: str, *, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(field, f"expected true or false; got {_shown(value)}.")
        return value

    def time(self, value: Any, field: str, *, default: float | None) -> float | None:
        if value is None:
            return default
        t = _epoch(value)
        if t is None:
            raise self.fail(field, f"{_shown(value)} is not a time; expected seconds since 1970 (not milliseconds) "
                                   "or an ISO 8601 string such as 2026-01-02T03:04:05Z.")
        return t

    def kind(self, value: Any, field: str) -> str:
        if value is None:
            return "label"
        if value not in _KINDS:
            raise self.fail(field, f"{_shown(value)} is not one of {list(_KINDS)}.")
        return value

    def class_name(self, value: Any, field: str) -> int:
        if not self.names:
            raise self.fail(field, "the store has no class names to read a class name with; create it with "
                                   "class names (votewise import-store --classes NAME,NAME,...).")
        if not isinstance(value, str) or value not in self.names:
            raise self.fail(field, f"class {_shown(value)} is not one of {self.names}.")
        return self.names.index(value)

    def label(self, rec: dict, prefix: str, kind: str) -> int | None:
        """The class id of a decision: ``label_name`` wins (it stays right when two stores order classes
        differently); ``label`` must be a class id in range; both must agree when both are given."""
        by_name = None if rec.get("label_name") is None else self.class_name(rec["label_name"], prefix + "label_name")
        label = self.integer(rec.get("label"), prefix + "label", default=None)
        if label is not None:
            if not self.names:
                raise self.fail(prefix + "label", "the store has no class names, so class ids cannot be checked; "
                                                  "create it with class names (votewise import-store --classes "
                                                  "NAME,NAME,...).")
            if not 0 <= label < len(self.names):
                raise self.fail(prefix + "label", f"{label} is not a class id; expected 0..{len(self.names) - 1} "
                                                  f"for classes {self.names}.")
        # An export writes both; they differ only when the writing store ordered its classes otherwise.
        label = by_name if by_name is not None else label
        if kind in ("label", "adjudication") and label is None:
            raise self.fail(prefix + "label", f"a {kind!r} decision needs a class: give 'label' (a class id) or "
                                              f"'label_name' (one of {self.names}).")
        return None if kind == "skip" else label

    def decision(self, rec: Any, prefix: str = "") -> dict[str, Any]:
        rec = self.mapping(rec, prefix.rstrip(".") or "record", optional=False)
        kind = self.kind(rec.get("kind"), prefix + "kind")
        created = self.time(rec.get("created_at"), prefix + "created_at", default=None)
        undone = self.time(rec.get("undone_at"), prefix + "undone_at", default=None)
        if undone is not None and created is not None and undone < created:
            raise self.fail(prefix + "undone_at", "the decision is undone before it was made "
                                                  f"(undone_at {_iso(undone)} < created_at {_iso(created)}).")
        return {"label": self.label(rec, prefix, kind), "kind": kind,
                "reviewer": self.string(rec.get("reviewer"), prefix + "reviewer", default="import"),
                "note": self.string(rec.get("note"), prefix + "note"), "created_at": created, "undone_at": undone}

    def sample(self, rec: dict) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id(rec.get("id")), "text": self.text(rec.get("text")),
            "payload": self.mapping(rec.get("payload"), "payload"),
            "position": self.integer(rec.get("position"), "position", default=None, minimum=0),
            "queued": self.flag(rec.get("queued"), "queued", default=True),
            "needed": self.integer(rec.get("needed"), "needed", default=1, minimum=1),
            "priority": self.number(rec.get("priority"), "priority", default=0.0),
            "batch": self.integer(rec.get("batch"), "batch", default=0, minimum=0),
        }


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _header_names(current: list[str], names: Any, check: _Check, field: str = "class_names") -> list[str]:
    """The class names a file was written with, checked against ``current`` (the store's, or those an
    earlier record of the file gave); the names to validate the following records with."""
    if names is None:
        return current
    if not isinstance(names, list) or not all(isinstance(c, str) and c for c in names) or not names:
        raise check.fail(field, f"expected a list of class names; got {_shown(names)}.")
    if current and current != names:
        raise check.fail(field, f"the file was written with class names {names}; this store has {current}.")
    return list(names)


def _restore(store: "ReviewStore", sample: dict[str, Any], decisions: list[dict[str, Any]]) -> int:
    """Put one checked sample and its checked decision log into ``store``; returns the decisions changed."""
    sid = sample["sample_id"]
    store.put_sample(sid, sample["text"], payload=sample["payload"], position=sample["position"],
                     queued=sample["queued"], needed=sample["needed"], priority=sample["priority"],
                     batch=sample["batch"])
    changed = 0
    for d in decisions:
        changed += store.put_decision(sid, d["label"], reviewer=d["reviewer"], kind=d["kind"],
                                      created_at=time.time() if d["created_at"] is None else d["created_at"],
                                      note=d["note"], undone_at=d["undone_at"])
    return changed


# JSON lines -------------------------------------------------------------------------------------------------
def export_jsonl(store: "ReviewStore", path: str | os.PathLike) -> int:
    """Write ``store`` as JSON lines: a header, then one line per sample; returns the sample count.

    The header is ``{"votewise": "review-store", "version": 1, "class_names": [...], "double_review": f}``.
    Each sample line has ``id``, ``text``, ``position``, ``payload``, ``queued``, ``needed``,
    ``priority``, ``batch`` and ``decisions`` (the log, undone ones included, each with
    ``reviewer``, ``kind``, ``label``, ``label_name``, ``note``, ``created_at``, ``undone_at``).
    Undecided samples are written too, so a fresh store made from the file can go on reviewing.
    The file is written next to its final name and moved there at the end, so an interrupted
    export never leaves a shorter file that reads as complete.
    """
    records = _sample_records(store)
    lines = [json.dumps({"votewise": "review-store", "version": FORMAT_VERSION, "class_names": store.class_names,
                         "double_review": store.double_review})]
    lines += [json.dumps(rec, ensure_ascii=False) for rec in records]
    _write_atomic(path, "\n".join(lines) + "\n")
    return len(records)


def _write_atomic(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def import_jsonl(store: "ReviewStore", path: str | os.PathLike) -> int:
    """Read a file written by :func:`export_jsonl` into ``store``; returns the number of decisions added or undone.

    Hand-made lines with one decision each (``id``, ``label`` or ``label_name``, and optionally
    ``text``, ``reviewer``, ``kind``, ``note``, ``created_at``, ``needed``) are read too; such a
    line for an id the store does not hold must give the sample's ``text``. A decision already
    in the store is skipped, so importing a file twice adds nothing; a decision the file marks
    undone is undone in the store too.

    Every line is checked before anything is written (class ids in range, class names known,
    ids, kinds, numbers and times of the right type), and the file goes in as one transaction:
    a bad line raises ``ValueError`` naming the file, the line and the field, and leaves the
    store unchanged.
    """
    names = store.class_names
    known = set(store.sample_ids())
    ops: list[tuple[str, Any]] = []
    # One JSON-lines reader for the project: blank lines skipped, malformed or non-object lines named by line;
    # utf-8-sig reads a file an editor saved with a byte-order mark too.
    for lineno, rec in iter_jsonl(path, encoding="utf-8-sig"):
        check = _Check(f"{path}, line {lineno}", names)
        if rec.get("votewise") == "review-store":
            names = _header_names(names, rec.get("class_names"), check)
            ops.append(("names", names))
            continue
        if "id" not in rec:
            raise check.fail("id", "missing; every line other than the header is a sample or a decision with "
                                   "the sample's 'id'.")
        if "decisions" in rec:
            sample = check.sample(rec)
            logs = [check.decision(d, f"decisions[{i}].") for i, d in enumerate(check.items(rec["decisions"],
                                                                                             "decisions"))]
            known.add(sample["sample_id"])
            ops.append(("sample", (sample, logs)))
            continue
        sid = check.sample_id(rec.get("id"))
        if sid not in known and "text" not in rec:
            raise check.fail("id", f"no sample {sid!r} in {store.path} and the line gives no 'text': a decision "
                                   "needs its sample. Import the store's export (samples and decisions) first, "
                                   "or add the sample's 'text' to the line.")
        known.add(sid)
        line = {"sample_id": sid, "text": check.text(rec.get("text")),
                "needed": check.integer(rec.get("needed"), "needed", default=1, minimum=1)}
        ops.append(("line", (line, check.decision(rec))))
    added = 0
    with store.transaction():
        for op, value in ops:
            if op == "names":
                if value and not store.class_names:
                    store.set_meta("class_names", value)
            elif op == "sample":
                added += _restore(store, *value)
            else:
                added += _import_decision_line(store, *value)
    return added


def _import_decision_line(store: "ReviewStore", line: dict[str, Any], d: dict[str, Any]) -> int:
    sid = line["sample_id"]
    store.put_sample(sid, line["text"], needed=line["needed"])
    created = d["created_at"]
    if created is None:
        # No time to tell two decisions apart: an equal active decision means this line was read before.
        if any((r.reviewer, r.kind, r.label) == (d["reviewer"], d["kind"], d["label"]) for r in store.reviews_of(sid)):
            return 0
        created = time.time()
    return int(store.put_decision(sid, d["label"], reviewer=d["reviewer"], kind=d["kind"], created_at=created,
                                  note=d["note"], undone_at=d["undone_at"]))


# Label Studio -----------------------------------------------------------------------------------------------
def label_studio_config(class_names: list[str], *, from_name: str = "label", to_name: str = "text") -> str:
    """The Label Studio labeling interface matching :func:`export_label_studio`'s results.

    One single-choice control per class list, and a ``decision`` control for ``unsure`` and
    ``adjudication`` (a skip is Label Studio's own "skip" button).
    """
    choices = "".join(f"\n    <Choice value={quoteattr(str(c))}/>" for c in class_names)
    return (
        "<View>\n"
        f"  <Text name={quoteattr(to_name)} value={quoteattr('$' + to_name)}/>\n"
        f"  <Choices name={quoteattr(from_name)} toName={quoteattr(to_name)} choice=\"single\" "
        f"showInLine=\"true\">{choices}\n  </Choices>\n"
        f"  <Choices name=\"{_DECISION_CONTROL}\" toName={quoteattr(to_name)} choice=\"single\">\n"
        "    <Choice value=\"unsure\"/>\n    <Choice value=\"adjudication\"/>\n  </Choices>\n"
        "</View>\n"
    )


def _choice(from_name: str, to_name: str, value: str) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": [value]}}


def _reviewer_out(reviewer: str, domain: str) -> dict[str, str]:
    return {"email": reviewer if "@" in reviewer else f"{reviewer}@{domain}"}


def _reviewer_in(who: Any, domain: str) -> str:
    if isinstance(who, dict):
        email = who.get("email")
        if email is None:
            return f"label-studio-user-{who.get('id', '?')}"
        who = email
    if isinstance(who, int):
        return f"label-studio-user-{who}"
    who = str(who)
    suffix = "@" + domain
    return who[: -len(suffix)] if who.endswith(suffix) else who


def export_label_studio(
    store: "ReviewStore", path: str | os.PathLike, *, from_name: str = "label", to_name: str = "text",
    reviewer_domain: str = "votewise.local", model_version: str = "votewise",
) -> int:
    """Write every sample as a Label Studio task; returns the task count.

    Parameters
    ----------
    store : ReviewStore
    path : path-like
        The JSON file (a list of tasks) to write.
    from_name, to_name : str
        Names of the class control and the text object in the labeling interface
        (:func:`label_studio_config` writes one that matches).
    reviewer_domain : str
        Appended to reviewer names that are not e-mail addresses, for ``completed_by``.
    model_version : str
        Written with each prediction.
    """
    names = store.class_names
    tasks = []
    for rec in _sample_records(store):
        data: dict[str, Any] = {to_name: rec["text"], "votewise_id": rec["id"],
                                "votewise": {"version": FORMAT_VERSION, "class_names": names,
                                             **{k: v for k, v in rec.items() if k not in ("id", "text")}}}
        task: dict[str, Any] = {"data": data}
        anns = []
        for d in rec["decisions"]:
            if d["undone_at"] is not None:
                continue  # Label Studio has no undone annotations; the log under data["votewise"] keeps them.
            result = [] if d["label_name"] is None or d["kind"] == "skip" else [_choice(from_name, to_name,
                                                                                        d["label_name"])]
            if d["kind"] in ("unsure", "adjudication"):
                result.append(_choice(_DECISION_CONTROL, to_name, d["kind"]))
            anns.append({
                "result": result, "completed_by": _reviewer_out(d["reviewer"], reviewer_domain),
                "was_cancelled": d["kind"] == "skip", "ground_truth": d["kind"] == "adjudication",
                "created_at": _iso(d["created_at"]), "updated_at": _iso(d["created_at"]),
            })
        task["annotations"] = anns
        probs = (rec["payload"] or {}).get("probs") or []
        if probs:
            best = max(range(len(probs)), key=lambda c: probs[c])
            label = names[best] if best < len(names) else str(best)
            task["predictions"] = [{"model_version": model_version, "score": float(probs[best]),
                                    "result": [_choice(from_name, to_name, label)]}]
        else:
            task["predictions"] = []
        tasks.append(task)
    _write_atomic(path, json.dumps(tasks, ensure_ascii=False, indent=1))
    return len(tasks)


def _json_tasks(path: str | os.PathLike) -> list[tuple[int, Any]]:
    """``(line, task)`` for each element of the JSON list in ``path``, every problem named by file and line."""
    what = "expected Label Studio's JSON export (Export -> JSON: a list of tasks)"
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise ValueError(f"{path}: the file is empty; {what}.")
    try:
        text = decode_utf8(raw, str(path))
    except ValueError as exc:
        # The core names the file and line; what the file should have been is said here.
        raise ValueError(f"{exc} A binary or differently encoded file? {what[0].upper()}{what[1:]}.") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValueError(f"{path}, line {line}: NUL byte, so this is a binary file; {what}.")
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as exc:
        ends = " (the file ends early: truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise ValueError(f"{path}, line {exc.lineno}, column {exc.colno}: malformed JSON ({exc.msg}){ends}; "
                         f"{what}.") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to be a Label Studio export; {what}.") from None
    if not isinstance(tasks, list):
        raise ValueError(f"{path}, line 1: got {_kind(tasks)} at the top level; {what}.")
    # Line of each task: the list is decoded once more element by element (raw_decode gives the offsets).
    decoder, lines, pos = json.JSONDecoder(), [], text.index("[") + 1
    for _ in tasks:
        while text[pos] in " \t\r\n,":
            pos += 1
        lines.append(text.count("\n", 0, pos) + 1)
        pos = decoder.raw_decode(text, pos)[1]
    return list(zip(lines, tasks))


def _annotation_decision(check: _Check, ann: dict[str, Any], from_name: str, field: str
                         ) -> tuple[str, int | None] | None:
    """``(kind, label)`` of one Label Studio annotation, or None when it carries no decision."""
    label, kind = None, "label"
    for r_i, res in enumerate(check.items(ann.get("result"), f"{field}.result")):
        f = f"{field}.result[{r_i}]"
        res = check.mapping(res, f, optional=False)
        choices = check.items(check.mapping(res.get("value"), f + ".value").get("choices"), f + ".value.choices")
        if not choices:
            continue
        if res.get("from_name") == _DECISION_CONTROL:
            if choices[0] in ("unsure", "adjudication"):
                kind = choices[0]
        elif res.get("from_name", from_name) == from_name:
            label = check.class_name(choices[0], f + ".value.choices[0]")
    if check.flag(ann.get("was_cancelled"), f"{field}.was_cancelled", default=False):
        return "skip", None
    if check.flag(ann.get("ground_truth"), f"{field}.ground_truth", default=False) and label is not None:
        kind = "adjudication"
    if label is None and kind != "unsure":
        return None
    return kind, label


def _annotator(check: _Check, ann: dict[str, Any], field: str, users: dict[int, str], domain: str
               ) -> tuple[str, bool]:
    """``(reviewer name, identity known)`` of an annotation's ``completed_by``."""
    who = ann.get("completed_by", "label-studio")
    if isinstance(who, bool) or not isinstance(who, (int, str, dict)):
        raise check.fail(f"{field}.completed_by", f"expected a user id, an e-mail or {{\"email\": ...}}; "
                                                  f"got {_shown(who)}.")
    user_id = who if isinstance(who, int) else who.get("id") if isinstance(who, dict) and not who.get(
        "email") else None
    if user_id is not None:
        user_id = check.integer(user_id, f"{field}.completed_by.id", default=None)
    known = user_id is None or user_id in users
    return (users[user_id] if user_id is not None and known else _reviewer_in(who, domain)), known


def import_label_studio(
    store: "ReviewStore", path: str | os.PathLike, *, from_name: str = "label", to_name: str = "text",
    reviewer_domain: str = "votewise.local", users: dict[int, str] | None = None,
) -> int:
    """Read Label Studio tasks: the JSON export of a Label Studio project (Export -> JSON), or this module's file.

    Returns the number of decisions added or undone. The exact log under ``data["votewise"]``
    is restored first (an undo recorded there is applied to the store too); then every
    annotation that is not already one of the sample's active decisions is added: work done in
    Label Studio comes back, and importing the same file twice adds nothing.

    An annotation is already in the store when its reviewer, kind and label match an active
    decision. Label Studio's own exports name the annotator by user id (``"completed_by": 3``);
    ``users`` maps those ids to reviewer names, and an id it does not map becomes
    ``label-studio-user-3``. Such an annotation of unknown identity matches any active
    decision of the same kind and label not matched yet, so the decisions votewise exported
    come back once, not as new ones under a user id.

    Every task is checked before anything is written (types, class names, times) and the file
    goes in as one transaction: a truncated, binary or wrongly shaped file, or a bad field,
    raises ``ValueError`` naming the file, the line, the task and the field, and leaves the store
    unchanged.
    """
    users = {int(k): str(v) for k, v in (users or {}).items()}
    names = store.class_names
    checked = []
    for t_i, (line, task) in enumerate(_json_tasks(path)):
        check = _Check(f"{path}, line {line} (task {t_i})", names)
        task = check.mapping(task, "task", optional=False)
        data = check.mapping(task.get("data"), "data")
        vw = check.mapping(data.get("votewise"), "data.votewise")
        names = check.names = _header_names(names, vw.get("class_names"), check, "data.votewise.class_names")
        sid = check.sample_id(data.get("votewise_id", task.get("id", t_i)),
                              "data.votewise_id" if "votewise_id" in data else "id")
        sample = check.sample({**vw, "id": sid, "text": data.get(to_name, "")})
        logs = [check.decision(d, f"data.votewise.decisions[{i}].")
                for i, d in enumerate(check.items(vw.get("decisions"), "data.votewise.decisions"))]
        anns = []
        for a_i, ann in enumerate(check.items(task.get("annotations"), "annotations")):
            field = f"annotations[{a_i}]"
            ann = check.mapping(ann, field, optional=False)
            got = _annotation_decision(check, ann, from_name, field)
            if got is None:
                continue
            reviewer, known = _annotator(check, ann, field, users, reviewer_domain)
            created = check.time(ann.get("created_at"), f"{field}.created_at", default=None)
            updated = check.time(ann.get("updated_at"), f"{field}.updated_at", default=None)
            created = updated if updated is not None else created
            anns.append(((reviewer, *got), known, created))
        checked.append((names, sample, logs, anns))
    added = 0
    with store.transaction():
        for names, sample, logs, anns in checked:
            if names and not store.class_names:
                store.set_meta("class_names", names)
            sid = sample["sample_id"]
            added += _restore(store, sample, logs)
            have = Counter((d.reviewer, d.kind, d.label) for d in store.reviews_of(sid))
            pending = []
            for key, known, created in anns:
                if have[key] > 0:
                    have[key] -= 1  # already in the store: this annotation is one of its decisions
                    continue
                pending.append((key, known, created))
            for key, known, created in pending:
                if not known:
                    # Identity unknown: the same decision by anyone not matched yet is this one.
                    match = next((k for k, n in have.items() if n > 0 and k[1:] == key[1:]), None)
                    if match is not None:
                        have[match] -= 1
                        continue
                added += store.put_decision(sid, key[2], reviewer=key[0], kind=key[1],
                                            created_at=time.time() if created is None else created)
    return added
