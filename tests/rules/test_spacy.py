"""spaCy LFs: entities on the bundled YouTube comments, entity pairs, token and dependency patterns, one parse per text."""

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT
from labeling import ABSTAIN, apply_lfs, labeling_function

spacy = pytest.importorskip("spacy")
spacy_docs = pytest.importorskip("sources.spacy_docs")
try:
    spacy_docs.load_pipeline()
except ImportError as exc:  # spaCy without its pipeline: the extra is half installed
    pytest.skip(str(exc), allow_module_level=True)

from rules import entity_lf, entity_pair_lf, spacy_pattern_lf, spacy_preprocessor  # noqa: E402
from sources import KnowledgeBase  # noqa: E402

pytestmark = pytest.mark.slow  # loads a spaCy pipeline


@pytest.fixture(scope="module")
def comments(youtube):
    # The first 80 test comments, without the byte-order mark WRENCH leaves at the end of most of them.
    texts = youtube.test.data.text.iloc[:80].str.replace("\ufeff", "", regex=False)
    return pd.DataFrame({"text": texts.to_numpy()})


# Read by hand, comment by comment, against the PERSON entities en_core_web_sm finds in them.
# Comments that do name a person, and the name found:
NAMES_FOUND = {8: "Adam Whitney", 19: "Baba Brinkman", 24: "u\xa0 shakira", 28: "sexy shakira",
               40: "Gusttavo Lima Você", 42: "Adam Whitney", 64: "Sam", 68: "Miley Cyrus"}
# Where the small model calls something else a person (a channel, a song, a word), so the LF votes wrongly:
NOT_PEOPLE = {9: "Youtube Channel", 15: "Waka", 21: "Behold", 31: "Britishs", 45: "Twitter", 63: "Twitter",
              75: "Wanna Laugh"}
# Comments naming Shakira that the model misses (the LF abstains on them):
MISSED = [5, 18, 34, 41]


def test_entity_lf_votes_on_the_hand_checked_youtube_comments(comments):
    lf = entity_lf("has_person", 0)
    votes = lf(comments)
    assert sorted(np.flatnonzero(votes == 0).tolist()) == sorted({**NAMES_FOUND, **NOT_PEOPLE})
    assert all(votes[i] == ABSTAIN for i in MISSED)
    for i, name in {**NAMES_FOUND, **NOT_PEOPLE}.items():
        text = comments.text[i]
        assert name in [text[s.start:s.end] for s in lf.explain(text)], (i, text)
    assert lf.explain(comments.text[5]) == []


def test_has_person_nlp_keeps_short_comments(comments):
    # Snorkel's has_person_nlp: a PERSON entity in a comment of at most 20 words.
    lf = entity_lf("has_person_nlp", 0, max_words=20)
    votes = lf(comments)
    short = {i for i in {**NAMES_FOUND, **NOT_PEOPLE} if len(comments.text[i].split()) <= 20}
    assert short and short != set(NAMES_FOUND) | set(NOT_PEOPLE)
    assert set(np.flatnonzero(votes == 0).tolist()) == short


def test_other_entity_labels_and_counts(comments):
    places = entity_lf("place", 1, entity_labels={"GPE", "LOC"})
    two_people = entity_lf("two_people", 0, min_count=2)
    assert places.vote_text("i am from Brazil please subscribe my channel") == 1
    assert places.vote_text("super music") == ABSTAIN
    assert two_people.vote_text(comments.text[45]) == 0 and two_people.vote_text(comments.text[68]) == ABSTAIN
    with pytest.raises(ValueError, match=r"entity label\(s\) \['PERSN'\].*did you mean 'PERSON'"):
        entity_lf("bad", 0, entity_labels="PERSN")
    with pytest.raises(ValueError, match="min_count=0"):
        entity_lf("bad", 0, min_count=0)


def test_entity_pair_lf_needs_both_mentions_to_be_people():
    lf = entity_pair_lf("both_people", 1)
    text = "Barack Obama married Michelle Obama in Chicago in 1992."
    df = pd.DataFrame({"text": [text] * 4,
                       "person1": ["Barack Obama", "Barack Obama", (0, 12), "Obama"],
                       "person2": ["Michelle Obama", "Chicago", (21, 35), "nobody here"]})
    assert lf(df).tolist() == [1, ABSTAIN, 1, ABSTAIN]
    spans = lf.explain(text, left="Barack Obama", right="Michelle Obama")
    assert [text[s.start:s.end] for s in spans] == ["Barack Obama", "Michelle Obama"]
    with pytest.raises(KeyError, match="mention column 'person1' not found"):
        lf(pd.DataFrame({"text": [text]}))


def test_token_and_dependency_patterns():
    check_out = spacy_pattern_lf("check_out", 1, [[{"LEMMA": "check"}, {"POS": "PRON", "OP": "?"}, {"LOWER": "out"}]])
    texts = ["Checking it out now", "check out my channel", "nice song", "I checked the outlet"]
    assert check_out(pd.DataFrame({"text": texts})).tolist() == [1, 1, ABSTAIN, ABSTAIN]
    [span] = check_out.explain("Checking it out now")
    assert "Checking it out now"[span.start:span.end] == "Checking it out"
    loves = spacy_pattern_lf("loves_it", 0, [[
        {"RIGHT_ID": "verb", "RIGHT_ATTRS": {"LEMMA": "love"}},
        {"LEFT_ID": "verb", "REL_OP": ">", "RIGHT_ID": "object", "RIGHT_ATTRS": {"DEP": "dobj"}},
    ]], dependency=True)
    assert loves(pd.DataFrame({"text": ["I love this song", "love", "my love is here"]})).tolist() == [0, -1, -1]
    with pytest.raises(ValueError, match=r"LF 'bad': token pattern 0 .*not valid for spaCy"):
        spacy_pattern_lf("bad", 1, [[{"LEMA": "x"}]])
    with pytest.raises(ValueError, match="non-empty list of spaCy patterns"):
        spacy_pattern_lf("bad", 1, [])


def test_each_text_is_parsed_once_across_lfs_and_runs(comments):
    cache = spacy_docs.doc_cache()
    cache.clear()
    before = cache.parsed

    @labeling_function(pre=[spacy_preprocessor()])
    def names_someone(x):
        return 0 if any(e.label_ == "PERSON" for e in x.doc.ents) else ABSTAIN

    lfs = [entity_lf("person", 0), entity_lf("place", 1, entity_labels="GPE"),
           spacy_pattern_lf("check_out", 1, [[{"LEMMA": "check"}, {"LOWER": "out"}]]), names_someone]
    doubled = pd.concat([comments, comments], ignore_index=True)  # every text twice
    first = apply_lfs(doubled, lfs, progress=False)
    second = apply_lfs(comments, lfs, progress=False)
    assert cache.parsed - before == comments.text.nunique()
    assert (first.values[:80] == second.values).all()
    assert (first.values[:, 0] == first.values[:, 3]).all()  # the preprocessor sees the same Docs


def test_spacy_lfs_pickle_and_vote_the_same():
    lf = entity_lf("person", 0)
    back = pickle.loads(pickle.dumps(lf))
    assert back.vote_text("Taylor Swift sang") == lf.vote_text("Taylor Swift sang") == 0


def test_spacy_lemmas_in_the_knowledge_base():
    kb = KnowledgeBase(["see", "mouse"], lemmatize="spacy")
    text = "We saw two mice."
    assert [(text[m.start:m.end], m.entry.term) for m in kb.match(text)] == [("saw", "see"), ("mice", "mouse")]
    # WordNet's lemmas, word by word, do not know "saw" is a form of "see" here.
    wordnet = KnowledgeBase(["see", "mouse"], lemmatize=True)
    assert [m.entry.term for m in wordnet.match(text)] == ["mouse"]


def test_importing_rules_loads_no_spacy():
    code = "import sys, rules, sources; assert 'spacy' not in sys.modules, 'spacy imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_missing_spacy_fails_at_construction_with_the_install_command(monkeypatch):
    monkeypatch.setattr(spacy_docs, "_pipelines", {})
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'votewise\[spacy\]'"):
        entity_lf("person", 0)
    with pytest.raises(ImportError, match=r"pip install 'votewise\[spacy\]'"):
        KnowledgeBase(["see"], lemmatize="spacy")


def test_missing_pipeline_names_the_install_command():
    with pytest.raises(ImportError, match=r"pipeline 'xx_no_such_pipeline' is not installed.*votewise\[spacy\]"):
        entity_lf("person", 0, pipeline="xx_no_such_pipeline")
