"""Window LFs: a keyword near an entity mention, or between two (relation extraction's classic LF)."""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from labeling import ABSTAIN, Preprocessor

from .base import RuleLF, Span

__all__ = ["WindowLF", "window_lf"]

_TOKEN = re.compile(r"\w+")


def _token_index(text: str) -> tuple[np.ndarray, np.ndarray]:
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not spans:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(spans)
    return arr[:, 0], arr[:, 1]


def _to_tokens(starts: np.ndarray, ends: np.ndarray, a: int, b: int) -> tuple[int, int] | None:
    """Token range [i, j) covered by characters [a, b)."""
    inside = np.flatnonzero((ends > a) & (starts < b))
    return (int(inside[0]), int(inside[-1]) + 1) if len(inside) else None


class WindowLF(RuleLF):
    """Votes when a keyword lies between two entity mentions, or within N tokens of one (see :func:`window_lf`)."""

    kind = "window"

    def __init__(self, name: str, keywords: Sequence[str], label: int, *, left: str, right: str | None,
                 window: int | None, mode: str, case: bool, column: str,
                 pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if mode not in ("between", "near"):
            raise ValueError(f"LF {name!r}: mode={mode!r} is not one of {{'between', 'near'}}.")
        if mode == "between" and right is None:
            raise ValueError(f"LF {name!r}: mode='between' needs two entity columns (left= and right=).")
        if mode == "near" and window is None:
            raise ValueError(f"LF {name!r}: mode='near' needs window= (tokens).")
        if window is not None and window < 0:
            raise ValueError(f"LF {name!r}: window={window}; expected a number of tokens >= 0.")
        self.keywords = list(keywords)
        if not self.keywords or not all(isinstance(k, str) and k.strip() for k in self.keywords):
            raise ValueError(f"LF {name!r}: keywords must be non-empty strings; got {keywords!r}.")
        self.left, self.right, self.window, self.mode, self.case = left, right, window, mode, case
        alternation = "|".join(re.escape(k) for k in sorted(set(self.keywords), key=len, reverse=True))
        self._keyword_re = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", 0 if case else re.IGNORECASE)

    def _entity_span(self, text: str, value: Any) -> tuple[int, int] | None:
        """A (start, end) char span: given directly, or the first whole-word occurrence of the mention."""
        if isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2:
            return int(value[0]), int(value[1])
        if not isinstance(value, str) or not value.strip():
            return None
        m = re.search(rf"(?<!\w){re.escape(value.strip())}(?!\w)", text, 0 if self.case else re.IGNORECASE)
        return (m.start(), m.end()) if m else None

    def _spans(self, text: str, left: Any, right: Any) -> list[Span]:
        keyword_hits = [(m.start(), m.end()) for m in self._keyword_re.finditer(text)]
        if not keyword_hits:
            return []
        starts, ends = _token_index(text)
        entities = [self._entity_span(text, left)]
        if self.right is not None:
            entities.append(self._entity_span(text, right))
        if any(e is None for e in entities):
            return []
        tok = [_to_tokens(starts, ends, *e) for e in entities]
        if any(t is None for t in tok):
            return []
        out = []
        if self.mode == "between":
            (a0, a1), (b0, b1) = sorted(tok)
            if self.window is not None and b0 - a1 > self.window:
                return []
            for ks, ke in keyword_hits:
                kt = _to_tokens(starts, ends, ks, ke)
                if kt is not None and kt[0] >= a1 and kt[1] <= b0:
                    out.append(Span(ks, ke, f"keyword {text[ks:ke]!r} between the entities"))
        else:
            for ks, ke in keyword_hits:
                kt = _to_tokens(starts, ends, ks, ke)
                if kt is None:
                    continue
                for e0, e1 in tok:
                    gap = kt[0] - e1 if kt[0] >= e1 else e0 - kt[1] if kt[1] <= e0 else -1
                    if gap < 0:
                        continue  # the keyword is (part of) the entity mention itself
                    if gap <= self.window:
                        out.append(Span(ks, ke, f"keyword {text[ks:ke]!r} within {self.window} tokens of an entity"))
                        break
        return out

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        cols = [self.column, self.left] + ([self.right] if self.right is not None else [])
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise KeyError(
                f"LF {self.name!r}: column(s) {missing} not found; the data has columns {list(df.columns)}."
            )
        texts = df[self.column].tolist()
        lefts = df[self.left].tolist()
        rights = df[self.right].tolist() if self.right is not None else [None] * len(df)
        out = np.full(len(df), ABSTAIN, dtype=np.int16)
        search = self._keyword_re.search
        for i, (t, a, b) in enumerate(zip(texts, lefts, rights)):
            # The keyword test is cheap and rules out most rows before any tokenising.
            if isinstance(t, str) and search(t) and self._spans(t, a, b):
                out[i] = self.label
        return out

    def explain(self, text: str, left: Any = None, right: Any = None) -> list[Span]:
        """Keyword spans that make the LF vote, given the row's entity mentions (strings or (start, end) spans)."""
        return self._spans(text, left, right)

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "keywords": self.keywords, "left": self.left, "right": self.right,
                "window": self.window, "mode": self.mode, "case": self.case}


def window_lf(
    name: str,
    keywords: str | Iterable[str],
    label: int,
    *,
    left: str = "entity1",
    right: str | None = "entity2",
    window: int | None = None,
    mode: str = "between",
    case: bool = False,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> WindowLF:
    """An LF that votes when a keyword sits between two entity mentions, or within ``window`` tokens of one.

    Entity columns hold the mention text (its first whole-word occurrence in the text is used) or a
    ``(start, end)`` character span. Tokens are runs of word characters.

    Parameters
    ----------
    name : str
        LF name.
    keywords : str or iterable of str
        Words or phrases (whole words).
    label : int
        Class voted when the keyword is placed as required.
    left, right : str
        Entity columns; ``right=None`` with ``mode="near"`` looks at one entity only.
    window : int, optional
        ``"between"``: at most this many tokens between the two entities (None: any distance).
        ``"near"``: at most this many tokens between the keyword and an entity.
    mode : {"between", "near"}
        Where the keyword must be.
    case : bool
        Match keywords' case exactly.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = window_lf("married", ["married", "wife of"], 1, window=6)
    >>> df = pd.DataFrame({"text": ["Alice married Bob in 1990.", "Alice met Bob; Carol married Dan."],
    ...                    "entity1": ["Alice", "Alice"], "entity2": ["Bob", "Bob"]})
    >>> lf(df).tolist()
    [1, -1]
    """
    words = [keywords] if isinstance(keywords, str) else list(keywords)
    return WindowLF(name, words, label, left=left, right=right, window=window, mode=mode, case=case,
                    column=column, pre=pre)
