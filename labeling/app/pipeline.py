"""The declarative dataset pipeline behind ``votewise build pipeline.yaml``.

sources -> LFs -> label model -> human reviews -> cleaning -> splits -> augmentation (train) ->
leakage check -> export with datasheet. Every step logs its counts on the ``votewise.build``
logger; a bad config raises :class:`PipelineError` naming the step and the key. Paths in a YAML file
are relative to that file. See ``docs/dataset.md`` for every key.
"""

from __future__ import annotations

import difflib
import glob
import inspect
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from labeling.analysis import lf_summary
from labeling.apply import apply_lfs
from labeling.dataset._progress import bars_shown
from labeling.dataset.augment import AUGMENTATIONS, augment
from labeling.dataset.clean import clean_texts
from labeling.dataset.datasheet import label_model_estimates
from labeling.dataset.dedup import drop_exact_duplicates, drop_near_duplicates
from labeling.dataset.export import (
    DEFAULT_INSTRUCTION, DEFAULT_PROMPT, EXPORT_FORMATS, ExportResult, export_dataset, select_rows,
)
from labeling.dataset.minhash import MinHashIndex
from labeling.dataset.privacy import PII_KINDS, scrub_pii
from labeling.dataset.split import SplitBalanceWarning, assign_splits, leakage_report
from labeling.fileio import FORMATS
from labeling.loading import load_lfs
from labeling.matrix import LabelMatrix, covered_rows
from labeling.outputs import check_outputs, config_paths, relocated, replace_folder
from labeling.review.loop import with_human_labels
from labeling.review.store import ReviewStore
from labeling.safe_yaml import load_yaml
from models import MODEL_REGISTRY, make_model
from rules import rules_from_file
from sources import read_table, read_wrench

__all__ = ["PipelineError", "BuildResult", "build_from_config", "load_config", "DEFAULT_LABEL_MODEL"]

logger = logging.getLogger("votewise.build")

# The registry's "default" entry is the recommended label model; majority vote where none is registered.
DEFAULT_LABEL_MODEL = "default"
STEPS = ("name", "description", "seed", "output", "labels", "progress",
         "sources", "lfs", "label_model", "review", "clean", "split", "augment", "export")


class PipelineError(ValueError):
    """A pipeline config or step failed; ``step`` and ``key`` say where."""

    def __init__(self, step: str, key: str | None, message: str):
        self.step, self.key = step, key
        where = f"step {step!r}" + (f", key {key!r}" if key else "")
        super().__init__(f"pipeline {where}: {message}")


@dataclass
class BuildResult:
    """Everything a pipeline run produced.

    Attributes
    ----------
    data : DataFrame
        The labelled, cleaned rows before splitting (index = row id).
    splits : dict of str to DataFrame
        The rows of each split, augmented rows included in ``train``.
    removed : DataFrame
        Every row a cleaning step removed, with ``step`` and ``reason``.
    counts : dict of str to dict
        Counts logged by each step.
    L : LabelMatrix or None
        LF votes on the source rows.
    model : label model or None
    lf_summary : DataFrame or None
    leakage : DataFrame
        Cross-split near-duplicate pairs found after splitting (empty if none).
    export : ExportResult or None
    output : Path or None
    """

    data: pd.DataFrame
    splits: dict[str, pd.DataFrame]
    removed: pd.DataFrame
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    L: Any = None
    model: Any = None
    lf_summary: pd.DataFrame | None = None
    leakage: pd.DataFrame | None = None
    export: ExportResult | None = None
    output: Path | None = None


# --------------------------------------------------------------------------------------------- config


class _Section:
    """One step's mapping, with typed lookups that raise :class:`PipelineError` naming step and key."""

    def __init__(self, step: str, value: Any, allowed: tuple[str, ...], prefix: str = ""):
        self.step, self.prefix = step, prefix
        if value is None or value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise PipelineError(step, prefix.rstrip(".") or None, f"expected a mapping of options; got {value!r}.")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            k = unknown[0]
            close = difflib.get_close_matches(str(k), allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise PipelineError(step, prefix + str(k), f"unknown key.{hint} Allowed keys: {list(allowed)}.")
        self.value = dict(value)

    def fail(self, key: str, message: str) -> PipelineError:
        return PipelineError(self.step, self.prefix + key, message)

    def get(self, key: str, default: Any = None, *, kind: type | tuple = object, check: Callable | None = None,
            expect: str = "") -> Any:
        if key not in self.value or self.value[key] is None:
            return default
        value = self.value[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(key, f"expected {expect or kind}; got {value!r}.")
        if not isinstance(value, kind) or (check is not None and not check(value)):
            raise self.fail(key, f"expected {expect or getattr(kind, '__name__', kind)}; got {value!r}.")
        return value

    def number(self, key: str, default: Any, lo: float, hi: float, *, lo_open: bool = False) -> Any:
        ok = (lambda v: lo < v <= hi) if lo_open else (lambda v: lo <= v <= hi)
        span = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi}]"
        return self.get(key, default, kind=(int, float), check=ok, expect=f"a number in {span}")

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, default, kind=bool, expect="true or false")

    def text(self, key: str, default: str | None = None) -> str | None:
        return self.get(key, default, kind=str, expect="a string")

    def strings(self, key: str, default: list[str] | None = None) -> list[str] | None:
        value = self.get(key, default)
        if isinstance(value, str):
            value = [value]
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise self.fail(key, f"expected a string or a list of strings; got {value!r}.")
        return value

    def sub(self, key: str, allowed: tuple[str, ...], *, default_on: bool = False) -> "_Section | None":
        """A nested mapping; ``false`` -> None, ``true`` -> all defaults; absent -> all defaults if ``default_on``.

        Steps that protect the shipped data (near-duplicate removal, PII masking) are ``default_on``: leaving
        the key out must not silently turn them off.
        """
        value = self.value.get(key, {} if default_on else None)
        if value is None and default_on and key in self.value:
            value = {}  # ``pii:`` with nothing after it is YAML null: the step with its defaults
        if value is None or value is False:
            return None
        return _Section(self.step, value, allowed, prefix=f"{self.prefix}{key}.")


def load_config(path_or_dict: str | os.PathLike | Mapping[str, Any]) -> tuple[dict[str, Any], Path]:
    """Read a pipeline config: a YAML file (paths relative to it) or a mapping (paths relative to the cwd)."""
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict), Path.cwd()
    path = Path(path_or_dict)
    if not path.is_file():
        raise FileNotFoundError(f"Pipeline config {path} does not exist.")
    try:
        config = load_yaml(path)  # size and alias-expansion limits: a config is data, maybe not ours
    except ValueError as exc:
        raise PipelineError("config", None, str(exc)) from exc
    if not isinstance(config, Mapping):
        raise PipelineError("config", None, f"{path} must hold a mapping of steps; got {type(config).__name__}.")
    return dict(config), path.resolve().parent


def _log(step: str, counts: Mapping[str, Any], result: dict[str, dict[str, Any]]) -> None:
    result[step] = dict(counts)
    logger.info("%-11s %s", step, ", ".join(f"{k}={v}" for k, v in counts.items()))


def _resolve(base: Path, p: str) -> Path:
    path = Path(os.path.expanduser(p))
    return path if path.is_absolute() else base / path


# -------------------------------------------------------------------------------------------- steps

_SOURCE_KEYS = ("path", "wrench", "format", "text_column", "id_column", "keep_columns", "splits")


def _unique_ids(ids: pd.Series) -> pd.Index:
    """Suffix repeated ids (``id#1``, ``id#2``) so every row keeps a unique, traceable id."""
    ids = ids.astype(str)
    dup = ids.groupby(ids).cumcount()
    return pd.Index(np.where(dup > 0, ids + "#" + dup.astype(str), ids), name="id")


def _read_sources(config: Any, base: Path) -> tuple[pd.DataFrame, Any, list[str], list[str] | None]:
    """Rows of all sources, the stored WRENCH votes (if every source is WRENCH) and the source names."""
    if not isinstance(config, list) or not config:
        raise PipelineError("sources", None, "expected a non-empty list of sources, e.g. [{path: data/*.csv}].")
    frames, stored, names, wrench_labels = [], [], [], None
    for i, item in enumerate(config):
        if isinstance(item, str):
            item = {"path": item}
        sec = _Section("sources", item, _SOURCE_KEYS, prefix=f"[{i}].")
        text_col = sec.text("text_column", "text")
        keep = sec.strings("keep_columns", []) or []
        if sec.text("wrench"):
            folder = _resolve(base, sec.text("wrench"))
            if not folder.is_dir():
                raise sec.fail("wrench", f"folder {folder} does not exist.")
            ds = read_wrench(folder)
            wrench_labels = list(ds.label_names)
            for split in sec.strings("splits", list(ds)) or []:
                part = ds[split]
                df = part.data.copy()
                df.index = (split + "/" + df.index.astype(str)).rename("id")
                frames.append(df[["text", *keep]])
                stored.append(part.L)
                names.append(f"{folder.name}/{split}.json")
            continue
        pattern = sec.text("path")
        if pattern is None:
            raise sec.fail("path", "each source needs `path` (a file or glob) or `wrench` (a WRENCH folder).")
        files = sorted(glob.glob(str(_resolve(base, pattern))))
        if not files:
            raise sec.fail("path", f"no file matches {str(_resolve(base, pattern))!r}.")
        id_col = sec.text("id_column")
        fmt = sec.get("format", None, kind=str, check=lambda v: v in FORMATS, expect=f"one of {list(FORMATS)}")
        for f in files:
            try:
                df = read_table(f, text_column=text_col, format=fmt)
            except (KeyError, ValueError) as exc:
                raise sec.fail("text_column" if isinstance(exc, KeyError) else "path", str(exc.args[0])) from exc
            missing = [c for c in [id_col, *keep] if c is not None and c not in df.columns]
            if missing:
                key = "id_column" if missing[0] == id_col else "keep_columns"
                raise sec.fail(key, f"{f} has no column {missing[0]!r}; its columns are {list(map(str, df.columns))}.")
            ids = df[id_col] if id_col else pd.Series([f"{Path(f).stem}:{j}" for j in range(len(df))])
            out = pd.DataFrame({"text": df[text_col].to_numpy()})
            for c in keep:
                out[c] = df[c].to_numpy()
            out.index = pd.Index(ids.astype(str).to_numpy(), name="id")
            frames.append(out)
            stored.append(None)
            names.append(os.path.relpath(f, base))
    data = pd.concat(frames)
    data.index = _unique_ids(data.index.to_series())
    L = None
    if all(s is not None for s in stored):
        L = LabelMatrix(np.vstack([np.asarray(s) for s in stored]), lf_names=list(stored[0].lf_names),
                        index=list(data.index))
    return data, L, names, wrench_labels


_LF_KEYS = ("python", "rules", "stored", "n_jobs", "fault_tolerant")


def _load_lfs(sec: _Section, base: Path, labels: list[str]) -> list:
    lfs: list = []
    for p in sec.strings("python", []) or []:
        try:
            lfs += load_lfs(_resolve(base, p))
        except (FileNotFoundError, ValueError, ImportError) as exc:
            raise sec.fail("python", str(exc)) from exc
    for p in sec.strings("rules", []) or []:
        path = _resolve(base, p)
        if not path.is_file():
            raise sec.fail("rules", f"rule file {path} does not exist.")
        try:
            lfs += rules_from_file(path, labels=labels)
        except (ValueError, KeyError) as exc:
            raise sec.fail("rules", str(exc)) from exc
    return lfs


_MODEL_KEYS = ("name", "params", "tie_break")


def _fit_label_model(sec: _Section, L: Any, k: int, y_partial: np.ndarray | None) -> tuple[Any, np.ndarray, np.ndarray]:
    name = sec.text("name", DEFAULT_LABEL_MODEL if DEFAULT_LABEL_MODEL in MODEL_REGISTRY else "mv")
    params = dict(sec.get("params", {}, kind=Mapping, expect="a mapping of model parameters"))
    if name not in MODEL_REGISTRY:
        raise sec.fail("name", f"unknown label model {name!r}; known: {sorted(MODEL_REGISTRY)}.")
    try:
        accepts = inspect.signature(MODEL_REGISTRY[name]).parameters
    except (TypeError, ValueError):
        accepts = {}
    if "cardinality" in accepts and "cardinality" not in params:
        params["cardinality"] = k
    tie_break = sec.text("tie_break")
    try:
        model = make_model(name, **params)
        if y_partial is not None and (y_partial >= 0).any():
            model.fit(L, y_partial)
        else:
            model.fit(L)
        probs = model.predict_proba(L)
        preds = model.predict(L, tie_break=tie_break) if tie_break else model.predict(L)
    except TypeError as exc:
        raise sec.fail("params", f"{name}: {exc}") from exc
    except ValueError as exc:
        raise sec.fail("tie_break" if "tie_break" in str(exc) else "params", str(exc)) from exc
    return model, probs, preds


_REVIEW_KEYS = ("store", "path", "id_column", "label_column", "reviewer_column")


def _store_reviews(sec: _Section, base: Path, labels: list[str], data: pd.DataFrame) -> pd.DataFrame:
    """Resolved labels of a :class:`labeling.review.ReviewStore` (double reviews only once settled)."""
    path = _resolve(base, sec.text("store"))
    if not path.is_file():
        raise sec.fail("store", f"review store {path} does not exist.")
    store = ReviewStore(path)
    try:
        stored_names = store.class_names
        if stored_names and [n.lower() for n in stored_names] != [n.lower() for n in labels]:
            raise sec.fail("store", f"{path} has class names {stored_names}; the pipeline's labels are {labels}.")
        resolved = store.resolved_labels()
        reviewers = {sid: ",".join(sorted(by)) for sid, by in store.reviewer_labels().items()}
    finally:
        store.close()
    ids = [sid for sid in resolved if sid in data.index]
    reviews = pd.DataFrame({"label": [int(resolved[i]) for i in ids]}, index=pd.Index(ids, name="id"))
    reviews["reviewer"] = [reviewers.get(i, "adjudication") for i in ids]
    bad = reviews["label"][(reviews["label"] < 0) | (reviews["label"] >= len(labels))]
    if len(bad):
        raise sec.fail("store", f"sample {bad.index[0]!r} has label {int(bad.iloc[0])}; expected 0..{len(labels) - 1}.")
    return reviews


def _read_reviews(sec: _Section, base: Path, labels: list[str], data: pd.DataFrame) -> pd.DataFrame:
    if sec.text("store") is not None:
        return _store_reviews(sec, base, labels, data)
    p = sec.text("path")
    if p is None:
        raise sec.fail("path", "give `store: reviews.sqlite` (a review store) or `path:` (a CSV/JSONL/Parquet "
                               "file with id and label columns).")
    path = _resolve(base, p)
    if not path.is_file():
        raise sec.fail("path", f"{path} does not exist.")
    id_col, label_col = sec.text("id_column", "id"), sec.text("label_column", "label")
    df = read_table(path, text_column=None)
    for key, col in (("id_column", id_col), ("label_column", label_col)):
        if col not in df.columns:
            raise sec.fail(key, f"{path} has no column {col!r}; its columns are {list(map(str, df.columns))}.")
    raw = df[label_col]
    by_name = {n: i for i, n in enumerate(labels)}
    ids = df[id_col].astype(str).tolist()
    out = []
    for rid, value in zip(ids, raw):
        label = by_name.get(str(value))
        if label is None:
            try:
                label = int(value)
            except (TypeError, ValueError):
                label = -2
        if not 0 <= label < len(labels):
            raise sec.fail("label_column", f"{path}: row id {rid!r} has label {value!r}; expected one of {labels} or 0..{len(labels) - 1}.")
        out.append(label)
    unknown = [r for r in ids if r not in data.index]
    if unknown:
        raise sec.fail("id_column", f"{path}: {len(unknown)} ids are not source rows, e.g. {unknown[0]!r}.")
    reviews = pd.DataFrame({"label": out}, index=pd.Index(ids, name="id"))
    rcol = sec.text("reviewer_column")
    if rcol:
        if rcol not in df.columns:
            raise sec.fail("reviewer_column", f"{path} has no column {rcol!r}.")
        reviews["reviewer"] = df[rcol].astype(str).to_numpy()
    return reviews[~reviews.index.duplicated(keep="last")]


_CLEAN_KEYS = ("normalize", "lowercase", "strip_markup", "unicode_form", "min_chars",
               "exact_duplicates", "near_duplicates", "pii")
_NEAR_KEYS = ("threshold", "num_perm", "shingle_size", "unit")
_PII_KEYS = ("action", "kinds", "template")


def _clean(sec: _Section, data: pd.DataFrame, seed: int, counts: dict,
           ran: dict[str, str] | None = None, shared: dict | None = None,
           progress: bool = False) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The cleaning steps; ``ran`` receives one line per step saying whether it ran and with which settings,
    ``shared["index"]`` the MinHash index of near-dedup (reused by split grouping and the leakage check)."""
    ran = {} if ran is None else ran
    shared = {} if shared is None else shared
    removed = []
    n0 = len(data)
    opts = dict(
        normalize=sec.flag("normalize", True),
        lowercase=sec.flag("lowercase", False),
        strip_markup=sec.flag("strip_markup", True),
        unicode_form=sec.get("unicode_form", "NFKC", kind=str, check=lambda v: v in ("NFC", "NFKC", "NFD", "NFKD"),
                             expect="one of NFC, NFKC, NFD, NFKD"),
        min_chars=sec.get("min_chars", 1, kind=int, check=lambda v: v >= 0, expect="an integer >= 0"),
    )
    res = clean_texts(data, **opts, progress=progress)
    ran["normalize"] = (f"on ({opts['unicode_form']}, markup {'stripped' if opts['strip_markup'] else 'kept'}"
                        f"{', lower-cased' if opts['lowercase'] else ''})" if opts["normalize"] else "off")
    ran["min_chars"] = str(opts["min_chars"])
    data = res.data
    removed.append(res.removed.assign(step="clean"))
    _log("clean", {"rows_in": n0, **res.counts, "rows_out": len(data)}, counts)
    ran["exact_duplicates"] = "on" if sec.flag("exact_duplicates", True) else "off"
    if sec.flag("exact_duplicates", True):
        res = drop_exact_duplicates(data, progress=progress)
        data = res.data
        removed.append(res.removed.assign(step="dedup_exact"))
        _log("dedup_exact", {**res.counts, "rows_out": len(data)}, counts)
    near = sec.sub("near_duplicates", _NEAR_KEYS, default_on=True)
    ran["near_duplicates"] = "off (clean.near_duplicates: false)"
    if near is not None:
        nopts = dict(
            threshold=near.number("threshold", 0.8, 0.0, 1.0, lo_open=True),
            num_perm=near.get("num_perm", 128, kind=int, check=lambda v: v >= 16, expect="an integer >= 16"),
            k=near.get("shingle_size", 5, kind=int, check=lambda v: v >= 1, expect="an integer >= 1"),
            unit=near.get("unit", "char", kind=str, check=lambda v: v in ("char", "word"), expect="'char' or 'word'"),
        )
        index = MinHashIndex(num_perm=nopts["num_perm"], k=nopts["k"], unit=nopts["unit"], random_state=seed,
                             progress=progress)
        if nopts["k"] == 5 and nopts["unit"] == "char":
            shared["index"] = index  # the shingles split grouping and the leakage check use too
        res = drop_near_duplicates(data, **nopts, random_state=seed, index=index)
        ran["near_duplicates"] = (f"on (Jaccard >= {nopts['threshold']} of {nopts['unit']} {nopts['k']}-grams, "
                                  f"{nopts['num_perm']} MinHash permutations)")
        data = res.data
        removed.append(res.removed.assign(step="dedup_near"))
        _log("dedup_near", {**res.counts, "rows_out": len(data)}, counts)
    pii = sec.sub("pii", _PII_KEYS, default_on=True)
    ran["pii"] = "off (clean.pii: false)"
    if pii is not None:
        kinds = pii.strings("kinds", list(PII_KINDS))
        bad = [k for k in kinds if k not in PII_KINDS]
        if bad:
            raise pii.fail("kinds", f"unknown kind {bad[0]!r}; expected some of {list(PII_KINDS)}.")
        res = scrub_pii(
            data,
            action=pii.get("action", "mask", kind=str, check=lambda v: v in ("mask", "drop", "report"),
                           expect="one of 'mask', 'drop', 'report'"),
            kinds=kinds,
            template=pii.text("template", "[{kind}]"),
            progress=progress,
        )
        ran["pii"] = f"on ({pii.value.get('action', 'mask')}: {', '.join(kinds)})"
        data = res.data
        removed.append(res.removed.assign(step="pii"))
        _log("pii", {**res.counts, "rows_out": len(data)}, counts)
    return data, removed


_SPLIT_KEYS = ("fractions", "stratify", "groups", "group_near_duplicates", "leakage_threshold")
_AUG_KEYS = ("methods", "alpha", "fraction", "back_translation")
_BT_KEYS = ("forward", "backward", "batch_size", "max_new_tokens", "num_beams", "device", "min_bleu")
_EXPORT_KEYS = ("formats", "min_confidence", "drop_uncovered", "keep_probs", "include_reviewed",
                "prompt_template", "instruction", "system_prompt", "metadata")


def _split(sec: _Section, data: pd.DataFrame, seed: int, counts: dict, index: Any = None,
           progress: bool = False) -> dict[str, pd.DataFrame]:
    fractions = sec.get("fractions", {"train": 0.8, "valid": 0.1, "test": 0.1}, kind=Mapping,
                        expect="a mapping of split name to share, e.g. {train: 0.8, valid: 0.1, test: 0.1}")
    group_at = sec.value.get("group_near_duplicates", 0.7)
    group_at = None if group_at is False else sec.number("group_near_duplicates", 0.7, 0.0, 1.0, lo_open=True)
    stratify = sec.flag("stratify", True)
    groups = sec.text("groups")
    if groups is not None and groups not in data.columns:
        raise sec.fail("groups", f"no column {groups!r} to group by; carry it from the source with "
                                 f"`keep_columns: [{groups}]`. The columns are {list(map(str, data.columns))}.")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SplitBalanceWarning)
            where = assign_splits(
                data, fractions=fractions, label_column="label" if stratify else None, groups=groups,
                near_duplicate_threshold=group_at, random_state=seed, index=index, progress=progress,
            )
    except ValueError as exc:
        raise sec.fail("fractions", str(exc)) from exc
    balance = [str(w.message) for w in caught if issubclass(w.category, SplitBalanceWarning)]
    for message in balance:
        logger.warning("split: %s", message)
    splits = {name: data.loc[(where == name).to_numpy()] for name in fractions}
    info: dict[str, Any] = {name: len(f) for name, f in splits.items()}
    if balance:
        info["balance_warnings"] = len(balance)
    _log("split", info, counts)
    return splits


def _augment(sec: _Section, train: pd.DataFrame, base: Path, seed: int, progress: bool, counts: dict) -> pd.DataFrame:
    methods = sec.get("methods", ["synonym", "swap"])
    if isinstance(methods, str):
        methods = [methods]
    names = list(methods) if isinstance(methods, (list, Mapping)) else None
    if names is None or any(m not in AUGMENTATIONS for m in names):
        bad = names and next(m for m in names if m not in AUGMENTATIONS)
        raise sec.fail("methods", f"expected a list or mapping of {list(AUGMENTATIONS)}; got {bad if bad else methods!r}.")
    translator, min_bleu = None, None
    bt = sec.sub("back_translation", _BT_KEYS)
    if "back_translation" in names:
        if bt is None:
            raise sec.fail("back_translation", "method 'back_translation' needs {forward: MODEL_DIR, backward: MODEL_DIR}.")
        from labeling.dataset.translate import MarianTranslator

        opts = dict(
            batch_size=bt.get("batch_size", 16, kind=int, check=lambda v: v >= 1, expect="an integer >= 1"),
            max_new_tokens=bt.get("max_new_tokens", 128, kind=int, check=lambda v: v >= 1, expect="an integer >= 1"),
            num_beams=bt.get("num_beams", 1, kind=int, check=lambda v: v >= 1, expect="an integer >= 1"),
            device=bt.text("device", "cpu"),
            progress=progress,
        )
        pair = []
        for key in ("forward", "backward"):
            p = bt.text(key)
            if p is None or not (_resolve(base, p) / "config.json").is_file():
                raise bt.fail(key, f"expected a local MarianMT model folder (with config.json); got {p!r}.")
            pair.append(MarianTranslator(_resolve(base, p), **opts))
        translator = tuple(pair)
        min_bleu = bt.number("min_bleu", None, 0.0, 100.0)
    try:
        extra = augment(
            train,
            methods=methods,
            alpha=sec.number("alpha", 0.1, 0.0, 1.0, lo_open=True),
            fraction=sec.number("fraction", 1.0, 0.0, 1.0),
            translator=translator,
            min_bleu=min_bleu,
            random_state=seed,
            progress=progress,
        )
    except (ValueError, LookupError) as exc:
        # LookupError: WordNet is not installed; its message gives the install command.
        raise sec.fail("methods", str(exc.args[0] if exc.args else exc)) from exc
    per = extra["augmentation"].value_counts().to_dict() if len(extra) else {}
    info = {"source_rows": len(train), **{f"{m}": int(n) for m, n in per.items()}, "added": len(extra)}
    if "bleu" in extra and extra["bleu"].notna().any():
        info["back_translation_mean_bleu"] = round(float(extra["bleu"].mean()), 2)
    _log("augment", info, counts)
    return extra


def build_from_config(
    path_or_dict: str | os.PathLike | Mapping[str, Any],
    *,
    output: str | os.PathLike | None = None,
    base_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> BuildResult:
    """Build a dataset from a pipeline config (a YAML file or a mapping).

    Parameters
    ----------
    path_or_dict : path-like or mapping
        ``pipeline.yaml`` (relative paths inside are relative to it) or the same content as a dict.
    output : path-like, optional
        Output folder, overriding the config's ``output`` key.
    base_dir : path-like, optional
        Folder that relative paths are resolved against (default: the YAML file's folder, or the
        current directory for a mapping).
    progress : bool, optional
        Progress bars; overrides the config's ``progress`` key (default true).

    Returns
    -------
    BuildResult

    Raises
    ------
    PipelineError
        A bad key or value, or a step that failed, named as ``pipeline step 'clean', key
        'near_duplicates.threshold': ...``.

    Examples
    --------
    >>> result = build_from_config("examples/youtube_spam/pipeline.yaml")  # doctest: +SKIP
    >>> result.export.counts  # doctest: +SKIP
    {'train': ..., 'valid': ..., 'test': ...}
    """
    config, base = load_config(path_or_dict)
    if base_dir is not None:
        base = Path(base_dir)
    if output is not None:
        config["output"] = os.fspath(Path(output).resolve())
    if isinstance(config.get("output"), str):  # before any work: the output folder may be no file and hold no input
        check_outputs((), config_paths(config, base, source=path_or_dict), folders={"output": _resolve(base, config["output"])})
    top = _Section("config", config, STEPS)
    seed = top.get("seed", 0, kind=int, expect="an integer")
    if progress is None:
        progress = top.flag("progress", True)
    # Bars only where someone watches: not redrawn into a log file or a CI capture.
    progress = bars_shown(progress)
    counts: dict[str, dict[str, Any]] = {}
    name = top.text("name", "dataset")

    # sources
    data, stored_L, source_names, wrench_labels = _read_sources(config.get("sources"), base)
    labels = top.strings("labels", wrench_labels)
    if not labels or len(labels) < 2:
        raise PipelineError("labels", None, "give the class names in id order, e.g. labels: [HAM, SPAM].")
    k = len(labels)
    _log("sources", {"files": len(source_names), "rows": len(data)}, counts)

    # LFs
    lf_sec = _Section("lfs", config.get("lfs"), _LF_KEYS)
    lfs = _load_lfs(lf_sec, base, labels)
    if lfs:
        L = apply_lfs(
            data, lfs, cardinality=k, progress=progress,
            n_jobs=lf_sec.get("n_jobs", 1, kind=int, expect="an integer"),
            fault_tolerant=lf_sec.flag("fault_tolerant", False),
        )
    elif stored_L is not None and lf_sec.flag("stored", True):
        L = stored_L
    else:
        raise PipelineError("lfs", "python", "no labeling functions: give `python: lfs.py` and/or `rules: [file]`.")
    votes = np.asarray(L)
    covered = covered_rows(votes)
    _log("lfs", {"lfs": votes.shape[1], "rows": votes.shape[0], "covered": int(covered.sum())}, counts)

    summary = lf_summary(L)

    # human reviews
    reviews = None
    rev_sec = None
    if config.get("review"):
        rev_sec = _Section("review", config.get("review"), _REVIEW_KEYS)
        reviews = _read_reviews(rev_sec, base, labels, data)
    y_partial = None
    if reviews is not None:
        y_partial = np.full(len(data), -1, dtype=np.int64)
        y_partial[data.index.get_indexer(reviews.index)] = reviews["label"].to_numpy()

    # label model
    lm_sec = _Section("label_model", config.get("label_model"), _MODEL_KEYS)
    model, probs, preds = _fit_label_model(lm_sec, L, k, y_partial)
    labelled = data.copy()
    labelled["label"] = preds.astype(np.int64)
    labelled["confidence"] = probs.max(axis=1)
    if y_partial is not None:
        human_probs, human = with_human_labels(probs, y_partial)
        reviewed = human != -1
        labelled["label"] = np.where(reviewed, human, labelled["label"].to_numpy())
        labelled["confidence"] = np.where(reviewed, human_probs.max(axis=1), labelled["confidence"].to_numpy())
    for j, lab in enumerate(labels):
        labelled[f"prob_{lab}"] = probs[:, j]
    labelled["covered"] = covered
    labelled["label_source"] = "label_model"
    _log("label_model", {"model": type(model).__name__, **{lab: int((preds == j).sum()) for j, lab in enumerate(labels)},
                         "no_label": int((preds < 0).sum())}, counts)
    if reviews is not None:
        pos = labelled.index.get_indexer(reviews.index)
        labelled.iloc[pos, labelled.columns.get_loc("label_source")] = "human"
        if "reviewer" in reviews:
            labelled["reviewer"] = None
            labelled.iloc[pos, labelled.columns.get_loc("reviewer")] = reviews["reviewer"].to_numpy()
        agree = int((preds[pos] == reviews["label"].to_numpy()).sum())
        _log("review", {"human_labels": len(reviews), "agree_with_model": agree}, counts)

    # cleaning
    clean_sec = _Section("clean", config.get("clean"), _CLEAN_KEYS)
    processing: dict[str, str] = {}
    shared: dict[str, Any] = {}
    cleaned, removed_parts = _clean(clean_sec, labelled, seed, counts, processing, shared, progress)
    # One MinHash index for near-dedup, split grouping and the leakage check: each row is signed once.
    index = shared.get("index") or MinHashIndex(random_state=seed, progress=progress)

    # splits
    split_sec = _Section("split", config.get("split"), _SPLIT_KEYS)
    splits = _split(split_sec, cleaned, seed, counts, index, progress)

    # Export options are read now: augmenting rows the export would leave out is wasted work.
    ex = _Section("export", config.get("export"), _EXPORT_KEYS)
    formats = ex.strings("formats", ["jsonl"])
    bad = [f for f in formats if f not in EXPORT_FORMATS]
    if bad:
        raise ex.fail("formats", f"unknown format {bad[0]!r}; expected some of {list(EXPORT_FORMATS)}.")
    filters = dict(
        min_confidence=ex.number("min_confidence", None, 0.0, 1.0),
        drop_uncovered=ex.flag("drop_uncovered", True),
        include_reviewed=ex.flag("include_reviewed", True),
    )

    # augmentation, training split only: augmenting evaluation rows would leak and inflate scores
    aug_cfg = config.get("augment")
    if aug_cfg:
        aug_sec = _Section("augment", aug_cfg, _AUG_KEYS)
        train_name = "train" if "train" in splits else next(iter(splits))
        eligible, _ = select_rows(splits[train_name], **filters)
        extra = _augment(aug_sec, eligible, base, seed, progress, counts)
        splits[train_name] = pd.concat([splits[train_name], extra])

    leak_at = split_sec.number("leakage_threshold", 0.8, 0.0, 1.0, lo_open=True)
    leakage = leakage_report(splits, threshold=leak_at, random_state=seed, index=index)
    dropped_aug = 0
    if aug_cfg and len(leakage):
        # An augmented text can drift close to a row of another split even though its source did not:
        # such variants are dropped rather than let evaluation rows leak into training.
        train = splits[train_name]
        is_aug = train["augmentation"].notna() if "augmentation" in train else pd.Series(False, index=train.index)
        leaking = set(leakage.loc[leakage["split_a"] == train_name, "id_a"]) | set(
            leakage.loc[leakage["split_b"] == train_name, "id_b"])
        bad = is_aug & train.index.isin(list(leaking))
        dropped_aug = int(bad.sum())
        if dropped_aug:
            removed_parts.append(train.loc[bad].assign(reason="augmentation_leaks", step="leakage"))
            splits[train_name] = train.loc[~bad]
            leakage = leakage_report(splits, threshold=leak_at, random_state=seed, index=index)
    _log("leakage", {"threshold": leak_at, "dropped_augmented": dropped_aug, "cross_split_pairs": len(leakage)},
         counts)
    if len(leakage):
        logger.warning("leakage: %d near-duplicate pairs span two splits (see leakage.csv)", len(leakage))

    removed = pd.concat([r for r in removed_parts if len(r)] or [labelled.iloc[:0].assign(reason=[], step=[])])

    # export
    result = BuildResult(
        data=cleaned, splits=splits, removed=removed, counts=counts, L=L, model=model,
        lf_summary=summary, leakage=leakage,
    )
    out = top.text("output")
    if out is not None:
        final_dir = _resolve(base, out)
        with replace_folder(final_dir) as out_dir:  # replaced as a whole: nothing of an earlier build stays
            cleaning = {step: {k: v for k, v in c.items() if k not in ("rows_in", "rows_out")}
                        for step, c in counts.items() if step in ("clean", "dedup_exact", "dedup_near", "pii")}
            try:
                result.export = export_dataset(
                    splits, out_dir, label_names=labels, formats=formats, **filters,
                    keep_probs=ex.flag("keep_probs", False),
                    prompt_template=ex.text("prompt_template", DEFAULT_PROMPT),
                    instruction=ex.text("instruction", DEFAULT_INSTRUCTION),
                    system_prompt=ex.text("system_prompt"),
                    metadata=ex.flag("metadata", False), progress=progress,
                    datasheet=dict(
                        name=name, description=top.text("description"), sources=source_names,
                        lf_summary=summary, label_model=label_model_estimates(model), cleaning=cleaning,
                        processing=processing, random_state=seed,
                    ),
                )
            except (KeyError, ValueError) as exc:
                msg = exc.args[0] if exc.args else str(exc)
                key = "prompt_template" if "template" in str(msg) else None
                raise PipelineError("export", key, str(msg)) from exc
            except ImportError as exc:
                raise PipelineError("export", "formats", str(exc)) from exc
            removed.to_csv(out_dir / "removed.csv")
            if len(leakage):
                leakage.to_csv(out_dir / "leakage.csv", index=False)
        result.export = relocated(result.export, out_dir, final_dir)
        out_dir = final_dir
        result.output = out_dir
        _log("export", {"dir": str(out_dir), **result.export.counts,
                        **{f"filtered_{k}": v for k, v in result.export.filtered.items()}}, counts)
    return result
