"""The response cache: every model answer kept in one SQLite file, so a re-run makes no call.

Each answer is committed on its own as soon as it arrives (SQLite in WAL mode), so a run killed at any
moment, even by SIGKILL, leaves every answer it received and none half-written: a resumed run asks only
for the rest. Keys are hashes of the backend kind, the model, the request parameters and the prompt
(:meth:`sources.llm.Backend.cache_key`); the prompt text itself is not stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

from labeling.core.cachedir import default_cache_dir

from .base import Answer

__all__ = ["ResponseCache", "default_cache_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key BLOB PRIMARY KEY,
    backend TEXT NOT NULL,
    answer TEXT NOT NULL,
    scores TEXT,
    score_kind TEXT NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL
) WITHOUT ROWID
"""
# SQLite limits the host parameters of one statement; lookups go in slices of this many keys.
_LOOKUP_SLICE = 500


def default_cache_path() -> Path:
    """``responses.sqlite`` in votewise's ``llm`` cache folder.

    That folder is :func:`labeling.core.cachedir.default_cache_dir` ``("llm")``: ``$VOTEWISE_CACHE/llm``, else
    ``$XDG_CACHE_HOME/votewise/llm``, else ``~/.cache/votewise/llm``, so the variable moves this cache with the
    others.
    """
    return default_cache_dir("llm") / "responses.sqlite"


class ResponseCache:
    """Model answers on disk, keyed by request (see the module docstring).

    One object may be shared by several prompted LFs; each process (a joblib or Dask worker) opens its
    own connection, and SQLite's locking lets them write to one file at once.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file (created with its folder); :func:`default_cache_path` when omitted.

    Examples
    --------
    >>> import tempfile, os
    >>> cache = ResponseCache(os.path.join(tempfile.mkdtemp(), "answers.sqlite"))
    >>> cache.put(b"k" * 20, "demo", Answer("spam"))
    >>> cache.get_many([b"k" * 20])[b"k" * 20].text
    'spam'
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_cache_path()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # a forked worker opens its own
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                # NORMAL: a commit survives the process being killed; only a power cut may lose the last ones.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise ValueError(
                    f"Response cache {self.path} cannot be opened ({exc}); it is not a votewise response cache "
                    "or it is damaged: move it away (its answers are then asked again)."
                ) from None
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get_many(self, keys: Iterable[bytes]) -> dict[bytes, Answer]:
        """The cached answers among ``keys`` (missing keys are absent from the result)."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        conn = self._connection()
        out: dict[bytes, Answer] = {}
        for s in range(0, len(keys), _LOOKUP_SLICE):
            part = keys[s : s + _LOOKUP_SLICE]
            rows = conn.execute(
                "SELECT key, answer, scores, score_kind, tokens_in, tokens_out FROM answers WHERE key IN "
                f"({','.join('?' * len(part))})", part,
            ).fetchall()
            for key, text, scores, kind, t_in, t_out in rows:
                out[bytes(key)] = Answer(text, None if scores is None else json.loads(scores), kind, t_in, t_out, True)
        return out

    def put(self, key: bytes, backend: str, answer: Answer) -> None:
        """Store one answer, committed at once."""
        scores = None if answer.scores is None else json.dumps(answer.scores, ensure_ascii=False)
        self._connection().execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, backend, answer.text, scores, answer.score_kind, int(answer.tokens_in), int(answer.tokens_out)),
        )

    def __len__(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def __contains__(self, key: bytes) -> bool:
        return bool(self.get_many([key]))

    def count(self, keys: Sequence[bytes]) -> int:
        """How many of ``keys`` have a cached answer."""
        return len(self.get_many(keys))

    @property
    def size_bytes(self) -> int:
        """Disk space of the cache file and its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the cache file (SQLite also does it on its own as the log grows)."""
        self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close this process's connection (it reopens when used again)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __getstate__(self) -> dict:
        # A connection belongs to its process: a worker gets the path and opens its own.
        return {"path": self.path, "_conn": None, "_pid": None}
