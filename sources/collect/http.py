"""HTTP GET with a rate limit, retries with backoff, a deadline for the whole request and a size limit.

The standard library's ``urllib`` does the HTTP. Its ``timeout`` bounds each socket operation, so a
server sending a byte a second never trips it; here a timer shuts the connection's socket down when the
whole attempt (connect, headers and body) has run for ``timeout`` seconds, which wakes a read blocked on
it. Bodies are read in chunks and refused once they pass ``max_bytes`` (or at once when
``Content-Length`` says so), so an endless response never fills memory.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timezone
from typing import Callable, Mapping

from .stats import USER_AGENT, CollectError, CollectStats

__all__ = ["Fetcher", "Refused", "ResponseTooLarge", "RedirectDisallowed", "MAX_RETRY_AFTER", "retry_after_seconds"]

# The longest wait taken from a server's Retry-After; a longer one fails the attempt like any other.
MAX_RETRY_AFTER = 300.0
_CHUNK = 64 * 1024


class Refused(CollectError):
    """A request refused on the collector's side; asking again would give the same answer, so it is not retried."""


class ResponseTooLarge(Refused):
    """A response is larger than ``max_bytes``."""


class RedirectDisallowed(Refused):
    """A response redirects to a URL that robots.txt disallows; the redirect is not followed."""


class _RedirectGuard(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL the collection may fetch (robots.txt is asked first)."""

    def __init__(self, allowed: Callable[[str], bool] | None) -> None:
        super().__init__()
        self._allowed = allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urllib.parse.urljoin(req.full_url, newurl)
        if self._allowed is not None and not self._allowed(target):
            raise RedirectDisallowed(f"GET {req.full_url} redirects (HTTP {code}) to {target}, which robots.txt "
                                     "disallows; the redirect was not followed.")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _RequestTimeout(TimeoutError):
    """The whole request ran past its deadline."""


class _Deadline:
    """Shuts a connection's socket down when the request's time is up, waking any read blocked on it."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shutdown()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: nothing is waiting on it

    def cancel(self) -> None:
        self._timer.cancel()


class _DeadlineConnection:
    """Mixed into an ``http.client`` connection: its socket joins the request's deadline once connected."""

    def __init__(self, *args, deadline: _Deadline, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.attach(self.sock)


class _HTTPConnection(_DeadlineConnection, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnection, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req):
        return self.do_open(functools.partial(_HTTPConnection, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req):
        return self.do_open(functools.partial(_HTTPSConnection, deadline=self._deadline), req,
                            context=self._context)


def _read_body(resp, url: str, max_bytes: int | None, deadline: _Deadline) -> bytes:
    length = resp.headers.get("Content-Length")
    if max_bytes is not None and length and length.strip().isdigit() and int(length) > max_bytes:
        raise ResponseTooLarge(f"GET {url}: the response is {int(length)} bytes (Content-Length), more than "
                               f"max_bytes={max_bytes}; refused. Raise max_bytes to collect it.")
    chunks, size = [], 0
    while True:
        # read1 returns what one socket read brings, so the deadline is checked between reads even
        # when the server drips its body.
        chunk = resp.read1(_CHUNK)
        if deadline.expired:
            raise _RequestTimeout("the response was still arriving when the timeout ran out")
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise ResponseTooLarge(f"GET {url}: the response passed max_bytes={max_bytes} bytes; refused "
                                   "after reading that much. Raise max_bytes to collect it.")
        chunks.append(chunk)


class Fetcher:
    """GETs with a per-host rate limit, retries with exponential backoff, a whole-request timeout and a size limit.

    Parameters
    ----------
    rate_limit : float or None
        Requests per second per host (None: no limit).
    max_retries : int
        Retries on 5xx, 429, timeouts and connection errors.
    backoff : float
        The k-th retry waits ``backoff * 2**k`` seconds (or the server's ``Retry-After``, up to 300 s).
    timeout : float
        Seconds one attempt may take, from connecting to the last byte of the body.
    max_bytes : int or None
        Largest body accepted; a larger one raises :class:`ResponseTooLarge` (None: no limit).
        A redirect is followed only where :attr:`allowed` (when set) allows; else :class:`RedirectDisallowed`.
    headers : mapping, optional
        Extra request headers.
    stats : CollectStats
        Counts requests and retries.
    sleep : callable
        Used for waits (tests pass a fake).
    """

    def __init__(self, *, rate_limit: float | None, max_retries: int, backoff: float, timeout: float,
                 max_bytes: int | None, headers: Mapping[str, str] | None, stats: CollectStats,
                 sleep: Callable[[float], None]) -> None:
        self.min_interval = 1.0 / rate_limit if rate_limit else 0.0
        self.max_retries, self.backoff, self.timeout, self.max_bytes = max_retries, backoff, timeout, max_bytes
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.stats, self.sleep = stats, sleep
        self._last: dict[str, float] = {}
        self.host_delay: dict[str, float] = {}  # robots.txt Crawl-delay per host
        # Asked before following a redirect (set by Robots): a redirect must not lead where robots.txt forbids.
        self.allowed: Callable[[str], bool] | None = None

    def _wait_turn(self, url: str) -> None:
        host = urllib.parse.urlsplit(url).netloc
        interval = max(self.min_interval, self.host_delay.get(host, 0.0))
        last = self._last.get(host)
        if last is not None:
            gap = last + interval - time.monotonic()
            if gap > 0:
                self.sleep(gap)
        self._last[host] = time.monotonic()

    def _attempt(self, url: str) -> tuple[int, bytes, Mapping[str, str]]:
        deadline = _Deadline(self.timeout)
        opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline),
                                             _RedirectGuard(self.allowed))
        try:
            request = urllib.request.Request(url, headers=self.headers)
            try:
                with opener.open(request, timeout=self.timeout) as resp:
                    return resp.status, _read_body(resp, url, self.max_bytes, deadline), resp.headers
            except Refused:
                raise
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                # A socket shut down by the deadline surfaces as a dropped connection: say what happened.
                if deadline.expired and not isinstance(exc, urllib.error.HTTPError):
                    raise _RequestTimeout(f"no complete response within timeout={self.timeout} s") from exc
                raise
        finally:
            deadline.cancel()

    def get(self, url: str, *, allow_4xx: bool = False) -> tuple[int, bytes, Mapping[str, str]]:
        """GET with rate limit and retries; returns (status, body, headers). A 4xx raises unless allowed."""
        attempt = 0
        while True:
            self._wait_turn(url)
            self.stats.requests += 1
            retry_after = None
            try:
                return self._attempt(url)
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429:
                    if allow_4xx:
                        return exc.code, b"", exc.headers
                    raise CollectError(f"GET {url} answered HTTP {exc.code} {exc.reason}; not retrying a client error.") from exc
                reason = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except Refused:
                raise
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                    http.client.HTTPException, OSError) as exc:
                # A timeout, a dropped connection or a malformed answer: retry.
                reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt >= self.max_retries:
                raise CollectError(f"GET {url} failed after {attempt + 1} attempts; last error {reason}. "
                                   "Run collect again with the same arguments to resume.")
            delay = self.backoff * (2 ** attempt)
            wait = retry_after_seconds(retry_after)
            if wait is not None:
                delay = max(delay, min(wait, MAX_RETRY_AFTER))
            attempt += 1
            self.stats.retries += 1
            self.sleep(delay)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110), else None.

    Examples
    --------
    >>> retry_after_seconds("120")
    120.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
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
