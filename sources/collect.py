"""Collect records from a REST API or a list of web pages into a JSONL file that can be resumed.

Every written line is one record with its source URL and fetch time. Progress is committed after each
page: a small state file beside the output (``<out>.state.json``) holds the next request and the
byte length of the output at that point, so a run stopped by an error, a crash or Ctrl-C continues
where it stopped — a page is never written twice and none is skipped. Requests are rate-limited,
retried with exponential backoff on 5xx, 429 and timeouts (``Retry-After`` in seconds or as an HTTP
date is honoured). A web page that still fails after its retries is recorded and skipped, and retried
by the next run; robots.txt is read with ``protego`` (longest matching rule wins, ``Crawl-delay``
honoured). API pagination must advance: a repeated cursor, next link or page ends the collection.
HTTP goes through the standard library; nothing else in votewise touches the network.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from tqdm.auto import tqdm

__all__ = ["collect", "CollectError", "CollectStats", "html_to_text", "USER_AGENT"]

USER_AGENT = "votewise-collector/0.1"
logger = logging.getLogger("votewise.collect")
# The longest wait taken from a server's Retry-After; a longer one fails the attempt like any other.
MAX_RETRY_AFTER = 300.0
PAGINATION = ("page", "cursor", "next", None)


class CollectError(RuntimeError):
    """A request failed for good (after retries, or with a 4xx); progress up to it is kept for resuming."""


@dataclass
class CollectStats:
    """What a :func:`collect` run did."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    records: int = 0
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)  # pages disallowed by robots.txt or answering 4xx
    failed: list[str] = field(default_factory=list)  # pages that failed after their retries; retried next run
    stalled: str | None = None  # why API pagination stopped early (a repeated cursor, link or page)
    resumed: bool = False
    finished: bool = False


# --------------------------------------------------------------------------- HTML to text
class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    _BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
              "section", "article", "header", "footer", "blockquote", "pre", "hr", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """``(title, text)`` of an HTML page: scripts and styles dropped, one line per block, spaces squeezed.

    Examples
    --------
    >>> html_to_text("<html><head><title>Hi</title></head><body><p>One &amp; two</p><p>three</p></body></html>")
    ('Hi', 'One & two\\nthree')
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    text = "\n".join(line for line in lines if line)
    return re.sub(r"\s+", " ", "".join(parser.title)).strip(), text


# --------------------------------------------------------------------------- HTTP with retries
class _Fetcher:
    def __init__(self, *, rate_limit: float | None, max_retries: int, backoff: float, timeout: float,
                 headers: Mapping[str, str] | None, stats: CollectStats, sleep: Callable[[float], None]) -> None:
        self.min_interval = 1.0 / rate_limit if rate_limit else 0.0
        self.max_retries, self.backoff, self.timeout = max_retries, backoff, timeout
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.stats, self.sleep = stats, sleep
        self._last: dict[str, float] = {}
        self.host_delay: dict[str, float] = {}  # robots.txt Crawl-delay per host

    def _wait_turn(self, url: str) -> None:
        host = urllib.parse.urlsplit(url).netloc
        interval = max(self.min_interval, self.host_delay.get(host, 0.0))
        last = self._last.get(host)
        if last is not None:
            gap = last + interval - time.monotonic()
            if gap > 0:
                self.sleep(gap)
        self._last[host] = time.monotonic()

    def get(self, url: str, *, allow_404: bool = False) -> tuple[int, bytes, Mapping[str, str]]:
        """GET with rate limit and retries; returns (status, body, headers). 4xx raise unless allowed."""
        attempt = 0
        while True:
            self._wait_turn(url)
            self.stats.requests += 1
            request = urllib.request.Request(url, headers=self.headers)
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                    return resp.status, resp.read(), resp.headers
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429:
                    if allow_404:
                        return exc.code, b"", exc.headers
                    raise CollectError(f"GET {url} answered HTTP {exc.code} {exc.reason}; not retrying a client error.") from exc
                reason = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                    http.client.HTTPException, OSError) as exc:
                # A timeout while reading the body, a dropped connection or a malformed answer: retry.
                reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt >= self.max_retries:
                raise CollectError(f"GET {url} failed after {attempt + 1} attempts; last error {reason}. "
                                   "Run collect again with the same arguments to resume.")
            delay = self.backoff * (2 ** attempt)
            wait = _retry_after_seconds(retry_after)
            if wait is not None:
                delay = max(delay, min(wait, MAX_RETRY_AFTER))
            attempt += 1
            self.stats.retries += 1
            self.sleep(delay)


def _retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110), else None.

    Examples
    --------
    >>> _retry_after_seconds("120")
    120.0
    >>> _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --------------------------------------------------------------------------- resumable output
class _Output:
    def __init__(self, path: Path, *, restart: bool, id_field: str | None) -> None:
        self.path = path
        self.state_path = path.with_name(path.name + ".state.json")
        self.id_field = id_field
        self.seen: set = set()
        self.state: dict[str, Any] | None = None
        if restart:
            for p in (path, self.state_path):
                if p.exists():
                    p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.state_path.exists():
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
            path.write_bytes(b"")
        if id_field and path.exists():
            with path.open(encoding="utf-8") as f:
                self.seen = {json.loads(line).get(id_field) for line in f if line.strip()}

    def commit(self, records: Iterable[dict], state: dict[str, Any]) -> tuple[int, int]:
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
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**state, "offset": offset}), encoding="utf-8")
        os.replace(tmp, self.state_path)
        self.state = {**state, "offset": offset}
        return written, dupes


def _now() -> str:
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


# --------------------------------------------------------------------------- the two collectors
def _collect_api(fetch: _Fetcher, out: _Output, stats: CollectStats, bar, *, url: str, records: str | None,
                 pagination: str | None, params: Mapping[str, Any], page_param: str, start_page: int,
                 cursor_param: str, cursor_field: str, next_field: str | None, max_pages: int | None) -> None:
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
        fetched_at = _now()
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


def _collect_pages(fetch: _Fetcher, out: _Output, stats: CollectStats, bar, *, pages: list[str],
                   respect_robots: bool, max_pages: int | None) -> None:
    state = dict(out.state or {"next_index": 0, "skipped": []})
    state.setdefault("failed", [])
    robots: dict[str, Any] = {}
    pages_this_run = 0

    def fetch_one(page: str) -> tuple[list[dict], str | None, str | None]:
        """(rows, skipped reason, failure reason) of one page."""
        if respect_robots:
            parts = urllib.parse.urlsplit(page)
            host = f"{parts.scheme}://{parts.netloc}"
            if host not in robots:
                robots[host] = _read_robots(fetch, host, parts.netloc)
            rp = robots[host]
            if rp is not None and not rp.can_fetch(page, USER_AGENT):
                return [], f"{page} (robots.txt)", None
        try:
            status, body, headers = fetch.get(page, allow_404=True)
        except CollectError as exc:
            return [], None, str(exc)
        if status != 200:
            return [], f"{page} (HTTP {status})", None
        charset = headers.get_content_charset() if hasattr(headers, "get_content_charset") else None
        title, text = html_to_text(body.decode(charset or "utf-8", "replace"))
        return [{"url": page, "title": title, "text": text, "_source_url": page, "_fetched_at": _now()}], None, None

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


def _read_robots(fetch: _Fetcher, host: str, netloc: str):
    """The host's robots.txt parsed by protego (longest matching rule wins), or None when it has none."""
    from protego import Protego

    try:
        status, body, _ = fetch.get(host + "/robots.txt", allow_404=True)
    except CollectError:
        return None  # robots.txt unreachable after retries: treated as absent, as crawlers commonly do
    if status != 200:
        return None
    rp = Protego.parse(body.decode("utf-8", "replace"))
    delay = rp.crawl_delay(USER_AGENT)
    if delay:
        fetch.host_delay[netloc] = float(delay)
    return rp


def collect(
    out: str | Path,
    *,
    url: str | None = None,
    pages: Iterable[str] | None = None,
    records: str | None = None,
    pagination: str | None = None,
    params: Mapping[str, Any] | None = None,
    page_param: str = "page",
    start_page: int = 1,
    cursor_param: str = "cursor",
    cursor_field: str = "next_cursor",
    next_field: str | None = "next",
    headers: Mapping[str, str] | None = None,
    rate_limit: float | None = 2.0,
    max_retries: int = 5,
    backoff: float = 0.5,
    timeout: float = 10.0,
    max_pages: int | None = None,
    respect_robots: bool = True,
    id_field: str | None = None,
    restart: bool = False,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> CollectStats:
    """Fetch records from a JSON REST API (``url=``) or web pages (``pages=``) into a resumable JSONL file.

    Call it again with the same arguments after an interruption and it continues after the last page
    it committed; once finished, calling it again fetches only the pages listed in ``stats.failed``.

    Parameters
    ----------
    out : str or Path
        JSONL output; ``<out>.state.json`` beside it keeps the resume point.
    url : str
        API endpoint (first page). Exactly one of ``url`` and ``pages``.
    pages : iterable of str
        Web page URLs; each becomes one record ``{url, title, text}`` (HTML turned into text).
    records : str, optional
        Dotted path to the list of records in each API response (e.g. ``"data.items"``); default:
        the response itself when it is a list.
    pagination : {"page", "cursor", "next", None}
        ``"page"``: ``?page=1,2,...`` until an empty page. ``"cursor"``: send ``cursor_param`` with the
        value found at ``cursor_field`` in the last response, until it is empty. ``"next"``: follow the
        URL at ``next_field`` in the response, or the ``Link: <...>; rel="next"`` header. None: one request.
    params : mapping, optional
        Extra query parameters for API requests.
    page_param, start_page, cursor_param, cursor_field, next_field
        Names for the pagination styles above.
    headers : mapping, optional
        Extra HTTP headers (e.g. an API token).
    rate_limit : float, optional
        At most this many requests per second (None: no limit).
    max_retries : int
        Retries per request on 5xx, 429, timeouts and connection errors, waiting ``backoff * 2**k``
        seconds (or the server's ``Retry-After``, in seconds or as an HTTP date, up to 300 s). A web page
        that still fails is recorded in ``stats.failed`` and skipped; an API page that still fails raises
        :class:`CollectError` (the pages after it depend on it), and the next call resumes there.
    backoff, timeout : float
        Seconds.
    max_pages : int, optional
        Stop after this many pages in this call (the next call resumes).
    respect_robots : bool
        Skip pages that the site's robots.txt disallows for votewise's user agent (longest matching
        ``Allow``/``Disallow`` rule wins) and wait its ``Crawl-delay`` between requests to that host.
    id_field : str, optional
        Record field that identifies a record: records seen before are not written again.
    restart : bool
        Delete the output and its state and start from the beginning.
    progress : bool
        Show a tqdm bar of pages.
    sleep : callable
        Used for rate limiting and backoff (tests pass a fake).

    Returns
    -------
    CollectStats

    Examples
    --------
    >>> stats = collect("items.jsonl", url="https://api.example.org/items", records="items",
    ...                 pagination="page")  # doctest: +SKIP
    """
    if (url is None) == (pages is None):
        raise ValueError("Pass exactly one of url= (a REST API) and pages= (a list of web pages).")
    if pagination not in PAGINATION:
        raise ValueError(f"pagination={pagination!r} is not one of {PAGINATION}.")
    if rate_limit is not None and rate_limit <= 0:
        raise ValueError(f"rate_limit={rate_limit}; expected requests per second > 0, or None.")
    if max_retries < 0:
        raise ValueError(f"max_retries={max_retries}; expected >= 0.")
    stats = CollectStats()
    output = _Output(Path(out), restart=restart, id_field=id_field)
    stats.resumed = output.state is not None
    fetch = _Fetcher(rate_limit=rate_limit, max_retries=max_retries, backoff=backoff, timeout=timeout,
                     headers=headers, stats=stats, sleep=sleep)
    page_list = list(pages) if pages is not None else None
    bar = tqdm(total=len(page_list) if page_list is not None else None, desc="Collecting", unit="page",
               disable=not progress)
    try:
        if page_list is not None:
            if output.state is not None and output.state.get("next_index") is None:
                raise CollectError(f"{out} holds an API collection; pass restart=True to collect pages into it.")
            _collect_pages(fetch, output, stats, bar, pages=page_list, respect_robots=respect_robots,
                           max_pages=max_pages)
        else:
            if output.state is not None and "url" not in output.state:
                raise CollectError(f"{out} holds a page collection; pass restart=True to collect an API into it.")
            _collect_api(fetch, output, stats, bar, url=url, records=records, pagination=pagination,
                         params=dict(params or {}), page_param=page_param, start_page=start_page,
                         cursor_param=cursor_param, cursor_field=cursor_field, next_field=next_field,
                         max_pages=max_pages)
    finally:
        bar.close()
    return stats
