"""Collect records from a REST API or a list of web pages into a JSONL file that can be resumed.

Every written line is one record with its source URL and fetch time. Progress is committed after each
page, so a run stopped by an error, a crash or Ctrl-C continues where it stopped — a page is never
written twice and none is skipped — and a resumed run must have the arguments of the stored one.
Requests are rate-limited, bounded in time as a whole and in size, and retried with exponential
backoff on 5xx, 429 and timeouts (``Retry-After`` in seconds or as an HTTP date is honoured);
robots.txt is obeyed in both modes. HTTP goes through the standard library; nothing else in votewise
touches the network.

One module per job: :mod:`~sources.collect.http` (requests, retries, deadline, size limit),
:mod:`~sources.collect.robots`, :mod:`~sources.collect.html` (HTML to text),
:mod:`~sources.collect.writer` (the resumable output and its stored arguments),
:mod:`~sources.collect.api` and :mod:`~sources.collect.pages` (the two collectors) and
:mod:`~sources.collect.run` (:func:`collect`).
"""

from .html import html_to_text
from .http import MAX_RETRY_AFTER, RedirectDisallowed, ResponseTooLarge, retry_after_seconds
from .run import DEFAULT_MAX_BYTES, collect
from .stats import USER_AGENT, CollectError, CollectStats

# The name the collector's tests and older code use for the Retry-After parser.
_retry_after_seconds = retry_after_seconds

__all__ = [
    "collect", "CollectError", "CollectStats", "ResponseTooLarge", "RedirectDisallowed", "html_to_text", "retry_after_seconds",
    "USER_AGENT", "DEFAULT_MAX_BYTES", "MAX_RETRY_AFTER",
]
