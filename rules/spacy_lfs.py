"""LFs on spaCy's analysis: named entities, entity pairs, and token or dependency patterns; a Doc preprocessor.

Each builder returns a vectorized :class:`~rules.RuleLF` that explains its votes with the entities or
tokens behind them. Docs come from :func:`sources.spacy_docs.doc_cache`, so every spaCy LF (and
:func:`spacy_preprocessor`) over the same texts shares one parse per distinct text and process. spaCy
is imported when a builder is called, never by ``import rules``; without it the builder raises an
``ImportError`` naming ``pip install 'votewise[spacy]'``.
"""

from __future__ import annotations

import difflib
from typing import Any, Collection, Sequence

import numpy as np
import pandas as pd

from labeling import ABSTAIN, Preprocessor
from labeling.core.safe_yaml import short_repr
from sources.kb import locate
from sources.spacy_docs import DEFAULT_PIPELINE, doc_cache, load_pipeline

from ._batch import column_view
from .base import RuleLF, Span

__all__ = ["EntityLF", "EntityPairLF", "SpacyPatternLF", "entity_lf", "entity_pair_lf", "spacy_pattern_lf",
           "spacy_preprocessor"]


class _SpacyLF(RuleLF):
    """A rule LF that reads the Docs of its text column, parsed once per text through the shared cache."""

    def __init__(self, name: str, label: int, *, pipeline: str | None, column: str,
                 pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, column=column, pre=pre)
        self.pipeline = pipeline or DEFAULT_PIPELINE
        self._nlp = load_pipeline(self.pipeline)  # now, so a missing spaCy or pipeline fails at construction

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_nlp", None)  # the pipeline is loaded again in the receiving process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._nlp = load_pipeline(self.pipeline)

    def _docs(self, view) -> list[Any]:
        return view.cached(("spacy", self.pipeline), lambda: doc_cache(self.pipeline).docs(view.texts))

    def _doc(self, text: str) -> Any:
        return doc_cache(self.pipeline).doc(text)

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "pipeline": self.pipeline}


def _entity_labels(name: str, labels: str | Collection[str], nlp: Any) -> frozenset[str]:
    wanted = frozenset([labels] if isinstance(labels, str) else labels)
    if not wanted or not all(isinstance(x, str) for x in wanted):
        raise ValueError(f"LF {name!r}: entity labels must be names such as 'PERSON'; got {short_repr(labels)}.")
    known = set(nlp.get_pipe("ner").labels) if "ner" in nlp.pipe_names else set()
    unknown = sorted(wanted - known)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"LF {name!r}: entity label(s) {unknown} are not ones the pipeline's NER predicts; "
                         f"{hint}It knows {sorted(known)}.")
    return wanted


class EntityLF(_SpacyLF):
    """Votes when the text holds at least ``min_count`` entities of the given labels (see :func:`entity_lf`)."""

    kind = "spacy_entity"

    def __init__(self, name: str, label: int, *, entity_labels: str | Collection[str], min_count: int,
                 max_words: int | None, pipeline: str | None, column: str,
                 pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, pipeline=pipeline, column=column, pre=pre)
        self.entity_labels = _entity_labels(name, entity_labels, self._nlp)
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"LF {name!r}: min_count={min_count!r}; expected a whole number >= 1.")
        if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
            raise ValueError(f"LF {name!r}: max_words={max_words!r}; expected a whole number >= 1 or None.")
        self.min_count, self.max_words = min_count, max_words

    def _entities(self, doc: Any) -> list[Any]:
        return [e for e in doc.ents if e.label_ in self.entity_labels]

    def _fires(self, doc: Any) -> bool:
        if self.max_words is not None and len(doc.text.split()) > self.max_words:
            return False
        return len(self._entities(doc)) >= self.min_count

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        docs = self._docs(view)
        per_text = np.fromiter((self.label if self._fires(d) else ABSTAIN for d in docs), np.int16, len(docs))
        return view.broadcast(per_text)

    def explain(self, text: str) -> list[Span]:
        doc = self._doc(text)
        if not self._fires(doc):
            return []
        return [Span(e.start_char, e.end_char, f"entity {e.label_} {e.text!r}") for e in self._entities(doc)]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "entity_labels": sorted(self.entity_labels), "min_count": self.min_count,
                "max_words": self.max_words}


def entity_lf(
    name: str,
    label: int,
    *,
    entity_labels: str | Collection[str] = "PERSON",
    min_count: int = 1,
    max_words: int | None = None,
    pipeline: str | None = None,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> EntityLF:
    """An LF that votes ``label`` when spaCy's NER finds entities of the given labels in the text.

    With ``entity_labels="PERSON", max_words=20`` it is Snorkel's ``has_person_nlp`` (short comments
    that name a person are rarely spam).

    Parameters
    ----------
    name : str
        LF name.
    label : int
        Class voted.
    entity_labels : str or collection of str
        spaCy entity labels (``PERSON``, ``ORG``, ``GPE``...); checked against the pipeline's NER labels.
    min_count : int
        How many such entities the text must hold.
    max_words : int, optional
        Abstain on texts of more whitespace-separated words than this.
    pipeline : str, optional
        spaCy pipeline (default ``en_core_web_sm``, installed by the ``spacy`` extra).
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = entity_lf("has_person", 0, max_words=20)  # doctest: +SKIP
    >>> lf(pd.DataFrame({"text": ["Taylor Swift is great", "subscribe to my channel"]})).tolist()  # doctest: +SKIP
    [0, -1]
    """
    return EntityLF(name, label, entity_labels=entity_labels, min_count=min_count, max_words=max_words,
                    pipeline=pipeline, column=column, pre=pre)


def _mention_span(text: str, mention: Any) -> tuple[int, int] | None:
    """Where a candidate's mention lies in ``text``: a ``(start, end)`` pair as given, or the mention string found."""
    if isinstance(mention, str):
        return locate(text, mention) if mention.strip() else None
    if isinstance(mention, (tuple, list)) and len(mention) == 2 and all(isinstance(x, (int, np.integer)) for x in mention):
        start, end = int(mention[0]), int(mention[1])
        return (start, end) if 0 <= start < end <= len(text) else None
    return None


class EntityPairLF(_SpacyLF):
    """Votes when both mentions of a candidate pair lie inside entities of the given labels (see :func:`entity_pair_lf`)."""

    kind = "spacy_entity_pair"

    def __init__(self, name: str, label: int, *, left: str, right: str, entity_labels: str | Collection[str],
                 pipeline: str | None, column: str, pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, pipeline=pipeline, column=column, pre=pre)
        self.left, self.right = left, right
        self.entity_labels = _entity_labels(name, entity_labels, self._nlp)

    def _entity_of(self, doc: Any, span: tuple[int, int] | None) -> Any:
        if span is None:
            return None
        for e in doc.ents:
            if e.label_ in self.entity_labels and e.start_char <= span[0] and span[1] <= e.end_char:
                return e
        return None

    def _both(self, doc: Any, left: Any, right: Any) -> tuple[Any, Any] | None:
        a = self._entity_of(doc, _mention_span(doc.text, left))
        b = self._entity_of(doc, _mention_span(doc.text, right))
        return (a, b) if a is not None and b is not None else None

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        for col in (self.left, self.right):
            if col not in df.columns:
                raise KeyError(f"LF {self.name!r}: mention column {col!r} not found; the data has columns "
                               f"{list(df.columns)}. Pass left=... and right=... to entity_pair_lf.")
        view = column_view(df, self.column)
        docs = self._docs(view)
        lefts, rights = df[self.left].to_numpy(dtype=object), df[self.right].to_numpy(dtype=object)
        out = np.full(len(df), ABSTAIN, dtype=np.int16)
        for row, code in enumerate(view.codes):
            if code >= 0 and self._both(docs[code], lefts[row], rights[row]) is not None:
                out[row] = self.label
        return out

    def explain(self, text: str, left: Any = None, right: Any = None) -> list[Span]:
        """The two entities that hold the pair's mentions, when both are of the wanted labels."""
        if left is None or right is None:
            raise TypeError(f"LF {self.name!r} reads two mention columns: call explain(text, left=..., right=...).")
        both = self._both(self._doc(text), left, right)
        if both is None:
            return []
        return [Span(e.start_char, e.end_char, f"entity {e.label_} {e.text!r}") for e in both]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "left": self.left, "right": self.right,
                "entity_labels": sorted(self.entity_labels)}


def entity_pair_lf(
    name: str,
    label: int,
    *,
    left: str = "person1",
    right: str = "person2",
    entity_labels: str | Collection[str] = "PERSON",
    pipeline: str | None = None,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> EntityPairLF:
    """An LF that votes ``label`` when both mentions of a candidate pair are entities of the given labels.

    "Both people in a candidate pair are PERSON entities" (relation extraction, as in Snorkel's spouse
    task): each row holds a sentence and two mention columns, either the mention's text (found in the
    sentence as the knowledge base finds terms) or a ``(start, end)`` character span. A mention counts
    when it lies inside an entity of one of ``entity_labels``.

    Parameters
    ----------
    name : str
        LF name.
    label : int
        Class voted.
    left, right : str
        The two mention columns.
    entity_labels : str or collection of str
        spaCy entity labels each mention must fall in.
    pipeline : str, optional
        spaCy pipeline (default ``en_core_web_sm``).
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = entity_pair_lf("both_people", 1)  # doctest: +SKIP
    >>> df = pd.DataFrame({"text": ["Barack Obama married Michelle Obama in Chicago."] * 2,
    ...                    "person1": ["Barack Obama"] * 2, "person2": ["Michelle Obama", "Chicago"]})
    >>> lf(df).tolist()  # doctest: +SKIP
    [1, -1]
    """
    return EntityPairLF(name, label, left=left, right=right, entity_labels=entity_labels, pipeline=pipeline,
                        column=column, pre=pre)


class SpacyPatternLF(_SpacyLF):
    """Votes when a spaCy ``Matcher`` or ``DependencyMatcher`` pattern matches (see :func:`spacy_pattern_lf`)."""

    kind = "spacy_pattern"

    def __init__(self, name: str, label: int, *, patterns: Sequence[Any], dependency: bool,
                 pipeline: str | None, column: str, pre: Sequence[Preprocessor] | None) -> None:
        super().__init__(name, label, pipeline=pipeline, column=column, pre=pre)
        if isinstance(patterns, (str, bytes)) or not isinstance(patterns, Sequence) or not patterns:
            raise ValueError(f"LF {name!r}: patterns must be a non-empty list of spaCy patterns; "
                             f"got {short_repr(patterns)}.")
        self.patterns = [list(p) for p in patterns]
        self.dependency = bool(dependency)
        self._matcher = self._build()

    def _build(self) -> Any:
        from spacy.matcher import DependencyMatcher, Matcher

        matcher = DependencyMatcher(self._nlp.vocab) if self.dependency else Matcher(self._nlp.vocab)
        for i, pattern in enumerate(self.patterns):
            try:
                matcher.add(f"{self.name}:{i}", [pattern])
            except Exception as exc:  # spaCy's own validation: MatchPatternError, ValueError, KeyError
                kind = "dependency pattern" if self.dependency else "token pattern"
                raise ValueError(f"LF {self.name!r}: {kind} {i} {short_repr(pattern)} is not valid for spaCy: "
                                 f"{str(exc).strip()}") from None
        return matcher

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_matcher", None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._matcher = self._build()

    def _spans(self, doc: Any) -> list[tuple[int, int, int]]:
        """``(start_char, end_char, pattern index)`` of each match."""
        out = []
        for match_id, *rest in self._matcher(doc):
            which = int(self._nlp.vocab.strings[match_id].rsplit(":", 1)[1])
            if self.dependency:
                tokens = [doc[i] for i in rest[0]]
                start, end = min(t.idx for t in tokens), max(t.idx + len(t) for t in tokens)
            else:
                span = doc[rest[0]:rest[1]]
                start, end = span.start_char, span.end_char
            out.append((start, end, which))
        return sorted(out)

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        view = column_view(df, self.column)
        docs = self._docs(view)
        per_text = np.fromiter((self.label if self._matcher(d) else ABSTAIN for d in docs), np.int16, len(docs))
        return view.broadcast(per_text)

    def explain(self, text: str) -> list[Span]:
        kind = "dependency pattern" if self.dependency else "pattern"
        return [Span(s, e, f"spacy {kind} {i}") for s, e, i in self._spans(self._doc(text))]

    @property
    def info(self) -> dict[str, Any]:
        return {**super().info, "patterns": self.patterns, "dependency": self.dependency}


def spacy_pattern_lf(
    name: str,
    label: int,
    patterns: Sequence[Any],
    *,
    dependency: bool = False,
    pipeline: str | None = None,
    column: str = "text",
    pre: Sequence[Preprocessor] | None = None,
) -> SpacyPatternLF:
    """An LF that votes ``label`` when any of spaCy's token (or dependency) patterns matches the text.

    Token patterns are spaCy ``Matcher`` patterns, lists of token attribute dicts such as
    ``[{"LEMMA": "check"}, {"POS": "PRON", "OP": "?"}, {"LOWER": "out"}]``, so they match on lemmas,
    parts of speech or entity types; with ``dependency=True`` they are ``DependencyMatcher`` patterns
    over the parse tree. Patterns are data: each is validated by spaCy when the LF is built, and an
    invalid one names the LF and the pattern.

    Parameters
    ----------
    name : str
        LF name.
    label : int
        Class voted.
    patterns : list
        One or more spaCy patterns.
    dependency : bool
        Patterns are for the ``DependencyMatcher``.
    pipeline : str, optional
        spaCy pipeline (default ``en_core_web_sm``).
    column : str
        Text column.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors applied to each chunk first.

    Examples
    --------
    >>> lf = spacy_pattern_lf("check_out", 1, [[{"LEMMA": "check"}, {"POS": "PRON", "OP": "?"}, {"LOWER": "out"}]])
    ... # doctest: +SKIP
    >>> lf(pd.DataFrame({"text": ["Checking it out now", "nice song"]})).tolist()  # doctest: +SKIP
    [1, -1]
    """
    return SpacyPatternLF(name, label, patterns=patterns, dependency=dependency, pipeline=pipeline,
                          column=column, pre=pre)


def spacy_preprocessor(column: str = "text", *, out: str = "doc", pipeline: str | None = None) -> Preprocessor:
    """A vectorized preprocessor that adds each row's spaCy Doc as column ``out`` (parsed once per text).

    For hand-written LFs: ``@labeling_function(pre=[spacy_preprocessor()])`` then ``x.doc.ents``. The
    Docs come from the same cache the spaCy LF builders use, so mixing both parses each text once.

    Examples
    --------
    >>> from labeling import labeling_function  # doctest: +SKIP
    >>> @labeling_function(pre=[spacy_preprocessor()])  # doctest: +SKIP
    ... def has_person(x):
    ...     return 0 if any(e.label_ == "PERSON" for e in x.doc.ents) else -1
    """
    name = pipeline or DEFAULT_PIPELINE
    load_pipeline(name)  # fail now, with the install command, not in the middle of a run

    def add_docs(df: pd.DataFrame) -> pd.DataFrame:
        view = column_view(df, column)
        docs = view.cached(("spacy", name), lambda: doc_cache(name).docs(view.texts))
        per_row = [docs[c] if c >= 0 else None for c in view.codes]
        return df.assign(**{out: pd.Series(per_row, index=df.index, dtype=object)})

    return Preprocessor(f"spacy_{name}_{column}_to_{out}", add_docs, vectorized=True)
