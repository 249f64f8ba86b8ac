"""The benchmark behind ``votewise bench``: fit label models on WRENCH folders, score them on test.

Protocol (the WRENCH one): each model is fit on the votes of ``fit_split``
(gold labels of that split are never used); the ``valid`` split's gold labels
may choose the class balance or hyper-parameters, as each model declares (see
:func:`models.fit_with_validation`); the ``test`` split is only scored.
Predictions are argmaxes with Snorkel's deterministic hash tie rule, so
majority vote and weighted majority vote reproduce the published numbers.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from tqdm.auto import tqdm

from labeling.core.matrix import LabelMatrix, covered_rows
from models import MODEL_REGISTRY, expected_calibration_error, fit_with_validation, make_model, score_predictions
from sources import read_wrench

__all__ = ["BENCH_MODELS", "run_bench", "format_bench_table", "load_lf_set"]

#: Short names run by ``--model all``, in table order (``hyperlm`` only where its extra is installed).
BENCH_MODELS = ("mv", "wmv", "ds", "snorkel", "hyperlm", "default")

#: Models of ``--model all`` that need an optional package, and that package.
_OPTIONAL = {"hyperlm": "hyperlm"}


def _available(name: str) -> bool:
    package = _OPTIONAL.get(name)
    return package is None or importlib.util.find_spec(package) is not None


def _dataset_name(folder: Path) -> str:
    # WRENCH folders are often nested as <name>/wrench; the parent names the data.
    return folder.parent.name if folder.name.lower() in {"wrench", "data"} else folder.name


def _expand_models(models: Iterable[str] | str | None) -> list[str]:
    if models is None:
        models = ["mv"]
    elif isinstance(models, str):
        models = [models]
    names: list[str] = []
    for name in models:
        for part in str(name).split(","):
            part = part.strip()
            if part == "all":
                chosen = [b for b in BENCH_MODELS if _available(b)]
                missing = [b for b in BENCH_MODELS if not _available(b)]
                if missing:
                    print(f"bench: skipping {', '.join(missing)} (install the optional extra: "
                          f"pip install 'votewise[{','.join(missing)}]')", file=sys.stderr)
            else:
                chosen = [part]
            for c in chosen:
                if c not in MODEL_REGISTRY:
                    raise ValueError(f"Unknown model {c!r}; known models: {sorted(MODEL_REGISTRY)} or 'all'.")
                if c not in names:
                    names.append(c)
    if not names:
        raise ValueError("No model given; pass e.g. ['mv'] or ['all'].")
    return names


def load_lf_set(path: str | Path, class_names: Sequence[str]) -> list:
    """LFs from a Python file (``.py``) or a rule file (YAML or TSV, class names from ``class_names``)."""
    from labeling.core.loading import load_lfs
    from rules import rules_from_file

    path = Path(path)
    return load_lfs(path) if path.suffix == ".py" else rules_from_file(path, class_names=list(class_names))


def _add_lf_votes(ds, lfs: Sequence, *, only: bool, progress: bool):
    """``ds`` with each split's votes extended by (or, with ``only``, replaced by) the votes of ``lfs``."""
    from labeling.core.apply import apply_lfs

    splits = {}
    for name in ds:
        split = ds[name]
        new = apply_lfs(split.data, lfs, cardinality=ds.cardinality, progress=progress)
        if only:
            votes, names = np.asarray(new), list(new.lf_names)
        else:
            votes = np.hstack([np.asarray(split.L), np.asarray(new)])
            names = [*split.L.lf_names, *new.lf_names]
        splits[name] = dataclasses.replace(split, L=LabelMatrix(votes, lf_names=names, index=split.data.index))
    if progress:
        from rules import prompt_report

        report = prompt_report(lfs)
        if len(report):  # the prompted LFs' calls, cached answers, failures and tokens
            print(report.drop(columns=["backend"]).to_string(), file=sys.stderr)
    return dataclasses.replace(ds, splits=splits)


def run_bench(
    folders: Sequence[str],
    models: Sequence[str] | str | None = ("mv",),
    *,
    metric: str = "acc",
    fit_split: str = "train",
    progress: bool = True,
    lfs: str | Path | Sequence | None = None,
    lfs_only: bool = False,
) -> list[dict]:
    """Fit each model on each WRENCH folder and score it on the test split.

    Parameters
    ----------
    folders : sequence of path-like
        WRENCH dataset folders (``label.json`` and ``train/valid/test.json``).
    models : sequence of str
        Short names from :data:`models.MODEL_REGISTRY`, or ``"all"``
        (:data:`BENCH_MODELS`).
    metric : {"acc", "f1"}
        ``"f1"`` is the F1 of class 1 for two classes and macro F1 otherwise.
    fit_split : {"train", "test"}
        Votes to fit on; ``"test"`` is for folders without a train split (the
        model then sees the test votes, never the test labels).
    progress : bool
        Show a progress bar on stderr.
    lfs : path or list of LabelingFunction, optional
        More LFs, applied to every split's rows and added to the folder's stored votes: a Python LF
        file, a rule file (prompted LFs included) or a list. This is how prompted LFs are measured.
    lfs_only : bool
        Use only the votes of ``lfs``, not the folder's stored ones.

    Returns
    -------
    list of dict
        One record per (dataset, model): ``dataset``, ``model``, ``split``
        (always ``"test"``), ``metric``, ``value`` (WRENCH's: every test row,
        a row with no vote scored with the model's prior or tie rule),
        ``value_covered`` (the same metric on the test rows where at least one
        LF voted: for F1 on sparse LFs, WRENCH's value mostly counts guesses),
        ``coverage`` (fraction of test rows with a vote), ``ece`` (expected
        calibration error of the probabilities on test), ``fit_seconds``
        (including any selection on valid), ``n_fit_rows``, ``valid_use``
        (what the validation labels chose: ``"class balance"``,
        ``"class balance + selection"`` or ``"none"``), ``params`` (the
        hyper-parameters finally used).
    """
    if metric not in ("acc", "f1"):
        raise ValueError(f"metric={metric!r} is not one of {{'acc', 'f1'}}.")
    if fit_split not in ("train", "test"):
        raise ValueError(f"fit_split={fit_split!r} is not one of {{'train', 'test'}}.")
    names = _expand_models(models)
    datasets = []
    for folder in folders:
        ds = read_wrench(folder)
        if "test" not in ds:
            raise ValueError(f"{folder} has no test.json; the benchmark scores on the test split.")
        if fit_split not in ds:
            raise ValueError(
                f"{folder} has no {fit_split}.json; use fit_split='test' (--fit-split test) to fit on test votes."
            )
        if lfs is not None:
            extra = load_lf_set(lfs, ds.class_names) if isinstance(lfs, (str, Path)) else list(lfs)
            ds = _add_lf_votes(ds, extra, only=lfs_only, progress=progress)
        elif lfs_only:
            raise ValueError("lfs_only=True needs lfs= (the LFs whose votes replace the stored ones).")
        datasets.append((_dataset_name(Path(folder)), ds))

    jobs = [(dname, ds, name) for dname, ds in datasets for name in names]
    bar = tqdm(total=len(jobs), desc="bench", file=sys.stderr, disable=not progress)
    records = []
    for dname, ds, name in jobs:
        bar.set_postfix_str(f"{dname}/{name}")
        k = ds.cardinality
        train, test = ds[fit_split], ds["test"]
        valid = ds["valid"] if "valid" in ds else None
        metric_name = "accuracy" if metric == "acc" else ("f1" if k == 2 else "f1_macro")
        model = make_model(name, cardinality=k)
        start = time.perf_counter()
        model = fit_with_validation(
            model, train.L, None if valid is None else valid.L, None if valid is None else valid.y,
            metric=metric_name,
        )
        seconds = time.perf_counter() - start
        probs = model.predict_proba(test.L)
        preds = model.predict(test.L)
        covered = covered_rows(test.L)
        records.append(
            {
                "dataset": dname,
                "model": name,
                "split": "test",
                "metric": metric if k == 2 or metric == "acc" else "f1_macro",
                "value": float(score_predictions(test.y, preds, metric_name)),
                "value_covered": (
                    float(score_predictions(test.y[covered], preds[covered], metric_name)) if covered.any() else float("nan")
                ),
                "coverage": float(covered.mean()),
                "ece": expected_calibration_error(probs, test.y),
                "fit_seconds": round(seconds, 4),
                "n_fit_rows": int(train.L.shape[0]),
                "valid_use": _valid_use(model) if valid is not None else "none",
                "params": {key: val for key, val in model.get_params().items() if key != "cardinality"},
            }
        )
        bar.update(1)
    bar.close()
    return records


def _valid_use(model) -> str:
    parts = []
    if getattr(model, "uses_class_balance", False):
        parts.append("class balance")
    if getattr(model, "selection_grid", None):
        parts.append("selection")
    return " + ".join(parts) or "none"


def format_bench_table(records: Sequence[dict]) -> str:
    """A plain-text table of :func:`run_bench` records (scores in percent)."""
    if not records:
        return "(no results)"
    header = ["dataset", "model", "split", "metric", "value %", "covered %", "ECE", "fit s"]
    rows = [
        [r["dataset"], r["model"], r["split"], r["metric"], f"{100 * r['value']:.2f}",
         "" if np.isnan(r.get("value_covered", np.nan)) else f"{100 * r['value_covered']:.2f}",
         "" if r.get("ece") is None or np.isnan(r["ece"]) else f"{r['ece']:.3f}", f"{r['fit_seconds']:.3f}"]
        for r in records
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    right = {4, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(header), line(["-" * w for w in widths])]
    previous = None
    for record, row in zip(records, rows):
        if previous is not None and record["dataset"] != previous:
            out.append("")
        previous = record["dataset"]
        out.append(line(row))
    return "\n".join(out)
