"""Collecting a JSON REST API, page by page, with the pagination styles of :func:`~sources.collect.collect`."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.parse
from datetime import datetime, timezone
from typing import Any, Mapping

from .http import Fetcher
from .robots import Robots
from .stats import USER_AGENT, CollectError, CollectStats
from .writer import ResumableJSONL

__all__ = ["PAGINATION", "collect_api"]

logger = logging.getLogger("votewise.collect")
PAGINATION = ("page", "cursor", "next", None)


def now() -> str:
    """The current UTC time, ISO 8601 to the second: the ``_fetched_at`` of a record."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dig(data: Any, path: str | None) -> Any:
    if not path:
        return data
    for part in path.split("."):
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _with_params(url: str, params: Mapping[str, Any]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in params.items() if v is not None})
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _link_next(headers: Mapping[str, str]) -> str | None:
    for part in (headers.get("Link") or "").split(","):
        m = re.match(r'\s*<([^>]+)>\s*;(.*)', part)
        if m and re.search(r'rel="?next"?', m.group(2)):
            return m.group(1)
    return None


def collect_api(fetch: Fetcher, robots: Robots, out: ResumableJSONL, stats: CollectStats, bar, *, url: str,
                records: str | None, pagination: str | None, params: Mapping[str, Any], page_param: str,
                start_page: int, cursor_param: str, cursor_field: str, next_field: str | None,
                max_pages: int | None) -> None:
    """Fetch API pages from the resume point in ``out`` until pagination ends (or ``max_pages`` this call)."""
    state = out.state or {"url": url, "page": start_page, "cursor": None, "done": False}
    state.setdefault("seen", [])
    pages_this_run = 0
    while not state["done"]:
        if max_pages is not None and pages_this_run >= max_pages:
            return
        if pagination == "page":
            request_url = _with_params(state["url"], {**params, page_param: state["page"]})
        elif pagination == "cursor":
            request_url = _with_params(state["url"], {**params, cursor_param: state["cursor"]})
        else:
            request_url = _with_params(state["url"], params) if state["url"] == url else state["url"]
        if not robots.allowed(request_url):
            # Every later page depends on this one, so the collection cannot go around it.
            raise CollectError(
                f"GET {request_url} is disallowed by {urllib.parse.urljoin(request_url, '/robots.txt')} for "
                f"user agent {USER_AGENT!r}; nothing was requested there. Pass respect_robots=False only "
                "with the site's permission."
            )
        _, body, headers = fetch.get(request_url)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CollectError(f"GET {request_url} did not return JSON: {exc}") from exc
        items = _dig(payload, records)
        if items is None and records is None and isinstance(payload, list):
            items = payload
        if not isinstance(items, list):
            raise CollectError(
                f"GET {request_url}: no list of records at {records!r} in the response (keys: "
                f"{list(payload) if isinstance(payload, Mapping) else type(payload).__name__}); pass records='path.to.list'."
            )
        fetched_at = now()
        rows = [{**(it if isinstance(it, Mapping) else {"value": it}), "_source_url": request_url,
                 "_fetched_at": fetched_at} for it in items]
        nxt = dict(state)
        # Pagination must advance: a cursor, next link or page body seen before would loop for ever.
        digest = hashlib.sha1(json.dumps(items, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]
        stalled = None
        if pagination == "page":
            nxt["page"] = state["page"] + 1
            nxt["done"] = not items
            if items and digest in state["seen"]:
                stalled = f"page {state['page']} returned the same records as an earlier page"
            nxt["seen"] = (state["seen"] + [digest])[-1000:]
        elif pagination == "cursor":
            cursor = _dig(payload, cursor_field)
            nxt["cursor"] = cursor
            nxt["done"] = cursor in (None, "") or not items
            key = f"cursor:{cursor}"
            if not nxt["done"] and (cursor == state["cursor"] or key in state["seen"]):
                stalled = f"the cursor {cursor!r} was returned before"
            nxt["seen"] = (state["seen"] + [key])[-1000:]
        elif pagination == "next":
            link = _dig(payload, next_field) if next_field else None
            link = link or _link_next(headers)
            nxt["url"] = urllib.parse.urljoin(request_url, link) if link else state["url"]
            nxt["done"] = not link
            key = f"url:{nxt['url']}"
            if link and (nxt["url"] == request_url or key in state["seen"] or nxt["url"] == state["url"]):
                stalled = f"the next link {nxt['url']!r} was visited before"
            nxt["seen"] = (state["seen"] + [f"url:{request_url}"])[-1000:]
        else:
            nxt["done"] = True
        if stalled:
            # The repeated page's records are not written again; the collection ends here.
            logger.warning("collect: pagination did not advance (%s); stopping after %d pages.", stalled, stats.pages)
            stats.stalled = stalled
            rows = [] if pagination == "page" else rows
            nxt["done"] = True
        written, dupes = out.commit(rows, nxt)
        state = nxt
        stats.pages += 1
        stats.records += written
        stats.duplicates += dupes
        pages_this_run += 1
        bar.update(1)
    stats.finished = True
