"""Overlapping highlight spans cut into runs, shared by the widget and the terminal."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["span_runs"]


def span_runs(text: str, spans: Sequence[Sequence[Any]]) -> list[tuple[str, str | None]]:
    """``text`` cut into ``(piece, lf_name or None)`` runs; the narrowest span covering a character marks it.

    A span over the whole text (a length rule) so never hides a keyword's mark inside it.
    Spans are ``(start, end, lf_name)`` with character offsets into ``text``; equal widths
    keep the span that starts first.

    Examples
    --------
    >>> span_runs("free stuff", [(0, 10, "long"), (0, 4, "kw")])
    [('free', 'kw'), (' stuff', 'long')]
    """
    n = len(text)
    owner: list[tuple[int, int, str] | None] = [None] * n
    clean = [(max(int(s[0]), 0), min(int(s[1]), n), str(s[2])) for s in spans]
    # Widest first, so narrower spans overwrite them.
    for start, end, name in sorted(clean, key=lambda s: (-(s[1] - s[0]), -s[0])):
        for k in range(start, end):
            owner[k] = (start, end, name)
    runs: list[tuple[str, str | None]] = []
    k = 0
    while k < n:
        e = k
        while e < n and owner[e] == owner[k]:
            e += 1
        runs.append((text[k:e], None if owner[k] is None else owner[k][2]))
        k = e
    return runs
