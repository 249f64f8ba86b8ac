"""The :func:`collect` entry point: checks its arguments, opens the resumable output and runs a collector."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from tqdm.auto import tqdm

from .api import PAGINATION, collect_api
from .http import Fetcher
from .pages import collect_pages
from .robots import Robots
from .stats import CollectStats
from .writer import ResumableJSONL

__all__ = ["collect", "DEFAULT_MAX_BYTES"]

# 50 MiB: far above any API page or web page worth collecting, far below what exhausts memory.
DEFAULT_MAX_BYTES = 50 * 2**20


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
    max_bytes: int | None = DEFAULT_MAX_BYTES,
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
    The arguments that decide what is collected (``url``, ``pages``, ``records``, the pagination
    options, ``params``, ``id_field``, ``respect_robots``) are stored beside the output when a run
    starts; calling again with other values raises :class:`CollectError` naming each difference,
    unless ``restart=True``. The others (rate, retries, timeouts, limits, headers) may change between
    calls.

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
    backoff : float
        Seconds before the first retry; doubled for each next one.
    timeout : float
        Seconds one attempt may take as a whole: connecting, the headers and the whole body. A server
        that sends a byte a second is cut off at ``timeout`` like one that sends nothing; the attempt
        counts as a timeout and is retried.
    max_bytes : int, optional
        Largest response accepted (default 50 MiB; None: no limit). A larger one is refused without
        being read into memory: at once when its ``Content-Length`` says so, else as soon as that many
        bytes have arrived. A web page that is too large is listed in ``stats.skipped``; an API page
        raises :class:`CollectError`. robots.txt is read under the same limit.
    max_pages : int, optional
        Stop after this many pages in this call (the next call resumes).
    respect_robots : bool
        Read each host's robots.txt first, in both modes, and never request what it disallows for
        votewise's user agent (longest matching ``Allow``/``Disallow`` rule wins); wait its
        ``Crawl-delay`` between requests to that host. A disallowed web page is listed in
        ``stats.skipped``; a disallowed API page raises :class:`CollectError` (the pages after it
        depend on it).
    id_field : str, optional
        Record field that identifies a record: records seen before are not written again.
    restart : bool
        Delete the output, its state and its stored arguments and start a new run.
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
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 1):
        raise ValueError(f"max_bytes={max_bytes!r}; expected a number of bytes >= 1, or None.")
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout={timeout!r}; expected seconds > 0.")
    page_list = list(pages) if pages is not None else None
    params = dict(params or {})
    # What decides the records collected; rate, retries, timeouts and headers (tokens rotate) may change.
    if page_list is not None:
        run: dict[str, Any] = {"mode": "pages", "pages": page_list}
    else:
        run = {"mode": "api", "url": url, "records": records, "pagination": pagination, "params": params,
               "page_param": page_param, "start_page": start_page, "cursor_param": cursor_param,
               "cursor_field": cursor_field, "next_field": next_field}
    run.update(id_field=id_field, respect_robots=respect_robots)
    stats = CollectStats()
    output = ResumableJSONL(Path(out), run=run, restart=restart, id_field=id_field)
    stats.resumed = output.state is not None
    fetch = Fetcher(rate_limit=rate_limit, max_retries=max_retries, backoff=backoff, timeout=timeout,
                    max_bytes=max_bytes, headers=headers, stats=stats, sleep=sleep)
    robots = Robots(fetch, enabled=respect_robots)
    bar = tqdm(total=len(page_list) if page_list is not None else None, desc="Collecting", unit="page",
               disable=not progress)
    try:
        if page_list is not None:
            collect_pages(fetch, robots, output, stats, bar, pages=page_list, max_pages=max_pages)
        else:
            collect_api(fetch, robots, output, stats, bar, url=url, records=records, pagination=pagination,
                        params=params, page_param=page_param, start_page=start_page,
                        cursor_param=cursor_param, cursor_field=cursor_field, next_field=next_field,
                        max_pages=max_pages)
    finally:
        bar.close()
    return stats
