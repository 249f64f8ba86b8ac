"""Generalisation suite for label models: many LF sets, every model, one table.

A label model tuned on WRENCH's four LF sets can still fail on the LFs users write. This suite scores every model
on many LF sets of different character:

* **hand-written** (``hand``, ``hand2``): for each of the four shared datasets, two LF sets in
  ``benchmarks/lfsets/``, written independently from the dataset's README in the styles users write: keyword lists
  and regexes, broad heuristics, majority-class defaults, near-duplicate copies of one idea, a small knowledge base
  and an LF worse than chance (``hand2`` also a classifier-like score);
* **random subsets** (``sub00`` .. ``sub19``): 20 random subsets of WRENCH's own LFs per dataset (a quarter to
  three quarters of the LFs each);
* **synthetic** regimes of ``benchmarks/synthetic.py`` (known truth; rows split 70/10/20 into train/valid/test).

Every model is fit on the train votes; the valid split's labels are used as each model declares
(:func:`models.fit_with_validation`, as ``votewise bench`` does), and the test split is only scored: accuracy on
all test rows, or for sms the F1 of SPAM on the test rows with a vote (for sms, every model's validation rows are
likewise those with a vote). Columns: the default ``LabelModel`` without
labels (``default``), the default with the validation labels (``default+v``,
``LabelModel().fit(L, L_valid=..., y_valid=...)``), ``MV``, ``WMV``, ``DS``, ``Snorkel``, ``HyperLM``, and
``prior err``, the largest absolute error of the default's estimated class prior (``class_prior_``, no labels)
against the train split's true class balance.

    python benchmarks/generalisation.py                       # everything (minutes; alternatives cached)
    python benchmarks/generalisation.py --datasets sms --subsets 5 --no-synthetic
    python benchmarks/generalisation.py --markdown table.md   # also write the table as markdown

Votes of the hand-written LF sets and the scores of the alternative models (which do not change when the default
does) are cached under ``benchmarks/.cache/``, so a rerun fits only the default.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CACHE = os.path.join(ROOT, "benchmarks", ".cache")
DATASETS = ("youtube", "sms", "trec", "semeval")
ALTERNATIVES = ("mv", "wmv", "ds", "snorkel", "hyperlm")
COLUMNS = ("default", "default+v") + ALTERNATIVES
NAMES = {"default": "default", "default+v": "default+v", "mv": "MV", "wmv": "WMV", "ds": "DS",
         "snorkel": "Snorkel", "hyperlm": "HyperLM"}
SYNTHETIC = ("baseline", "imbalance", "low-coverage", "correlated", "adversarial", "sparse-lfs")


@dataclass
class LFSet:
    """Votes and gold labels of one LF set on train, valid and test."""

    name: str
    kind: str  # "hand", "subset" or "synthetic"
    metric: str  # "acc" or "f1"
    k: int
    splits: dict  # split name -> (L, y)

    def key(self) -> str:
        h = hashlib.sha1()
        for split in ("train", "valid", "test"):
            L, y = self.splits[split]
            h.update(np.ascontiguousarray(L, dtype=np.int16).tobytes())
            h.update(np.ascontiguousarray(y, dtype=np.int16).tobytes())
        return f"{self.name}-{h.hexdigest()[:12]}"


def _atomic_write(path: str, write) -> None:
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


def _hand_votes(name: str, data_root: str, label: str = "hand") -> LFSet:
    """Apply the hand-written LF set ``label`` of dataset ``name`` to its three splits (cached by LF source and data)."""
    from benchmarks.lfsets import HAND_SETS
    from labeling import apply_lfs
    from sources import read_wrench

    module = HAND_SETS[name][label]
    folder = os.path.join(data_root, module.FOLDER)
    h = hashlib.sha1(inspect.getsource(module).encode())
    for split in ("train", "valid", "test"):
        st = os.stat(os.path.join(folder, f"{split}.json"))
        h.update(f"{split}:{st.st_size}".encode())
    path = os.path.join(CACHE, f"{label}-{name}-{h.hexdigest()[:12]}.npz")
    ds = read_wrench(folder)
    splits = {}
    if os.path.exists(path):
        with np.load(path) as z:
            splits = {s: (z[f"{s}_L"], ds[s].y) for s in ("train", "valid", "test")}
    else:
        for s in ("train", "valid", "test"):
            L = apply_lfs(ds[s].data, module.LFS, progress=False, cardinality=ds.cardinality)
            splits[s] = (np.asarray(L, dtype=np.int64), ds[s].y)
        os.makedirs(CACHE, exist_ok=True)
        _atomic_write(path, lambda tmp: np.savez(open(tmp, "wb"), **{f"{s}_L": splits[s][0] for s in splits}))
    return LFSet(f"{name}/{label}", "hand", module.METRIC, ds.cardinality, splits)


def _subsets(name: str, data_root: str, count: int) -> list[LFSet]:
    """``count`` random subsets of WRENCH's LFs of ``name`` (seeded by the dataset name)."""
    from benchmarks.lfsets import LF_SETS
    from sources import read_wrench

    module = LF_SETS[name]
    ds = read_wrench(os.path.join(data_root, module.FOLDER))
    m = ds["train"].L.shape[1]
    rng = np.random.default_rng(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16))
    out = []
    for i in range(count):
        size = int(rng.integers(max(3, m // 4), max(4, (3 * m) // 4) + 1))
        cols = np.sort(rng.choice(m, size=size, replace=False))
        splits = {s: (np.asarray(ds[s].L)[:, cols].astype(np.int64), ds[s].y) for s in ("train", "valid", "test")}
        out.append(LFSet(f"{name}/sub{i:02d}", "subset", module.METRIC, ds.cardinality, splits))
    return out


def _synthetic(regimes) -> list[LFSet]:
    from benchmarks.synthetic import REGIMES

    out = []
    for regime in regimes:
        gen, k, rows, _, _ = REGIMES[regime]
        L, y = gen(n=rows, seed=0)
        order = np.random.default_rng(1).permutation(len(y))
        a, b = int(0.7 * len(y)), int(0.8 * len(y))
        parts = {"train": order[:a], "valid": order[a:b], "test": order[b:]}
        out.append(LFSet(f"synthetic/{regime}", "synthetic", "acc", k,
                         {s: (L[idx], y[idx]) for s, idx in parts.items()}))
    return out


def _score(lfset: LFSet, model) -> float:
    from models import score_predictions

    L, y = lfset.splits["test"]
    pred = model.predict(L)
    if lfset.metric == "f1":
        covered = (L != -1).any(axis=1)
        return 100 * float(score_predictions(y[covered], pred[covered], "f1")) if covered.any() else float("nan")
    return 100 * float(np.mean(pred == y))


def _fit(lfset: LFSet, column: str, seed: int = 0):
    from models import LabelModel, fit_with_validation, make_model

    L, _ = lfset.splits["train"]
    Lv, yv = lfset.splits["valid"]
    metric = "f1" if lfset.metric == "f1" else "accuracy"
    if lfset.metric == "f1":
        # The test score counts the rows with a vote only, so the validation score each model optimises does too
        # (over every row, F1 of a rare class is often best when every row without a vote gets that class).
        covered = (Lv != -1).any(axis=1)
        Lv, yv = Lv[covered], yv[covered]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if column == "default":
            return LabelModel(cardinality=lfset.k).fit(L)
        if column == "default+v":
            return fit_with_validation(LabelModel(cardinality=lfset.k), L, Lv, yv, metric=metric)
        params = {"cardinality": lfset.k}
        if column == "snorkel":
            params["random_state"] = seed
        return fit_with_validation(make_model(column, **params), L, Lv, yv, metric=metric)


def _source_hash(names) -> str:
    h = hashlib.sha1()
    for n in names:
        with open(os.path.join(ROOT, "models", n), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


_ALT_SOURCES = {
    "mv": ["majority.py", "base.py", "_tiebreak.py"],
    "wmv": ["weighted.py", "majority.py", "base.py", "_tiebreak.py"],
    "ds": ["dawid_skene.py", "base.py", "_tiebreak.py"],
    "snorkel": ["snorkel_model.py", "base.py", "_tiebreak.py"],
    "hyperlm": ["hyperlm_model.py", "base.py", "_tiebreak.py"],
}


def run(lfsets: list[LFSet], columns, progress: bool = True) -> list[dict]:
    """Score every column on every LF set; alternative models' scores come from the cache when unchanged."""
    import importlib.util

    from tqdm.auto import tqdm

    cache_path = os.path.join(CACHE, "alternatives.json")
    cached = {}
    if os.path.exists(cache_path):
        with open(cache_path) as f:
            cached = json.load(f)
    have_hyperlm = importlib.util.find_spec("hyperlm") is not None
    records = []
    bar = tqdm(total=len(lfsets) * len(columns), desc="suite", file=sys.stderr, disable=not progress)
    for lfset in lfsets:
        key = lfset.key()
        y_train = lfset.splits["train"][1]
        truth = np.bincount(y_train, minlength=lfset.k) / len(y_train)
        rec = {"set": lfset.name, "kind": lfset.kind, "metric": lfset.metric, "k": lfset.k,
               "lfs": int(lfset.splits["train"][0].shape[1])}
        for column in columns:
            bar.set_postfix_str(f"{lfset.name}/{column}")
            # F1 sets' keys name their validation protocol (rows with a vote), so older scores are not reused.
            protocol = "/covered-valid" if lfset.metric == "f1" else ""
            ckey = (f"{key}/{column}/{_source_hash(_ALT_SOURCES[column])}{protocol}" if column in ALTERNATIVES
                    else None)
            if column == "hyperlm" and not have_hyperlm:
                rec[column] = float("nan")
            elif ckey is not None and ckey in cached:
                rec[column] = cached[ckey]
            else:
                start = time.perf_counter()
                try:
                    model = _fit(lfset, column)
                except ValueError as err:  # e.g. Snorkel needs 3 LFs; the table shows a blank
                    if column in ("default", "default+v"):
                        raise
                    print(f"{lfset.name}: {column} failed: {err}", file=sys.stderr)
                    rec[column] = float("nan")
                    bar.update(1)
                    continue
                rec[column] = _score(lfset, model)
                if column == "default":
                    rec["prior_err"] = float(np.max(np.abs(model.class_prior_ - truth)))
                    rec["fit_s"] = time.perf_counter() - start
                if column in ("default", "default+v"):
                    rec[f"{column} family"] = getattr(model, "family_", "")
                if ckey is not None:
                    cached[ckey] = rec[column]
            bar.update(1)
        records.append(rec)
        # Saved after every set, so an interrupted run keeps what it computed.
        os.makedirs(CACHE, exist_ok=True)
        _atomic_write(cache_path, lambda tmp: json.dump(cached, open(tmp, "w"), indent=0))
    bar.close()
    return records


def verdicts(records: list[dict]) -> dict:
    """The targets: how often the default (without and with labels) is at least each competitor."""
    out = {}
    alts = [c for c in ALTERNATIVES if any(np.isfinite(r.get(c, np.nan)) for r in records)]

    def best(r, cols):
        vals = [r[c] for c in cols if np.isfinite(r.get(c, np.nan))]
        return max(vals) if vals else np.nan

    rows = [r for r in records if np.isfinite(r.get("default", np.nan))]
    n = len(rows)
    if "default" in records[0]:
        ge_mv_ds = sum(r["default"] >= best(r, ["mv", "ds"]) - 1e-9 for r in rows)
        within1 = sum(r["default"] >= best(r, alts) - 1.0 for r in rows)
        # WMV and HyperLM take the validation class balance (see models.fit_with_validation); these three use no
        # label, like the default column.
        label_free = [c for c in ("mv", "ds", "snorkel") if c in alts]
        within1_free = sum(r["default"] >= best(r, label_free) - 1.0 for r in rows)
        out["default >= max(MV, DS)"] = f"{ge_mv_ds}/{n} ({100 * ge_mv_ds / max(n, 1):.0f}%)"
        out["default within 1 point of the best alternative"] = f"{within1}/{n}"
        out["default within 1 point of the best label-free alternative (MV, DS, Snorkel)"] = f"{within1_free}/{n}"
        errs = [r["prior_err"] for r in rows if "prior_err" in r]
        shared = [r["prior_err"] for r in rows if r["kind"] in ("hand", "subset")]
        out["class-prior error <= 0.05"] = (f"{sum(e <= 0.05 for e in shared)}/{len(shared)} shared-data sets, "
                                            f"{sum(e <= 0.05 for e in errs)}/{len(errs)} all; "
                                            f"median {np.median(shared):.3f}, max {max(errs):.3f}" if errs else "")
    if "default+v" in records[0]:
        rv = [r for r in records if np.isfinite(r.get("default+v", np.nan))]
        ge_all = sum(r["default+v"] >= best(r, alts) - 1e-9 for r in rv)
        out["default+v >= every alternative"] = f"{ge_all}/{len(rv)} ({100 * ge_all / max(len(rv), 1):.0f}%)"
    return out


def format_table(records: list[dict], columns, markdown: bool = False) -> str:
    header = ["LF set", "LFs", "metric"] + [NAMES[c] for c in columns] + ["prior err"]
    lines = []
    for r in records:
        cells = [r["set"], str(r["lfs"]), "F1 cov" if r["metric"] == "f1" else "acc"]
        finite = [r[c] for c in ALTERNATIVES if c in columns and np.isfinite(r.get(c, np.nan))]
        top = max(finite) if finite else np.nan
        for c in columns:
            v = r.get(c, np.nan)
            s = "" if not np.isfinite(v) else f"{v:.1f}"
            if markdown and c in ("default", "default+v") and np.isfinite(v) and v >= top - 1e-9:
                s = f"**{s}**"
            cells.append(s)
        cells.append(f"{r['prior_err']:.3f}" if "prior_err" in r else "")
        lines.append(cells)
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        out += ["| " + " | ".join(c) + " |" for c in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data"),
                        help="folder holding the WRENCH datasets (default: ../shared/data next to the repository)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--subsets", type=int, default=20, help="random subsets of WRENCH's LFs per dataset")
    parser.add_argument("--no-hand", action="store_true", help="leave out the hand-written LF sets")
    parser.add_argument("--no-synthetic", action="store_true", help="leave out the synthetic regimes")
    parser.add_argument("--columns", nargs="+", default=list(COLUMNS), choices=COLUMNS)
    parser.add_argument("--markdown", help="also write the table as markdown to this file")
    parser.add_argument("--json", help="also write the records as JSON to this file")
    args = parser.parse_args()
    from benchmarks.lfsets import HAND_SETS

    lfsets: list[LFSet] = []
    for name in args.datasets:
        if not args.no_hand:
            lfsets.extend(_hand_votes(name, args.data, label) for label in HAND_SETS[name])
    for name in args.datasets:
        lfsets.extend(_subsets(name, args.data, args.subsets))
    if not args.no_synthetic:
        lfsets.extend(_synthetic(SYNTHETIC))
    print(f"Scoring {len(args.columns)} models on {len(lfsets)} LF sets (alternatives are cached; "
          f"about 1-2 s per set for the default, more for uncached Snorkel fits).", file=sys.stderr)
    records = run(lfsets, args.columns)
    print(format_table(records, args.columns))
    print()
    for k, v in verdicts(records).items():
        print(f"{k}: {v}")
    if args.markdown:
        _atomic_write(args.markdown, lambda tmp: open(tmp, "w").write(format_table(records, args.columns, True) + "\n"))
    if args.json:
        _atomic_write(args.json, lambda tmp: json.dump(records, open(tmp, "w"), indent=1))


if __name__ == "__main__":
    main()
