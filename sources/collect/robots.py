"""robots.txt, read once per host with ``protego`` and asked before every request of a collection."""

from __future__ import annotations

import urllib.parse

from .http import Fetcher
from .stats import USER_AGENT, CollectError

__all__ = ["Robots"]


class Robots:
    """The robots.txt rules of each host a collection visits, read on first use.

    ``protego`` applies the longest matching ``Allow``/``Disallow`` rule (so ``Allow: /`` does not
    override ``Disallow: /private/``); a host's ``Crawl-delay`` becomes the fetcher's minimum gap
    between requests to it. A host without a robots.txt (4xx), or whose robots.txt cannot be fetched
    after the retries (or is larger than the size limit), allows everything, as crawlers commonly do.
    The fetcher asks :meth:`allowed` before following a redirect, so a redirect cannot lead a collection
    where robots.txt forbids.

    Parameters
    ----------
    fetch : Fetcher
        Fetches robots.txt with the same rate limit, retries, timeout and size limit as everything else.
    enabled : bool
        False: every URL is allowed and nothing is fetched.
    """

    def __init__(self, fetch: Fetcher, *, enabled: bool = True) -> None:
        self.fetch = fetch
        self.enabled = enabled
        self._hosts: dict[str, object | None] = {}
        if enabled:
            fetch.allowed = self.allowed  # redirects are checked too

    def _rules(self, url: str):
        parts = urllib.parse.urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self._hosts:
            # Nothing is known while robots.txt itself is fetched (a redirect of it may come back here).
            self._hosts[host] = None
            self._hosts[host] = self._read(host, parts.netloc)
        return self._hosts[host]

    def _read(self, host: str, netloc: str):
        from protego import Protego

        try:
            status, body, _ = self.fetch.get(host + "/robots.txt", allow_4xx=True)
        except CollectError:
            return None  # unreachable after retries, or too large: treated as absent
        if status != 200:
            return None
        rules = Protego.parse(body.decode("utf-8", "replace"))
        delay = rules.crawl_delay(USER_AGENT)
        if delay:
            self.fetch.host_delay[netloc] = float(delay)
        return rules

    def allowed(self, url: str) -> bool:
        """Whether votewise's user agent may fetch ``url`` (fetching the host's robots.txt the first time)."""
        if not self.enabled:
            return True
        rules = self._rules(url)
        return rules is None or rules.can_fetch(url, USER_AGENT)
