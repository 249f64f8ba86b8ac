"""YouTube comment spam, end to end: data -> LFs -> label model -> review queue -> labelled dataset.

Run from anywhere: ``python examples/youtube_spam/run.py [--out DIR] [--keep-uncovered]``. The comments
of four videos are treated as unlabelled training data; the fifth video (Shakira) is the held-out test set
whose gold labels only measure how good the labels are. Comments no LF voted on are left out of
``labelled_train.csv`` unless ``--keep-uncovered`` is given: their label would only be the class prior.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import matplotlib

matplotlib.use("Agg")  # the example runs on servers without a display

from sklearn.feature_extraction.text import TfidfVectorizer

from labeling import apply_lfs, covered_rows, lf_summary, load_lfs, plot_lf_summary
from labeling.review import select
from models import LabelModel, accuracy, precision_recall_f1, probs_to_preds
from sources import read_csv

HERE = Path(__file__).resolve().parent
LABEL_NAMES = ["HAM", "SPAM"]


def load_comments(files: list[Path]) -> pd.DataFrame:
    """Read UCI YouTube CSVs into one DataFrame indexed by comment id, with a ``text`` column."""
    frames = []
    for path in files:
        df = read_csv(path, text_column="CONTENT")
        df["video"] = path.stem.split("-", 1)[1]
        frames.append(df)
    # read_csv added a ``text`` copy of CONTENT, the column LFs read.
    df = pd.concat(frames, ignore_index=True).drop(columns=["CONTENT"]).rename(columns={"CLASS": "gold"})
    # A few comment ids repeat across videos; suffix them so every row keeps a unique, traceable id.
    ids = df["COMMENT_ID"].astype(str)
    dup = ids.groupby(ids).cumcount()
    df.index = pd.Index(np.where(dup > 0, ids + "#" + dup.astype(str), ids), name="id")
    return df.drop(columns=["COMMENT_ID"])


def main(out_dir: Path, n_review: int = 10, *, drop_uncovered: bool = True) -> pd.DataFrame:
    """Run the example and write its outputs to ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Output folder (created if missing).
    n_review : int
        How many uncertain training comments to list for review.
    drop_uncovered : bool
        Leave the comments no LF voted on out of ``labelled_train.csv`` (default); ``False`` keeps
        them with the label model's prior as their label.

    Returns
    -------
    DataFrame
        The rows written to ``labelled_train.csv``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = sorted((HERE / "data").glob("Youtube0*.csv"))
    train = load_comments(files[:4])
    test = load_comments(files[4:])
    print(f"Loaded {len(train)} unlabelled training comments and {len(test)} test comments.")

    lfs = load_lfs(HERE / "lfs.py")
    L_train = apply_lfs(train, lfs, cardinality=2)
    L_test = apply_lfs(test, lfs, cardinality=2, progress=False)
    L_train.save(out_dir / "L_train.npz")

    # Gold labels of the test videos only score the LFs; training never sees them.
    summary = lf_summary(L_test, test["gold"].to_numpy())
    print("\nLF summary (accuracy measured on the test video):")
    print(summary.round(3).to_string())
    plot_lf_summary(summary, title="YouTube spam LFs").savefig(out_dir / "lf_summary.png", dpi=110)

    model = LabelModel(cardinality=2).fit(L_train)
    probs = model.predict_proba(L_train)
    test_pred = model.predict(L_test)
    p, r, f1 = precision_recall_f1(test["gold"], test_pred)
    print(
        f"\nLabel model {type(model).__name__}: test accuracy {accuracy(test['gold'], test_pred):.3f}, "
        f"spam precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}"
    )

    # The rows the model is least sure of are where a human label helps most; spreading the batch over
    # TF-IDF space keeps ten copies of "subscribe!" from filling it.
    covered = covered_rows(L_train)
    features = TfidfVectorizer(min_df=2).fit_transform(train["text"])
    order = select(probs, L_train, n_review, strategy="diverse:entropy", features=features, random_state=0)
    review = train.iloc[order]
    print(f"\n{n_review} comments for human review, spread over the data among the most uncertain training comments "
          "(diverse:entropy):")
    for rid, row, pr, row_votes in zip(review.index, review.itertuples(), probs[order], L_train.values[order]):
        votes = {name: int(v) for name, v in zip(L_train.lf_names, row_votes) if v != -1}
        print(f"  [{rid}] P(spam)={pr[1]:.2f} votes={votes or 'none'}  {row.text[:80]!r}")

    labelled = pd.DataFrame(
        {
            "text": train["text"],
            "label": probs_to_preds(probs, tie_break=model.tie_break),  # the probabilities are already computed
            "prob_spam": probs[:, 1],
            "covered": covered,
        },
        index=train.index,
    )
    labelled["label_name"] = [LABEL_NAMES[i] if i >= 0 else "" for i in labelled["label"]]
    path = out_dir / "labelled_train.csv"
    if drop_uncovered:
        # A comment no LF voted on gets only the label model's class prior: no evidence, so no training label.
        labelled = labelled[covered]
        labelled.to_csv(path)
        print(f"\nWrote {len(labelled)} labelled rows to {path}; left out {int((~covered).sum())} of {len(covered)} "
              "comments no LF voted on (--keep-uncovered keeps them)")
    else:
        labelled.to_csv(path)
        print(f"\nWrote {len(labelled)} labelled rows ({covered.mean():.1%} covered by an LF) to {path}")
    return labelled


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    parser.add_argument("--review", type=int, default=10, help="how many uncertain rows to list")
    parser.add_argument("--keep-uncovered", action="store_true",
                        help="also write the comments no LF voted on (labelled with the class prior)")
    args = parser.parse_args()
    main(args.out, args.review, drop_uncovered=not args.keep_uncovered)
