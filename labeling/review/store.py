"""The review store: one SQLite file per project that never loses a human label.

Tables
------
``meta``      project settings (class names, guideline file, double-review fraction).
``samples``   the rows offered for review: id, text and a JSON payload (LF votes,
              probabilities, highlighted spans) frozen when the row was queued.
``queue``     which samples wait for review, their priority, how many reviewers they
              need (1, or 2 for double review) and the current lease.
``labels``    an append-only log of decisions: label / skip / unsure / adjudication,
              with reviewer and time; undo sets ``undone_at`` instead of deleting.

Every decision is its own committed transaction (WAL journal, ``synchronous=FULL``),
so a reviewer process killed mid-session loses nothing already recorded. A lease
gives one reviewer a sample for ``lease_seconds``; nobody else is offered it until
the lease is released (by a decision) or expires.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from . import exchange

__all__ = ["ReviewStore", "Sample", "Decision", "KINDS", "LeaseError"]

#: Kinds of decision a reviewer can record.
KINDS = ("label", "skip", "unsure", "adjudication")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    sample_id TEXT PRIMARY KEY,
    position INTEGER,
    text TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (
    sample_id TEXT PRIMARY KEY REFERENCES samples(sample_id),
    priority REAL NOT NULL DEFAULT 0,
    batch INTEGER NOT NULL DEFAULT 0,
    needed INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open',
    lease_owner TEXT,
    lease_until REAL
);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id TEXT NOT NULL REFERENCES samples(sample_id),
    reviewer TEXT NOT NULL,
    kind TEXT NOT NULL,
    label INTEGER,
    note TEXT,
    created_at REAL NOT NULL,
    undone_at REAL
);
CREATE INDEX IF NOT EXISTS labels_sample ON labels(sample_id);
CREATE INDEX IF NOT EXISTS queue_open ON queue(status, priority);
"""


@dataclass
class Sample:
    """A row handed to a reviewer."""

    sample_id: str
    text: str
    payload: dict = field(default_factory=dict)
    position: int | None = None
    needed: int = 1


@dataclass
class Decision:
    """One recorded decision (a row of the ``labels`` log)."""

    id: int
    sample_id: str
    reviewer: str
    kind: str
    label: int | None
    created_at: float
    undone_at: float | None = None
    note: str | None = None


class LeaseError(RuntimeError):
    """A decision on a sample that another reviewer holds the lease of.

    Recording it would let two people label the same sample at once and silently
    take the sample away from the reviewer who has it on screen.
    """


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"payload value of type {type(obj).__name__} is not JSON serialisable")


class ReviewStore:
    """A SQLite review store (created on first use).

    Parameters
    ----------
    path : str or Path
        The ``.sqlite`` file; created with its tables if missing.
    class_names : sequence of str, optional
        Class names, stored in the file the first time they are given; later
        opens read them back.
    double_review : float
        Fraction of newly queued samples that need two independent reviewers.
    lease_seconds : float
        How long a checked-out sample stays reserved for its reviewer.
    random_state : int, optional
        Seed of the double-review draw.

    Examples
    --------
    >>> import tempfile, os
    >>> store = ReviewStore(os.path.join(tempfile.mkdtemp(), "r.sqlite"), class_names=["ham", "spam"])
    >>> store.add_samples(["a1"], ["buy now!"])
    1
    >>> [s.sample_id for s in store.checkout("ann")]
    ['a1']
    >>> store.record("a1", 1, reviewer="ann")
    1
    >>> store.resolved_labels()
    {'a1': 1}
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        class_names: Sequence[str] | None = None,
        double_review: float = 0.0,
        lease_seconds: float = 600.0,
        random_state: int | None = None,
    ) -> None:
        if not 0.0 <= double_review <= 1.0:
            raise ValueError(f"double_review={double_review}; expected a fraction in [0, 1].")
        self.path = Path(path)
        self.lease_seconds = float(lease_seconds)
        self._rng = np.random.default_rng(random_state)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._depth = 0
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per decision.
        self._con = sqlite3.connect(str(self.path), isolation_level=None, timeout=30.0, check_same_thread=False)
        self._con.row_factory = sqlite3.Row
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute("PRAGMA foreign_keys=ON")
        self._con.executescript(_SCHEMA)
        if class_names is not None:
            stored = self.class_names
            names = [str(c) for c in class_names]
            if stored and stored != names:
                raise ValueError(f"{self.path} was created with class names {stored}; got {names}.")
            self.set_meta("class_names", names)
        if double_review or self.get_meta("double_review") is None:
            self.set_meta("double_review", float(double_review))

    # housekeeping -----------------------------------------------------------
    def close(self) -> None:
        """Close the connection (decisions are already on disk)."""
        self._con.close()

    def __enter__(self) -> "ReviewStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReviewStore({str(self.path)!r})"

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front so two reviewers' checkouts serialise. Inside
        # transaction() every call joins the one open transaction instead of committing its own.
        if self._depth:
            self._depth += 1
            try:
                yield self._con
            finally:
                self._depth -= 1
            return
        self._con.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self._con
        except BaseException:
            self._depth = 0
            self._con.execute("ROLLBACK")
            raise
        self._depth = 0
        self._con.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator["ReviewStore"]:
        """Group writes into one transaction: all of them are committed at the end, or none on an error.

        The importers use it so that a file with a bad record anywhere leaves the store unchanged.

        Examples
        --------
        >>> import tempfile, os
        >>> store = ReviewStore(os.path.join(tempfile.mkdtemp(), "r.sqlite"), class_names=["ham", "spam"])
        >>> try:
        ...     with store.transaction():
        ...         _ = store.add_samples(["a1"], ["buy now!"])
        ...         store.record("a1", 5, reviewer="ann")
        ... except ValueError:
        ...     pass
        >>> store.sample_ids()
        []
        """
        with self._tx():
            yield self

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        with self._tx() as con:
            con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    @property
    def class_names(self) -> list[str]:
        return list(self.get_meta("class_names", []) or [])

    @property
    def double_review(self) -> float:
        return float(self.get_meta("double_review", 0.0))

    # samples and queue ------------------------------------------------------
    @property
    def id_scheme(self) -> str | None:
        """How the stored samples' ids were made (e.g. ``"row numbers"``, ``"column 'id'"``), once known."""
        return self.get_meta("id_scheme")

    def check_id_scheme(self, scheme: str, ids: Sequence[Any]) -> None:
        """Refuse rows whose ids follow another scheme than the stored samples'; record the scheme on first use.

        The same row queued once under its row number and once under an id column would be
        stored, and reviewed, twice. So a store remembers how its ids were made; rows keyed by
        another ``scheme`` raise ``ValueError`` naming both. A store that does not know its scheme
        yet (made by an import, or by an older version) refuses rows none of whose ``ids`` it holds.

        Parameters
        ----------
        scheme : str
            How ``ids`` were made, in words: ``"row numbers"``, ``"column 'COMMENT_ID'"``.
        ids : sequence
            The ids of the rows about to be queued.

        Examples
        --------
        >>> import tempfile, os
        >>> store = ReviewStore(os.path.join(tempfile.mkdtemp(), "r.sqlite"), class_names=["ham", "spam"])
        >>> store.check_id_scheme("row numbers", ["0", "1"])
        >>> _ = store.add_samples(["0"], ["buy now!"])
        >>> store.check_id_scheme("column 'id'", ["c7", "c8"])
        Traceback (most recent call last):
        ...
        ValueError: ... holds 1 samples keyed by row numbers (e.g. '0'); these rows are keyed by column 'id' (e.g. 'c7')...
        """
        ids = [str(i) for i in ids]
        stored = self.id_scheme
        existing = self.sample_ids()
        example = f" (e.g. {ids[0]!r})" if ids else ""
        if existing and stored is not None and stored != scheme:
            raise ValueError(
                f"{self.path} holds {len(existing)} samples keyed by {stored} (e.g. {existing[0]!r}); these rows "
                f"are keyed by {scheme}{example}. Queued, they would store the same rows twice under two ids. "
                f"Read the rows with the store's ids ({stored}; on the command line, the same --id-column "
                "and --dedupe-ids as before), or use a new store. Nothing was added."
            )
        if existing and stored is None:
            have = set(ids)
            if not any(sid in have for sid in existing):
                raise ValueError(
                    f"{self.path} holds {len(existing)} samples (e.g. id {existing[0]!r}) and none of them is "
                    f"one of these rows, keyed by {scheme}{example}: the ids follow another scheme, or the data "
                    "is another file. Read the rows with the ids the store holds, or use a new store. "
                    "Nothing was added."
                )
        if stored != scheme:
            self.set_meta("id_scheme", scheme)

    def add_samples(
        self,
        ids: Iterable[Any],
        texts: Iterable[str],
        *,
        payloads: Iterable[dict] | None = None,
        positions: Iterable[int] | None = None,
        priorities: Iterable[float] | None = None,
        batch: int = 0,
        queue: bool = True,
    ) -> int:
        """Add rows (ignoring ids already present) and queue them; returns how many were new."""
        ids = [str(i) for i in ids]
        texts = list(texts)
        if len(texts) != len(ids):
            raise ValueError(f"Got {len(ids)} ids but {len(texts)} texts; they must match one to one.")
        payloads = list(payloads) if payloads is not None else [{}] * len(ids)
        positions = list(positions) if positions is not None else [None] * len(ids)
        priorities = list(priorities) if priorities is not None else [float(len(ids) - i) for i in range(len(ids))]
        frac = self.double_review
        now = time.time()
        added = 0
        with self._tx() as con:
            for sid, text, payload, pos, prio in zip(ids, texts, payloads, positions, priorities):
                cur = con.execute(
                    "INSERT OR IGNORE INTO samples(sample_id, position, text, payload, added_at) VALUES (?,?,?,?,?)",
                    (sid, None if pos is None else int(pos), "" if text is None else str(text),
                     json.dumps(payload, default=_json_default), now),
                )
                added += cur.rowcount
                if queue:
                    needed = 2 if frac > 0 and self._rng.random() < frac else 1
                    con.execute(
                        "INSERT OR IGNORE INTO queue(sample_id, priority, batch, needed) VALUES (?,?,?,?)",
                        (sid, float(prio), int(batch), needed),
                    )
        return added

    def sample(self, sample_id: Any) -> Sample:
        """The stored sample ``sample_id``."""
        row = self._con.execute(
            "SELECT s.*, COALESCE(q.needed, 1) AS needed FROM samples s LEFT JOIN queue q USING(sample_id) "
            "WHERE s.sample_id = ?", (str(sample_id),)
        ).fetchone()
        if row is None:
            raise KeyError(f"No sample {sample_id!r} in {self.path}; add it with add_samples first.")
        return Sample(row["sample_id"], row["text"], json.loads(row["payload"]), row["position"], row["needed"])

    def sample_ids(self) -> list[str]:
        return [r[0] for r in self._con.execute("SELECT sample_id FROM samples ORDER BY rowid")]

    def queued_ids(self) -> set[str]:
        return {r[0] for r in self._con.execute("SELECT sample_id FROM queue")}

    def checkout(self, reviewer: str, n: int = 1, *, lease_seconds: float | None = None) -> list[Sample]:
        """Lease up to ``n`` open samples to ``reviewer``, highest priority first.

        A sample leased to someone else (lease not expired) is never returned; a
        sample the reviewer already decided is not offered to them again; a
        double-review sample is offered until two reviewers have labelled it.
        Samples already leased to ``reviewer`` come back first (e.g. after a restart).
        """
        lease = self.lease_seconds if lease_seconds is None else float(lease_seconds)
        now = time.time()
        with self._tx() as con:
            rows = con.execute(
                """
                SELECT q.sample_id FROM queue q
                WHERE q.status = 'open'
                  AND (q.lease_owner IS NULL OR q.lease_until < :now OR q.lease_owner = :who)
                  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.sample_id = q.sample_id
                                  AND l.reviewer = :who AND l.undone_at IS NULL)
                ORDER BY (q.lease_owner = :who) DESC, q.priority DESC, q.rowid
                LIMIT :n
                """,
                {"now": now, "who": reviewer, "n": int(n)},
            ).fetchall()
            ids = [r[0] for r in rows]
            con.executemany(
                "UPDATE queue SET lease_owner = ?, lease_until = ? WHERE sample_id = ?",
                [(reviewer, now + lease, sid) for sid in ids],
            )
        return [self.sample(sid) for sid in ids]

    def release(self, sample_id: Any, reviewer: str) -> None:
        """Give a leased sample back without a decision."""
        with self._tx() as con:
            con.execute(
                "UPDATE queue SET lease_owner = NULL, lease_until = NULL WHERE sample_id = ? AND lease_owner = ?",
                (str(sample_id), reviewer),
            )

    # decisions --------------------------------------------------------------
    def record(
        self, sample_id: Any, label: int | None = None, *, reviewer: str, kind: str = "label", note: str | None = None
    ) -> int:
        """Record one decision and commit it at once; returns its log id.

        ``kind="label"`` needs a class id; ``"skip"`` and ``"unsure"`` take none
        (an unsure reviewer may still give a tentative label).

        Raises
        ------
        LeaseError
            When another reviewer holds an unexpired lease on the sample.
        """
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r} is not one of {KINDS}.")
        sid = str(sample_id)
        if kind in ("label", "adjudication"):
            k = len(self.class_names)
            if label is None or isinstance(label, bool) or int(label) != label or label < 0 or (k and label >= k):
                raise ValueError(
                    f"label={label!r} for sample {sid!r}; expected a class id 0..{k - 1 if k else 'k-1'}"
                    f"{' ' + str(self.class_names) if k else ''}."
                )
        now = time.time()
        with self._tx() as con:
            if con.execute("SELECT 1 FROM samples WHERE sample_id = ?", (sid,)).fetchone() is None:
                raise KeyError(f"No sample {sid!r} in {self.path}; add it with add_samples first.")
            lease = con.execute("SELECT lease_owner, lease_until FROM queue WHERE sample_id = ?", (sid,)).fetchone()
            if lease is not None and lease["lease_owner"] not in (None, reviewer) and lease["lease_until"] >= now:
                until = time.strftime("%H:%M:%S", time.localtime(lease["lease_until"]))
                raise LeaseError(
                    f"Sample {sid!r} is leased to {lease['lease_owner']!r} until {until}; {reviewer!r} cannot "
                    "record a decision on it. Take samples with checkout(), or wait until the lease ends."
                )
            cur = con.execute(
                "INSERT INTO labels(sample_id, reviewer, kind, label, note, created_at) VALUES (?,?,?,?,?,?)",
                (sid, reviewer, kind, None if label is None else int(label), note, now),
            )
            con.execute(
                "INSERT OR IGNORE INTO queue(sample_id, priority, needed) VALUES (?, 0, 1)", (sid,)
            )
            con.execute("UPDATE queue SET lease_owner = NULL, lease_until = NULL WHERE sample_id = ?", (sid,))
            self._update_status(con, sid)
            return int(cur.lastrowid)

    def skip(self, sample_id: Any, *, reviewer: str) -> int:
        return self.record(sample_id, None, reviewer=reviewer, kind="skip")

    def unsure(self, sample_id: Any, label: int | None = None, *, reviewer: str) -> int:
        return self.record(sample_id, label, reviewer=reviewer, kind="unsure")

    def adjudicate(self, sample_id: Any, label: int, *, reviewer: str) -> int:
        """Settle a double-review disagreement; the adjudicated label wins."""
        return self.record(sample_id, label, reviewer=reviewer, kind="adjudication")

    def undo(self, *, reviewer: str) -> Decision | None:
        """Undo ``reviewer``'s latest decision (kept in the log, marked undone); returns it."""
        now = time.time()
        with self._tx() as con:
            row = con.execute(
                "SELECT * FROM labels WHERE reviewer = ? AND undone_at IS NULL ORDER BY id DESC LIMIT 1", (reviewer,)
            ).fetchone()
            if row is None:
                return None
            con.execute("UPDATE labels SET undone_at = ? WHERE id = ?", (now, row["id"]))
            # The sample goes back to the reviewer who undid it, at the top of their queue.
            con.execute(
                "UPDATE queue SET lease_owner = ?, lease_until = ? WHERE sample_id = ?",
                (reviewer, now + self.lease_seconds, row["sample_id"]),
            )
            self._update_status(con, row["sample_id"])
        d = self._decision(row)
        d.undone_at = now
        return d

    def _update_status(self, con: sqlite3.Connection, sid: str) -> None:
        needed = con.execute("SELECT needed FROM queue WHERE sample_id = ?", (sid,)).fetchone()[0]
        active = con.execute(
            "SELECT reviewer, kind, label FROM labels WHERE sample_id = ? AND undone_at IS NULL "
            "AND kind IN ('label', 'adjudication') ORDER BY id", (sid,)
        ).fetchall()
        if any(r["kind"] == "adjudication" for r in active):
            status = "done"
        else:
            latest: dict[str, int] = {}
            for r in active:
                latest[r["reviewer"]] = r["label"]
            if len(latest) < needed:
                status = "open"
            elif len(set(latest.values())) == 1:
                status = "done"
            else:
                status = "adjudicate"
        con.execute("UPDATE queue SET status = ? WHERE sample_id = ?", (status, sid))

    @staticmethod
    def _decision(row: sqlite3.Row) -> Decision:
        return Decision(row["id"], row["sample_id"], row["reviewer"], row["kind"], row["label"],
                        row["created_at"], row["undone_at"], row["note"])

    def decisions(self, *, include_undone: bool = False) -> list[Decision]:
        """The decision log in order (undone decisions only if asked)."""
        sql = "SELECT * FROM labels" + ("" if include_undone else " WHERE undone_at IS NULL") + " ORDER BY id"
        return [self._decision(r) for r in self._con.execute(sql)]

    def reviewer_labels(self) -> dict[str, dict[str, int]]:
        """``{sample_id: {reviewer: label}}`` from each reviewer's latest active label."""
        out: dict[str, dict[str, int]] = {}
        for r in self._con.execute(
            "SELECT sample_id, reviewer, label FROM labels WHERE kind = 'label' AND undone_at IS NULL ORDER BY id"
        ):
            out.setdefault(r["sample_id"], {})[r["reviewer"]] = r["label"]
        return out

    def resolved_labels(self) -> dict[str, int]:
        """The labels ready for use: ``{sample_id: class id}``.

        Single-review samples take their latest label; double-review samples
        only once both reviewers agree or an adjudication settled them.
        """
        out: dict[str, int] = {}
        status = {r[0]: (r[1], r[2]) for r in self._con.execute("SELECT sample_id, status, needed FROM queue")}
        adjudicated = {}
        for r in self._con.execute(
            "SELECT sample_id, label FROM labels WHERE kind = 'adjudication' AND undone_at IS NULL ORDER BY id"
        ):
            adjudicated[r[0]] = r[1]
        for sid, by_reviewer in self.reviewer_labels().items():
            st, needed = status.get(sid, ("done", 1))
            if sid in adjudicated:
                continue
            if st == "done":
                out[sid] = list(by_reviewer.values())[-1]
        out.update(adjudicated)
        return out

    def to_adjudicate(self) -> list[str]:
        """Double-review samples whose reviewers disagree."""
        return [r[0] for r in self._con.execute("SELECT sample_id FROM queue WHERE status = 'adjudicate'")]

    def progress(self) -> dict[str, int]:
        """Counts: queued, done, open, to adjudicate, skipped, unsure, labels."""
        q = dict(self._con.execute("SELECT status, COUNT(*) FROM queue GROUP BY status").fetchall())
        kinds = dict(self._con.execute(
            "SELECT kind, COUNT(*) FROM labels WHERE undone_at IS NULL GROUP BY kind").fetchall())
        return {
            "queued": int(sum(q.values())),
            "done": int(q.get("done", 0)),
            "open": int(q.get("open", 0)),
            "adjudicate": int(q.get("adjudicate", 0)),
            "labels": int(kinds.get("label", 0)),
            "skipped": int(kinds.get("skip", 0)),
            "unsure": int(kinds.get("unsure", 0)),
        }

    def leased_to_others(self, reviewer: str) -> tuple[int, float | None]:
        """Open samples others hold right now, and when the first of those leases ends (epoch seconds).

        A reviewer who sees an empty queue while this count is non-zero has more to do once
        those leases are released or expire.
        """
        row = self._con.execute(
            "SELECT COUNT(*), MIN(lease_until) FROM queue WHERE status = 'open' AND lease_owner IS NOT NULL "
            "AND lease_owner != ? AND lease_until >= ?", (reviewer, time.time())
        ).fetchone()
        return int(row[0]), row[1]

    def reviews_of(self, sample_id: Any) -> list[Decision]:
        """The active decisions on one sample, in order (what an adjudicator weighs)."""
        return [self._decision(r) for r in self._con.execute(
            "SELECT * FROM labels WHERE sample_id = ? AND undone_at IS NULL ORDER BY id", (str(sample_id),))]

    # import primitives ------------------------------------------------------
    def queue_state(self) -> dict[str, dict[str, Any]]:
        """``{sample_id: {priority, batch, needed, status}}`` of every queued sample."""
        return {r["sample_id"]: {"priority": r["priority"], "batch": r["batch"], "needed": r["needed"],
                                 "status": r["status"]}
                for r in self._con.execute("SELECT sample_id, priority, batch, needed, status FROM queue")}

    def put_sample(
        self, sample_id: Any, text: str, *, payload: dict | None = None, position: int | None = None,
        queued: bool = True, needed: int = 1, priority: float = 0.0, batch: int = 0,
    ) -> bool:
        """Add one sample exactly as given (no double-review draw); returns whether it was new.

        Used by the importers so that a sample's review count ``needed``, priority and batch
        survive a round trip. An existing sample keeps its text and payload; its ``needed``
        only grows, so an import never turns a double-review sample into a single-review one.
        """
        sid = str(sample_id)
        with self._tx() as con:
            cur = con.execute(
                "INSERT OR IGNORE INTO samples(sample_id, position, text, payload, added_at) VALUES (?,?,?,?,?)",
                (sid, None if position is None else int(position), "" if text is None else str(text),
                 json.dumps(payload or {}, default=_json_default), time.time()),
            )
            if queued:
                con.execute(
                    "INSERT OR IGNORE INTO queue(sample_id, priority, batch, needed) VALUES (?,?,?,?)",
                    (sid, float(priority), int(batch), int(needed)),
                )
                con.execute("UPDATE queue SET needed = MAX(needed, ?) WHERE sample_id = ?", (int(needed), sid))
                self._update_status(con, sid)
            return bool(cur.rowcount)

    def put_decision(
        self, sample_id: Any, label: int | None, *, reviewer: str, kind: str, created_at: float,
        note: str | None = None, undone_at: float | None = None,
    ) -> bool:
        """Add one decision from an import, with its original time; returns False if it is already in the log.

        A decision is the same when sample, reviewer, kind, label and time (to the microsecond)
        match, so importing one file twice adds nothing the second time. When the store holds
        the decision active and ``undone_at`` is given, the decision is marked undone (and True
        returned): an undo made in one store survives the export into another. Leases are
        left alone: an imported decision was made elsewhere.
        """
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r} is not one of {KINDS}.")
        sid = str(sample_id)
        label = None if label is None else int(label)
        with self._tx() as con:
            if con.execute("SELECT 1 FROM samples WHERE sample_id = ?", (sid,)).fetchone() is None:
                raise KeyError(f"No sample {sid!r} in {self.path}; add it with put_sample first.")
            same = con.execute(
                "SELECT id, undone_at FROM labels WHERE sample_id = ? AND reviewer = ? AND kind = ? AND label IS ? "
                "AND ABS(created_at - ?) < 1e-6", (sid, reviewer, kind, label, float(created_at))
            ).fetchone()
            if same is not None:
                if undone_at is None or same["undone_at"] is not None:
                    return False
                # The decision is here, and was undone where the file comes from since: the undo carries over
                # (a decision is never un-undone; a new decision is a new log entry).
                con.execute("UPDATE labels SET undone_at = ? WHERE id = ?", (float(undone_at), same["id"]))
                self._update_status(con, sid)
                return True
            con.execute(
                "INSERT INTO labels(sample_id, reviewer, kind, label, note, created_at, undone_at) "
                "VALUES (?,?,?,?,?,?,?)", (sid, reviewer, kind, label, note, float(created_at), undone_at),
            )
            con.execute("INSERT OR IGNORE INTO queue(sample_id, priority, needed) VALUES (?, 0, 1)", (sid,))
            self._update_status(con, sid)
            return True

    # export / import --------------------------------------------------------
    def export_jsonl(self, path: str | os.PathLike) -> int:
        """Write the whole store as JSON lines; see :func:`labeling.review.exchange.export_jsonl`."""
        return exchange.export_jsonl(self, path)

    def import_jsonl(self, path: str | os.PathLike) -> int:
        """Read a JSONL export (or hand-made decision lines); see :func:`labeling.review.exchange.import_jsonl`."""
        return exchange.import_jsonl(self, path)

    def class_id(self, name: Any, where: str = "") -> int:
        """The id of class ``name``; ``where`` names the input in the error."""
        try:
            return self.class_names.index(str(name))
        except ValueError:
            raise ValueError(f"{where + ': ' if where else ''}class {name!r} is not one of {self.class_names}.") \
                from None

    def export_label_studio(self, path: str | os.PathLike, **kwargs: Any) -> int:
        """Write Label Studio tasks; see :func:`labeling.review.exchange.export_label_studio`."""
        return exchange.export_label_studio(self, path, **kwargs)

    def import_label_studio(self, path: str | os.PathLike, **kwargs: Any) -> int:
        """Read Label Studio tasks; see :func:`labeling.review.exchange.import_label_studio`."""
        return exchange.import_label_studio(self, path, **kwargs)
