"""Sentiment LFs: nltk's VADER or TextBlob's pattern analyser, thresholded."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from labeling import Preprocessor

from ._batch import column_view
from .base import RuleLF, Span
from sources.nltk_data import require

__all__ = ["SentimentLF", "sentiment_lf", "sentiment_score"]

METHODS = ("vader", "textblob")


@lru_cache(maxsize=1)
def _vader():
    require("vader_lexicon")
    from nltk.sentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _textblob_polarity() -> Callable[[str], float]:
    try:
        from textblob import TextBlob
    except ImportError:  # pragma: no cover - textblob is a dependency
        raise ImportError("sentiment_lf(method='textblob') needs TextBlob: pip install textblob") from None
    return lambda text: float(TextBlob(text).sentiment.polarity)


def _scorer(method: str) -> Callable[[str], float]:
    if method == "vader":
        analyzer = _vader()
        return lambda text: float(analyzer.polarity_scores(text)["compound"])
    return _textblob_polarity()


def sentiment_score(text: str, *, method: str = "vader") -> float:
    """Polarity of ``text`` in [-1, 1]: VADER's compound score or TextBlob's polarity.

    Examples
    --------
    >>> sentiment_score("I love this song!") > 0.5
    True
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {set(METHODS)}.")
    return _scorer(method)(text)


class SentimentLF(RuleLF):
    """Votes when a text's sentiment passes a threshold (see :func:`sentiment_lf`)."""

    kind = "sentiment"

    def __init__(self, name: str, label: int, *, polarity: str, threshold: float, method: str,
                 column: str, pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if polarity not in ("positive", "negative"):
            raise ValueError(f"LF {name!r}: polarity={polarity!r} is not one of {{'positive', 'negative'}}.")
        if method not in METHODS:
            raise ValueError(f"LF {name!r}: method={method!r} is not one of {set(METHODS)}.")
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"LF {name!r}: threshold={threshold}; expected a value in [0, 1).")
        self.polarity, self.threshold, self.method = polarity, threshold, method
        # Fail now, with the install command, rather than in the middle of an apply.
        if method == "vader":
            _vader()
        else:
            _textblob_polarity()

    def _fires(self, score: np.ndarray) -> np.ndarray:
        return score > self.threshold if self.polarity == "positive" else score < -self.threshold

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)

        def compute() -> np.ndarray:
            score = _scorer(self.method)
            return np.fromiter((score(t) for t in view.texts), np.float64, len(view))

        scores = view.cached(("sentiment", self.method), compute)
        per_text = self._abstain(len(view))
        per_text[self._fires(scores)] = self.label
        return view.broadcast(per_text)

    def explain(self, text: str) -> list[Span]:
        s = sentiment_score(text, method=self.method)
        if not self._fires(np.asarray([s]))[0]:
            return []
        sign = ">" if self.polarity == "positive" else "< -"
        return [Span(0, len(text), f"{self.method} sentiment {s:.2f} {sign}{self.threshold}")]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "polarity": self.polarity, "threshold": self.threshold, "method": self.method}


def sentiment_lf(
    name: str,
    label: int,
    *,
    polarity: str = "positive",
    threshold: float = 0.5,
    method: str = "vader",
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> SentimentLF:
    """An LF that votes ``label`` when a text is clearly positive (or negative).

    Parameters
    ----------
    name : str
        LF name.
    label : int
        Class voted.
    polarity : {"positive", "negative"}
        Fire when the score is ``> threshold`` (positive) or ``< -threshold`` (negative), strictly,
        as in the usual ``polarity > 0.9`` rule.
    threshold : float
        In [0, 1).
    method : {"vader", "textblob"}
        nltk's VADER compound score (needs ``python -m sources.install_data``) or TextBlob's polarity.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = sentiment_lf("positive", 0, threshold=0.5)
    >>> lf(pd.DataFrame({"text": ["I love this song, great video!", "subscribe to my channel"]})).tolist()
    [0, -1]
    """
    return SentimentLF(name, label, polarity=polarity, threshold=threshold, method=method, column=column, pre=pre)
