"""Distant supervision: LFs that vote from a :class:`~sources.KnowledgeBase`."""

from __future__ import annotations

from typing import Any, Collection, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from labeling import ABSTAIN, Preprocessor
from sources.kb import KnowledgeBase, locate

from ._batch import column_view
from .base import RuleLF, Span, check_label

__all__ = ["KBLF", "KBPairLF", "kb_lf", "kb_pair_lf"]


class _LabelChooser:
    """Turns the KB entries that fired on one row into a vote."""

    def __init__(self, name: str, label: int | None, kb_labels: Collection[Hashable] | None,
                 label_map: Mapping[Hashable, int] | None) -> None:
        self.name = name
        self.label = label
        self.kb_labels = set(kb_labels) if kb_labels is not None else None
        self.label_map = dict(label_map) if label_map is not None else None

    def wanted(self, kb_label: Hashable) -> bool:
        return self.kb_labels is None or kb_label in self.kb_labels

    def class_of(self, kb_label: Hashable) -> int:
        if self.label_map is not None:
            if kb_label not in self.label_map:
                return ABSTAIN  # a KB label the user did not map: no opinion
            return self.label_map[kb_label]
        return check_label(self.name, kb_label)

    def vote(self, kb_labels: set) -> int:
        kb_labels = {k for k in kb_labels if self.wanted(k)}
        if not kb_labels:
            return ABSTAIN
        if self.label is not None:
            return self.label
        classes = {self.class_of(k) for k in kb_labels} - {ABSTAIN}
        return classes.pop() if len(classes) == 1 else ABSTAIN  # entries disagree: abstain


class KBLF(RuleLF):
    """Votes when a knowledge-base term occurs in the text (see :func:`kb_lf`)."""

    kind = "kb"

    def __init__(self, name: str, kb: KnowledgeBase, label: int | None, *, kb_labels, label_map,
                 column: str, pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if not isinstance(kb, KnowledgeBase):
            raise TypeError(f"LF {name!r}: kb must be a sources.KnowledgeBase; got {type(kb).__name__}.")
        if not kb.entries:
            raise ValueError(f"LF {name!r}: {kb!r} has no terms; kb_lf matches terms (use kb_pair_lf for pairs).")
        self.kb = kb
        self._chooser = _LabelChooser(name, self.label, kb_labels, label_map)

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        kb = self.kb
        matches = view.cached(("kb", id(kb)), lambda: [kb.match_ids(t) for t in view.texts])
        labels = [e.label for e in kb.entries]
        vote = self._chooser.vote
        per_text = np.fromiter(
            (vote({labels[i] for _, _, i in m}) if m else ABSTAIN for m in matches), np.int16, len(view)
        )
        return view.broadcast(per_text)

    def explain(self, text: str) -> list[Span]:
        """The KB terms found in ``text`` that count for this LF, with the entry (and its source) behind each."""
        return [Span(m.start, m.end, f"kb {m.entry}") for m in self.kb.match(text) if self._chooser.wanted(m.entry.label)]

    def provenance(self, text: str) -> list:
        """The :class:`~sources.KBEntry` objects that fire on ``text``."""
        return [m.entry for m in self.kb.match(text) if self._chooser.wanted(m.entry.label)]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "kb": self.kb.name, "kb_labels": self._chooser.kb_labels,
                "label_map": self._chooser.label_map}


def kb_lf(
    name: str,
    kb: KnowledgeBase,
    label: int | None = None,
    *,
    kb_labels: Collection[Hashable] | None = None,
    label_map: Mapping[Hashable, int] | None = None,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> KBLF:
    """An LF that votes when any knowledge-base term occurs in the text (whole words, normalised).

    Parameters
    ----------
    name : str
        LF name.
    kb : KnowledgeBase
        The terms.
    label : int, optional
        Class voted when a term occurs. Without it, the vote is the matched entries' own label
        (mapped by ``label_map``, or used as the class id); entries that disagree make it abstain.
    kb_labels : collection, optional
        Only count entries with these KB labels (e.g. ``{"city", "country"}``).
    label_map : mapping, optional
        KB label -> class id, for ``label=None``; unmapped KB labels abstain.
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> places = KnowledgeBase({"paris": "city", "france": "country"})
    >>> lf = kb_lf("kb_place", places, 4)
    >>> lf(pd.DataFrame({"text": ["what is the capital of France ?", "who wrote it ?"]})).tolist()
    [4, -1]
    >>> lf.explain("what is the capital of France ?")
    [Span(start=23, end=29, what="kb 'france' -> 'country' (kb[1])")]
    """
    return KBLF(name, kb, label, kb_labels=kb_labels, label_map=label_map, column=column, pre=pre)


class KBPairLF(RuleLF):
    """Votes when the row's two entities form a known pair (see :func:`kb_pair_lf`)."""

    kind = "kb_pair"

    def __init__(self, name: str, kb: KnowledgeBase, label: int | None, *, left: str, right: str,
                 either_order: bool, kb_labels, label_map, column: str,
                 pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, column=column, pre=pre)
        if not isinstance(kb, KnowledgeBase):
            raise TypeError(f"LF {name!r}: kb must be a sources.KnowledgeBase; got {type(kb).__name__}.")
        if not kb.pair_entries:
            raise ValueError(f"LF {name!r}: {kb!r} has no entity pairs; build it with pairs=... .")
        self.kb, self.left, self.right, self.either_order = kb, left, right, either_order
        self._chooser = _LabelChooser(name, self.label, kb_labels, label_map)

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        for col in (self.left, self.right):
            if col not in df.columns:
                raise KeyError(
                    f"LF {self.name!r}: entity column {col!r} not found; the data has columns {list(df.columns)}. "
                    "Pass left=... and right=... to kb_pair_lf."
                )
        lefts = pd.Series(df[self.left].to_numpy(dtype=object))
        rights = pd.Series(df[self.right].to_numpy(dtype=object))
        codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([lefts, rights]))
        per_pair = np.full(len(uniques), ABSTAIN, dtype=np.int16)
        for k, (a, b) in enumerate(uniques):
            if isinstance(a, str) and isinstance(b, str):
                entries = self.kb.pair(a, b, either_order=self.either_order)
                if entries:
                    per_pair[k] = self._chooser.vote({e.label for e in entries})
        out = per_pair[codes] if len(per_pair) else np.full(len(df), ABSTAIN, dtype=np.int16)
        out[codes < 0] = ABSTAIN
        return out

    def provenance(self, left: str, right: str) -> list:
        """The pair entries behind a vote on ``(left, right)``."""
        return [e for e in self.kb.pair(left, right, either_order=self.either_order) if self._chooser.wanted(e.label)]

    def explain(self, text: str, left: str | None = None, right: str | None = None) -> list[Span]:
        """Where the two entities occur in ``text`` when they form a known pair, with the fact behind it."""
        if left is None or right is None:
            raise TypeError(f"LF {self.name!r} reads two entity columns: call explain(text, left=..., right=...).")
        entries = self.provenance(left, right)
        if not entries:
            return []
        what = "kb pair " + "; ".join(str(e) for e in entries)
        spans = []
        for entity in (left, right):
            where = locate(text, entity)
            if where is not None:
                spans.append(Span(*where, what))
        return spans or [Span(0, len(text), what)]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "kb": self.kb.name, "left": self.left, "right": self.right,
                "either_order": self.either_order}


def kb_pair_lf(
    name: str,
    kb: KnowledgeBase,
    label: int | None = None,
    *,
    left: str = "entity1",
    right: str = "entity2",
    either_order: bool = True,
    kb_labels: Collection[Hashable] | None = None,
    label_map: Mapping[Hashable, int] | None = None,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> KBPairLF:
    """An LF that votes when the row's two entity columns are a known pair in the KB (relation extraction).

    Parameters
    ----------
    name : str
        LF name.
    kb : KnowledgeBase
        With ``pairs``.
    label : int, optional
        Class voted for a known pair; without it, the pair's own label (through ``label_map``).
    left, right : str
        Columns holding the two entity mentions.
    either_order : bool
        ``(b, a)`` counts as a known ``(a, b)`` (symmetric relations such as spouse).
    kb_labels : collection, optional
        Only count pairs with these KB labels.
    label_map : mapping, optional
        KB label -> class id, for ``label=None``.
    column : str
        Text column (used by :meth:`explain`).
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> kb = KnowledgeBase(pairs=[("Barack Obama", "Michelle Obama", "spouse")])
    >>> lf = kb_pair_lf("kb_spouse", kb, 1)
    >>> df = pd.DataFrame({"text": ["..."] * 2, "entity1": ["michelle obama", "Barack Obama"],
    ...                    "entity2": ["Barack  Obama", "Joe Biden"]})
    >>> lf(df).tolist()
    [1, -1]
    """
    return KBPairLF(name, kb, label, left=left, right=right, either_order=either_order,
                    kb_labels=kb_labels, label_map=label_map, column=column, pre=pre)
