"""Distant supervision end to end: labels from lists of known facts, measured with ``lf_summary``.

Run from anywhere: ``python examples/knowledge_base/run.py [--out DIR]``.

Part 1, terms: TREC question classification. A gazetteer of ~250 places (``data/places.csv``) and a
short list of place-type nouns ("city", "river", ...; matched through WordNet lemmas so "islands"
counts) vote LOCATION; we compare them with the 68 hand-written TREC rules and see what they add.

Part 2, entity pairs: a table of (capital, country) facts (``data/capitals.csv``) labels sentences that
mention a city and a country (``data/sentences.csv``, written for this example) as "capital of" when
the pair is a known fact, next to two window LFs on the words between the entities. Every vote can be
traced to the fact or the words that caused it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from labeling import apply_lfs, covered_rows, lf_summary
from models import MajorityVote, accuracy
from rules import kb_lf, kb_pair_lf, keyword_lf, rules_from_file, window_lf
from sources import KnowledgeBase, read_csv, read_wrench

HERE = Path(__file__).resolve().parent
TREC = HERE.parent.parent / "tests" / "data" / "trec"  # the WRENCH TREC copy bundled with the repository
LOC = 4  # TREC's LOCATION class
OTHER, CAPITAL_OF = 0, 1


def trec_part(out_dir: Path) -> pd.DataFrame:
    trec = read_wrench(TREC)
    places = KnowledgeBase.from_csv(HERE / "data" / "places.csv")  # term,label: country/state/city/region
    place_types = KnowledgeBase(
        {w: "place type" for w in ["city", "country", "state", "river", "mountain", "continent", "island",
                                   "capital", "ocean", "lake", "province", "county", "nation", "sea", "desert"]},
        lemmatize=True,
        name="place_types",
    )
    kb_lfs = [
        kb_lf("kb_place_name", places, LOC),
        kb_lf("kb_country_or_state", places, LOC, kb_labels={"country", "state"}),
        kb_lf("kb_place_type", place_types, LOC),
    ]
    train = trec.train
    L = apply_lfs(train.data, kb_lfs, cardinality=6, progress=False)
    summary = lf_summary(L, train.y)
    print(f"TREC train: {len(train.data)} questions, LOCATION base rate {np.mean(train.y == LOC):.3f}")
    print(summary[["polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc"]]
          .round(3).to_string())
    text = next(t for t in train.data["text"] if kb_lfs[2].explain(t))
    print(f"\nWhy kb_place_type voted LOCATION on {text!r}:")
    for span in kb_lfs[2].explain(text):
        print(f"  [{span.start}:{span.end}] {text[span.start:span.end]!r} <- {span.what}")
    text = next(t for t in train.data["text"] if kb_lfs[0].explain(t))
    print(f"Why kb_place_name voted LOCATION on {text!r}:")
    for span in kb_lfs[0].explain(text):
        print(f"  [{span.start}:{span.end}] {text[span.start:span.end]!r} <- {span.what}")

    # What do the KB LFs add to the 68 hand-written rules? Majority vote on the validation split.
    rules = rules_from_file(TREC / "readme.txt")
    valid = trec.valid
    print("\nMajority vote on TREC valid:")
    for label, lfs in [("68 rules", rules), ("68 rules + kb_place_type", rules + kb_lfs[2:]),
                       ("68 rules + all KB LFs", rules + kb_lfs)]:
        Lv = apply_lfs(valid.data, lfs, cardinality=6, progress=False)
        pred = MajorityVote(cardinality=6).fit(Lv).predict(Lv)
        print(f"  {label:<28} accuracy {accuracy(valid.y, pred):.3f}")
    summary.to_csv(out_dir / "trec_kb_lf_summary.csv")
    return summary


def relation_part(out_dir: Path) -> pd.DataFrame:
    facts = KnowledgeBase.from_csv(HERE / "data" / "capitals.csv", pair_columns=("city", "country"),
                                   label_column="relation")
    df = read_csv(HERE / "data" / "sentences.csv", id_column="id")
    lfs = [
        kb_pair_lf("kb_capital_of", facts, CAPITAL_OF, left="entity1", right="entity2"),
        window_lf("capital_between", ["capital of", "capital", "seat of government"], CAPITAL_OF, window=8),
        window_lf("largest_city_between", ["largest city", "biggest city", "most populous city", "largest",
                                           "port"], OTHER, window=8),
        keyword_lf("not_or_former", ["not the capital", "until", "temporary capital", "fashion capital",
                                     "gastronomic capital"], OTHER),
    ]
    L = apply_lfs(df, lfs, cardinality=2, progress=False)
    y = df["label"].to_numpy()
    summary = lf_summary(L, y)
    print(f"\nCapital-of relation: {len(df)} sentences, {facts!r}")
    print(summary[["polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc"]]
          .round(3).to_string())
    pred = MajorityVote(cardinality=2).fit(L).predict(L)
    covered = covered_rows(L)
    print(f"Majority vote: accuracy {accuracy(y, pred):.3f} on all, {accuracy(y[covered], pred[covered]):.3f} "
          f"on the {covered.sum()} covered sentences")
    row = df.loc["s01"]
    print(f"\nProvenance for s01 {row.text!r}:")
    for lf in lfs[:2]:
        for span in lf.explain(row.text, left=row.entity1, right=row.entity2):
            print(f"  {lf.name}: [{span.start}:{span.end}] {row.text[span.start:span.end]!r} <- {span.what}")
    labelled = df.assign(weak_label=pred)
    labelled.to_csv(out_dir / "capital_of_labels.csv")
    return summary


def main(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return trec_part(out_dir), relation_part(out_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    main(parser.parse_args().out)
