"""Embedding LFs: vote a class when a text is close to that class's examples in a sentence-embedding space.

Zero-shot: the examples are a description or a few seed phrases per class.
Few-shot: the examples are rows people have already labelled
(:func:`embedding_lfs_from_labels`). Each LF can say which example made it vote.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from labeling import Preprocessor
from sources.encoder import TextEncoder

from .base import RuleLF, Span, check_label

__all__ = ["EmbeddingLF", "embedding_lf", "embedding_lfs", "embedding_lfs_from_labels"]


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


class EmbeddingLF(RuleLF):
    """Votes ``label`` when a text's embedding is within ``threshold`` cosine of one of the class's examples.

    With ``others`` (the examples of the other classes) it also needs its best
    similarity to beat the best of every other class by ``margin``, so two
    classes with close examples do not both fire. See :func:`embedding_lf`.
    """

    kind = "embedding"

    def __init__(
        self, name: str, label: int, *, examples: Sequence[str], encoder: Any, threshold: float,
        others: Sequence[str] = (), margin: float = 0.0, column: str = "text",
        pre: Sequence[Preprocessor] | None = None,
    ) -> None:
        super().__init__(name, label, column=column, pre=pre)
        examples = [examples] if isinstance(examples, str) else list(examples)
        if not examples or not all(isinstance(e, str) and e.strip() for e in examples):
            raise ValueError(f"LF {name!r}: examples must be non-empty strings; got {examples!r:.120}.")
        if not -1.0 <= float(threshold) <= 1.0:
            raise ValueError(f"LF {name!r}: threshold={threshold!r}; expected a cosine in [-1, 1].")
        if not float(margin) >= 0.0:
            raise ValueError(f"LF {name!r}: margin={margin!r}; expected a number >= 0.")
        self.examples = examples
        self.others = list(others)
        self.encoder = encoder
        self.threshold = float(threshold)
        self.margin = float(margin)
        self._anchors: np.ndarray | None = None
        self._other_anchors: np.ndarray | None = None

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(np.asarray(self.encoder.encode(list(texts)), dtype=np.float32))

    def _ensure_anchors(self) -> None:
        if self._anchors is None:
            self._anchors = self._embed(self.examples)
            self._other_anchors = self._embed(self.others) if self.others else None

    def similarities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each text: best cosine to this class's examples, index of that example, best cosine to others."""
        self._ensure_anchors()
        emb = self._embed(texts)
        sims = emb @ self._anchors.T
        nearest = sims.argmax(axis=1)
        best = sims[np.arange(len(texts)), nearest] if len(texts) else np.zeros(0, dtype=np.float32)
        other = (emb @ self._other_anchors.T).max(axis=1) if self._other_anchors is not None else np.full(len(texts), -np.inf)
        return best, nearest, other

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        col = df[self.column]
        out = self._abstain(len(df))
        is_text = np.fromiter((isinstance(t, str) and bool(t.strip()) for t in col), dtype=bool, count=len(df))
        if is_text.any():
            best, _, other = self.similarities([t for t, ok in zip(col, is_text) if ok])
            fire = (best >= self.threshold) & (best - other >= self.margin)
            out[np.flatnonzero(is_text)[fire]] = self.label
        return out

    def explain(self, text: str) -> list[Span]:
        """The whole text, naming the nearest example and its cosine, when this LF votes; else ``[]``."""
        if not isinstance(text, str) or not text.strip():
            return []
        best, nearest, other = self.similarities([text])
        if best[0] < self.threshold or best[0] - other[0] < self.margin:
            return []
        example = self.examples[int(nearest[0])]
        shown = example if len(example) <= 60 else example[:57] + "..."
        return [Span(0, len(text), f"nearest example {shown!r} (cosine {best[0]:.2f})")]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "examples": list(self.examples), "threshold": self.threshold,
                "margin": self.margin, "n_others": len(self.others),
                "model": getattr(self.encoder, "model", type(self.encoder).__name__)}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_anchors"] = state["_other_anchors"] = None  # recomputed from the examples
        return state


def embedding_lf(
    name: str, examples: str | Sequence[str], label: int, *, encoder: Any = None, threshold: float = 0.5,
    others: Sequence[str] = (), margin: float = 0.0, column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> EmbeddingLF:
    """An LF that votes ``label`` when a text is semantically close to one of ``examples``.

    Parameters
    ----------
    name : str
        LF name.
    examples : str or sequence of str
        A description of the class, seed phrases, or labelled rows of it.
    label : int
        Class id voted.
    encoder : object with ``encode(list[str]) -> ndarray``, optional
        Usually a :class:`sources.TextEncoder` (the default, packaged MiniLM, when omitted).
    threshold : float
        Least cosine similarity to the nearest example for a vote.
    others : sequence of str
        Examples of the other classes; with ``margin`` the LF abstains unless its
        class is the nearest by at least ``margin``.
    margin : float
        See ``others``.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors run first.

    Examples
    --------
    >>> lf = embedding_lf("promo", ["check out my channel", "subscribe to me"], 1)   # doctest: +SKIP
    >>> lf.explain("please subscribe to my channel")                                # doctest: +SKIP
    [Span(start=0, end=30, what="nearest example 'subscribe to me' (cosine 0.78)")]
    """
    if encoder is None:
        encoder = TextEncoder()
    return EmbeddingLF(name, check_label(name, label), examples=examples, encoder=encoder, threshold=threshold,
                       others=others, margin=margin, column=column, pre=pre)


def embedding_lfs(
    class_examples: Mapping[int, str | Sequence[str]], *, encoder: Any = None, threshold: float = 0.5,
    margin: float = 0.05, prefix: str = "emb", column: str = "text",
) -> list[EmbeddingLF]:
    """One :func:`embedding_lf` per class, each required to beat the other classes' examples by ``margin``.

    Parameters
    ----------
    class_examples : mapping of class id to str or sequence of str
        Descriptions, seed phrases or labelled texts of each class (zero- or few-shot).
    encoder, threshold, column :
        As in :func:`embedding_lf` (one encoder is shared, so each text is encoded once).
    margin : float
        How much nearer its own class's examples than any other class's a text must be.
    prefix : str
        LF names are ``f"{prefix}_{class id}"``.

    Returns
    -------
    list of EmbeddingLF
    """
    if not class_examples:
        raise ValueError("embedding_lfs: class_examples is empty; give at least one class and its examples.")
    if encoder is None:
        encoder = TextEncoder()
    as_lists = {int(c): ([e] if isinstance(e, str) else list(e)) for c, e in class_examples.items()}
    lfs = []
    for c, examples in as_lists.items():
        others = [t for o, ex in as_lists.items() if o != c for t in ex]
        lfs.append(embedding_lf(f"{prefix}_{c}", examples, c, encoder=encoder, threshold=threshold,
                                others=others, margin=margin if others else 0.0, column=column))
    return lfs


def embedding_lfs_from_labels(
    texts: Sequence[str], labels: Sequence[int], *, encoder: Any = None, threshold: float = 0.6,
    margin: float = 0.05, prefix: str = "emb_reviewed", column: str = "text", max_per_class: int = 200,
) -> list[EmbeddingLF]:
    """Few-shot embedding LFs from rows people labelled (``-1`` = not labelled, skipped).

    Each class's examples are its labelled texts (at most ``max_per_class``, the
    first ones), so ``explain`` names the reviewed row a vote came from.
    """
    texts, labels = list(texts), np.asarray(labels).ravel()
    if len(texts) != len(labels):
        raise ValueError(f"embedding_lfs_from_labels: {len(texts)} texts but {len(labels)} labels.")
    per_class: dict[int, list[str]] = {}
    for t, y in zip(texts, labels):
        if y >= 0 and isinstance(t, str) and t.strip() and len(per_class.setdefault(int(y), [])) < max_per_class:
            per_class[int(y)].append(t)
    if not per_class:
        raise ValueError("embedding_lfs_from_labels: no labelled text (every label is -1 or every text empty).")
    return embedding_lfs(per_class, encoder=encoder, threshold=threshold, margin=margin, prefix=prefix, column=column)
