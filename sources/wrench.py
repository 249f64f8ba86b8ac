"""Reader for the WRENCH benchmark format (``train.json``/``valid.json``/``test.json`` + ``label.json``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from labeling.core.fileio import check_utf8
from labeling.core.matrix import LabelMatrix

__all__ = ["WrenchSplit", "WrenchDataset", "read_wrench", "read_wrench_split"]

SPLITS = ("train", "valid", "test")


@dataclass
class WrenchSplit:
    """One split of a WRENCH dataset.

    Attributes
    ----------
    name : str
        ``"train"``, ``"valid"`` or ``"test"``.
    data : DataFrame
        One row per example, columns from each record's ``data`` (e.g. ``text``),
        indexed by the record ids of the file.
    L : LabelMatrix
        The stored LF votes (``weak_labels``).
    y : ndarray of int64
        Gold labels (``-1`` where a record has none).
    """

    name: str
    data: pd.DataFrame
    L: LabelMatrix
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.data)


@dataclass
class WrenchDataset:
    """The splits of a WRENCH dataset folder and its class names."""

    name: str
    class_names: list[str]
    splits: dict[str, WrenchSplit] = field(default_factory=dict)

    @property
    def cardinality(self) -> int:
        return len(self.class_names)

    def __getitem__(self, split: str) -> WrenchSplit:
        try:
            return self.splits[split]
        except KeyError:
            raise KeyError(f"Dataset {self.name!r} has no {split!r} split; it has {sorted(self.splits)}.") from None

    def __contains__(self, split: str) -> bool:
        return split in self.splits

    def __iter__(self) -> Iterator[str]:
        return iter(self.splits)

    @property
    def train(self) -> WrenchSplit:
        return self["train"]

    @property
    def valid(self) -> WrenchSplit:
        return self["valid"]

    @property
    def test(self) -> WrenchSplit:
        return self["test"]


def _load_json(path: Path) -> object:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return json.load(fh)
    except UnicodeDecodeError as exc:
        raise check_utf8(path, exc) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to read; a WRENCH split is an object of flat records.") from None


def read_wrench_split(
    path: str | os.PathLike, *, lf_names: Sequence[str] | None = None, name: str | None = None
) -> WrenchSplit:
    """Read one WRENCH split file.

    Parameters
    ----------
    path : path-like
        A ``train.json``-style file: ``{id: {"label", "weak_labels", "data"}}``.
    lf_names : sequence of str, optional
        Names of the LF columns (default ``lf_0``, ``lf_1``, ...).
    name : str, optional
        Split name (default: the file stem).
    """
    path = Path(path)
    records = _load_json(path)
    if not isinstance(records, dict) or not records:
        raise ValueError(f"{path}: expected a non-empty JSON object of records keyed by id.")
    ids, rows, votes, gold = [], [], [], []
    width = None
    for rid, rec in records.items():
        if not isinstance(rec, dict) or "weak_labels" not in rec:
            raise ValueError(f"{path}: record {rid!r} has no 'weak_labels' list; expected WRENCH records.")
        wl = rec["weak_labels"]
        if width is None:
            width = len(wl)
        elif len(wl) != width:
            raise ValueError(f"{path}: record {rid!r} has {len(wl)} weak labels; earlier records have {width}.")
        data = rec.get("data", {})
        ids.append(rid)
        rows.append(data if isinstance(data, dict) else {"text": data})
        votes.append(wl)
        label = rec.get("label")
        if label is not None and (isinstance(label, bool) or not isinstance(label, int) or not -1 <= label < 2**31):
            raise ValueError(f"{path}: record {rid!r} has label {label!r:.40}; expected a class id (an integer >= 0) or null.")
        gold.append(-1 if label is None else label)
        if not isinstance(wl, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in wl):
            raise ValueError(f"{path}: record {rid!r} has weak_labels {str(wl)[:80]}; expected a list of integer votes.")
        big = [j for j, v in enumerate(wl) if not -(2**31) < v < 2**31]
        if big:
            # np.asarray(..., dtype=int64) would raise a bare OverflowError naming neither record nor LF.
            raise ValueError(
                f"{path}: record {rid!r} has weak label {wl[big[0]]} for LF {big[0]}; expected -1 (abstain) or a class id."
            )
        text = data.get("text") if isinstance(data, dict) else data
        if isinstance(text, (dict, list)):
            raise ValueError(
                f"{path}: record {rid!r} has a {type(text).__name__} as its text ({str(text)[:60]}); expected a string."
            )
    index = pd.Index(ids, name="id")
    try:
        L = LabelMatrix(np.asarray(votes, dtype=np.int64), lf_names=lf_names, index=index)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return WrenchSplit(
        name=name or path.stem,
        data=pd.DataFrame(rows, index=index),
        L=L,
        y=np.asarray(gold, dtype=np.int64),
    )


def read_wrench(
    folder: str | os.PathLike, *, splits: Sequence[str] = SPLITS, lf_names: Sequence[str] | None = None
) -> WrenchDataset:
    """Read a WRENCH dataset folder.

    Parameters
    ----------
    folder : path-like
        Holds ``label.json`` and some of ``train.json``, ``valid.json``, ``test.json``.
    splits : sequence of str
        Which splits to read (missing files are skipped; at least one must exist).
    lf_names : sequence of str, optional
        Names for the LF columns.

    Returns
    -------
    WrenchDataset

    Examples
    --------
    >>> ds = read_wrench("tests/data/youtube")  # doctest: +SKIP
    >>> ds.train.L.shape, ds.class_names
    ((1686, 10), ['HAM', 'SPAM'])
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; expected a WRENCH dataset folder with label.json.")
    label_file = folder / "label.json"
    if not label_file.exists():
        raise FileNotFoundError(f"{folder} has no label.json (class id -> name); is it a WRENCH dataset folder?")
    labels = _load_json(label_file)
    if not isinstance(labels, dict) or not labels:
        raise ValueError(f"{label_file}: expected a JSON object of class id -> name, e.g. {{\"0\": \"ham\"}}.")
    try:
        class_names = [str(labels[str(i)]) for i in range(len(labels))]
    except KeyError:
        raise ValueError(f"{label_file}: class ids must be 0..{len(labels) - 1}; got keys {sorted(labels)}.") from None
    ds = WrenchDataset(name=folder.name, class_names=class_names)
    for split in splits:
        path = folder / f"{split}.json"
        if path.exists():
            ds.splits[split] = read_wrench_split(path, lf_names=lf_names, name=split)
    if not ds.splits:
        raise FileNotFoundError(f"{folder} has none of {[f'{s}.json' for s in splits]}.")
    k = len(class_names)
    for split_name, split in ds.splits.items():
        # A gold label past the class list would be scored as a plain error: refuse it with its record.
        bad = np.flatnonzero(split.y >= k)
        if len(bad):
            raise ValueError(
                f"{folder / (split_name + '.json')}: record {split.L.index[bad[0]]!r} has gold label {int(split.y[bad[0]])}; "
                f"{label_file.name} names {k} classes (0..{k - 1})."
            )
        too_big = split.L.values >= k
        if too_big.any():
            i, j = np.argwhere(too_big)[0]
            raise ValueError(
                f"{folder / (split_name + '.json')}: record {split.L.index[i]!r} has weak label {int(split.L.values[i, j])} "
                f"from LF {j}; {label_file.name} names {k} classes (0..{k - 1})."
            )
    widths = {s.L.shape[1] for s in ds.splits.values()}
    if len(widths) > 1:
        raise ValueError(f"{folder}: splits disagree on the number of LFs: {widths}.")
    return ds
