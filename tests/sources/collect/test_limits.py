"""The collector's limits against a server on 127.0.0.1: a timeout that bounds the whole request, a size limit
that refuses an endless or oversized response without reading it, and robots.txt obeyed in API mode too."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

from sources import CollectError, collect

from .loopback import Replies, start, stop

FAST = dict(rate_limit=None, backoff=0.0, progress=False)


class Server:
    def __init__(self):
        self.hits = Counter()
        self.sent = Counter()  # body bytes written, by path
        self.robots = "User-agent: *\nDisallow: /api/private\nDisallow: /private/\n"
        srv = self

        class Handler(Replies):
            def _head(self, status=200, ctype="application/json", length=None, extra=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()

            def _send(self, body, ctype="application/json", extra=()):
                data = body.encode()
                self._head(200, ctype, len(data), extra)
                self.wfile.write(data)

            def _write(self, path, data):
                self.wfile.write(data)
                self.wfile.flush()
                srv.sent[path] += len(data)

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(parts.query))
                path = parts.path
                srv.hits[path] += 1
                try:
                    if path == "/robots.txt":
                        return self._send(srv.robots, "text/plain")
                    if path == "/drip":  # a valid page sent one byte every 0.2 s (12 s in all)
                        body = b"<html><body><p>" + b"x" * 40 + b"</p></body></html>"
                        self._head(200, "text/html", len(body))
                        for i in range(len(body)):
                            self._write(path, body[i : i + 1])
                            time.sleep(0.2)
                        return
                    if path == "/drip-headers":  # even the status line and headers come a byte at a time
                        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok"
                        for i in range(len(head)):
                            self.wfile.write(head[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.2)
                        return
                    if path == "/endless":  # no Content-Length, never ends
                        self._head(200, "text/html")
                        while True:
                            self._write(path, b"<p>" + b"y" * 65536 + b"</p>")
                    if path == "/huge":  # says 10 GB up front
                        self._head(200, "text/html", 10**10)
                        while True:
                            self._write(path, b"z" * 65536)
                    if path in ("/go", "/api/go"):  # redirects into a disallowed path
                        target = "/private/x" if path == "/go" else "/api/private/items"
                        self._head(302, "text/html", 0, [("Location", target)])
                        return
                    if path == "/api/items":
                        page = int(q.get("page", 1))
                        items = [{"id": i} for i in range((page - 1) * 2, page * 2)] if page <= 3 else []
                        return self._send(json.dumps({"items": items}))
                    if path == "/api/to-private":  # its next link leads where robots.txt disallows
                        return self._send(json.dumps({"items": [{"id": 1}], "next": "/api/private/2"}))
                    if path.startswith("/api/private"):
                        return self._send(json.dumps({"items": [{"id": 99}]}))
                    return self._send(f"<html><title>{path}</title><p>text of {path}</p></html>", "text/html")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose

        self.httpd, self.base = start(Handler)


@pytest.fixture()
def server():
    srv = Server()
    yield srv
    stop(srv.httpd)


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_timeout_bounds_the_whole_request_not_each_read(server, tmp_path, path):
    # Each byte arrives well within the timeout, so a per-read timeout would wait for the whole 12 s page.
    start = time.monotonic()
    stats = collect(tmp_path / "p.jsonl", pages=[server.base + path, server.base + "/after"], timeout=1.5,
                    max_retries=0, respect_robots=False, **FAST)
    elapsed = time.monotonic() - start
    assert elapsed < 3.5, elapsed
    assert stats.records == 1 and len(stats.failed) == 1
    assert stats.failed[0].startswith(server.base + path) and "timeout" in stats.failed[0]


def test_timeout_is_per_attempt_and_retried_in_api_mode(server, tmp_path):
    start = time.monotonic()
    with pytest.raises(CollectError, match=r"failed after 2 attempts; last error .*timeout=1.0"):
        collect(tmp_path / "a.jsonl", url=server.base + "/drip", timeout=1.0, max_retries=1,
                respect_robots=False, **FAST)
    assert time.monotonic() - start < 3.5
    assert server.hits["/drip"] == 2


def test_an_endless_response_is_refused_at_max_bytes(server, tmp_path):
    limit = 1_000_000
    start = time.monotonic()
    stats = collect(tmp_path / "p.jsonl", pages=[server.base + "/endless", server.base + "/after"],
                    max_bytes=limit, respect_robots=False, **FAST)
    assert time.monotonic() - start < 10
    assert stats.records == 1 and stats.failed == []
    assert stats.skipped == [f"{server.base}/endless (larger than max_bytes={limit})"]
    assert server.hits["/endless"] == 1  # refused, not retried
    # The client stopped reading soon after the limit (what the socket buffers held is all that left the server).
    time.sleep(0.2)
    assert server.sent["/endless"] < limit + 16 * 2**20


def test_a_declared_oversized_response_is_refused_before_reading(server, tmp_path):
    with pytest.raises(CollectError, match=r"10000000000 bytes \(Content-Length\), more than max_bytes=5000000"):
        collect(tmp_path / "a.jsonl", url=server.base + "/huge", max_bytes=5_000_000, respect_robots=False, **FAST)
    assert not (tmp_path / "a.jsonl").read_text()


def test_bad_limits_are_explained(tmp_path):
    with pytest.raises(ValueError, match=r"max_bytes=0; expected a number of bytes >= 1, or None"):
        collect(tmp_path / "a.jsonl", url="http://127.0.0.1:9/x", max_bytes=0, **FAST)
    with pytest.raises(ValueError, match=r"timeout=-1; expected seconds > 0"):
        collect(tmp_path / "a.jsonl", url="http://127.0.0.1:9/x", timeout=-1, **FAST)


def test_api_mode_reads_robots_txt_and_never_requests_a_disallowed_path(server, tmp_path):
    out = tmp_path / "a.jsonl"
    with pytest.raises(CollectError, match=r"GET .*/api/private/items\?page=1 is disallowed by .*/robots.txt"):
        collect(out, url=server.base + "/api/private/items", pagination="page", records="items", **FAST)
    assert server.hits["/robots.txt"] == 1
    assert not any(p.startswith("/api/private") for p in server.hits)
    # Pagination that leads into a disallowed path stops there; what came before is kept.
    out2 = tmp_path / "b.jsonl"
    with pytest.raises(CollectError, match=r"/api/private/2 is disallowed"):
        collect(out2, url=server.base + "/api/to-private", pagination="next", records="items", **FAST)
    assert [json.loads(line)["id"] for line in out2.read_text().splitlines()] == [1]
    assert not any(p.startswith("/api/private") for p in server.hits)
    # Only with respect_robots=False (the site's permission) is it fetched.
    stats = collect(tmp_path / "c.jsonl", url=server.base + "/api/private/items", records="items",
                    respect_robots=False, **FAST)
    assert stats.records == 1 and server.hits["/api/private/items"] == 1


def test_api_mode_allowed_by_robots_keeps_its_crawl_delay(server, tmp_path):
    server.robots = "User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n"
    waits = []
    stats = collect(tmp_path / "a.jsonl", url=server.base + "/api/items", pagination="page", records="items",
                    sleep=waits.append, **FAST)
    assert stats.finished and stats.records == 6 and server.hits["/robots.txt"] == 1
    # robots.txt, then four pages: a wait close to 3 s before each page.
    assert sum(1 for w in waits if 2.5 <= w <= 3.0) == 4, waits


_CHILD = """
import sys
from sources import collect
collect(sys.argv[1], url=sys.argv[2], pagination="page", records="items", rate_limit=None, progress=False)
"""


class _SlowPages(Replies):
    """40 pages of 3 records, each page answered after 50 ms, then an empty page."""

    def do_GET(self):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if self.path.startswith("/robots.txt"):
            body = b"User-agent: *\nDisallow: /private/\n"
        else:
            page = int(q.get("page", 1))
            time.sleep(0.05)
            items = [{"id": i} for i in range((page - 1) * 3, page * 3)] if page <= 40 else []
            body = json.dumps({"items": items}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.mark.slow  # two child processes killed mid-run
def test_sigkilled_runs_resume_with_their_stored_arguments_losing_and_repeating_nothing(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    httpd, base = start(_SlowPages)
    url = f"{base}/api/items"
    out = tmp_path / "items.jsonl"
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    try:
        for kill_at in (5, 60):
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(out), url], env=env)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and child.poll() is None:
                if out.exists() and out.read_text().count("\n") >= kill_at:
                    break
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait()
        assert (tmp_path / "items.jsonl.run.json").exists()
        stats = collect(out, url=url, pagination="page", records="items", **FAST)
        assert stats.resumed and stats.finished
        ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
        assert ids == list(range(120))  # nothing lost, nothing twice, in order
    finally:
        stop(httpd)


def test_a_state_from_before_stored_arguments_resumes_and_adopts_them(server, tmp_path, caplog):
    out = tmp_path / "a.jsonl"
    kw = dict(url=server.base + "/api/items", pagination="page", records="items", **FAST)
    collect(out, max_pages=1, **kw)
    (tmp_path / "a.jsonl.run.json").unlink()  # as left by a version that kept no arguments
    with caplog.at_level("WARNING", logger="votewise.collect"):
        stats = collect(out, **kw)
    assert stats.resumed and stats.finished and "no stored arguments" in caplog.text
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == list(range(6))
    with pytest.raises(CollectError, match="other arguments"):
        collect(out, url=server.base + "/api/other", pagination="page", records="items", **FAST)


def test_a_redirect_into_a_disallowed_path_is_not_followed(server, tmp_path):
    stats = collect(tmp_path / "p.jsonl", pages=[server.base + "/go", server.base + "/fine"], **FAST)
    assert stats.records == 1 and stats.skipped == [f"{server.base}/go (redirects where robots.txt disallows)"]
    with pytest.raises(CollectError, match=r"/api/go redirects \(HTTP 302\) to .*/api/private/items, which robots"):
        collect(tmp_path / "a.jsonl", url=server.base + "/api/go", records="items", **FAST)
    assert server.hits["/private/x"] == 0 and server.hits["/api/private/items"] == 0
    # Without robots.txt the redirect is followed.
    stats = collect(tmp_path / "b.jsonl", url=server.base + "/api/go", records="items", respect_robots=False, **FAST)
    assert stats.records == 1 and server.hits["/api/private/items"] == 1
