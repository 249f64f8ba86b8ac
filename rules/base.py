"""The LF type every builder returns: a batch LF that also explains its votes as text spans."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from labeling import ABSTAIN, LabelingFunction, Preprocessor

__all__ = ["RuleLF", "Span", "check_label", "explain_row"]


class Span(NamedTuple):
    """A stretch ``text[start:end]`` that made an LF vote, and what it matched (pattern, keyword, KB entry)."""

    start: int
    end: int
    what: str


def check_label(name: str, label: Any) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
        raise ValueError(
            f"LF {name!r}: label={label!r}; expected a class id, an integer >= 0 (use a label map to turn "
            "class names into ids)."
        )
    return int(label)


class RuleLF(LabelingFunction):
    """A vectorized :class:`~labeling.LabelingFunction` built from a rule, with metadata for review.

    Subclasses implement :meth:`votes` (one DataFrame chunk in, one int per row out) and
    :meth:`explain`. ``lf(df)`` returns the votes; ``lf.explain(text)`` the spans behind a vote;
    ``lf.vote_text(text)`` the vote on a single text; ``lf.info`` the rule as a dict.

    Parameters
    ----------
    name : str
        LF name (label-matrix column).
    label : int
        Class id voted when the rule fires.
    column : str
        The text column read from each chunk.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors run on the chunk first.
    """

    kind = "rule"

    def __init__(
        self, name: str, label: int | None, *, column: str = "text", pre: Sequence[Preprocessor] | None = None
    ) -> None:
        super().__init__(name, self._call_votes, pre=pre, vectorized=True)
        self.__name__ = name
        self.__doc__ = type(self).__doc__
        self.label = None if label is None else check_label(name, label)
        self.column = column

    def _call_votes(self, df: pd.DataFrame) -> np.ndarray:
        return self.votes(df)

    def votes(self, df: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, text: str) -> list[Span]:
        """Spans of ``text`` that make this LF vote (empty when it abstains)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def vote_text(self, text: str, **columns: Any) -> int:
        """This LF's vote on one text (plus any other columns it reads), through the batch path."""
        df = pd.DataFrame({self.column: [text]})
        for key, value in columns.items():
            df[key] = pd.Series([value], dtype=object)  # object: a (start, end) span stays one value
        return int(np.asarray(self(df))[0])

    @property
    def info(self) -> dict[str, Any]:
        """The rule as plain data: kind, name, label and the builder's parameters."""
        return {"kind": self.kind, "name": self.name, "label": self.label, "column": self.column}

    def _abstain(self, n: int) -> np.ndarray:
        return np.full(n, ABSTAIN, dtype=np.int16)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, label={self.label})"


def explain_row(lfs: Sequence[LabelingFunction], row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every span behind the votes of the rule LFs on one row, sorted by position (for a review widget).

    Plain (hand-written) LFs have no spans and are skipped. Each item is
    ``{"lf", "label", "column", "start", "end", "what"}``.

    Examples
    --------
    >>> from rules import keyword_lf, length_lf
    >>> explain_row([keyword_lf("sub", "subscribe", 1), length_lf("short", 0, max_len=3)], {"text": "subscribe pls"})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'lf': 'sub', 'label': 1, 'column': 'text', 'start': 0, 'end': 9, 'what': "keyword 'subscribe'"},
     {'lf': 'short', 'label': 0, 'column': 'text', 'start': 0, 'end': 13, 'what': 'length 2 words in [None, 3]'}]
    """
    out = []
    for lf in lfs:
        if not isinstance(lf, RuleLF):
            continue
        text = row[lf.column]
        if not isinstance(text, str):
            continue
        entities = {}
        if hasattr(lf, "left"):  # pair and window LFs read the row's entity columns too
            entities = {"left": row.get(lf.left)}
            if getattr(lf, "right", None) is not None:
                entities["right"] = row.get(lf.right)
        for span in lf.explain(text, **entities):
            out.append({"lf": lf.name, "label": lf.label, "column": lf.column, "start": span.start,
                        "end": span.end, "what": span.what})
    return sorted(out, key=lambda d: (d["start"], d["end"]))
