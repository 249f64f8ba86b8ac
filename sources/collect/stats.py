"""What every part of the collector shares: its user agent, its error and the statistics of a run."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["USER_AGENT", "CollectError", "CollectStats"]

USER_AGENT = "votewise-collector/0.1"


class CollectError(RuntimeError):
    """A request failed for good (after retries, a 4xx, a refusal); progress up to it is kept for resuming."""


@dataclass
class CollectStats:
    """What a :func:`~sources.collect.collect` run did."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    records: int = 0
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)  # pages disallowed by robots.txt, answering 4xx or too large
    failed: list[str] = field(default_factory=list)  # pages that failed after their retries; retried next run
    stalled: str | None = None  # why API pagination stopped early (a repeated cursor, link or page)
    resumed: bool = False
    finished: bool = False
