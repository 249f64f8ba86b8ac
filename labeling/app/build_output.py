"""What ``votewise build`` writes: the datasheet's record of the run and the files of the output folder.

:mod:`labeling.app.pipeline` runs the steps; this module turns what they produced into the datasheet's
fields (:func:`datasheet_fields`) and writes the export, ``DATASET.md``, ``removed.csv`` and
``leakage.csv`` into a folder (:func:`write_outputs`). It is the one place that touches the output folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from labeling.dataset.datasheet import label_model_estimates
from labeling.dataset.export import ExportResult, export_dataset

from .build_config import AugmentSettings, BuildConfig, ExportSettings, PipelineError, settings_record

__all__ = ["datasheet_fields", "write_outputs"]

# The steps whose counts the datasheet lists under Cleaning.
_CLEANING_STEPS = ("clean", "dedup_exact", "dedup_near", "pii")


def datasheet_fields(
    config: BuildConfig,
    counts: Mapping[str, Mapping[str, Any]],
    *,
    sources: list[str],
    lf_summary: pd.DataFrame,
    model: Any,
    processing: dict[str, str],
    pii: dict[str, Any],
    leakage: pd.DataFrame,
) -> dict[str, Any]:
    """The datasheet's record of a run, as keywords of :func:`labeling.dataset.export_dataset`'s ``datasheet``.

    The datasheet documents every step, so this is the one function that receives the whole config.

    Parameters
    ----------
    config : BuildConfig
        The checked settings the run used.
    counts : mapping of str to mapping
        Counts each step logged, in the order the steps ran.
    sources : list of str
        The files read, relative to the config's folder.
    lf_summary : DataFrame
        :func:`labeling.lf_summary` of the LF votes.
    model : label model
        The fitted label model.
    processing : dict of str to str
        How each cleaning step ran, in words.
    pii : dict
        Kinds of personal data looked for, found and not looked for.
    leakage : DataFrame
        Cross-split near-duplicate pairs.

    Returns
    -------
    dict
    """
    base = config.base
    cleaning = {step: {k: v for k, v in c.items() if k not in ("rows_in", "rows_out")}
                for step, c in counts.items() if step in _CLEANING_STEPS}
    lf_files = (*config.lfs.python, *config.lfs.rules)
    return dict(
        name=config.name, description=config.description, sources=sources, lf_summary=lf_summary,
        label_model=label_model_estimates(model), cleaning=cleaning, processing=processing,
        random_state=config.seed, steps=_step_record(config, counts), pii=pii,
        lf_files={settings_record(p, base): _file_sha256(p) for p in lf_files},
        templates=_templates(config.export),
        augmentation=_augmentation_record(config.augment, counts.get("augment"), base),
        split_settings=settings_record(config.split, base),
        leakage={"threshold": config.split.leakage_threshold, "cross_split_pairs": len(leakage),
                 "dropped_augmented": counts["leakage"]["dropped_augmented"]},
    )


def write_outputs(
    settings: ExportSettings,
    out_dir: Path,
    splits: dict[str, pd.DataFrame],
    removed: pd.DataFrame,
    leakage: pd.DataFrame | None,
    labels: list[str],
    datasheet: dict[str, Any],
    progress: bool,
) -> ExportResult:
    """Write the export in each format, ``DATASET.md``, ``removed.csv`` and ``leakage.csv`` into ``out_dir``.

    Parameters
    ----------
    settings : ExportSettings
    out_dir : Path
        The folder to write into (the build's temporary folder, swapped in once everything is written).
    splits : dict of str to DataFrame
        The rows of each split.
    removed : DataFrame
        Every row a step removed, with ``step`` and ``reason``.
    leakage : DataFrame or None
        Cross-split near-duplicate pairs; ``leakage.csv`` is written only when there are some.
    labels : list of str
        Class names in id order.
    datasheet : dict
        :func:`datasheet_fields` of the run.
    progress : bool
        Progress bars.

    Returns
    -------
    ExportResult
        The files written, under ``out_dir``.

    Raises
    ------
    PipelineError
        The export failed (a bad template, a format whose extra is not installed).
    """
    result = _export(settings, out_dir, splits, labels, datasheet, progress)
    _write_csv(removed, out_dir / "removed.csv")
    if leakage is not None and len(leakage):
        _write_csv(leakage, out_dir / "leakage.csv", index=False)
    return result


def _export(settings: ExportSettings, out_dir: Path, splits: dict[str, pd.DataFrame], labels: list[str],
            datasheet: dict[str, Any], progress: bool) -> ExportResult:
    """:func:`~labeling.dataset.export_dataset` with its errors named by the ``export`` key that caused them."""
    ex = settings
    try:
        return export_dataset(
            splits, out_dir, class_names=labels, formats=list(ex.formats),
            min_confidence=ex.min_confidence, drop_uncovered=ex.drop_uncovered, include_reviewed=ex.include_reviewed,
            keep_probs=ex.keep_probs, prompt_template=ex.prompt_template, instruction=ex.instruction,
            system_prompt=ex.system_prompt, metadata=ex.metadata, ids=ex.ids, progress=progress,
            datasheet=datasheet,
        )
    except (KeyError, ValueError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        key = "prompt_template" if "template" in str(msg) else None
        raise PipelineError("export", key, str(msg)) from exc
    except ImportError as exc:
        raise PipelineError("export", "formats", str(exc)) from exc


def _write_csv(frame: pd.DataFrame, path: Path, **kwargs: Any) -> None:
    """Write a CSV through a temporary file: a half-written file never carries the final name."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, **kwargs)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks: the datasheet pins the exact LF and rule files a build used."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _templates(ex: ExportSettings) -> dict[str, str]:
    """The fine-tuning templates the export used (only those of the formats written)."""
    out: dict[str, str] = {}
    if "chat" in ex.formats:
        out["prompt_template"] = ex.prompt_template
        if ex.system_prompt is not None:
            out["system_prompt"] = ex.system_prompt
    if {"instruction", "alpaca"} & set(ex.formats):
        out["instruction"] = ex.instruction
    return out


def _augmentation_record(settings: AugmentSettings | None, counts: Mapping[str, Any] | None,
                         base: Path) -> dict[str, Any]:
    """The augmentation settings and counts for the datasheet (empty when the step was off)."""
    if settings is None:
        return {}
    record = settings_record(settings, base)
    if settings.back_translation is None:
        record.pop("back_translation")
    record["counts"] = dict(counts or {})
    return record


def _step_record(config: BuildConfig, counts: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Any, Any]]:
    """(step, settings, counts) for every step that ran, in order, for the datasheet."""
    c, base = config.clean, config.base

    def record(settings: Any) -> Any:
        return settings_record(settings, base)

    settings: dict[str, Any] = {
        "sources": [record(s) for s in config.sources],
        "lfs": record(config.lfs),
        "label_model": record(config.label_model),
        "review": record(config.review),
        "clean": {k: v for k, v in record(c).items() if k not in ("near_duplicates", "pii")},
        "pii": record(c.pii),
        "dedup_exact": {"exact_duplicates": c.exact_duplicates},
        "dedup_near": record(c.near_duplicates),
        "split": record(config.split),
        "augment": record(config.augment),
        "leakage": {"threshold": config.split.leakage_threshold},
        "export": {k: v for k, v in record(config.export).items()
                   if k not in ("prompt_template", "instruction", "system_prompt")},  # under Templates
    }
    for src in settings["sources"]:
        src.pop("files", None)  # the files read are listed under Sources, relative to the config
    steps = [(step, settings.get(step), dict(n)) for step, n in counts.items()]
    return steps + [("export", settings["export"], {})]
