"""The resumable JSONL output of a collection: records, the resume point, and the arguments of the run.

Three files: ``<out>`` holds the records; ``<out>.state.json`` the next request and the byte length of
``<out>`` at the last commit; ``<out>.run.json`` the arguments that decide what is collected, written
once when the run starts. Resuming with other arguments would mix two collections in one file (a new
URL continuing the old endpoint's pagination, a new page list skipping its first pages), so it is
refused with the differences named, unless ``restart=True`` starts a new run.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from .stats import CollectError

__all__ = ["ResumableJSONL", "describe_differences"]

logger = logging.getLogger("votewise.collect")


def _write_atomic(path: Path, data: Any) -> None:
    # A state written halfway would look like a valid resume point: write aside, then replace.
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_differences(stored: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """One line per argument whose value differs between a stored run and the one asked for.

    Examples
    --------
    >>> describe_differences({"url": "http://a/x", "pages": None}, {"url": "http://a/y", "pages": None})
    ["url: stored 'http://a/x', given 'http://a/y'"]
    >>> describe_differences({"pages": ["p1", "p2"]}, {"pages": ["p0", "p1", "p2"]})
    ["pages: stored 2 URLs, given 3; first difference at position 0 (stored 'p1', given 'p0')"]
    """
    lines = []
    for key in sorted(set(stored) | set(given)):
        a, b = stored.get(key), given.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            first = (f"stored {_short(a[i]) if i < len(a) else 'nothing'}, "
                     f"given {_short(b[i]) if i < len(b) else 'nothing'}")
            lines.append(f"{key}: stored {len(a)} URLs, given {len(b)}; first difference at position {i} ({first})")
        else:
            lines.append(f"{key}: stored {_short(a)}, given {_short(b)}")
    return lines


class ResumableJSONL:
    """Append-only JSONL output committed page by page, with the run's arguments kept beside it.

    Parameters
    ----------
    path : Path
        The JSONL file.
    run : mapping
        The arguments that decide what is collected (JSON-serialisable); a resumed run must match them.
    restart : bool
        Delete the output, its state and its stored arguments first.
    id_field : str, optional
        Record field that identifies a record: a record whose id was written before is not written again.

    Raises
    ------
    CollectError
        When ``path`` holds records but no resume state, or its stored run has other arguments.
    """

    def __init__(self, path: Path, *, run: Mapping[str, Any], restart: bool, id_field: str | None) -> None:
        self.path = path
        self.state_path = path.with_name(path.name + ".state.json")
        self.run_path = path.with_name(path.name + ".run.json")
        self.id_field = id_field
        # Compared as JSON reads it back (tuples become lists), so an unchanged run always matches.
        self.run = json.loads(json.dumps(dict(run), default=str))
        self.seen: set = set()
        self.state: dict[str, Any] | None = None
        if restart:
            for p in (path, self.state_path, self.run_path):
                if p.exists():
                    p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.state_path.exists():
            self._check_run()
            self.state = json.loads(self.state_path.read_text(encoding="utf-8"))
            # Drop anything written after the last commit (a page cut short by a crash).
            with path.open("ab") as f:
                f.truncate(self.state["offset"])
        elif path.exists() and path.stat().st_size:
            raise CollectError(
                f"{path} exists but has no resume state ({self.state_path.name}); pass restart=True to overwrite "
                "it or choose another output file."
            )
        else:
            _write_atomic(self.run_path, self.run)
            path.write_bytes(b"")
        if id_field and path.exists():
            with path.open(encoding="utf-8") as f:
                self.seen = {json.loads(line).get(id_field) for line in f if line.strip()}

    def _check_run(self) -> None:
        if not self.run_path.exists():
            # A state written before runs kept their arguments: adopt the current ones from now on.
            logger.warning("collect: %s has no stored arguments (%s); resuming with the ones given.",
                           self.path, self.run_path.name)
            _write_atomic(self.run_path, self.run)
            return
        try:
            stored = json.loads(self.run_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CollectError(f"{self.run_path}: unreadable stored arguments ({exc}); pass restart=True to "
                               "start a new run.") from exc
        diff = describe_differences(stored, self.run)
        if diff:
            raise CollectError(
                f"{self.path} holds a collection made with other arguments; resuming would mix them:\n  "
                + "\n  ".join(diff)
                + "\nPass the stored arguments to resume, restart=True to start a new run (deleting the "
                "records collected so far), or choose another output file."
            )

    def commit(self, records: Iterable[dict], state: dict[str, Any]) -> tuple[int, int]:
        """Append records and move the resume point past them; returns (written, duplicates skipped)."""
        written = dupes = 0
        with self.path.open("a", encoding="utf-8") as f:
            for rec in records:
                if self.id_field:
                    key = rec.get(self.id_field)
                    if key in self.seen:
                        dupes += 1
                        continue
                    self.seen.add(key)
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                written += 1
            f.flush()
            os.fsync(f.fileno())
            offset = f.tell()
        self.state = {**state, "offset": offset}
        _write_atomic(self.state_path, self.state)
        return written, dupes
