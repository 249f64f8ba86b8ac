"""sources.collect against a small HTTP server on 127.0.0.1 started by the tests."""

import json
import time
import urllib.parse
from collections import Counter

import pytest

from sources import CollectError, collect, html_to_text

from .loopback import Replies, start, stop

ITEMS = [{"id": i, "text": f"comment number {i}"} for i in range(23)]
PAGE_SIZE = 5


class Site:
    """Serves a paginated API three ways, some HTML pages and a robots.txt; can fail on purpose."""

    def __init__(self):
        self.hits = Counter()  # successful responses by path+query
        self.fail = {}  # path+query -> number of 500s still to send
        self.slow = {}  # path+query -> number of slow (timing-out) answers still to send
        self.down = False  # every API request fails while True

    def handler(site):
        class Handler(Replies):
            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(parts.query))
                key = self.path
                if site.slow.get(key, 0) > 0:
                    site.slow[key] -= 1
                    time.sleep(0.6)
                if site.fail.get(key, 0) > 0 or (site.down and parts.path.startswith("/api")):
                    site.fail[key] = max(0, site.fail.get(key, 0) - 1)
                    return self.reply(503, "{}")
                if parts.path == "/robots.txt":
                    return self.reply(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
                site.hits[key] += 1
                if parts.path == "/api/pages":
                    page = int(q.get("page", 1))
                    chunk = ITEMS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
                    return self.reply(200, json.dumps({"data": {"items": chunk}}))
                if parts.path == "/api/overlap":  # pages of 5 that overlap by 2: ids repeat across pages
                    start = (int(q.get("page", 1)) - 1) * 3
                    chunk = ITEMS[start : start + 5] if start < len(ITEMS) else []
                    return self.reply(200, json.dumps({"data": {"items": chunk}}))
                if parts.path == "/api/cursor":
                    start = int(q.get("cursor") or 0)
                    chunk = ITEMS[start : start + PAGE_SIZE]
                    nxt = start + PAGE_SIZE if start + PAGE_SIZE < len(ITEMS) else None
                    return self.reply(200, json.dumps({"results": chunk, "next_cursor": nxt}))
                if parts.path == "/api/next":
                    start = int(q.get("offset", 0))
                    chunk = ITEMS[start : start + PAGE_SIZE]
                    body = {"results": chunk}
                    if start + PAGE_SIZE < len(ITEMS):
                        body["next"] = f"/api/next?offset={start + PAGE_SIZE}"
                    return self.reply(200, json.dumps(body))
                if parts.path == "/api/link":
                    start = int(q.get("offset", 0))
                    chunk = ITEMS[start : start + PAGE_SIZE]
                    headers = {}
                    if start + PAGE_SIZE < len(ITEMS):
                        headers["Link"] = f'</api/link?offset={start + PAGE_SIZE}>; rel="next"'
                    return self.reply(200, json.dumps(chunk), headers=headers)
                if parts.path.startswith("/pages/") or parts.path.startswith("/private/"):
                    name = parts.path.rsplit("/", 1)[-1]
                    if name == "missing.html":
                        return self.reply(404, "nope", "text/html")
                    html = (f"<html><head><title>Page {name}</title><style>p{{}}</style></head>"
                            f"<body><h1>About {name}</h1><p>Hello &amp; welcome<script>var x=1;</script></p></body></html>")
                    return self.reply(200, html, "text/html; charset=utf-8")
                return self.reply(404, "{}")

        return Handler


@pytest.fixture
def site():
    s = Site()
    server, s.base = start(s.handler())
    yield s
    stop(server)


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


FAST = dict(rate_limit=None, backoff=0.0, progress=False)


@pytest.mark.parametrize(
    "endpoint, options",
    [
        ("/api/pages", dict(pagination="page", records="data.items")),
        ("/api/cursor", dict(pagination="cursor", records="results")),
        ("/api/next", dict(pagination="next", records="results")),
        ("/api/link", dict(pagination="next")),
    ],
)
def test_every_pagination_style_collects_each_record_once(site, tmp_path, endpoint, options):
    out = tmp_path / "items.jsonl"
    stats = collect(out, url=site.base + endpoint, **options, **FAST)
    rows = read(out)
    assert [r["id"] for r in rows] == [it["id"] for it in ITEMS]
    assert all(r["_source_url"].startswith(site.base + endpoint) and r["_fetched_at"] for r in rows)
    assert stats.finished and stats.records == len(ITEMS)
    assert all(n == 1 for n in site.hits.values())


def test_server_failing_mid_run_then_recovering_loses_and_repeats_nothing(site, tmp_path):
    out = tmp_path / "items.jsonl"
    site.fail["/api/pages?page=3"] = 2  # two 503s, then fine: retried within the run
    stats = collect(out, url=site.base + "/api/pages", pagination="page", records="data.items", **FAST)
    assert stats.retries == 2
    assert [r["id"] for r in read(out)] == list(range(23))

    # Now the server goes down for good in the middle: the run fails, keeping what it committed.
    out2 = tmp_path / "again.jsonl"
    site.hits.clear()
    site.fail["/api/pages?page=4"] = 10
    with pytest.raises(CollectError, match=r"failed after 3 attempts.*resume"):
        collect(out2, url=site.base + "/api/pages", pagination="page", records="data.items", max_retries=2, **FAST)
    assert [r["id"] for r in read(out2)] == list(range(15))
    site.fail.clear()  # the server recovers; the same call resumes at page 4
    stats = collect(out2, url=site.base + "/api/pages", pagination="page", records="data.items", **FAST)
    assert stats.resumed and stats.finished
    assert [r["id"] for r in read(out2)] == list(range(23))
    assert max(site.hits.values()) == 1  # no page was fetched successfully twice


def test_interrupted_run_resumes_and_a_finished_one_fetches_nothing(site, tmp_path):
    out = tmp_path / "items.jsonl"
    kw = dict(url=site.base + "/api/cursor", pagination="cursor", records="results", **FAST)
    first = collect(out, max_pages=2, **kw)
    assert first.records == 10 and not first.finished
    # A crash after writing part of a page but before committing it: the partial lines are dropped.
    with out.open("a") as f:
        f.write('{"id": 999, "partial": tr')
    second = collect(out, **kw)
    assert second.resumed and second.finished
    assert [r["id"] for r in read(out)] == list(range(23))
    requests = sum(site.hits.values())
    third = collect(out, **kw)
    assert third.requests == 0 and sum(site.hits.values()) == requests


def test_timeouts_are_retried_with_backoff(site, tmp_path):
    waits = []
    site.slow["/api/pages?page=2"] = 1
    collect(tmp_path / "o.jsonl", url=site.base + "/api/pages", pagination="page", records="data.items",
            timeout=0.3, backoff=0.25, rate_limit=None, progress=False, sleep=waits.append)
    assert 0.25 in waits


def test_rate_limit_spaces_requests(site, tmp_path):
    waits = []
    collect(tmp_path / "o.jsonl", url=site.base + "/api/pages", pagination="page", records="data.items",
            rate_limit=5.0, progress=False, sleep=waits.append)
    assert waits and all(0 < w <= 0.2 for w in waits)


def test_pages_respect_robots_and_become_text(site, tmp_path):
    out = tmp_path / "pages.jsonl"
    urls = [f"{site.base}/pages/a.html", f"{site.base}/private/secret.html", f"{site.base}/pages/missing.html",
            f"{site.base}/pages/b.html"]
    stats = collect(out, pages=urls, **FAST)
    rows = read(out)
    assert [r["url"] for r in rows] == [urls[0], urls[3]]
    assert rows[0]["title"] == "Page a.html" and rows[0]["text"] == "About a.html\nHello & welcome"
    assert "/private/secret.html" not in "".join(site.hits)
    assert any("robots.txt" in s for s in stats.skipped) and any("404" in s for s in stats.skipped)


def test_client_errors_and_bad_arguments_are_explained(site, tmp_path):
    with pytest.raises(CollectError, match="HTTP 404"):
        collect(tmp_path / "o.jsonl", url=site.base + "/nothing", **FAST)
    with pytest.raises(ValueError, match="exactly one of url"):
        collect(tmp_path / "o.jsonl", **FAST)
    with pytest.raises(ValueError, match="pagination='pages' is not one of"):
        collect(tmp_path / "o.jsonl", url=site.base, pagination="pages", **FAST)
    with pytest.raises(CollectError, match="no list of records"):
        collect(tmp_path / "p.jsonl", url=site.base + "/api/pages", restart=True, **FAST)
    existing = tmp_path / "mine.jsonl"
    existing.write_text('{"a": 1}\n')
    with pytest.raises(CollectError, match="restart=True"):
        collect(existing, url=site.base + "/api/pages", pagination="page", records="data.items", **FAST)


def test_id_field_skips_records_seen_before(site, tmp_path):
    out = tmp_path / "o.jsonl"
    kw = dict(url=site.base + "/api/overlap", pagination="page", records="data.items", id_field="id", **FAST)
    first = collect(out, max_pages=3, **kw)
    assert [r["id"] for r in read(out)] == list(range(11)) and first.duplicates == 4
    # Resumed: the ids written by the first call are still known.
    second = collect(out, **kw)
    assert second.resumed and second.finished and second.duplicates > 0
    assert [r["id"] for r in read(out)] == list(range(23))


def test_resuming_with_other_arguments_is_refused_naming_the_difference(site, tmp_path):
    out = tmp_path / "o.jsonl"
    kw = dict(pagination="page", records="data.items", **FAST)
    collect(out, url=site.base + "/api/pages", max_pages=2, **kw)
    before = out.read_bytes()
    hits = sum(site.hits.values())
    # A new endpoint would keep paginating the old one; other params would mix two queries.
    with pytest.raises(CollectError, match=r"other arguments(.|\n)*url: stored '.*/api/pages', given '.*/api/overlap'"):
        collect(out, url=site.base + "/api/overlap", **kw)
    with pytest.raises(CollectError, match=r"params: stored \{\}, given \{'lang': 'en'\}"):
        collect(out, url=site.base + "/api/pages", params={"lang": "en"}, **kw)
    with pytest.raises(CollectError, match=r"mode: stored 'api', given 'pages'"):
        collect(out, pages=[site.base + "/pages/a.html"], **FAST)
    assert out.read_bytes() == before and sum(site.hits.values()) == hits  # nothing fetched, nothing written
    # Operational settings may change; the same arguments resume.
    stats = collect(out, url=site.base + "/api/pages", pagination="page", records="data.items",
                    rate_limit=None, backoff=0.0, timeout=3.0, max_retries=1, progress=False)
    assert stats.resumed and [r["id"] for r in read(out)] == list(range(23))
    # restart=True starts a new run with the new arguments.
    stats = collect(out, url=site.base + "/api/overlap", restart=True, id_field="id", **kw)
    assert not stats.resumed and stats.finished and [r["id"] for r in read(out)] == list(range(23))


def test_a_new_page_list_does_not_resume_the_old_one(site, tmp_path):
    out = tmp_path / "pages.jsonl"
    old = [f"{site.base}/pages/{n}.html" for n in "abc"]
    collect(out, pages=old, max_pages=2, **FAST)
    new = [f"{site.base}/pages/{n}.html" for n in "xyzc"]
    with pytest.raises(CollectError, match=r"pages: stored 3 URLs, given 4; first difference at position 0 "
                                           r"\(stored '.*/a.html', given '.*/x.html'\)"):
        collect(out, pages=new, **FAST)
    stats = collect(out, pages=new, restart=True, **FAST)
    assert [r["url"] for r in read(out)] == new and stats.records == 4


def test_html_to_text_drops_scripts_and_keeps_blocks():
    title, text = html_to_text("<title>T</title><div>a<br>b</div><script>x()</script><p>c &lt; d</p>")
    assert title == "T" and text == "a\nb\nc < d"
