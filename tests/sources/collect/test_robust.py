"""Finding 5: the collector finishes: failing pages skipped and retried later, pagination that must advance,
Crawl-delay, longest-match robots rules and HTTP-date Retry-After, against a server on 127.0.0.1."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import Counter
from email.utils import formatdate

import pytest

from sources import collect
from sources.collect import retry_after_seconds as _retry_after_seconds

from .loopback import Replies, start, stop


class Server:
    def __init__(self):
        self.hits = Counter()
        self.slow = True  # /slow answers after the client's timeout while True
        self.robots = "User-agent: *\nAllow: /\nDisallow: /private/\nCrawl-delay: 2\n"
        self.retry_after_sent = False
        srv = self

        class Handler(Replies):
            content_type = "text/html"

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(parts.query))
                srv.hits[parts.path] += 1
                if parts.path == "/robots.txt":
                    return self.reply(200, srv.robots, "text/plain")
                if parts.path == "/slow" and srv.slow:
                    time.sleep(0.5)
                if parts.path == "/busy" and not srv.retry_after_sent:
                    srv.retry_after_sent = True
                    return self.reply(503, "busy", headers={"Retry-After": formatdate(time.time() + 3, usegmt=True)})
                if parts.path == "/api/stuck-cursor":  # always the same cursor
                    return self.reply(200, json.dumps({"items": [{"id": q.get("cursor") or "start"}], "next_cursor": "abc"}),
                                      "application/json")
                if parts.path == "/api/self-link":  # next link points to itself
                    return self.reply(200, json.dumps({"items": [{"id": 1}], "next": "/api/self-link"}),
                                      "application/json")
                if parts.path == "/api/ignores-page":  # the page parameter is ignored
                    return self.reply(200, json.dumps({"items": [{"id": 1}, {"id": 2}]}), "application/json")
                return self.reply(200, f"<html><title>{parts.path}</title><body><p>text of {parts.path}</p></body></html>")

        self.httpd, self.base = start(Handler)


@pytest.fixture()
def server():
    srv = Server()
    yield srv
    stop(srv.httpd)


def test_a_page_that_keeps_timing_out_is_skipped_and_retried_next_run(server, tmp_path):
    pages = [f"{server.base}/a", f"{server.base}/slow", f"{server.base}/b"]
    out = tmp_path / "pages.jsonl"
    stats = collect(out, pages=pages, timeout=0.2, max_retries=1, backoff=0.01, rate_limit=None,
                    respect_robots=False, progress=False)
    assert stats.finished and stats.records == 2
    assert len(stats.failed) == 1 and stats.failed[0].startswith(f"{server.base}/slow")
    assert server.hits["/slow"] == 2  # one try and one retry, then on to /b
    server.slow = False
    again = collect(out, pages=pages, timeout=0.2, max_retries=1, backoff=0.01, rate_limit=None,
                    respect_robots=False, progress=False)
    assert again.resumed and again.finished and again.failed == [] and again.records == 1
    urls = [json.loads(line)["url"] for line in out.read_text().splitlines()]
    assert sorted(urls) == sorted(pages)
    assert collect(out, pages=pages, respect_robots=False, progress=False, rate_limit=None).requests == 0


@pytest.mark.parametrize(
    "path, kwargs",
    [
        ("/api/stuck-cursor", {"pagination": "cursor"}),
        ("/api/self-link", {"pagination": "next"}),
        ("/api/ignores-page", {"pagination": "page"}),
    ],
)
def test_pagination_that_does_not_advance_stops(server, tmp_path, path, kwargs):
    start = time.monotonic()
    # robots.txt (read in API mode too) asks for a 2 s Crawl-delay, which is not what this test is about.
    stats = collect(tmp_path / "api.jsonl", url=server.base + path, records="items", rate_limit=None,
                    respect_robots=False, progress=False, **kwargs)
    assert time.monotonic() - start < 5
    assert stats.finished and stats.stalled and stats.requests <= 3
    ids = [json.loads(line)["id"] for line in (tmp_path / "api.jsonl").read_text().splitlines()]
    assert len(ids) <= 2 or kwargs["pagination"] == "page" and ids == [1, 2]


def test_robots_longest_match_and_crawl_delay(server, tmp_path):
    waits = []
    pages = [f"{server.base}/public", f"{server.base}/private/x", f"{server.base}/other"]
    stats = collect(tmp_path / "p.jsonl", pages=pages, rate_limit=None, progress=False, sleep=waits.append)
    assert server.hits["/private/x"] == 0 and any("/private/x (robots.txt)" in s for s in stats.skipped)
    assert stats.records == 2
    # Crawl-delay: 2 between requests to the host (robots.txt, /public, /other): at least two waits near 2 s.
    assert sum(1 for w in waits if 1.5 <= w <= 2.0) >= 2, waits


def test_retry_after_http_date(server, tmp_path):
    waits = []
    stats = collect(tmp_path / "busy.jsonl", pages=[f"{server.base}/busy"], backoff=0.01, rate_limit=None,
                    respect_robots=False, progress=False, sleep=waits.append)
    assert stats.records == 1 and stats.retries == 1
    assert 1.0 <= max(waits) <= 3.5, waits
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert _retry_after_seconds("soon") is None
