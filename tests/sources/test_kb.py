"""KnowledgeBase loading and matching, and the KB LFs on TREC questions."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling import apply_lfs, lf_summary
from rules import kb_lf, kb_pair_lf
from sources import KBEntry, KnowledgeBase

LOC = 4  # TREC's LOCATION class
PLACES = ["russia", "france", "paris", "new york", "california", "china", "japan", "london", "texas",
          "canada", "africa", "mexico", "germany", "italy", "australia", "england", "india", "chicago"]


def test_matching_is_normalised_whole_word_and_keeps_provenance():
    kb = KnowledgeBase({"new york": "city", "Café": "place", "IBM": "org"}, name="gaz")
    text = "From ＮＥＷ\tYork to the café at IBMs and IBM."
    found = [(text[m.start:m.end], m.entry.term, m.entry.source) for m in kb.match(text)]
    assert found == [("ＮＥＷ\tYork", "new york", "gaz[0]"), ("café", "Café", "gaz[1]"), ("IBM", "IBM", "gaz[2]")]
    assert kb.match("newyorker") == [] and len(kb) == 3 and kb.labels == {"city", "place", "org"}


def test_lemmatised_matching_finds_inflected_forms():
    kb = KnowledgeBase(["island", "goose"], lemmatize=True)
    text = "Which islands have geese ?"
    assert [text[m.start:m.end] for m in kb.match(text)] == ["islands", "geese"]


def test_pairs_in_either_order():
    kb = KnowledgeBase(pairs=[("Barack Obama", "Michelle Obama", "spouse"), ("Paris", "France", "capital_of")])
    assert [e.label for e in kb.pair("michelle  obama", "BARACK OBAMA")] == ["spouse"]
    assert kb.pair("France", "Paris", either_order=False) == []


def test_loaders_agree(tmp_path):
    (tmp_path / "kb.csv").write_text("term,label\nParis,LOC\nIBM,ORG\n")
    (tmp_path / "pairs.tsv").write_text("a\tb\trel\nParis\tFrance\tcapital\n")
    (tmp_path / "kb.json").write_text(json.dumps({"terms": {"Paris": "LOC", "IBM": "ORG"},
                                                  "pairs": [["Paris", "France", "capital"]]}))
    con = sqlite3.connect(tmp_path / "kb.db")
    con.execute("CREATE TABLE gaz (term TEXT, label TEXT)")
    con.executemany("INSERT INTO gaz VALUES (?, ?)", [("Paris", "LOC"), ("IBM", "ORG")])
    con.commit()
    con.close()
    csv_kb = KnowledgeBase.from_csv(tmp_path / "kb.csv")
    json_kb = KnowledgeBase.from_json(tmp_path / "kb.json")
    sql_kb = KnowledgeBase.from_sqlite(tmp_path / "kb.db", "gaz")
    map_kb = KnowledgeBase.from_mapping({"Paris": "LOC", "IBM": "ORG"})
    for kb in (csv_kb, json_kb, sql_kb, map_kb):
        assert [(e.term, e.label) for e in kb.entries] == [("Paris", "LOC"), ("IBM", "ORG")]
    assert csv_kb.entries[1].source == "kb.csv:3" and sql_kb.entries[0].source == "kb.db:gaz#1"
    pairs = KnowledgeBase.from_csv(tmp_path / "pairs.tsv", pair_columns=("a", "b"), label_column="rel")
    assert pairs.pair("france", "paris")[0] == KBEntry(("Paris", "France"), "capital", "pairs.tsv:2")
    assert json_kb.pair("Paris", "France")[0].label == "capital"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda p: KnowledgeBase.from_csv(p / "kb.csv", term_column="word"), ValueError, r"column\(s\) \['word'\] not found"),
        (lambda p: KnowledgeBase.from_sqlite(p / "kb.db", "gaz; DROP TABLE x"), ValueError, "not a plain SQL identifier"),
        (lambda p: KnowledgeBase.from_sqlite(p / "none.db", "gaz"), FileNotFoundError, "does not exist"),
        (lambda p: KnowledgeBase(["ok", " "]), ValueError, "term 1 .* is empty"),
        (lambda p: KnowledgeBase([3]), ValueError, "term 0 is 3"),
        (lambda p: kb_lf("k", KnowledgeBase(pairs=[("a", "b")]), 1), ValueError, "has no terms"),
        (lambda p: kb_pair_lf("k", KnowledgeBase(["a"]), 1), ValueError, "has no entity pairs"),
        (lambda p: kb_lf("k", {"a": 1}, 1), TypeError, "must be a sources.KnowledgeBase"),
    ],
)
def test_errors(tmp_path, call, error, message):
    (tmp_path / "kb.csv").write_text("term,label\nParis,LOC\n")
    sqlite3.connect(tmp_path / "kb.db").close()
    with pytest.raises(error, match=message):
        call(tmp_path)


def test_gazetteer_lf_on_trec_votes_location_above_its_base_rate(trec):
    kb = KnowledgeBase({p: "LOC" for p in PLACES}, name="places")
    lf = kb_lf("kb_place", kb, LOC)
    data = trec.train
    L = apply_lfs(data.data, [lf], progress=False, cardinality=6)
    summary = lf_summary(L, data.y)
    assert summary.loc["kb_place", "coverage"] > 0.03
    # Place names also occur in questions about numbers or people, but LOCATION is clearly more likely.
    assert summary.loc["kb_place", "emp_acc"] > 1.4 * (data.y == LOC).mean()
    row = int(np.flatnonzero(L.values[:, 0] == LOC)[0])
    text = data.data["text"].iloc[row]
    spans = lf.explain(text)
    assert spans and text[spans[0].start:spans[0].end] in PLACES and "places[" in spans[0].what


def test_kb_lf_label_from_entries_and_conflicts():
    kb = KnowledgeBase({"paris": "LOC", "einstein": "HUM", "ibm": "ORG"})
    lf = kb_lf("kb", kb, label_map={"LOC": 4, "HUM": 2})
    df = pd.DataFrame({"text": ["where is paris ?", "who was einstein ?", "einstein in paris", "ibm", None]})
    assert lf(df).tolist() == [4, 2, -1, -1, -1]
    only = kb_lf("kb_hum", kb, 2, kb_labels={"HUM"})
    assert only(df).tolist() == [-1, 2, 2, -1, -1]
    assert [e.term for e in only.provenance("einstein in paris")] == ["einstein"]


def test_kb_pair_lf_on_entity_columns():
    kb = KnowledgeBase(pairs=[("Barack Obama", "Michelle Obama", "spouse"), ("Tom", "Jerry", "friend")])
    df = pd.DataFrame({
        "text": ["Barack Obama and his wife Michelle Obama", "Tom met Jerry", "A met B", "x"],
        "entity1": ["Barack Obama", "Jerry", "A", None],
        "entity2": ["Michelle Obama", "Tom", "B", "y"],
    })
    assert kb_pair_lf("spouse", kb, 1, kb_labels={"spouse"})(df).tolist() == [1, -1, -1, -1]
    assert kb_pair_lf("any", kb, label_map={"spouse": 1, "friend": 0})(df).tolist() == [1, 0, -1, -1]
    assert kb_pair_lf("ordered", kb, 0, either_order=False)(df).tolist() == [0, -1, -1, -1]
    lf = kb_pair_lf("spouse", kb, 1)
    spans = lf.explain(df.text[0], left="Barack Obama", right="Michelle Obama")
    assert [df.text[0][s.start:s.end] for s in spans] == ["Barack Obama", "Michelle Obama"]
    assert "spouse" in spans[0].what
    # The span points at the entity as written, even where folding changes its length.
    german = KnowledgeBase(pairs=[("Straße AG", "Köln", "based_in")])
    text = "Die STRASSE  AG sitzt in KÖLN"
    spans = kb_pair_lf("based", german, 1).explain(text, left="Straße AG", right="Köln")
    assert [text[s.start:s.end] for s in spans] == ["STRASSE  AG", "KÖLN"]
    with pytest.raises(KeyError, match="entity column 'entity1' not found"):
        lf(pd.DataFrame({"text": ["x"]}))


def test_tens_of_thousands_of_terms_build_and_match():
    terms = {f"term{i} word{i % 97}": "X" for i in range(30_000)}
    kb = KnowledgeBase(terms)
    texts = [f"some text with term{i} word{i % 97} inside" for i in range(0, 30_000, 7)]
    lf = kb_lf("big", kb, 1)
    assert (lf(pd.DataFrame({"text": texts})) == 1).all()


words = st.sampled_from(["paris", "Paris", "PARIS", "new", "york", "new york", "ｐａｒｉｓ", "parisian", " ", "\t", "."])


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=8))
def test_match_spans_cover_text_that_normalises_to_the_term(parts):
    kb = KnowledgeBase(["paris", "new york"])
    text = "".join(parts)
    for m in kb.match(text):
        assert kb.normalize(text[m.start:m.end]) == kb.normalize(m.entry.term)


def test_knowledge_base_example_runs_end_to_end(tmp_path, capsys):
    import importlib.util

    from tests.conftest import EXAMPLES

    spec = importlib.util.spec_from_file_location("kb_example", EXAMPLES / "knowledge_base" / "run.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    trec_summary, relation_summary = example.main(tmp_path)
    out = capsys.readouterr().out
    assert "Majority vote on TREC valid" in out and "Provenance for s01" in out
    assert trec_summary.loc["kb_place_type", "emp_acc"] > 0.7
    assert relation_summary.loc["kb_capital_of", "emp_acc"] == 1.0
    assert (tmp_path / "capital_of_labels.csv").stat().st_size > 0
