"""Collecting a list of web pages: one record ``{url, title, text}`` per page, in the order given."""

from __future__ import annotations

import logging
from typing import Any

from .api import now
from .html import html_to_text
from .http import Fetcher, RedirectDisallowed, ResponseTooLarge
from .robots import Robots
from .stats import CollectError, CollectStats
from .writer import ResumableJSONL

__all__ = ["collect_pages"]

logger = logging.getLogger("votewise.collect")


def collect_pages(fetch: Fetcher, robots: Robots, out: ResumableJSONL, stats: CollectStats, bar, *,
                  pages: list[str], max_pages: int | None) -> None:
    """Fetch the pages after the resume point in ``out``, first retrying those that failed in an earlier run.

    A page that robots.txt disallows, that answers 4xx or is larger than the size limit is skipped for
    good (``stats.skipped``); one that still fails after its retries is skipped now and retried by the
    next call (``stats.failed``).
    """
    state = dict(out.state or {"next_index": 0, "skipped": []})
    state.setdefault("failed", [])
    pages_this_run = 0

    def fetch_one(page: str) -> tuple[list[dict], str | None, str | None]:
        """(rows, skipped reason, failure reason) of one page."""
        if not robots.allowed(page):
            return [], f"{page} (robots.txt)", None
        try:
            status, body, headers = fetch.get(page, allow_4xx=True)
        except ResponseTooLarge:
            return [], f"{page} (larger than max_bytes={fetch.max_bytes})", None
        except RedirectDisallowed:
            return [], f"{page} (redirects where robots.txt disallows)", None
        except CollectError as exc:
            return [], None, str(exc)
        if status != 200:
            return [], f"{page} (HTTP {status})", None
        charset = headers.get_content_charset() if hasattr(headers, "get_content_charset") else None
        title, text = html_to_text(body.decode(charset or "utf-8", "replace"))
        return [{"url": page, "title": title, "text": text, "_source_url": page, "_fetched_at": now()}], None, None

    def record(page: str, rows: list[dict], skipped: str | None, failure: str | None, **move: Any) -> None:
        nonlocal state, pages_this_run
        failed = [f for f in state["failed"] if f["url"] != page]
        if failure is not None:
            failed.append({"url": page, "error": failure})
            logger.warning("collect: %s failed after its retries; skipped, and retried by the next run.", page)
        state = {**state, **move, "failed": failed,
                 "skipped": state.get("skipped", []) + ([skipped] if skipped else [])}
        written, dupes = out.commit(rows, state)
        stats.pages += 1
        stats.records += written
        stats.duplicates += dupes
        pages_this_run += 1

    # Pages that failed in an earlier run are retried first: a server that was down may be back.
    for entry in list(state["failed"]):
        if max_pages is not None and pages_this_run >= max_pages:
            return
        record(entry["url"], *fetch_one(entry["url"]))
    for i in range(state["next_index"], len(pages)):
        if max_pages is not None and pages_this_run >= max_pages:
            return
        record(pages[i], *fetch_one(pages[i]), next_index=i + 1)
        bar.update(1)
    stats.skipped = list(state.get("skipped", []))
    stats.failed = [f"{f['url']} ({f['error']})" for f in state["failed"]]
    # Finished: every page was tried; failed pages (stats.failed) are retried by calling collect again.
    stats.finished = True
