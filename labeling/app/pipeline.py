"""The declarative dataset pipeline behind ``votewise build pipeline.yaml``: the runner.

The whole config is first parsed and checked by :func:`labeling.app.build_config.parse_config` (every
problem reported at once, before a row is read); then :func:`run_build` calls one function per step, each
with only its own settings:

sources -> LFs -> label model -> human reviews -> cleaning (normalise, mask PII, exact and near dedup) ->
splits -> augmentation (train) -> leakage check -> export with datasheet.

Every step logs its counts on the ``votewise.build`` logger; a step that fails on the data raises
:class:`PipelineError` naming the step and the key. Paths in a YAML file are relative to that file.
What a build writes (the datasheet's record, the output folder's files) is :mod:`labeling.app.build_output`.
See ``docs/dataset.md`` for every key.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd

from labeling.core.analysis import lf_summary
from labeling.core.apply import apply_lfs
from labeling.dataset._progress import bars_shown
from labeling.dataset.augment import augment
from labeling.dataset.clean import clean_texts
from labeling.dataset.dedup import drop_exact_duplicates, drop_near_duplicates
from labeling.dataset.export import ExportResult, select_rows
from labeling.dataset.minhash import MinHashIndex
from labeling.dataset.privacy import PII_KINDS, scrub_pii
from labeling.dataset.split import SplitBalanceWarning, assign_splits, leakage_report
from labeling.core.loading import load_lfs
from labeling.core.matrix import LabelMatrix, covered_rows
from labeling.core.outputs import check_outputs, relocated, replace_folder
from labeling.review.loop import with_human_labels
from labeling.review.store import ReviewStore
from models import MODEL_REGISTRY, make_model
from rules import rules_from_file
from sources import read_table, read_wrench

from .build_config import (
    DEFAULT_LABEL_MODEL,
    AugmentSettings,
    BuildConfig,
    CleanSettings,
    ConfigError,
    ExportSettings,
    LabelModelSettings,
    LFSettings,
    NearDuplicateSettings,
    PIISettings,
    PipelineError,
    ReviewSettings,
    SourceSettings,
    SplitSettings,
    load_config,
    read_config,
)
from .build_output import datasheet_fields, write_outputs

__all__ = ["PipelineError", "ConfigError", "BuildResult", "build_from_config", "run_build", "load_config", "DEFAULT_LABEL_MODEL"]

logger = logging.getLogger("votewise.build")

# CPU seconds per 100,000 rows that benchmarks/dataset_build.py measured for the YouTube example's LFs, the
# default cleaning, a grouped split and a JSONL export: the basis of the up-front estimate.
_SECONDS_PER_100K = 31.0

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
        Every row a cleaning step removed, with ``step`` and ``reason``; its text is masked like the
        shipped rows' whenever PII masking ran.
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
    config : BuildConfig or None
        The checked settings the run used.
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
    config: BuildConfig | None = None


def build_from_config(
    path_or_dict: str | os.PathLike | Mapping[str, Any],
    *,
    output: str | os.PathLike | None = None,
    base_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> BuildResult:
    """Build a dataset from a pipeline config (a YAML file or a mapping).

    The whole config is checked first (:func:`labeling.app.build_config.parse_config`): every problem is
    reported at once, naming its step and key, before a row is read.

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
    ConfigError
        The config has problems (all of them listed), e.g. ``pipeline step 'export', key 'formts': unknown
        key. Did you mean 'formats'?``.
    PipelineError
        A step failed on the data, named as ``pipeline step 'sources', key '[0].id_column': ...``.

    Examples
    --------
    >>> result = build_from_config("examples/youtube_spam/pipeline.yaml")  # doctest: +SKIP
    >>> result.export.counts  # doctest: +SKIP
    {'train': ..., 'valid': ..., 'test': ...}
    """
    config = read_config(path_or_dict, output=output, base_dir=base_dir)
    config_file = None if isinstance(path_or_dict, Mapping) else path_or_dict
    return run_build(config, config_file=config_file, progress=progress)


def run_build(
    config: BuildConfig, *, config_file: str | os.PathLike | None = None, progress: bool | None = None
) -> BuildResult:
    """Run the pipeline of a config already checked by :func:`labeling.app.build_config.read_config`.

    :func:`build_from_config` is this after reading the config; ``votewise build`` calls the two apart,
    so that a typo is reported before this module (and scikit-learn) is imported.

    Parameters
    ----------
    config : BuildConfig
    config_file : path-like, optional
        The YAML file the config came from: the output folder may not hold it either.
    progress : bool, optional
        Progress bars; overrides the config's ``progress`` key (default true).
    """
    if config.output is not None:  # before any work: the output folder may be no file and hold no input
        _check_output_folder(config, config_file)
    # Bars only where someone watches: not redrawn into a log file or a CI capture.
    progress = bars_shown(config.progress if progress is None else progress)
    counts: dict[str, dict[str, Any]] = {}
    seed = config.seed
    logger.info("%-11s %s", "plan", _plan(config))

    data, stored_L, source_names, wrench_labels = _read_sources(config.sources, config.base)
    labels = _class_names(config.class_names, wrench_labels)
    _log("sources", {"files": len(source_names), "rows": len(data)}, counts)
    _log_estimate(len(data))

    L, covered = _vote(config.lfs, data, stored_L, labels, progress, counts)
    summary = lf_summary(L)
    reviews = _read_reviews(config.review, labels, data) if config.review is not None else None
    labelled, model = _label(config.label_model, data, L, covered, labels, reviews, counts)

    cleaned = _clean(config.clean, labelled, seed, counts, progress)
    # One MinHash index for near-dedup, split grouping and the leakage check: each row is signed once.
    index = cleaned.index or MinHashIndex(random_state=seed, progress=progress)
    splits = _split(config.split, cleaned.data, seed, counts, index, progress)
    train_name = None
    if config.augment is not None:
        train_name = _augment_train(config.augment, splits, _export_filters(config.export), seed, progress, counts)
    leakage = _leakage(splits, train_name, config.split.leakage_threshold, seed, index, cleaned.removed, counts)

    result = BuildResult(data=cleaned.data, splits=splits, removed=_removed_rows(cleaned.removed, labelled),
                         counts=counts, L=L, model=model, lf_summary=summary, leakage=leakage, config=config)
    if config.output is not None:
        _export(config, result, labels, source_names, cleaned, counts, progress)
    return result


def _log(step: str, counts: Mapping[str, Any], result: dict[str, dict[str, Any]]) -> None:
    """Record a step's counts in ``result`` and log them on one line."""
    result[step] = dict(counts)
    logger.info("%-11s %s", step, ", ".join(f"{k}={v}" for k, v in counts.items()))


def _check_output_folder(config: BuildConfig, config_file: str | os.PathLike | None) -> None:
    """Refuse an output folder that is a file, is one of the inputs or holds one (the config file included)."""
    own = {"the config file": Path(config_file)} if config_file is not None else {}
    inputs = {**config.input_paths(), **own}
    check_outputs((), inputs, folders={"output": config.output})


def _plan(config: BuildConfig) -> str:
    """The steps a config will run, in order, for the log line written before any work."""
    c = config.clean
    steps = ["sources", "lfs", "label_model"] + (["review"] if config.review else []) + ["clean"]
    steps += (["pii"] if c.pii else []) + (["dedup_exact"] if c.exact_duplicates else [])
    steps += (["dedup_near"] if c.near_duplicates else []) + ["split"] + (["augment"] if config.augment else [])
    steps += ["leakage"] + (["export"] if config.output is not None else [])
    return " -> ".join(steps)


def _log_estimate(rows: int) -> None:
    """Log roughly how long the build takes, once the rows are counted and before the slow steps start."""
    minutes = rows / 100_000 * _SECONDS_PER_100K / 60
    logger.info("%-11s %s", "plan", f"{rows:,} rows; roughly {max(minutes, 0.1):.1f} min of one free core "
                                    "for simple LFs, the default cleaning, a split and a JSONL export")


# -------------------------------------------------------------------------------------------- sources


def _read_sources(sources: tuple[SourceSettings, ...], base: Path
                  ) -> tuple[pd.DataFrame, Any, list[str], list[str] | None]:
    """Rows of all sources, the stored WRENCH votes (if every source is WRENCH) and the source names.

    Returns
    -------
    data : DataFrame
        ``text`` and the kept columns, indexed by a unique row id.
    stored : LabelMatrix or None
        WRENCH's stored votes on every row; ``None`` when a source is no WRENCH folder.
    names : list of str
        One name per file or WRENCH split read, relative to ``base``.
    wrench_labels : list of str or None
        The class names of the (last) WRENCH source.
    """
    frames, stored, names, wrench_labels = [], [], [], None
    for i, src in enumerate(sources):
        if src.wrench is not None:
            ds = read_wrench(src.wrench)
            wrench_labels = list(ds.class_names)
            parts = _wrench_parts(src, ds)
        else:
            parts = _file_parts(i, src, base)
        for frame, votes, name in parts:
            frames.append(frame)
            stored.append(votes)
            names.append(name)
    data = pd.concat(frames)
    data.index = _unique_ids(data.index.to_series())
    return data, _stored_votes(stored, data.index), names, wrench_labels


def _wrench_parts(src: SourceSettings, ds: Any) -> Iterator[tuple[pd.DataFrame, Any, str]]:
    """(rows, stored votes, name) of each split of a WRENCH dataset; ids are prefixed by the split."""
    keep = list(src.keep_columns)
    for split in src.splits or list(ds):
        part = ds[split]
        df = part.data.copy()
        df.index = (split + "/" + df.index.astype(str)).rename("id")
        yield df[["text", *keep]], part.L, f"{src.wrench.name}/{split}.json"


def _file_parts(i: int, src: SourceSettings, base: Path) -> Iterator[tuple[pd.DataFrame, None, str]]:
    """(rows, no stored votes, path relative to ``base``) of each file of source ``i``."""
    for f in src.files:
        yield _read_file(i, src, f), None, os.path.relpath(f, base)


def _read_file(i: int, src: SourceSettings, f: Path) -> pd.DataFrame:
    """``text`` and the kept columns of one file, indexed by its id column or ``<file stem>:<row>``."""
    def fail(key: str, message: str) -> PipelineError:
        return PipelineError("sources", f"[{i}].{key}", message)

    keep = list(src.keep_columns)
    try:
        df = read_table(f, text_column=src.text_column, format=src.format)
    except (KeyError, ValueError) as exc:
        raise fail("text_column" if isinstance(exc, KeyError) else "path", str(exc.args[0])) from exc
    missing = [c for c in [src.id_column, *keep] if c is not None and c not in df.columns]
    if missing:
        key = "id_column" if missing[0] == src.id_column else "keep_columns"
        raise fail(key, f"{f} has no column {missing[0]!r}; its columns are {list(map(str, df.columns))}.")
    ids = df[src.id_column] if src.id_column else pd.Series([f"{f.stem}:{j}" for j in range(len(df))])
    out = pd.DataFrame({"text": df[src.text_column].to_numpy()})
    for c in keep:
        out[c] = df[c].to_numpy()
    out.index = pd.Index(ids.astype(str).to_numpy(), name="id")
    return out


def _unique_ids(ids: pd.Series) -> pd.Index:
    """Suffix repeated ids (``id#1``, ``id#2``) so every row keeps a unique, traceable id."""
    ids = ids.astype(str)
    dup = ids.groupby(ids).cumcount()
    return pd.Index(np.where(dup > 0, ids + "#" + dup.astype(str), ids), name="id")


def _stored_votes(stored: list[Any], index: pd.Index) -> LabelMatrix | None:
    """WRENCH's stored votes of all parts as one matrix, or ``None`` when a part has none (a plain file)."""
    if not all(s is not None for s in stored):
        return None
    return LabelMatrix(np.vstack([np.asarray(s) for s in stored]), lf_names=list(stored[0].lf_names),
                       index=list(index))


def _class_names(given: tuple[str, ...] | None, wrench_labels: list[str] | None) -> list[str]:
    """The config's ``class_names``, else the WRENCH sources' class names; two or more are needed."""
    labels = list(given) if given is not None else wrench_labels
    if not labels or len(labels) < 2:
        raise PipelineError("config", "class_names", "give the class names in id order, e.g. class_names: [HAM, SPAM].")
    return labels


# ------------------------------------------------------------------------------------------------ LFs


def _vote(settings: LFSettings, data: pd.DataFrame, stored: Any, labels: list[str], progress: bool,
          counts: dict) -> tuple[Any, np.ndarray]:
    """LF votes on every row, and which rows any LF voted on.

    The configured LF and rule files are applied; WRENCH's stored votes stand in only where no LF is given.
    """
    lfs = _load_lfs(settings, labels)
    if lfs:
        L = apply_lfs(data, lfs, cardinality=len(labels), progress=progress, n_jobs=settings.n_jobs,
                      fault_tolerant=settings.fault_tolerant)
    elif stored is not None and settings.stored:
        L = stored
    else:
        raise PipelineError("lfs", "python", "no labeling functions: give `python: lfs.py` and/or `rules: [file]`.")
    votes = np.asarray(L)
    covered = covered_rows(votes)
    _log("lfs", {"lfs": votes.shape[1], "rows": votes.shape[0], "covered": int(covered.sum())}, counts)
    return L, covered


def _load_lfs(settings: LFSettings, labels: list[str]) -> list:
    """The LFs of the Python files and the rule files, a file that fails named by its ``lfs`` key."""
    lfs: list = []
    for path in settings.python:
        try:
            lfs += load_lfs(path)
        except (FileNotFoundError, ValueError, ImportError) as exc:
            raise PipelineError("lfs", "python", str(exc)) from exc
    for path in settings.rules:
        try:
            lfs += rules_from_file(path, class_names=labels)
        except (ValueError, KeyError) as exc:
            raise PipelineError("lfs", "rules", str(exc)) from exc
    return lfs


# ---------------------------------------------------------------------------------------- label model


def _label(settings: LabelModelSettings, data: pd.DataFrame, L: Any, covered: np.ndarray, labels: list[str],
           reviews: pd.DataFrame | None, counts: dict) -> tuple[pd.DataFrame, Any]:
    """Rows with the label model's label, confidence and class probabilities, human labels winning.

    Returns the labelled rows and the fitted label model; human labels also guide the fit.
    """
    y_partial = _partial_labels(reviews, data)
    model, probs, preds = _fit_label_model(settings, L, len(labels), y_partial)
    labelled = _labelled_rows(data, labels, probs, preds, covered, y_partial)
    _log("label_model", {"model": type(model).__name__, **{lab: int((preds == j).sum()) for j, lab in enumerate(labels)},
                         "no_label": int((preds < 0).sum())}, counts)
    if reviews is not None:
        _mark_reviewed(labelled, reviews, preds, counts)
    return labelled, model


def _partial_labels(reviews: pd.DataFrame | None, data: pd.DataFrame) -> np.ndarray | None:
    """The human label of each row (-1 where none), or ``None`` when there are no reviews."""
    if reviews is None:
        return None
    y_partial = np.full(len(data), -1, dtype=np.int64)
    y_partial[data.index.get_indexer(reviews.index)] = reviews["label"].to_numpy()
    return y_partial


def _fit_label_model(settings: LabelModelSettings, L: Any, k: int, y_partial: np.ndarray | None
                     ) -> tuple[Any, np.ndarray, np.ndarray]:
    """The fitted label model, its class probabilities and its labels (ties broken by ``tie_break``).

    A model taking ``cardinality`` gets the number of classes unless the config sets it; human labels, where
    any, are passed to ``fit`` as partial supervision.
    """
    name, params = settings.name, dict(settings.params)
    if "cardinality" in (MODEL_REGISTRY.parameter_names(name) or ()) and "cardinality" not in params:
        params["cardinality"] = k
    try:
        model = make_model(name, **params)
        if y_partial is not None and (y_partial >= 0).any():
            model.fit(L, y_partial)
        else:
            model.fit(L)
        probs = model.predict_proba(L)
        preds = model.predict(L, tie_break=settings.tie_break) if settings.tie_break else model.predict(L)
    except TypeError as exc:
        raise PipelineError("label_model", "params", f"{name}: {exc}") from exc
    except ValueError as exc:
        raise PipelineError("label_model", "tie_break" if "tie_break" in str(exc) else "params", str(exc)) from exc
    return model, probs, preds


def _labelled_rows(data: pd.DataFrame, labels: list[str], probs: np.ndarray, preds: np.ndarray,
                   covered: np.ndarray, y_partial: np.ndarray | None) -> pd.DataFrame:
    """A copy of ``data`` with ``label``, ``confidence``, ``prob_<class>``, ``covered`` and ``label_source``.

    A reviewed row takes its human label, with the confidence :func:`labeling.review.with_human_labels` gives it.
    """
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
    return labelled


def _mark_reviewed(labelled: pd.DataFrame, reviews: pd.DataFrame, preds: np.ndarray, counts: dict) -> None:
    """Mark the reviewed rows of ``labelled`` (in place) as human-labelled, by whom, and log the agreement."""
    pos = labelled.index.get_indexer(reviews.index)
    labelled.iloc[pos, labelled.columns.get_loc("label_source")] = "human"
    if "reviewer" in reviews:
        labelled["reviewer"] = None
        labelled.iloc[pos, labelled.columns.get_loc("reviewer")] = reviews["reviewer"].to_numpy()
    agree = int((preds[pos] == reviews["label"].to_numpy()).sum())
    _log("review", {"human_labels": len(reviews), "agree_with_model": agree}, counts)


# -------------------------------------------------------------------------------------------- reviews


def _store_reviews(settings: ReviewSettings, labels: list[str], data: pd.DataFrame) -> pd.DataFrame:
    """Resolved labels of a :class:`labeling.review.ReviewStore` (double reviews only once settled)."""
    path = settings.store
    store = ReviewStore(path)
    try:
        stored_names = store.class_names
        if stored_names and [n.lower() for n in stored_names] != [n.lower() for n in labels]:
            raise PipelineError("review", "store",
                                f"{path} has class names {stored_names}; the pipeline's labels are {labels}.")
        resolved = store.resolved_labels()
        reviewers = {sid: ",".join(sorted(by)) for sid, by in store.reviewer_labels().items()}
    finally:
        store.close()
    ids = [sid for sid in resolved if sid in data.index]
    reviews = pd.DataFrame({"label": [int(resolved[i]) for i in ids]}, index=pd.Index(ids, name="id"))
    reviews["reviewer"] = [reviewers.get(i, "adjudication") for i in ids]
    bad = reviews["label"][(reviews["label"] < 0) | (reviews["label"] >= len(labels))]
    if len(bad):
        raise PipelineError("review", "store",
                            f"sample {bad.index[0]!r} has label {int(bad.iloc[0])}; expected 0..{len(labels) - 1}.")
    return reviews


def _read_reviews(settings: ReviewSettings, labels: list[str], data: pd.DataFrame) -> pd.DataFrame:
    """Human labels (class ids) by row id, with ``reviewer`` where known, from a review store or a table."""
    if settings.store is not None:
        return _store_reviews(settings, labels, data)

    def fail(key: str, message: str) -> PipelineError:
        return PipelineError("review", key, message)

    path = settings.path
    id_col, label_col = settings.id_column, settings.label_column
    df = read_table(path, text_column=None)
    for key, col in (("id_column", id_col), ("label_column", label_col)):
        if col not in df.columns:
            raise fail(key, f"{path} has no column {col!r}; its columns are {list(map(str, df.columns))}.")
    by_name = {n: i for i, n in enumerate(labels)}
    ids = df[id_col].astype(str).tolist()
    out = []
    for rid, value in zip(ids, df[label_col]):
        label = by_name.get(str(value))
        if label is None:
            try:
                label = int(value)
            except (TypeError, ValueError):
                label = -2
        if not 0 <= label < len(labels):
            raise fail("label_column", f"{path}: row id {rid!r} has label {value!r}; expected one of {labels} "
                                       f"or 0..{len(labels) - 1}.")
        out.append(label)
    unknown = [r for r in ids if r not in data.index]
    if unknown:
        raise fail("id_column", f"{path}: {len(unknown)} ids are not source rows, e.g. {unknown[0]!r}.")
    reviews = pd.DataFrame({"label": out}, index=pd.Index(ids, name="id"))
    rcol = settings.reviewer_column
    if rcol:
        if rcol not in df.columns:
            raise fail("reviewer_column", f"{path} has no column {rcol!r}.")
        reviews["reviewer"] = df[rcol].astype(str).to_numpy()
    return reviews[~reviews.index.duplicated(keep="last")]


# ------------------------------------------------------------------------------------------- cleaning


@dataclass
class _Cleaned:
    """What the cleaning steps kept and removed, what ran, and the MinHash index near-dedup built.

    Each cleaning step takes the rows the previous one kept from ``data`` and puts back what it kept.
    """

    data: pd.DataFrame
    removed: list[pd.DataFrame]
    processing: dict[str, str]
    index: MinHashIndex | None = None
    pii: dict[str, Any] = field(default_factory=dict)


def _clean(settings: CleanSettings, data: pd.DataFrame, seed: int, counts: dict, progress: bool) -> _Cleaned:
    """Normalise, mask personal data, then drop exact and near duplicates of the masked text.

    Masking comes before dedup so that dedup sees the text that will ship: two messages that differ only in
    a phone number are one message once the number is masked.
    """
    out = _Cleaned(data, [], {})
    _normalise(settings, out, counts, progress)
    _scrub(settings.pii, out, counts, progress)
    _drop_exact(settings.exact_duplicates, out, counts, progress)
    _drop_near(settings.near_duplicates, out, seed, counts, progress)
    # Rows removed before or by the PII step still hold their raw text; dedup's rows are masked already.
    out.removed = [_mask_removed(r, settings.pii) if len(r) and r["step"].iloc[0] in ("clean", "pii") else r
                   for r in out.removed]
    return out


def _normalise(settings: CleanSettings, out: _Cleaned, counts: dict, progress: bool) -> None:
    """Normalise the text and drop rows shorter than ``min_chars`` (step ``clean``)."""
    s = settings
    n0 = len(out.data)
    res = clean_texts(out.data, normalize=s.normalize, lowercase=s.lowercase, strip_markup=s.strip_markup,
                      unicode_form=s.unicode_form, min_chars=s.min_chars, progress=progress)
    out.processing["normalize"] = (
        f"on ({s.unicode_form}, markup {'stripped' if s.strip_markup else 'kept'}"
        f"{', lower-cased' if s.lowercase else ''}, control and bidi characters removed)" if s.normalize else "off")
    out.processing["min_chars"] = str(s.min_chars)
    out.data = res.data
    out.removed.append(res.removed.assign(step="clean"))
    _log("clean", {"rows_in": n0, **res.counts, "rows_out": len(out.data)}, counts)


def _scrub(settings: PIISettings | None, out: _Cleaned, counts: dict, progress: bool) -> None:
    """Mask, drop or report personal data (step ``pii``; off when ``settings`` is ``None``)."""
    if settings is None:
        out.processing["pii"] = "off (clean.pii: false)"
        out.pii = _pii_record(None, None)
        return
    res = scrub_pii(out.data, action=settings.action, kinds=settings.kinds, template=settings.template,
                    engine=settings.engine, progress=progress)
    out.processing["pii"] = (f"on ({settings.action}: {', '.join(settings.kinds)}; {res.engine} recognisers), "
                             "before deduplication")
    out.data = res.data
    out.removed.append(res.removed.assign(step="pii"))
    _log("pii", {**res.counts, "rows_out": len(out.data)}, counts)
    out.pii = _pii_record(settings, res.counts, res.engine, tuple(res.kinds_missing))


def _pii_record(settings: PIISettings | None, counts: Mapping[str, Any] | None, engine: str | None = None,
                missing: tuple[str, ...] = ()) -> dict[str, Any]:
    """Kinds of personal data looked for, found (per kind) and not looked for, for the datasheet.

    ``engine`` and ``missing`` are what :func:`~labeling.dataset.scrub_pii` reports: the recognisers that ran
    and the kinds asked for that they cannot find (person names without the ``privacy`` extra).
    """
    if settings is None:
        return {"ran": False, "looked_for": [], "found": {}, "not_looked_for": list(PII_KINDS),
                "why_not": "clean.pii: false"}
    not_asked = [k for k in PII_KINDS if k not in settings.kinds]
    checked = [k for k in settings.kinds if k not in missing]
    return {
        "ran": True, "action": settings.action, "engine": engine, "looked_for": checked,
        "found": {k: int(counts.get(k, 0)) for k in checked} if counts else {},
        "rows_with_pii": int(counts.get("rows_with_pii", 0)) if counts else 0,
        "not_looked_for": not_asked + list(missing),
        "not_asked": not_asked, "needs_privacy_extra": list(missing),
    }


def _mask_removed(removed: pd.DataFrame, settings: PIISettings | None) -> pd.DataFrame:
    """Removed rows with their text masked as the shipped rows' is: ``removed.csv`` must not keep raw PII."""
    if settings is None or settings.action == "report" or not len(removed) or "text" not in removed:
        return removed
    texts = removed["text"]
    missing = texts.isna()
    masked = scrub_pii(removed.assign(text=texts.where(~missing, "").astype(str)), action="mask",
                       kinds=settings.kinds, template=settings.template, engine=settings.engine).data["text"]
    return removed.assign(text=masked.where(~missing.to_numpy(), None))


def _drop_exact(on: bool, out: _Cleaned, counts: dict, progress: bool) -> None:
    """Drop rows whose text repeats an earlier row's (step ``dedup_exact``; ``clean.exact_duplicates``)."""
    out.processing["exact_duplicates"] = "on" if on else "off"
    if not on:
        return
    res = drop_exact_duplicates(out.data, progress=progress)
    out.data = res.data
    out.removed.append(res.removed.assign(step="dedup_exact"))
    _log("dedup_exact", {**res.counts, "rows_out": len(out.data)}, counts)


def _drop_near(settings: NearDuplicateSettings | None, out: _Cleaned, seed: int, counts: dict,
               progress: bool) -> None:
    """Drop near-duplicate rows by MinHash LSH (step ``dedup_near``; off when ``settings`` is ``None``)."""
    out.processing["near_duplicates"] = "off (clean.near_duplicates: false)"
    if settings is None:
        return
    near = settings
    index = MinHashIndex(num_perm=near.num_perm, k=near.shingle_size, unit=near.unit, random_state=seed,
                         progress=progress)
    if near.shingle_size == 5 and near.unit == "char":
        out.index = index  # the shingles split grouping and the leakage check use too
    res = drop_near_duplicates(out.data, threshold=near.threshold, num_perm=near.num_perm, k=near.shingle_size,
                               unit=near.unit, random_state=seed, index=index)
    out.processing["near_duplicates"] = (
        f"on (Jaccard >= {near.threshold} of {near.unit} {near.shingle_size}-grams, "
        f"{near.num_perm} MinHash permutations)")
    out.data = res.data
    out.removed.append(res.removed.assign(step="dedup_near"))
    _log("dedup_near", {**res.counts, "rows_out": len(out.data)}, counts)


# ---------------------------------------------------------------------------------- splits and after


def _split(settings: SplitSettings, data: pd.DataFrame, seed: int, counts: dict, index: Any = None,
           progress: bool = False) -> dict[str, pd.DataFrame]:
    """The rows of each split; a split that cannot keep the class balance is logged as a warning."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SplitBalanceWarning)
            where = assign_splits(
                data, fractions=dict(settings.fractions), label_column="label" if settings.stratify else None,
                groups=settings.groups, near_duplicate_threshold=settings.group_near_duplicates, random_state=seed,
                index=index, progress=progress,
            )
    except KeyError as exc:
        raise PipelineError("split", "groups", str(exc.args[0])) from exc
    except ValueError as exc:
        raise PipelineError("split", "fractions", str(exc)) from exc
    balance = [str(w.message) for w in caught if issubclass(w.category, SplitBalanceWarning)]
    for message in balance:
        logger.warning("split: %s", message)
    splits = {name: data.loc[(where == name).to_numpy()] for name in settings.fractions}
    info: dict[str, Any] = {name: len(f) for name, f in splits.items()}
    if balance:
        info["balance_warnings"] = len(balance)
    _log("split", info, counts)
    return splits


def _augment_train(settings: AugmentSettings, splits: dict[str, pd.DataFrame], filters: Mapping[str, Any],
                   seed: int, progress: bool, counts: dict) -> str:
    """Add augmented variants to the training split (in ``splits``, in place); return that split's name.

    ``filters`` are the export's row filters (:func:`_export_filters`).
    """
    # Training split only: augmenting evaluation rows would leak and inflate scores. Rows the export
    # leaves out are not augmented either: that would be wasted work.
    train_name = "train" if "train" in splits else next(iter(splits))
    eligible, _ = select_rows(splits[train_name], **filters)
    extra = _augment(settings, eligible, seed, progress, counts)
    splits[train_name] = pd.concat([splits[train_name], extra])
    return train_name


def _export_filters(settings: ExportSettings) -> dict[str, Any]:
    """The export's row filters, as keywords of :func:`labeling.dataset.export.select_rows`."""
    return dict(min_confidence=settings.min_confidence, drop_uncovered=settings.drop_uncovered,
                include_reviewed=settings.include_reviewed)


def _augment(settings: AugmentSettings, train: pd.DataFrame, seed: int, progress: bool, counts: dict) -> pd.DataFrame:
    """Augmented variants of ``train``'s rows; back-translation loads its two MarianMT models only when used."""
    translator, min_bleu = None, None
    bt = settings.back_translation
    methods = settings.methods
    if bt is not None and "back_translation" in methods:
        from labeling.dataset.translate import MarianTranslator

        opts = dict(batch_size=bt.batch_size, max_new_tokens=bt.max_new_tokens, num_beams=bt.num_beams,
                    device=bt.device, progress=progress)
        translator = (MarianTranslator(bt.forward, **opts), MarianTranslator(bt.backward, **opts))
        min_bleu = bt.min_bleu
    try:
        extra = augment(
            train, methods=dict(methods) if isinstance(methods, Mapping) else list(methods),
            alpha=settings.alpha, fraction=settings.fraction, translator=translator, min_bleu=min_bleu,
            random_state=seed, progress=progress,
        )
    except (ValueError, LookupError) as exc:
        # LookupError: WordNet is not installed; its message gives the install command.
        raise PipelineError("augment", "methods", str(exc.args[0] if exc.args else exc)) from exc
    per = extra["augmentation"].value_counts().to_dict() if len(extra) else {}
    info = {"source_rows": len(train), **{f"{m}": int(n) for m, n in per.items()}, "added": len(extra)}
    if "bleu" in extra and extra["bleu"].notna().any():
        info["back_translation_mean_bleu"] = round(float(extra["bleu"].mean()), 2)
    _log("augment", info, counts)
    return extra


def _leakage(splits: dict[str, pd.DataFrame], train_name: str | None, threshold: float, seed: int,
             index: Any, removed: list[pd.DataFrame], counts: dict) -> pd.DataFrame:
    """Cross-split near-duplicates; augmented variants that drifted close to another split are dropped."""
    leakage = leakage_report(splits, threshold=threshold, random_state=seed, index=index)
    dropped_aug = 0
    if train_name is not None and len(leakage):
        # An augmented text can drift close to a row of another split even though its source did not:
        # such variants are dropped rather than let evaluation rows leak into training.
        train = splits[train_name]
        is_aug = train["augmentation"].notna() if "augmentation" in train else pd.Series(False, index=train.index)
        leaking = set(leakage.loc[leakage["split_a"] == train_name, "id_a"]) | set(
            leakage.loc[leakage["split_b"] == train_name, "id_b"])
        bad = is_aug & train.index.isin(list(leaking))
        dropped_aug = int(bad.sum())
        if dropped_aug:
            removed.append(train.loc[bad].assign(reason="augmentation_leaks", step="leakage"))
            splits[train_name] = train.loc[~bad]
            leakage = leakage_report(splits, threshold=threshold, random_state=seed, index=index)
    _log("leakage", {"threshold": threshold, "dropped_augmented": dropped_aug, "cross_split_pairs": len(leakage)},
         counts)
    if len(leakage):
        logger.warning("leakage: %d near-duplicate pairs span two splits (see leakage.csv)", len(leakage))
    return leakage


def _removed_rows(parts: list[pd.DataFrame], labelled: pd.DataFrame) -> pd.DataFrame:
    """Every removed row in one table; with none removed, an empty one with the labelled rows' columns."""
    return pd.concat([r for r in parts if len(r)] or [labelled.iloc[:0].assign(reason=[], step=[])])


# --------------------------------------------------------------------------------------------- export


def _export(config: BuildConfig, result: BuildResult, labels: list[str], source_names: list[str],
            cleaned: _Cleaned, counts: dict, progress: bool) -> None:
    """Write the dataset and its datasheet to ``config.output``; ``result`` gets the export and the folder.

    The datasheet records every step, so this step receives the whole config.
    """
    datasheet = datasheet_fields(config, counts, sources=source_names, lf_summary=result.lf_summary,
                                 model=result.model, processing=cleaned.processing, pii=cleaned.pii,
                                 leakage=result.leakage)
    with replace_folder(config.output) as out_dir:  # replaced as a whole: nothing of an earlier build stays
        export = write_outputs(config.export, out_dir, result.splits, result.removed, result.leakage, labels,
                               datasheet, progress)
    result.export = relocated(export, out_dir, config.output)
    result.output = config.output
    _log("export", {"dir": str(config.output), **result.export.counts,
                    **{f"filtered_{k}": v for k, v in result.export.filtered.items()}}, counts)
