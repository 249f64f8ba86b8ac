"""Label-model stress suite with known truth: seven synthetic regimes, votewise's default vs majority vote.

Each regime is a generator that draws the hidden true labels ``y`` and a vote matrix ``L``
(n x m ints, -1 = abstain) from a stated model of the LFs, so every label model can be scored
against the truth. The suite shows where modelling the LFs pays off and where it cannot (rows
with no vote, a few lone votes) and checks one claim: **the default beats MV in every regime**,
i.e. ``LabelModel(cardinality=k).fit(L)`` (no labels, no validation set, default settings) has a
higher mean accuracy on all rows than ``MajorityVote`` in each regime (the table gives the paired
difference per regime and on how many seeds the default won).

Models, each fit on ``L`` alone: votewise's default ``LabelModel``, ``MajorityVote``,
``DawidSkene`` and Snorkel's label model (``SnorkelLabelModel``, its defaults; skipped where it
cannot finish in reasonable time, which the table says). Metrics, averaged over ``--seeds``
seeds (mean and standard deviation across seeds): accuracy of ``predict()`` on all rows (ties
broken by the models' deterministic hash rule, so a row with no vote is a coin flip for MV),
accuracy on covered rows (at least one vote), expected calibration error of ``predict_proba``
on all rows (``models.expected_calibration_error``) and the fit time.

    python benchmarks/synthetic.py                           # all regimes, 3 seeds (2-4 minutes on 2 cores)
    python benchmarks/synthetic.py --regimes baseline imbalance --seeds 5
    python benchmarks/synthetic.py --json out.json --markdown out.md
    python benchmarks/synthetic.py --rows 2000               # every regime at 2,000 rows (a quick check)
    python benchmarks/synthetic.py --snorkel-all             # also run Snorkel on the 100-class regime

The regimes:

1. ``baseline`` -- balanced binary, 10 conditionally independent LFs, accuracy 0.55-0.9, firing 0.1-0.5.
2. ``imbalance`` -- binary, positives 1:20; LFs vote both classes, more accurate on negatives.
3. ``low-coverage`` -- as baseline, but only 10% of the rows get any vote.
4. ``100-classes`` -- 100 classes; each LF votes only among its own 3 classes.
5. ``correlated`` -- 5 exact copies of one mediocre LF (accuracy 0.6) among 6 independent better LFs.
6. ``adversarial`` -- one LF right only 30% of the time (systematically flipping) among 9 decent LFs.
7. ``sparse-lfs`` -- 300 LFs that each fire on 0.5-1% of the rows, 6 classes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from typing import Callable

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ABSTAIN = -1


# ---------------------------------------------------------------------------------------------
# Generators. Each returns (L, y): L int array (n, m) with -1 for abstain, y int array (n,) of the
# hidden true classes 0..k-1. Everything is drawn from np.random.default_rng(seed).
# ---------------------------------------------------------------------------------------------


def _votes_for(rng: np.random.Generator, y: np.ndarray, k: int, fires: np.ndarray, accuracy) -> np.ndarray:
    """One LF column: on rows where ``fires``, the true class with probability ``accuracy`` (a
    scalar, or one value per row), else a uniformly drawn wrong class; -1 elsewhere."""
    col = np.full(len(y), ABSTAIN, dtype=np.int64)
    rows = np.flatnonzero(fires)
    acc = accuracy if np.isscalar(accuracy) else np.asarray(accuracy)[rows]
    right = rng.random(len(rows)) < acc
    wrong = (y[rows] + rng.integers(1, k, size=len(rows))) % k
    col[rows] = np.where(right, y[rows], wrong)
    return col


def _independent(rng: np.random.Generator, y: np.ndarray, k: int, rates, accuracies) -> np.ndarray:
    """Columns of LFs that are independent given the class (see :func:`_votes_for`)."""
    return np.column_stack(
        [_votes_for(rng, y, k, rng.random(len(y)) < r, a) for r, a in zip(rates, accuracies)]
    )


def baseline(n: int = 10_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Balanced binary task, 10 LFs independent given the class.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    L : ndarray of int64, shape (n, 10)
        Votes, -1 = abstain.
    y : ndarray of int64, shape (n,)
        Hidden true class of each row, 0 or 1, each with probability 1/2.

    Notes
    -----
    LF ``j`` fires on each row independently with probability ``rate_j ~ U(0.1, 0.5)`` and, when it
    fires, votes the true class with probability ``acc_j ~ U(0.55, 0.9)``, otherwise the other
    class. This is exactly the model a label model assumes, so it should be easy to get right.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    L = _independent(rng, y, 2, rng.uniform(0.1, 0.5, 10), rng.uniform(0.55, 0.9, 10))
    return L, y


def imbalance(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary task with one positive per twenty negatives; 10 LFs with class-dependent accuracy.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    L : ndarray of int64, shape (n, 10)
        Votes, -1 = abstain.
    y : ndarray of int64, shape (n,)
        Hidden true class: 1 (positive) with probability 1/21 (about 4.8%, a 1:20 ratio), else 0.

    Notes
    -----
    Every LF votes both classes. LF ``j`` fires with probability ``rate_j ~ U(0.2, 0.6)`` whatever
    the class; on a positive row it votes 1 with probability ``acc_pos_j ~ U(0.6, 0.85)``, on a
    negative row it votes 0 with probability ``acc_neg_j ~ U(0.8, 0.95)``, and the other class
    otherwise. With 20 negatives per positive most positive votes are wrong (their precision is
    about 0.2) although every LF is better than chance on each class: counting votes over-predicts
    the positive class, a model that learns the class balance should not.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 1 / 21).astype(np.int64)
    m = 10
    rates = rng.uniform(0.2, 0.6, m)
    acc_pos, acc_neg = rng.uniform(0.6, 0.85, m), rng.uniform(0.8, 0.95, m)
    L = _independent(rng, y, 2, rates, [np.where(y == 1, p, q) for p, q in zip(acc_pos, acc_neg)])
    return L, y


def low_coverage(n: int = 20_000, seed: int = 0, coverage: float = 0.10) -> tuple[np.ndarray, np.ndarray]:
    """Balanced binary task where only ``coverage`` of the rows get any vote.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.
    coverage : float
        Probability that a row gets at least one vote.

    Returns
    -------
    L : ndarray of int64, shape (n, 10)
        Votes, -1 = abstain.
    y : ndarray of int64, shape (n,)
        Hidden true class of each row, 0 or 1, each with probability 1/2.

    Notes
    -----
    10 LFs independent given the class, accuracy ``U(0.55, 0.9)`` as in :func:`baseline`; firing
    rates ``r_j = 1 - exp(-h_j)`` with ``h_j`` proportional to ``U(0.5, 1.5)`` draws and scaled so
    that ``1 - prod(1 - r_j) = coverage`` exactly (each about 1%). Few rows hold two votes, so
    there is little agreement to learn the accuracies from, and the 90% uncovered rows can only be
    guessed (the class prior is uniform).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    m = 10
    h = rng.uniform(0.5, 1.5, m)
    h *= -np.log1p(-coverage) / h.sum()
    L = _independent(rng, y, 2, -np.expm1(-h), rng.uniform(0.55, 0.9, m))
    return L, y


def many_classes(n: int = 20_000, seed: int = 0, k: int = 100, m: int = 150,
                 classes_per_lf: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``k`` balanced classes; each LF only ever votes one of its own ``classes_per_lf`` classes.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.
    k : int
        Number of classes.
    m : int
        Number of LFs.
    classes_per_lf : int
        Size of each LF's class set.

    Returns
    -------
    L : ndarray of int64, shape (n, m)
        Votes, -1 = abstain; column ``j`` only holds -1 and classes of LF ``j``'s set.
    y : ndarray of int64, shape (n,)
        Hidden true class of each row, uniform over ``0..k-1``.

    Notes
    -----
    Like a keyword LF written for a few related classes. The class sets are drawn so that every
    class belongs to at least one LF (one round of a shuffled class list, then random classes).
    On a row whose true class is in its set, LF ``j`` fires with probability ``rate_j ~ U(0.3,
    0.7)`` and votes the true class with probability ``acc_j ~ U(0.6, 0.95)``, else another class
    of its set. On other rows it fires with probability ``rate_j * fp_j``, ``fp_j ~ U(0.005,
    0.02)`` (a small rate, but there are 97 other classes), and votes a class of its set at random:
    always wrong.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    order = np.concatenate([rng.permutation(k), rng.integers(0, k, size=m * classes_per_lf)])
    sets = []
    pos = 0
    for _ in range(m):  # take distinct classes from the list in order
        s = []
        while len(s) < classes_per_lf:
            c = int(order[pos]) if pos < len(order) else int(rng.integers(k))
            pos += 1
            if c not in s:
                s.append(c)
        sets.append(np.array(s))
    rates, accs, fps = rng.uniform(0.3, 0.7, m), rng.uniform(0.6, 0.95, m), rng.uniform(0.005, 0.02, m)
    L = np.full((n, m), ABSTAIN, dtype=np.int64)
    for j, s in enumerate(sets):
        inside = np.isin(y, s)
        fires = rng.random(n) < np.where(inside, rates[j], rates[j] * fps[j])
        rows = np.flatnonzero(fires)
        other = s[rng.integers(0, classes_per_lf, size=len(rows))]
        # a wrong vote inside the set: another member of the set, drawn uniformly
        idx = np.argmax(s[None, :] == y[rows, None], axis=1)
        other_in = s[(idx + rng.integers(1, classes_per_lf, size=len(rows))) % classes_per_lf]
        right = rng.random(len(rows)) < accs[j]
        L[rows, j] = np.where(inside[rows], np.where(right, y[rows], other_in), other)
    return L, y


def correlated(n: int = 10_000, seed: int = 0, copies: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Balanced binary task; one mediocre LF appears ``copies`` times among 6 independent better LFs.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.
    copies : int
        How many identical columns the mediocre LF gets.

    Returns
    -------
    L : ndarray of int64, shape (n, 6 + copies)
        Votes, -1 = abstain. Columns 0..5 are the independent LFs; columns 6.. are identical.
    y : ndarray of int64, shape (n,)
        Hidden true class of each row, 0 or 1, each with probability 1/2.

    Notes
    -----
    The 6 independent LFs fire with probability ``U(0.1, 0.5)`` at accuracy ``U(0.75, 0.9)``. The
    mediocre LF fires on half the rows at accuracy 0.6, and its column is copied (as when the same
    heuristic is written several times): wherever it fires it casts ``copies`` identical votes,
    which outvote the better LFs under majority vote. A model assuming conditional independence
    also over-counts it, since the copies agree perfectly and so look very accurate.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    good = _independent(rng, y, 2, rng.uniform(0.1, 0.5, 6), rng.uniform(0.75, 0.9, 6))
    mediocre = _votes_for(rng, y, 2, rng.random(n) < 0.5, 0.6)
    return np.column_stack([good] + [mediocre] * copies), y


def adversarial(n: int = 10_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Balanced binary task; one LF worse than chance (accuracy 0.3) among 9 decent LFs.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    L : ndarray of int64, shape (n, 10)
        Votes, -1 = abstain; column 0 is the bad LF.
    y : ndarray of int64, shape (n,)
        Hidden true class of each row, 0 or 1, each with probability 1/2.

    Notes
    -----
    The 9 decent LFs fire with probability ``U(0.1, 0.5)`` at accuracy ``U(0.6, 0.85)``. The bad
    LF fires on 60% of the rows and votes the true class only 30% of the time (it systematically
    flips: a buggy rule with its labels swapped), so its votes carry information, reversed. Its
    vote is worth about as much as a decent LF's, the wrong way round: MV counts it as right.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    bad = _votes_for(rng, y, 2, rng.random(n) < 0.6, 0.3)
    decent = _independent(rng, y, 2, rng.uniform(0.1, 0.5, 9), rng.uniform(0.6, 0.85, 9))
    return np.column_stack([bad, decent]), y


def sparse_lfs(n: int = 20_000, seed: int = 0, m: int = 300, k: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """``m`` sparse LFs, each firing on 0.5-1% of the rows, ``k`` unbalanced classes.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of ``numpy.random.default_rng``.
    m : int
        Number of LFs.
    k : int
        Number of classes.

    Returns
    -------
    L : ndarray of int64, shape (n, m)
        Votes, -1 = abstain.
    y : ndarray of int64, shape (n,)
        Hidden true class of each row, drawn with a class balance ``~ Dirichlet(5, ..., 5)``.

    Notes
    -----
    LFs independent given the class, firing rate ``U(0.005, 0.01)`` and accuracy ``U(0.4, 0.9)``
    (chance is about 1/6), wrong votes uniform over the other classes. A row gets about 2.25 votes
    on average (about 89% of the rows are covered) and each LF has only 100-200 votes to estimate
    its accuracy from.
    """
    rng = np.random.default_rng(seed)
    balance = rng.dirichlet(np.full(k, 5.0))
    y = rng.choice(k, size=n, p=balance)
    L = _independent(rng, y, k, rng.uniform(0.005, 0.01, m), rng.uniform(0.4, 0.9, m))
    return L, y


# name: (generator, number of classes, default rows, Snorkel by default, why not)
REGIMES: dict[str, tuple[Callable[..., tuple[np.ndarray, np.ndarray]], int, int, bool, str]] = {
    "baseline": (baseline, 2, 10_000, True, ""),
    "imbalance": (imbalance, 2, 20_000, True, ""),
    "low-coverage": (low_coverage, 2, 20_000, True, ""),
    "100-classes": (many_classes, 100, 20_000, False,
                    "skipped: 150 LFs x 100 classes; 5 of Snorkel's 100 epochs took 3 min and 8 GB (--snorkel-all)"),
    "correlated": (correlated, 2, 10_000, True, ""),
    "adversarial": (adversarial, 2, 10_000, True, ""),
    "sparse-lfs": (sparse_lfs, 6, 20_000, True, ""),
}
MODELS = ("default", "mv", "ds", "snorkel")
MODEL_NAMES = {"default": "LabelModel (default)", "mv": "MajorityVote", "ds": "DawidSkene",
               "snorkel": "Snorkel LabelModel"}


def make_model(name: str, k: int, seed: int):
    from models import DawidSkene, LabelModel, MajorityVote, SnorkelLabelModel

    if name == "default":
        return LabelModel(cardinality=k)
    if name == "mv":
        return MajorityVote(cardinality=k)
    if name == "ds":
        return DawidSkene(cardinality=k)
    return SnorkelLabelModel(cardinality=k, random_state=seed)


def evaluate(model, L: np.ndarray, y: np.ndarray) -> dict:
    """Fit ``model`` on ``L`` (no labels) and score it against the hidden ``y``."""
    from models import expected_calibration_error, probs_to_preds

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(L)
    fit_s = time.perf_counter() - start
    probs = model.predict_proba(L)
    # What model.predict(L) returns (its own tie rule: a deterministic hash of the row position),
    # without computing predict_proba a second time.
    pred = probs_to_preds(probs, tie_break=model.tie_break)
    covered = (L != ABSTAIN).any(axis=1)
    return {
        "accuracy": float(np.mean(pred == y)),
        "covered_accuracy": float(np.mean(pred[covered] == y[covered])) if covered.any() else float("nan"),
        "ece": expected_calibration_error(probs, y),
        "fit_seconds": fit_s,
    }


def run_job(regime: str, seed: int, models: list[str], rows: int | None, snorkel_all: bool) -> list[dict]:
    gen, k, default_rows, snorkel_ok, _ = REGIMES[regime]
    n = rows or default_rows
    L, y = gen(n=n, seed=seed)
    coverage = float((L != ABSTAIN).any(axis=1).mean())
    out = []
    for name in models:
        if name == "snorkel" and not (snorkel_ok or snorkel_all):
            continue
        record = {"regime": regime, "seed": seed, "model": name, "rows": n, "lfs": L.shape[1], "classes": k,
                  "coverage": coverage}
        record.update(evaluate(make_model(name, k, seed), L, y))
        out.append(record)
    return out


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def summarize(records: list[dict], regimes: list[str], models: list[str], snorkel_all: bool) -> list[dict]:
    """One row per (regime, model): mean and std across seeds, plus rows for skipped models."""
    rows = []
    for regime in regimes:
        for name in models:
            rs = [r for r in records if r["regime"] == regime and r["model"] == name]
            if not rs:
                note = (REGIMES[regime][4] if name == "snorkel" and not snorkel_all else "") or "not run"
                rows.append({"regime": regime, "model": name, "skipped": note})
                continue
            row = {"regime": regime, "model": name, "seeds": len(rs), "rows": rs[0]["rows"], "lfs": rs[0]["lfs"],
                   "classes": rs[0]["classes"], "coverage": float(np.mean([r["coverage"] for r in rs]))}
            for key in ("accuracy", "covered_accuracy", "ece", "fit_seconds"):
                row[key], row[key + "_std"] = _mean_std([r[key] for r in rs])
            rows.append(row)
    return rows


def claim(records: list[dict], regimes: list[str]) -> list[dict]:
    """Per regime: the default's accuracy minus MV's (paired by seed), and whether it is > 0."""
    out = []
    for regime in regimes:
        acc = {(r["model"], r["seed"]): r["accuracy"] for r in records if r["regime"] == regime}
        seeds = sorted(s for m, s in acc if m == "default" and ("mv", s) in acc)
        if not seeds:
            continue
        d, sd = _mean_std([acc[("default", s)] - acc[("mv", s)] for s in seeds])
        out.append({"regime": regime, "delta": d, "delta_std": sd, "beats": d > 0,
                    "wins": sum(acc[("default", s)] > acc[("mv", s)] for s in seeds), "seeds": len(seeds)})
    return out


def _pct(row: dict, key: str) -> str:
    return f"{100 * row[key]:.2f} ± {100 * row[key + '_std']:.2f}"


def format_table(summary: list[dict], verdicts: list[dict], markdown: bool = False) -> str:
    head = ["regime", "n x m, k", "cover %", "model", "acc % (all)", "acc % (covered)", "ECE", "fit s"]
    lines = []
    for row in summary:
        if "skipped" in row:
            lines.append([row["regime"], "", "", MODEL_NAMES[row["model"]], row["skipped"]])
            continue
        lines.append([row["regime"], f"{row['rows']:,} x {row['lfs']}, k={row['classes']}",
                      f"{100 * row['coverage']:.1f}", MODEL_NAMES[row["model"]], _pct(row, "accuracy"),
                      _pct(row, "covered_accuracy"), f"{row['ece']:.3f} ± {row['ece_std']:.3f}",
                      f"{row['fit_seconds']:.2f}"])
    verdict_head = ["regime", "default - MV, acc pp (all rows)", "seeds won", "default beats MV"]
    verdict_lines = [[v["regime"], f"{100 * v['delta']:+.2f} ± {100 * v['delta_std']:.2f}",
                      f"{v['wins']}/{v['seeds']}",
                      ("yes" if v["wins"] == v["seeds"] else "yes, on the mean only") if v["beats"] else "NO"]
                     for v in verdicts]
    failed = [v["regime"] for v in verdicts if not v["beats"]]
    verdict = ("Claim 'the default beats MV in every regime': "
               + ("holds" if not failed else "FAILS in " + ", ".join(failed)) + f" ({len(verdicts)} regimes).")
    if markdown:
        def md(h, ls):
            rows = ["| " + " | ".join(h) + " |", "|" + "|".join("---" for _ in h) + "|"]
            rows += ["| " + " | ".join(line + [""] * (len(h) - len(line))) + " |" for line in ls]
            return "\n".join(rows)
        return md(head, lines) + "\n\n" + md(verdict_head, verdict_lines) + "\n\n" + verdict + "\n"

    def plain(h, ls):
        # a skipped model's row is [regime, "", "", model, note]: the note runs past the columns
        widths = [max(len(h[i]), *(len(line[i]) for line in ls if len(line) == len(h))) for i in range(len(h))]
        out = ["  ".join(c.ljust(w) for c, w in zip(h, widths)).rstrip(), "-" * (sum(widths) + 2 * (len(h) - 1))]
        out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in ls]
        return "\n".join(out)
    return plain(head, lines) + "\n\n" + plain(verdict_head, verdict_lines) + "\n\n" + verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=list(REGIMES))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per regime; the table averages them")
    parser.add_argument("--rows", type=int, help="rows in every regime (default: each regime's own, 10,000-20,000)")
    parser.add_argument("--no-snorkel", action="store_true")
    parser.add_argument("--snorkel-all", action="store_true", help="also run Snorkel where it is skipped by default")
    parser.add_argument("--json", metavar="PATH", help="write every (regime, seed, model) record and the summary")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table as markdown")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    from tqdm import tqdm

    models = [m for m in args.models if not (m == "snorkel" and args.no_snorkel)]
    if "snorkel" in models:  # import torch and Snorkel once, before the first timed fit
        import snorkel.labeling.model  # noqa: F401
    jobs = [(regime, seed) for regime in args.regimes for seed in range(args.seeds)]
    records = []
    start = time.perf_counter()
    bar = tqdm(jobs, desc="regime x seed", unit="job", disable=args.no_progress, file=sys.stderr)
    for regime, seed in bar:
        bar.set_postfix_str(f"{regime} seed {seed}")
        records += run_job(regime, seed, models, args.rows, args.snorkel_all)
    total = time.perf_counter() - start
    summary = summarize(records, args.regimes, models, args.snorkel_all)
    verdicts = claim(records, args.regimes)
    print(f"{len(jobs)} jobs ({len(args.regimes)} regimes x {args.seeds} seeds) in {total:.1f} s; "
          f"{os.cpu_count()} CPUs; mean ± std across seeds")
    print(format_table(summary, verdicts))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"records": records, "summary": summary, "claim": verdicts, "seconds": total}, fh, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(format_table(summary, verdicts, markdown=True))


if __name__ == "__main__":
    main()
