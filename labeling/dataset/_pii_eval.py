"""Scoring personal-data detection on a labelled file of cases: recall and false positives per kind."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

import pandas as pd

from ._pii_rules import PIIMatch

__all__ = ["PIICase", "read_pii_cases", "score_pii", "COVERED"]

# An item counts as masked when masks (of any kind) cover this share of its characters.
COVERED = 0.8


@dataclass(frozen=True)
class PIICase:
    """One labelled text: its style, its items (kind, span text) and, for a look-alike, the kind it imitates."""

    style: str
    text: str
    items: tuple[tuple[str, str], ...] = ()
    lookalike: str | None = None
    line: int = 0
    spans: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)


def read_pii_cases(path: str | os.PathLike) -> list[PIICase]:
    """Read a case file: ``style<TAB>expected<TAB>text`` lines (``#`` starts a comment, ``\\n`` is a line break).

    ``expected`` is ``kind=span`` items joined by ``" | "``, or ``~kind`` for a look-alike text that holds no
    personal data.

    Raises
    ------
    ValueError
        Naming the file and line, for a line without three fields or an item whose span is not in the text.
    """
    out = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise ValueError(f"{path}, line {lineno}: expected 3 tab-separated fields (style, expected, text); "
                                 f"got {len(parts)}.")
            style, expected, text = parts
            text = text.replace("\\n", "\n")
            if expected.startswith("~"):
                out.append(PIICase(style, text, (), expected[1:], lineno))
                continue
            items, spans, pos = [], [], {}
            for item in expected.split(" | "):
                kind, _, span = item.partition("=")
                start = text.find(span, pos.get(span, 0))
                if not span or start < 0:
                    raise ValueError(f"{path}, line {lineno}: item {item!r} is not 'kind=span' with the span in the "
                                     f"text; fix the expected field.")
                pos[span] = start + 1
                items.append((kind, span))
                spans.append((kind, start, start + len(span)))
            out.append(PIICase(style, text, tuple(items), None, lineno, tuple(spans)))
    return out


def score_pii(cases: Sequence[PIICase], find: Callable[[Sequence[str]], list[list[PIIMatch]]]) -> pd.DataFrame:
    """Recall and false positives per kind of a detector over labelled cases.

    Parameters
    ----------
    cases : sequence of PIICase
        From :func:`read_pii_cases`.
    find : callable
        Takes the list of texts and returns the matches per text.

    Returns
    -------
    DataFrame
        One row per kind and an ``all`` row: ``items``, ``masked`` (items at least 80% covered), ``recall``,
        ``lookalikes``, ``lookalikes_masked`` (look-alike texts of that kind with any mask) and ``extra_spans``
        (masks on texts with personal data that touch none of its items, counted under the mask's kind).
    """
    found = find([c.text for c in cases])
    rows: dict[str, dict[str, int]] = {}

    def row(kind: str) -> dict[str, int]:
        return rows.setdefault(kind, {"items": 0, "masked": 0, "lookalikes": 0, "lookalikes_masked": 0,
                                      "extra_spans": 0})

    for case, matches in zip(cases, found):
        if case.lookalike is not None:
            r = row(case.lookalike)
            r["lookalikes"] += 1
            r["lookalikes_masked"] += bool(matches)
            continue
        covered = set()
        for m in matches:
            covered.update(range(m.start, m.end))
        for kind, s, e in case.spans:
            r = row(kind)
            r["items"] += 1
            r["masked"] += len(covered.intersection(range(s, e))) >= COVERED * (e - s)
        for m in matches:
            if not any(m.start < e and s < m.end for _, s, e in case.spans):
                row(m.kind)["extra_spans"] += 1
    table = pd.DataFrame.from_dict(rows, orient="index").fillna(0).astype(int).sort_index()
    table.loc["all"] = table.sum()
    table.insert(2, "recall", (table["masked"] / table["items"].where(table["items"] > 0)).round(3))
    return table
