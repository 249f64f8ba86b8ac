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
import os
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from labeling.core.fileio import iter_jsonl

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


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


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


def _check_class_names(store: "ReviewStore", names: Any, where: str) -> None:
    if not names:
        return
    names = [str(c) for c in names]
    if not store.class_names:
        store.set_meta("class_names", names)
    elif store.class_names != names:
        raise ValueError(f"{where} was written with class names {names}; this store has {store.class_names}.")


def _label_of(store: "ReviewStore", rec: dict[str, Any], where: str) -> int | None:
    # The class name wins over the id: it stays right when two stores order their classes differently.
    if rec.get("label_name") is not None and store.class_names:
        return store.class_id(rec["label_name"], where)
    label = rec.get("label")
    return None if label is None else int(label)


def _restore(store: "ReviewStore", rec: dict[str, Any], where: str) -> int:
    """Put one exported sample and its decision log into ``store``; returns the decisions added."""
    sid = str(rec["id"])
    store.put_sample(sid, rec.get("text", ""), payload=rec.get("payload") or {}, position=rec.get("position"),
                     queued=bool(rec.get("queued", True)), needed=int(rec.get("needed", 1) or 1),
                     priority=float(rec.get("priority", 0.0) or 0.0), batch=int(rec.get("batch", 0) or 0))
    added = 0
    for d in rec.get("decisions") or []:
        added += store.put_decision(
            sid, _label_of(store, d, where), reviewer=str(d.get("reviewer", "import")),
            kind=str(d.get("kind", "label")), created_at=float(d.get("created_at") or time.time()),
            note=d.get("note"), undone_at=d.get("undone_at"),
        )
    return added


# JSON lines -------------------------------------------------------------------------------------------------
def export_jsonl(store: "ReviewStore", path: str | os.PathLike) -> int:
    """Write ``store`` as JSON lines: a header, then one line per sample; returns the sample count.

    The header is ``{"votewise": "review-store", "version": 1, "class_names": [...], "double_review": f}``.
    Each sample line has ``id``, ``text``, ``position``, ``payload``, ``queued``, ``needed``,
    ``priority``, ``batch`` and ``decisions`` (the log, undone ones included, each with
    ``reviewer``, ``kind``, ``label``, ``label_name``, ``note``, ``created_at``, ``undone_at``).
    Undecided samples are written too, so a fresh store made from the file can go on reviewing.
    """
    records = _sample_records(store)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"votewise": "review-store", "version": FORMAT_VERSION, "class_names": store.class_names,
                             "double_review": store.double_review}) + "\n")
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(records)


def import_jsonl(store: "ReviewStore", path: str | os.PathLike) -> int:
    """Read a file written by :func:`export_jsonl` into ``store``; returns the number of decisions added.

    Hand-made lines with one decision each (``id``, ``label`` or ``label_name``, and optionally
    ``text``, ``reviewer``, ``kind``, ``note``, ``created_at``, ``needed``) are read too. A
    decision already in the store is skipped, so importing a file twice adds nothing.
    """
    added = 0
    # One JSON-lines reader for the project: blank lines skipped, malformed or non-object lines named by line.
    for lineno, rec in iter_jsonl(path, encoding="utf-8"):
        where = f"{path}:{lineno}"
        if rec.get("votewise") == "review-store":
            _check_class_names(store, rec.get("class_names"), str(path))
            continue
        if "id" not in rec:
            raise ValueError(f"{where}: expected a JSON object with an 'id'.")
        if "decisions" in rec:
            added += _restore(store, rec, where)
        else:
            added += _import_decision_line(store, rec, where)
    return added


def _import_decision_line(store: "ReviewStore", rec: dict[str, Any], where: str) -> int:
    sid = str(rec["id"])
    store.put_sample(sid, rec.get("text", ""), needed=int(rec.get("needed", 1) or 1))
    label = _label_of(store, rec, where)
    reviewer, kind = str(rec.get("reviewer", "import")), str(rec.get("kind", "label"))
    created = _epoch(rec.get("created_at"))
    if created is None:
        # No time to tell two decisions apart: an equal active decision means this line was read before.
        if any((d.reviewer, d.kind, d.label) == (reviewer, kind, label) for d in store.reviews_of(sid)):
            return 0
        created = time.time()
    return int(store.put_decision(sid, label, reviewer=reviewer, kind=kind, created_at=created,
                                  note=rec.get("note"), undone_at=_epoch(rec.get("undone_at"))))


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
    Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(tasks)


def _annotation_decision(store: "ReviewStore", ann: dict[str, Any], from_name: str, where: str
                         ) -> tuple[str, int | None] | None:
    """``(kind, label)`` of one Label Studio annotation, or None when it carries no decision."""
    label, kind = None, "label"
    for res in ann.get("result") or []:
        choices = (res.get("value") or {}).get("choices") or []
        if not choices:
            continue
        if res.get("from_name") == _DECISION_CONTROL:
            if choices[0] in ("unsure", "adjudication"):
                kind = choices[0]
        elif res.get("from_name", from_name) == from_name:
            label = store.class_id(choices[0], where)
    if ann.get("was_cancelled"):
        return "skip", None
    if ann.get("ground_truth") and label is not None:
        kind = "adjudication"
    if label is None and kind != "unsure":
        return None
    return kind, label


def import_label_studio(
    store: "ReviewStore", path: str | os.PathLike, *, from_name: str = "label", to_name: str = "text",
    reviewer_domain: str = "votewise.local", users: dict[int, str] | None = None,
) -> int:
    """Read Label Studio tasks (an export of this module's file, or of a Label Studio project).

    Returns the number of decisions added. The exact log under ``data["votewise"]`` is
    restored first; then every annotation that is not already one of the sample's active
    decisions is added: work done in Label Studio comes back, and importing the same file
    twice adds nothing.

    An annotation is already in the store when its reviewer, kind and label match an active
    decision. Label Studio's own exports name the annotator by user id (``"completed_by": 3``);
    ``users`` maps those ids to reviewer names, and an id it does not map becomes
    ``label-studio-user-3``. Such an annotation of unknown identity matches any active
    decision of the same kind and label not matched yet, so the decisions votewise exported
    come back once, not as new ones under a user id.
    """
    users = {int(k): str(v) for k, v in (users or {}).items()}
    tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(tasks, list):
        raise ValueError(f"{path}: expected a JSON list of Label Studio tasks; got {type(tasks).__name__}.")
    added = 0
    for t_i, task in enumerate(tasks):
        where = f"{path} task {t_i}"
        data = task.get("data") or {}
        vw = data.get("votewise") or {}
        _check_class_names(store, vw.get("class_names"), str(path))
        sid = str(data.get("votewise_id", task.get("id", t_i)))
        added += _restore(store, {**vw, "id": sid, "text": data.get(to_name, "")}, where)
        have = Counter((d.reviewer, d.kind, d.label) for d in store.reviews_of(sid))
        pending = []
        for ann in task.get("annotations") or []:
            got = _annotation_decision(store, ann, from_name, where)
            if got is None:
                continue
            who = ann.get("completed_by", "label-studio")
            user_id = who if isinstance(who, int) else who.get("id") if isinstance(who, dict) and not who.get(
                "email") else None
            known = user_id is None or int(user_id) in users
            reviewer = users[int(user_id)] if user_id is not None and known else _reviewer_in(who, reviewer_domain)
            key = (reviewer, *got)
            if have[key] > 0:
                have[key] -= 1  # already in the store: this annotation is one of its decisions
                continue
            pending.append((key, known, ann))
        for key, known, ann in pending:
            if not known:
                # Identity unknown: the same decision by anyone not matched yet is this one.
                match = next((k for k, n in have.items() if n > 0 and k[1:] == key[1:]), None)
                if match is not None:
                    have[match] -= 1
                    continue
            created = _epoch(ann.get("updated_at")) or _epoch(ann.get("created_at")) or time.time()
            added += store.put_decision(sid, key[2], reviewer=key[0], kind=key[1], created_at=created)
    return added
