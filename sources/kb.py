"""Knowledge bases for distant supervision: labelled terms and labelled entity pairs.

A :class:`KnowledgeBase` holds terms (``"paris" -> "LOC"``) and entity pairs
(``("Barack Obama", "Michelle Obama") -> "spouse"``), each remembered as a :class:`KBEntry` with
where it came from, so a vote can say which fact fired. Matching is normalised (Unicode NFKC,
case-folding, runs of whitespace as one space, optionally WordNet lemmas) and runs one Aho-Corasick
automaton over the text, so tens of thousands of terms cost about as much as a few.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Mapping, NamedTuple, Sequence

import ahocorasick

from labeling.core.fileio import load_json

from .nltk_data import lemmatize_word, require

__all__ = ["KnowledgeBase", "KBEntry", "KBMatch", "normalize_text", "locate"]

_WS = re.compile(r"\s+")
_NEEDS_SLOW_PATH = re.compile(r"[^\S ]| {2,}")  # whitespace other than single spaces
_TOKEN = re.compile(r"\w+|[^\w\s]")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class KBEntry:
    """One fact: a term (or a pair of entities), its label, and where it was read from."""

    term: str | tuple[str, str]
    label: Hashable
    source: str = ""

    def __str__(self) -> str:
        term = " / ".join(self.term) if isinstance(self.term, tuple) else self.term
        where = f" ({self.source})" if self.source else ""
        return f"{term!r} -> {self.label!r}{where}"


class KBMatch(NamedTuple):
    """A KB term found in a text: ``text[start:end]`` matched ``entry``."""

    start: int
    end: int
    entry: KBEntry


def _fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def normalize_text(text: str) -> tuple[str, list[int] | None]:
    """Normalise ``text`` for matching and map each output character back to its input position.

    Returns the normalised string and, when its characters do not line up one to one with the input,
    the input offset of each output character (``None`` when they do: the fast path for plain text).

    Notes
    -----
    A fold for matching, not a cleaner: each character is NFKC-normalised and case-folded (``Straße``
    matches ``STRASSE``, a full-width ``ｒｅｆｕｎｄ`` matches ``refund``) and whitespace runs become one
    space, while every output character keeps its input offset, so a match points at the text as
    written. It removes and masks nothing. ``rules.clean_text`` (the LF preprocessor: HTML removed,
    URLs, e-mails and handles masked, no offsets) and ``labeling.dataset.clean.normalize_text`` (the
    exported text itself: markup and invisible characters removed, case kept) rewrite the text
    instead, so neither can serve here, nor this one there.
    """
    if text.isascii() and not _NEEDS_SLOW_PATH.search(text):
        return text.lower(), None
    out: list[str] = []
    pos: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not in_space:
                out.append(" ")
                pos.append(i)
            in_space = True
            continue
        in_space = False
        for f in _fold_char(ch):
            out.append(f)
            pos.append(i)
    return "".join(out), pos



def _fold_term(text: str) -> str:
    """A term as the knowledge base compares it: :func:`normalize_text`'s fold, trimmed, without offsets."""
    return _WS.sub(" ", normalize_text(text)[0]).strip()


def locate(text: str, needle: str) -> tuple[int, int] | None:
    """Where ``needle`` first occurs in ``text`` under :func:`normalize_text`'s fold, as offsets into ``text``.

    Examples
    --------
    >>> locate("Visit the STRASSE museum", "straße")
    (10, 17)
    >>> locate("nothing here", "straße") is None
    True
    """
    folded, pos = normalize_text(text)
    key = _fold_term(needle)
    i = folded.find(key) if key else -1
    if i < 0:
        return None
    end = i + len(key)
    # Offsets of the folded text point back at the characters as written (one "ß" folds to two).
    return (i, end) if pos is None else (pos[i], pos[end - 1] + 1)

def _lemma(token: str) -> str:
    return lemmatize_word(token)  # WordNet is loaded on the first call, only when lemmatising


LEMMATIZERS = ("wordnet", "spacy")


def _spacy_lemmatized(text: str, pipeline: str) -> tuple[str, list[int]]:
    """Text as spaCy's lemmas (each folded as :func:`normalize_text` does), space-joined, with input offsets.

    The Doc comes from the shared cache (:func:`sources.spacy_docs.doc_cache`), so a text also read by
    spaCy LFs is parsed once. Lemmas are chosen in context (``"saw"`` is ``"see"`` as a verb).
    """
    from .spacy_docs import doc_cache

    out: list[str] = []
    out_pos: list[int] = []
    for token in doc_cache(pipeline).doc(text):
        if token.is_space:
            continue
        lemma = _fold_term(token.lemma_ or token.text) or _fold_term(token.text)
        if not lemma:
            continue
        if out:
            out.append(" ")
            out_pos.append(token.idx)
        start, end = token.idx, token.idx + len(token.text) - 1
        for k, ch in enumerate(lemma):
            out.append(ch)
            out_pos.append(end if k == len(lemma) - 1 else min(start + k, end))
    return "".join(out), out_pos


def _lemmatized(text: str) -> tuple[str, list[int]]:
    """Normalised text with every word replaced by its WordNet lemma, and input offsets per character."""
    norm, pos = normalize_text(text)
    out: list[str] = []
    out_pos: list[int] = []
    for m in _TOKEN.finditer(norm):
        if out:
            out.append(" ")
            out_pos.append(pos[m.start()] if pos else m.start())
        lemma = _lemma(m.group()) if m.group()[0].isalnum() else m.group()
        start = pos[m.start()] if pos else m.start()
        end = pos[m.end() - 1] if pos else m.end() - 1
        for k, ch in enumerate(lemma):
            out.append(ch)
            # A lemma can be shorter or longer than its word: its last character maps to the word's end.
            out_pos.append(end if k == len(lemma) - 1 else min(start + k, end))
    return "".join(out), out_pos


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class KnowledgeBase:
    """Terms and entity pairs with labels, matched in normalised text.

    Parameters
    ----------
    terms : mapping or iterable, optional
        ``{term: label}``, ``[(term, label), ...]``, ``[KBEntry, ...]`` or plain terms (label ``None``).
    pairs : mapping or iterable, optional
        ``{(left, right): label}``, ``[(left, right, label), ...]`` or ``[KBEntry, ...]`` with tuple terms.
    lemmatize : bool or {"wordnet", "spacy"}
        Also match inflected forms (``"islands"`` finds the term ``"island"``). ``True`` or ``"wordnet"``:
        WordNet lemmas, word by word (needs the nltk data: ``python -m sources.install_data``).
        ``"spacy"``: spaCy's lemmas, chosen in context by its tagger (needs ``pip install 'votewise[spacy]'``).
        A missing piece fails here, when the knowledge base is built, with the command that installs it.
    spacy_pipeline : str, optional
        The spaCy pipeline for ``lemmatize="spacy"`` (default ``en_core_web_sm``).
    name : str
        Shown in provenance and reprs.

    Examples
    --------
    >>> kb = KnowledgeBase({"new york": "LOC", "paris": "LOC"})
    >>> [(m.start, m.end, m.entry.term) for m in kb.match("Flights from New  York to PARIS")]
    [(13, 22, 'new york'), (26, 31, 'paris')]
    """

    def __init__(
        self,
        terms: Mapping[str, Any] | Iterable[Any] | None = None,
        pairs: Mapping[tuple[str, str], Any] | Iterable[Any] | None = None,
        *,
        lemmatize: bool | str = False,
        name: str = "kb",
        spacy_pipeline: str | None = None,
    ) -> None:
        self.name = name
        if lemmatize is True:
            lemmatize = "wordnet"
        if lemmatize is not False and lemmatize not in LEMMATIZERS:
            raise ValueError(f"{name}: lemmatize={lemmatize!r} is not one of True, False, {set(LEMMATIZERS)}.")
        self.lemmatize = lemmatize
        self.spacy_pipeline = spacy_pipeline
        # Check now that what lemmatising needs is installed: a missing piece fails here, not mid-run.
        if lemmatize == "wordnet":
            require("wordnet")
        elif lemmatize == "spacy":
            from .spacy_docs import load_pipeline

            load_pipeline(spacy_pipeline)
        self.entries: list[KBEntry] = [self._term_entry(t, i) for i, t in enumerate(_items(terms))]
        self.pair_entries: list[KBEntry] = [self._pair_entry(p, i) for i, p in enumerate(_items(pairs))]
        self._automaton = None
        self._pairs: dict[tuple[str, str], list[int]] = {}
        for i, e in enumerate(self.pair_entries):
            self._pairs.setdefault((self.normalize(e.term[0]), self.normalize(e.term[1])), []).append(i)

    # ----------------------------------------------------------------- construction
    def _term_entry(self, item: Any, i: int) -> KBEntry:
        if isinstance(item, KBEntry):
            entry = item
        elif isinstance(item, str):
            entry = KBEntry(item, None, f"{self.name}[{i}]")
        elif isinstance(item, Sequence) and len(item) == 2 and isinstance(item[0], str):
            entry = KBEntry(item[0], item[1], f"{self.name}[{i}]")
        else:
            raise ValueError(f"{self.name}: term {i} is {item!r}; expected a string or a (term, label) pair.")
        if not isinstance(entry.term, str) or not entry.term.strip():
            raise ValueError(f"{self.name}: term {i} ({entry.source or item!r}) is empty; every term needs text.")
        return entry

    def _pair_entry(self, item: Any, i: int) -> KBEntry:
        if isinstance(item, KBEntry):
            entry = item
        elif isinstance(item, Sequence) and len(item) in (2, 3) and not isinstance(item, str):
            if len(item) == 3:
                entry = KBEntry((str(item[0]), str(item[1])), item[2], f"{self.name}[{i}]")
            elif isinstance(item[0], Sequence) and not isinstance(item[0], str):
                entry = KBEntry((str(item[0][0]), str(item[0][1])), item[1], f"{self.name}[{i}]")
            else:
                entry = KBEntry((str(item[0]), str(item[1])), None, f"{self.name}[{i}]")
        else:
            raise ValueError(f"{self.name}: pair {i} is {item!r}; expected (left, right, label) or (left, right).")
        if not isinstance(entry.term, tuple) or not all(s.strip() for s in entry.term):
            raise ValueError(f"{self.name}: pair {i} ({entry.source}) has an empty entity.")
        return entry

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], **kwargs: Any) -> "KnowledgeBase":
        """From ``{"terms": ..., "pairs": ...}`` or a plain ``{term: label}`` mapping."""
        if "terms" in data or "pairs" in data:
            pairs = data.get("pairs")
            if pairs is not None and not isinstance(pairs, Mapping):
                pairs = [tuple(p.values()) if isinstance(p, Mapping) else tuple(p) for p in pairs]
            terms = data.get("terms")
            if terms is not None and not isinstance(terms, Mapping):
                terms = [tuple(t.values()) if isinstance(t, Mapping) else t for t in terms]
            return cls(terms, pairs, **kwargs)
        return cls(data, **kwargs)

    @classmethod
    def from_lines(cls, path: str | Path, *, label: Any = None, **kwargs: Any) -> "KnowledgeBase":
        """From a text file with one term per line; blank lines and lines starting with ``#`` are skipped."""
        path = Path(path)
        items = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            term = line.strip()
            if term and not term.startswith("#"):
                items.append(KBEntry(term, label, f"{path.name}:{lineno}"))
        kwargs.setdefault("name", path.name)
        return cls(items, **kwargs)

    @classmethod
    def from_json(cls, path: str | Path, **kwargs: Any) -> "KnowledgeBase":
        """From a JSON file: ``{term: label}``, a list of terms, or ``{"terms": ..., "pairs": [[l, r, label], ...]}``."""
        path = Path(path)
        data = load_json(path)  # malformed, nested too deep or a term given twice: named with the file
        kwargs.setdefault("name", path.name)
        if isinstance(data, list):
            return cls(data, **kwargs)
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a JSON object or list; got {type(data).__name__}.")
        return cls.from_mapping(data, **kwargs)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        term_column: str = "term",
        label_column: str | None = "label",
        pair_columns: tuple[str, str] | None = None,
        label: Any = None,
        delimiter: str | None = None,
        **kwargs: Any,
    ) -> "KnowledgeBase":
        """From a CSV/TSV file with a header: one term (or, with ``pair_columns``, one pair) per row.

        Parameters
        ----------
        path : str or Path
            File; the delimiter is sniffed from the suffix (``.tsv`` -> tab) unless given.
        term_column, label_column : str
            Column names; without a label column every entry gets ``label``.
        pair_columns : (str, str), optional
            Read entity pairs from these two columns instead of terms.
        label : any
            Label for files without a label column.
        """
        path = Path(path)
        delimiter = delimiter or ("\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter=delimiter)
            header = reader.fieldnames or []
            needed = list(pair_columns) if pair_columns else [term_column]
            missing = [c for c in needed if c not in header]
            if missing:
                raise ValueError(f"{path}: column(s) {missing} not found; the header has {header}.")
            use_label = label_column is not None and label_column in header
            items = []
            for lineno, row in enumerate(reader, start=2):
                value = row[label_column] if use_label else label
                if pair_columns:
                    items.append(KBEntry((row[pair_columns[0]], row[pair_columns[1]]), value, f"{path.name}:{lineno}"))
                else:
                    items.append(KBEntry(row[term_column], value, f"{path.name}:{lineno}"))
        kwargs.setdefault("name", path.name)
        return cls(None, items, **kwargs) if pair_columns else cls(items, None, **kwargs)

    @classmethod
    def from_sqlite(
        cls,
        path: str | Path,
        table: str,
        *,
        term_column: str = "term",
        label_column: str | None = "label",
        pair_columns: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> "KnowledgeBase":
        """From a table of an SQLite database, opened read-only."""
        path = Path(path)
        columns = list(pair_columns) if pair_columns else [term_column]
        if label_column:
            columns.append(label_column)
        for ident in [table, *columns]:
            if not _IDENT.match(ident):
                raise ValueError(f"{ident!r} is not a plain SQL identifier (letters, digits, underscore).")
        if not path.exists():
            raise FileNotFoundError(f"SQLite database {path} does not exist.")
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute(f'SELECT rowid, {", ".join(columns)} FROM "{table}"').fetchall()
        except sqlite3.OperationalError as exc:
            raise ValueError(f"{path}: cannot read columns {columns} of table {table!r}: {exc}") from exc
        finally:
            con.close()
        kwargs.setdefault("name", path.name)
        items = []
        for row in rows:
            value = row[-1] if label_column else None
            src = f"{path.name}:{table}#{row[0]}"
            term = (str(row[1]), str(row[2])) if pair_columns else str(row[1])
            items.append(KBEntry(term, value, src))
        return cls(None, items, **kwargs) if pair_columns else cls(items, None, **kwargs)

    # ----------------------------------------------------------------- matching
    def normalize(self, text: str) -> str:
        """The normalised form used for matching (lemmatised when ``lemmatize``)."""
        if self.lemmatize:
            return self._normalize_with_offsets(text)[0].strip()
        return _fold_term(text)

    def _normalize_with_offsets(self, text: str) -> tuple[str, list[int] | None]:
        if self.lemmatize == "spacy":
            from .spacy_docs import DEFAULT_PIPELINE

            return _spacy_lemmatized(text, self.spacy_pipeline or DEFAULT_PIPELINE)
        return _lemmatized(text) if self.lemmatize else normalize_text(text)

    def _build(self):
        auto = ahocorasick.Automaton()
        for i, e in enumerate(self.entries):
            key = self.normalize(e.term)
            found = auto.get(key, None)
            if found is None:
                auto.add_word(key, (len(key), [i]))
            else:
                found[1].append(i)
        if len(auto):
            auto.make_automaton()
        return auto

    @property
    def automaton(self):
        if self._automaton is None:
            self._automaton = self._build()
        return self._automaton

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_automaton"] = None  # rebuilt on first use in the receiving process
        return state

    def match_ids(self, text: str) -> list[tuple[int, int, int]]:
        """``(start, end, entry index)`` of every whole-word term occurrence, in input offsets."""
        auto = self.automaton
        if not len(auto) or not text:
            return []
        norm, pos = self._normalize_with_offsets(text)
        found = []
        for end, (length, ids) in auto.iter(norm):
            start = end - length + 1
            if start > 0 and _is_word_char(norm[start - 1]) and _is_word_char(norm[start]):
                continue
            if end + 1 < len(norm) and _is_word_char(norm[end + 1]) and _is_word_char(norm[end]):
                continue
            s, e = (pos[start], pos[end] + 1) if pos is not None else (start, end + 1)
            found.extend((s, e, i) for i in ids)
        return found

    def match(self, text: str) -> list[KBMatch]:
        """Every KB term in ``text`` (whole words, normalised), with the entry that matched."""
        return [KBMatch(s, e, self.entries[i]) for s, e, i in self.match_ids(text)]

    def pair(self, left: str, right: str, *, either_order: bool = True) -> list[KBEntry]:
        """The entries stating a fact about ``(left, right)`` (also ``(right, left)`` when ``either_order``)."""
        a, b = self.normalize(left), self.normalize(right)
        ids = list(self._pairs.get((a, b), []))
        if either_order and a != b:
            ids += self._pairs.get((b, a), [])
        return [self.pair_entries[i] for i in ids]

    @property
    def labels(self) -> set:
        """Every label used by a term or a pair."""
        return {e.label for e in self.entries} | {e.label for e in self.pair_entries}

    def __len__(self) -> int:
        return len(self.entries) + len(self.pair_entries)

    def __repr__(self) -> str:
        return f"KnowledgeBase({self.name!r}, terms={len(self.entries)}, pairs={len(self.pair_entries)})"


def _items(data: Any) -> list[Any]:
    if data is None:
        return []
    if isinstance(data, Mapping):
        return [(k, v) for k, v in data.items()]
    if isinstance(data, str):
        raise TypeError("Pass terms as a list or mapping, not one string.")
    return list(data)
