"""``votewise queue``, ``review``, ``export-store``, ``import-store`` and ``simulate``: registered on the main CLI.

Together they run the review loop from the shell: ``queue`` fits the label model on the LF
votes and the human labels so far and queues the rows it is least sure of; ``review``
labels them in the terminal; ``queue`` again refits and queues the next batch (and with
``--labels-out`` writes every row's label); ``export-store``/``import-store`` move the
work to and from JSONL or Label Studio.
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import json
import sys
from pathlib import Path

__all__ = ["add_subcommands"]

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_store_path(path: str) -> None:
    """Refuse a store path that is a folder or a file other than an SQLite database, before opening it.

    SQLite would report "file is not a database" (or, for an empty text file, silently make it one)
    without saying which argument was wrong.
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"store {path!r} is a folder; give the path of a review store file (e.g. reviews.sqlite).")
    if p.is_file() and p.stat().st_size:
        with open(p, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head != _SQLITE_MAGIC:
            raise ValueError(
                f"store {path!r} is not a review store: it is a file of another kind (it starts with {head[:12]!r}, "
                "not an SQLite header). Give the path of the .sqlite store, or a new path to create one."
            )
#: ``votewise simulate --quick``: its budget (the seeds drop to 1).
QUICK_BUDGET = 20


def _cmd_review(args: argparse.Namespace) -> int:
    from labeling.review.guidelines import Guidelines
    from labeling.review.store import ReviewStore
    from labeling.review.terminal import review_terminal

    _check_store_path(args.store)
    if not Path(args.store).exists():
        print(f"No review store at {args.store}; create one with: votewise queue {args.store} --data DATA "
              "--lfs LFS.py --classes NAME,NAME", file=sys.stderr)
        return 2
    store = ReviewStore(args.store)
    guidelines = Guidelines.load(args.guidelines) if args.guidelines else None
    n = review_terminal(store, reviewer=args.reviewer, guidelines=guidelines, limit=args.limit,
                        adjudicate=args.adjudicate)
    print(f"Recorded {n} decisions in {args.store}", file=sys.stderr)
    store.close()
    return 0


def _cmd_queue(args: argparse.Namespace) -> int:
    import numpy as np

    from labeling.core.apply import apply_lfs
    from labeling.core.fileio import check_writable
    from labeling.core.loading import load_lfs
    from labeling.core.outputs import atomic_write, check_outputs
    from labeling.review.loop import ActiveLoop
    from labeling.review.store import ReviewStore
    from models.registry import make_model

    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    _check_store_path(args.store)
    # Before any work: --labels-out must be neither the data, the LF file nor the store.
    check_outputs({"--labels-out": args.labels_out}, {"--data": args.data, "--lfs": args.lfs}, store=args.store)
    check_outputs({"the store": args.store}, {"--data": args.data, "--lfs": args.lfs})
    if args.labels_out:
        check_writable(args.labels_out, what="--labels-out")
    new = not Path(args.store).exists()
    if new and not classes:
        print(f"votewise queue: error: {args.store} is new; name the classes with --classes NAME,NAME,...",
              file=sys.stderr)
        return 2
    from .rows import read_rows

    # Read (and check) the rows before the store is created: a bad file leaves no empty store behind.
    data, scheme = read_rows(args.data, text_column=args.text_column, id_column=args.id_column,
                             dedupe_ids=args.dedupe_ids)
    store = ReviewStore(args.store, class_names=classes, double_review=args.double_review,
                        random_state=args.seed)
    try:
        names = store.class_names
        # Before the LFs run: rows keyed another way than the stored samples would be stored twice.
        store.check_id_scheme(scheme, data.index)
        lfs = load_lfs(args.lfs)
        L = apply_lfs(data, lfs, cardinality=len(names), progress=not args.quiet)
        loop = ActiveLoop(make_model(args.model, cardinality=len(names)), data, L, lfs=lfs, strategy=args.strategy,
                          store=store, batch_size=max(args.batch, 1), text_column="text",
                          audit_fraction=args.audit_fraction, random_state=args.seed, id_scheme=scheme)
        # A new batch ranks below the batches already queued: resume the batch count from the store.
        loop._batch = max((q["batch"] for q in store.queue_state().values()), default=0)
        loop.fit()
        n_human = int((loop.human_labels() != -1).sum())
        batch = loop.next_batch() if args.batch > 0 else data.iloc[:0]
        p = store.progress()
        print(f"{'Created' if new else 'Extended'} {args.store}: queued {len(batch)} rows "
              f"(strategy {args.strategy}); the label model was fit on {L.shape[1]} LFs and {n_human} human labels, "
              f"estimated label accuracy {loop.estimated_accuracy():.3f}.", file=sys.stderr)
        print(f"Store: {p['queued']} queued, {p['done']} done, {p['open']} open, {p['adjudicate']} to adjudicate, "
              f"{p['skipped']} skipped, {p['unsure']} unsure. Next: votewise review {args.store}", file=sys.stderr)
        if args.labels_out:
            out = data.copy()
            y = loop.human_labels()
            labels = loop.predict()
            out["label"] = labels
            out["label_name"] = [names[c] for c in labels]
            out["confidence"] = loop.predict_proba().max(axis=1).round(4)
            out["source"] = np.where(y != -1, "human", "model")
            if args.id_column and (out.index.astype(str) != out[args.id_column].astype(str)).any():
                # --dedupe-ids suffix renamed repeats: the store's id of each row goes along, so every label
                # traces back to its sample.
                out.insert(0, "sample_id", out.index)
            with atomic_write(args.labels_out, newline="", encoding="utf-8") as fh:
                out.to_csv(fh, index=args.id_column is None, index_label="row")
            print(f"Wrote {len(out)} labelled rows ({n_human} by humans) to {args.labels_out}", file=sys.stderr)
    finally:
        store.close()
    return 0


def _cmd_export_store(args: argparse.Namespace) -> int:
    from labeling.core.outputs import atomic_write, check_outputs
    from labeling.review.exchange import label_studio_config
    from labeling.review.store import ReviewStore

    _check_store_path(args.store)
    check_outputs({"out": args.out, "--label-studio-config": args.label_studio_config}, store=args.store)
    if not Path(args.store).exists():
        print(f"No review store at {args.store}", file=sys.stderr)
        return 2
    store = ReviewStore(args.store)
    try:
        if args.out.endswith(".jsonl"):
            n = store.export_jsonl(args.out)
        else:
            n = store.export_label_studio(args.out)
            if args.label_studio_config:
                with atomic_write(args.label_studio_config, encoding="utf-8") as fh:
                    fh.write(label_studio_config(store.class_names))
        print(f"Wrote {n} samples and {len(store.decisions(include_undone=True))} decisions to {args.out}",
              file=sys.stderr)
    finally:
        store.close()
    return 0


def _cmd_import_store(args: argparse.Namespace) -> int:
    from labeling.core.outputs import check_outputs
    from labeling.review.store import ReviewStore

    _check_store_path(args.store)
    # The store (and the journal SQLite keeps beside it) is written: neither may be the file read.
    check_outputs({"the store": args.store, **{f"the store's {side} file": f"{args.store}{side}"
                                               for side in ("-wal", "-journal")}}, {"file": args.file})
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    if not Path(args.file).is_file():
        raise FileNotFoundError(f"No such file: {args.file} (import-store reads Label Studio's JSON export of a "
                                "project, or a .jsonl written by export-store)")
    new = not Path(args.store).exists()
    store = ReviewStore(args.store, class_names=classes)
    ok = False
    try:
        users = {}
        for spec in args.user or []:
            uid, sep, name = spec.partition("=")
            if not sep or not uid.strip().isdigit() or not name.strip():
                raise ValueError(f"--user {spec!r}; expected a Label Studio user id and a reviewer name, e.g. 3=ann")
            users[int(uid)] = name.strip()
        n = (store.import_jsonl(args.file) if args.file.endswith(".jsonl")
             else store.import_label_studio(args.file, users=users))
        print(f"Added {n} decisions to {args.store} (an undo the file records counts as one; decisions already "
              "there are not added again)", file=sys.stderr)
        ok = True
    finally:
        store.close()
        if new and not ok:
            # The file was refused: no empty store is left behind to look like an import.
            for leftover in (Path(args.store), Path(f"{args.store}-wal"), Path(f"{args.store}-shm")):
                leftover.unlink(missing_ok=True)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    import pandas as pd

    from .simulation import plot_learning_curves, simulate

    from labeling.core.outputs import check_outputs

    check_outputs({"--plot": args.plot}, {f"folder {i + 1}": f for i, f in enumerate(args.folder)})
    strategies = [s for arg in (args.strategy or ["entropy"]) for s in arg.split(",") if s]
    if args.quick:
        # A first look: one seed, a budget of at most QUICK_BUDGET labels; the full run's numbers need more.
        args.seeds, args.budget = 1, min(args.budget, QUICK_BUDGET)
        args.batch = min(args.batch, args.budget)
    end_model, encoder = (False if args.no_end_model else None), None
    if args.encoder:
        from models.end_model import EndModel
        from sources import TextEncoder

        # One encoder for the text experts and for the row vectors `typical` and `diverse:*` read.
        encoder = TextEncoder(args.encoder, progress=not args.quiet)
        # Fail here, with the install command, not minutes later at the first batch: the weights' package
        # (a packaged name) and sentence-transformers must both be there.
        encoder.model_path()
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ImportError("votewise simulate --encoder needs sentence-transformers: "
                              "pip install 'votewise[encoder]'")
        end_model = False if args.no_end_model else EndModel.for_review_loop(encoder=encoder)

    results = pd.concat([
        simulate(
            folder, strategies=strategies, budget=args.budget, batch_size=args.batch, seeds=args.seeds,
            end_model=end_model, diversity_encoder=encoder, progress=not args.quiet,
            strip_test_prefix={"auto": None, "strip": True, "keep": False}[args.test_prefix],
            metric={"acc": "accuracy", "f1": "f1"}[args.metric], audit_fraction=args.audit_fraction,
        )
        for folder in args.folder
    ], ignore_index=True)
    metric = "lm_acc" if args.no_end_model else args.curve
    if args.plot:
        plot_learning_curves(results, metric=metric).savefig(args.plot, dpi=110)
        print(f"Wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(json.dumps(results.to_dict(orient="records")))
    else:
        means = results.groupby(["dataset", "strategy", "n_labels"]).mean(numeric_only=True).drop(columns="seed")
        with pd.option_context("display.max_rows", None, "display.width", 200):
            scaled = means.mul([1 if c == "audit_n" else 100 for c in means.columns], axis=1)
            print(scaled.round(1).to_string())
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``review``, ``queue``, ``export-store``, ``import-store`` and ``simulate`` on the subparsers."""
    from .rows import add_data_arguments

    p = subparsers.add_parser("review", help="review queued samples of a review store in the terminal")
    p.add_argument("store", help="the review store (.sqlite) written by the active loop")
    p.add_argument("--reviewer", default=getpass.getuser(), help="name recorded with each label (default: login)")
    p.add_argument("--guidelines", default=None, help="annotation guidelines (.md or .yaml) to show")
    p.add_argument("--limit", type=int, default=None, help="stop after this many decisions")
    p.add_argument("--adjudicate", action="store_true",
                   help="settle double-review disagreements instead of reviewing the queue")
    p.set_defaults(func=_cmd_review)

    p = subparsers.add_parser(
        "queue", help="create or extend a review store: fit the label model on LF votes and human labels, "
                      "queue the rows it is least sure of")
    p.add_argument("store", help="the review store (.sqlite); created if missing")
    add_data_arguments(p)
    p.add_argument("--classes", default=None,
                   help="class names in class-id order, comma-separated (needed when the store is new)")
    p.add_argument("--model", default="default", help="label model short name: default, mv, wmv, ds, snorkel")
    p.add_argument("--strategy", default="diverse:entropy",
                   help="query strategy: diverse:entropy (default: uncertain rows spread over the data, so a "
                        "batch is not 20 near-identical rows), entropy, margin, least_confidence, uncovered, "
                        "lf_disagreement, lf_audit, typical, random, diverse:margin, ...")
    p.add_argument("--batch", type=int, default=20, help="rows to queue (default: 20; 0 refits only)")
    p.add_argument("--double-review", type=float, default=0.0,
                   help="fraction of newly queued rows that two reviewers must label (default: 0)")
    p.add_argument("--audit-fraction", type=float, default=0.0,
                   help="share of the batch drawn at random, for an unbiased estimate of the labels' accuracy")
    p.add_argument("--labels-out", default=None,
                   help="also write every row's label (human where reviewed, else the refit model's) to this CSV")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_queue)

    p = subparsers.add_parser("export-store", help="write a review store as JSONL (.jsonl) or Label Studio tasks")
    p.add_argument("store", help="the review store (.sqlite)")
    p.add_argument("out", help="out.jsonl (every sample and decision) or tasks.json (Label Studio import)")
    p.add_argument("--label-studio-config", default=None, metavar="XML",
                   help="also write the matching Label Studio labeling interface")
    p.set_defaults(func=_cmd_export_store)

    p = subparsers.add_parser(
        "import-store", help="add the decisions of Label Studio's JSON export of a project (Export, JSON), or of a "
                             "votewise .jsonl export, to a store; every record is checked first, and a file with a "
                             "bad one adds nothing")
    p.add_argument("store", help="the review store (.sqlite); created if missing")
    p.add_argument("file", help="Label Studio's JSON export of the project the tasks of export-store went to, "
                                "or a .jsonl written by export-store")
    p.add_argument("--classes", default=None, help="class names, comma-separated, for a new store fed a "
                                                   "Label Studio file of another tool")
    p.add_argument("--user", action="append", default=None, metavar="ID=NAME",
                   help="reviewer name of a Label Studio user id in the file (repeatable), e.g. --user 3=ann")
    p.set_defaults(func=_cmd_import_store)

    p = subparsers.add_parser("simulate", help="simulate active learning with gold labels as the human")
    p.add_argument("folder", nargs="+", help="WRENCH dataset folders with train and test splits")
    p.add_argument("--strategy", action="append", default=None,
                   help="strategy (repeatable or comma-separated); random is always run as the baseline")
    p.add_argument("--budget", type=int, default=100, help="human labels in all (default: 100)")
    p.add_argument("--batch", type=int, default=10, help="labels per batch (default: 10)")
    p.add_argument("--seeds", type=int, default=5, help="repetitions (default: 5)")
    p.add_argument("--quick", action="store_true",
                   help=f"a first look: 1 seed and a budget of at most {QUICK_BUDGET} labels (a full run prints "
                        "its estimate before it starts)")
    p.add_argument("--plot", default=None, help="write a PNG learning curve of every strategy against random")
    p.add_argument("--metric", default="acc", choices=["acc", "f1"],
                   help="how test predictions are scored: accuracy, or F1 of class 1 (macro F1 beyond two "
                        "classes) as for WRENCH's F1 datasets such as sms (default: acc)")
    p.add_argument("--curve", default="combined_acc", choices=["lm_acc", "end_acc", "combined_acc"],
                   help="what the plot shows: the label model, the end model trained on the loop's labels, "
                        "or their product on covered test rows (default)")
    p.add_argument("--audit-fraction", type=float, default=0.0,
                   help="share of each batch drawn at random, for an unbiased estimate of the labels' accuracy")
    p.add_argument("--no-end-model", action="store_true", help="score the label model only (faster)")
    p.add_argument("--encoder", nargs="?", const="all-MiniLM-L6-v2", default=None, metavar="MODEL",
                   help="add sentence embeddings (a sentence-transformers name or path; default "
                        "all-MiniLM-L6-v2, the packaged weights) to the text experts and use them as the row "
                        "vectors that `typical` clusters and `diverse:*` spreads (needs the encoder extra)")
    p.add_argument("--test-prefix", default="auto", choices=["auto", "strip", "keep"],
                   help="drop the first token of each test text before the end model reads it: 'auto' does so "
                        "when most test texts start with a token no train text starts with, a label leak "
                        "(WRENCH trec); default: auto")
    p.add_argument("--json", action="store_true", help="print one JSON record per strategy, seed and batch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)

