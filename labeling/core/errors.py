"""The errors an LF run raises or records: :class:`LFError` (the run stops) and :class:`LFFailure` (a
fault-tolerant run abstained there), each naming the LF, the row position and the row id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any



__all__ = ["LFError", "LFFailure"]


class LFError(RuntimeError):
    """A labeling function raised or returned an invalid vote; names the LF and the row."""

    def __init__(self, message: str, *, lf: str, position: int | None = None, row_id: Any = None) -> None:
        super().__init__(message)
        self.lf = lf
        self.position = position
        self.row_id = row_id

    def __reduce__(self) -> tuple:
        # Keyword-only fields: the default exception pickling (args only) would lose them, and
        # worker processes (joblib, Dask) send errors back pickled.
        return (_rebuild_lf_error, (str(self), self.lf, self.position, self.row_id))


def _rebuild_lf_error(message: str, lf: str, position: int | None, row_id: Any) -> LFError:
    return LFError(message, lf=lf, position=position, row_id=row_id)


@dataclass(frozen=True)
class LFFailure:
    """One LF call that raised during a fault-tolerant apply (the vote there is ABSTAIN)."""

    lf: str
    position: int
    row_id: Any
    error: str


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _exit_error(lf: str, exc: BaseException, position: Any, row_id: Any = None) -> LFError:
    """The LFError for an LF that called ``sys.exit`` (or raised another exception that ends the program).

    ``SystemExit`` and other ``BaseException`` subclasses pass every ``except Exception``: uncaught, they
    would end ``votewise apply`` with status 0, no output and no message. Always a bug, never a vote or
    bad data, so fault tolerance does not apply. ``KeyboardInterrupt`` (the user's Ctrl-C) is not one.
    """
    where = f"on row {position} (id {row_id!r})" if row_id is not None else f"on rows from {position}"
    what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}"
    err = LFError(
        f"LF {lf!r} {what} {where}; an LF returns a vote (or raises an Exception), it must not end the program. "
        "Remove the exit call.",
        lf=lf, position=int(position), row_id=row_id,
    )
    err.__cause__ = exc
    return err
