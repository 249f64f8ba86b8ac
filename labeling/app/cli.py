"""The ``votewise`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser"]

def _cmd_apply(args: argparse.Namespace) -> int:
    from labeling.core.apply import apply_lfs
    from labeling.core.fileio import check_writable
    from labeling.core.loading import load_lfs
    from labeling.core.outputs import check_outputs

    from .rows import read_rows

    # numpy adds .npz to a name without it: check (and report) the file that will really be written,
    # and check it, and the cache folder, before the apply rather than after it.
    out = Path(args.out)
    if out.suffix != ".npz":
        out = out.with_name(out.name + ".npz")
    check_outputs({"--out": out}, {"--data": args.data, "--lfs": args.lfs, "--cache": args.cache})
    check_writable(out, what="--out")
    if args.cache is not None:
        check_writable(args.cache, what="--cache", folder=True)
    data, _ = read_rows(args.data, text_column=args.text_column, id_column=args.id_column,
                        dedupe_ids=args.dedupe_ids)
    lfs = load_lfs(args.lfs)
    L = apply_lfs(
        data, lfs, n_jobs=args.n_jobs, progress=not args.quiet,
        fault_tolerant=args.fault_tolerant, cardinality=args.cardinality, cache=args.cache,
    )
    written = L.save(out)
    print(f"Wrote {L.shape[0]} rows x {L.shape[1]} LFs to {written}", file=sys.stderr)
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    import pandas as pd

    from labeling.core.analysis import lf_summary, plot_lf_summary
    from labeling.core.matrix import LabelMatrix
    from labeling.core.outputs import check_outputs

    from .rows import read_rows

    check_outputs({"--plot": args.plot}, {"matrix": args.matrix, "--data": args.data})
    L = LabelMatrix.load(args.matrix)
    y = None
    if args.data is not None:
        data, _ = read_rows(args.data, text_column=None)
        if args.label_column not in data.columns:
            raise SystemExit(f"{' '.join(args.data)} has no label column {args.label_column!r}; "
                             f"columns: {list(data.columns)}")
        if len(data) != len(L):
            raise SystemExit(f"{' '.join(args.data)} has {len(data)} rows but {args.matrix} has {len(L)}; "
                             "they must match.")
        y = _gold_labels(data[args.label_column], args)
    cardinality = len(args.classes) if args.classes else args.cardinality
    summary = lf_summary(L, y, cardinality=cardinality)
    if args.json:
        print(summary.reset_index().to_json(orient="records"))
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(summary.round(3).to_string())
    if args.plot:
        plot_lf_summary(summary, title=Path(args.matrix).name).savefig(args.plot, dpi=120)
        print(f"Wrote {args.plot}", file=sys.stderr)
    return 0


def _gold_labels(column, args: argparse.Namespace):
    """Gold labels of ``--label-column`` as class ids: names mapped with ``--classes``, the rest checked.

    Values that are neither ids nor known names are an error naming the file, row and value (they
    were once turned into "unknown" silently, which left every LF at 0 correct, 0 incorrect).
    """
    import numpy as np
    import pandas as pd

    from labeling.core.analysis import check_gold

    names = {name.upper(): i for i, name in enumerate(args.classes or [])}
    values = []
    for pos, v in enumerate(column.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            values.append(-1)
        elif isinstance(v, str) and v.strip().upper() in names:
            values.append(names[v.strip().upper()])
        elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
            values.append(int(v))
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and float(v).is_integer():
            values.append(int(v))
        else:
            hint = (f"; --classes names {list(args.classes)}" if args.classes else
                    "; pass --classes NAME0,NAME1,... to map class names to ids")
            raise ValueError(
                f"{' '.join(args.data)}, row {pos}: gold label {str(v)[:40]!r} in column {args.label_column!r} "
                f"is not a class id{hint}."
            )
    cardinality = len(args.classes) if args.classes else args.cardinality
    try:
        return check_gold(pd.Series(values).to_numpy(), len(values), cardinality=cardinality, name=f"{args.label_column}")
    except ValueError as exc:
        raise ValueError(f"{' '.join(args.data)}: {exc}") from None


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import format_bench_table, run_bench

    records = run_bench(
        args.folders, args.model, metric=args.metric, fit_split=args.fit_split, progress=not args.quiet,
        lfs=args.lfs, lfs_only=args.lfs_only,
    )
    print(json.dumps(records, indent=1) if args.json else format_bench_table(records))
    return 0


def _show_build_log() -> None:
    """Print each pipeline step's counts on stderr, unless the caller configured logging already."""
    import logging

    from .pipeline import logger

    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[votewise build] %(message)s"))
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def _cmd_build(args: argparse.Namespace) -> int:
    from .build_config import read_config

    # The whole config is checked before the pipeline (and scikit-learn with it) is even imported.
    config = read_config(args.config, output=args.output)
    from .pipeline import run_build

    _show_build_log()
    run_build(config, config_file=args.config, progress=False if args.quiet else None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``votewise`` command."""
    from .rows import add_data_arguments

    parser = argparse.ArgumentParser(
        prog="votewise", description="Weak supervision: apply labeling functions, analyse them, fit label models."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("apply", help="apply the LFs of a Python file to a data file and save the label matrix")
    add_data_arguments(p)
    p.add_argument("--out", required=True, help="output .npz label matrix")
    p.add_argument("--n-jobs", type=int, default=1, help="worker processes (-1 = all cores)")
    p.add_argument("--cardinality", type=int, default=None, help="number of classes, to check votes")
    p.add_argument("--fault-tolerant", action="store_true", help="abstain where an LF raises instead of stopping")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="cache each LF's votes here; after editing one LF only its column is recomputed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_apply)

    p = sub.add_parser("analyze", help="print per-LF coverage, overlaps, conflicts (and accuracy with gold labels)")
    p.add_argument("matrix", help=".npz label matrix written by `votewise apply`")
    p.add_argument("--data", default=None, nargs="+",
                   help="data file(s) with gold labels, the same rows in the same order as the matrix")
    p.add_argument("--label-column", default="label", help="gold label column in --data (default: label)")
    p.add_argument("--classes", default=None, type=lambda v: [s.strip() for s in v.split(",") if s.strip()],
                   help="class names in id order (e.g. HAM,SPAM), to read gold labels written as names")
    p.add_argument("--cardinality", type=int, default=None, help="number of classes, to check votes and gold labels")
    p.add_argument("--plot", default=None, help="also save a plot of the summary (PNG/SVG/PDF)")
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("bench", help="fit label models on WRENCH-format folders and score them")
    p.add_argument("folders", nargs="+", help="WRENCH dataset folders (train/valid/test.json + label.json)")
    p.add_argument("--model", action="append", default=None,
                   help="model short name (repeatable), or 'all'; default: mv")
    p.add_argument("--metric", choices=["acc", "f1"], default="acc", help="acc, or f1 of class 1")
    p.add_argument("--fit-split", choices=["train", "test"], default="train",
                   help="votes to fit on (test: for folders without a train split)")
    p.add_argument("--json", action="store_true", help="print a list of JSON records")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--lfs", default=None, metavar="FILE",
                   help="more LFs (Python file or rule file, prompted LFs included) applied to each split")
    p.add_argument("--lfs-only", action="store_true", help="use only the --lfs votes, not the stored ones")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("build", help="build a dataset from a pipeline YAML file")
    p.add_argument("config", help="pipeline.yaml")
    p.add_argument("--output", default=None, help="output folder (overrides the config's export folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_build)

    from .review_cli import add_subcommands

    add_subcommands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``votewise`` console script."""
    args = build_parser().parse_args(argv)
    if getattr(args, "model", "unset") is None:
        args.model = ["mv"]
    from labeling.core.errors import LFError

    try:
        return int(args.func(args) or 0)
    except (LFError, ValueError, KeyError, TypeError, OSError, ImportError) as exc:
        # Input problems, and a missing optional part (its message is the install command), get one
        # readable line; a traceback would bury the row/LF it names.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        cause = f"\n  caused by: {exc.__cause__!r}" if isinstance(exc, LFError) and exc.__cause__ else ""
        print(f"votewise {args.command}: error: {message}{cause}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
