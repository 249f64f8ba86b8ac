"""LF builders on real data: they reproduce WRENCH's stored YouTube votes, batch path == row semantics."""

import doctest
import importlib
import pickle
import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from labeling import ABSTAIN, LabelingFunction, apply_lfs
from rules import Span, clear_cache, keyword_lf, length_lf, regex_lf, sentiment_lf, window_lf
from rules._prefilter import icase_fold, prefilter
from sources import KnowledgeBase

HAM, SPAM = 0, 1


def youtube_builders():
    # The LFs behind WRENCH's YouTube weak_labels (Snorkel's spam tutorial), written with the builders.
    return {
        0: keyword_lf("keyword_my", ["my"], SPAM),
        1: keyword_lf("keyword_subscribe", ["subscribe"], SPAM),
        2: keyword_lf("keyword_link", ["http"], SPAM),
        3: keyword_lf("keyword_please", ["please", "plz"], SPAM),
        4: keyword_lf("keyword_song", ["song"], HAM),
        5: regex_lf("regex_check_out", r"check.*out", SPAM, flags=re.IGNORECASE),
        6: length_lf("short_comment", HAM, max_len=4),
        8: sentiment_lf("textblob_polarity", HAM, threshold=0.9, method="textblob"),
    }


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_builders_reproduce_wrench_youtube_votes(youtube, split):
    builders = youtube_builders()
    data = youtube[split]
    L = apply_lfs(data.data, list(builders.values()), progress=False)
    expected = data.L.values[:, list(builders)]
    np.testing.assert_array_equal(np.asarray(L), expected)


def test_every_builder_is_a_vectorized_labeling_function():
    kb = KnowledgeBase({"paris": "LOC"}, [("a", "b", "r")])
    lfs = [
        keyword_lf("k", ["x"], 0), regex_lf("r", "x", 0), length_lf("l", 0, max_len=3),
        sentiment_lf("s", 0), rules.kb_lf("kb", kb, 0), rules.kb_pair_lf("kbp", kb, 0),
        window_lf("w", ["x"], 0),
    ]
    for lf in lfs:
        assert isinstance(lf, LabelingFunction) and lf.vectorized and lf.info["name"] == lf.name


def test_keyword_options_case_and_whole_word():
    df = pd.DataFrame({"text": ["WIN a prize", "window seat", "win", "Winner"]})
    assert keyword_lf("k", "win", 1)(df).tolist() == [1, 1, 1, 1]
    assert keyword_lf("k", "win", 1, whole_word=True)(df).tolist() == [1, -1, 1, -1]
    assert keyword_lf("k", ["win"], 1, case=True, whole_word=True)(df).tolist() == [-1, -1, 1, -1]


def test_explain_gives_the_spans_that_fired():
    lf = keyword_lf("k", ["check out", "subscribe"], 1)
    text = "Please SUBSCRIBE and check out my channel"
    assert lf.explain(text) == [Span(7, 16, "keyword 'SUBSCRIBE'"), Span(21, 30, "keyword 'check out'")]
    assert [text[s.start:s.end] for s in lf.explain(text)] == ["SUBSCRIBE", "check out"]
    assert lf.explain("nothing here") == []
    assert regex_lf("r", r"\d+", 2).explain("call 555 now")[0][:2] == (5, 8)
    assert length_lf("l", 0, max_len=3).explain("so good") == [Span(0, 7, "length 2 words in [None, 3]")]


def test_window_between_and_near():
    df = pd.DataFrame({
        "text": ["Alice married Bob in 1990.", "Alice met Bob; Carol married Dan.", "Bob, husband of Alice.",
                 "Alice and her long time friend Bob married"],
        "entity1": ["Alice", "Alice", "Alice", "Alice"],
        "entity2": ["Bob", "Bob", "Bob", "Bob"],
    })
    between = window_lf("married", ["married", "husband of"], 1, window=3)
    assert between(df).tolist() == [1, -1, 1, -1]
    near = window_lf("near", ["married"], 1, mode="near", window=0, right=None)
    assert near(df).tolist() == [1, -1, -1, -1]
    spans = window_lf("married", ["married"], 1, left="entity1", right="entity2").explain(
        "Alice married Bob", left=(0, 5), right=(14, 17))
    assert spans == [Span(6, 13, "keyword 'married' between the entities")]


def test_sentiment_vader_and_textblob_agree_on_clear_cases():
    df = pd.DataFrame({"text": ["I love this song, it is wonderful!", "This is terrible, I hate it.", "The cat."]})
    for method in ("vader", "textblob"):
        pos = sentiment_lf("pos", 0, method=method, threshold=0.3)(df).tolist()
        neg = sentiment_lf("neg", 1, polarity="negative", method=method, threshold=0.3)(df).tolist()
        assert pos == [0, -1, -1] and neg == [-1, 1, -1]


def test_missing_values_abstain_and_duplicates_share_work():
    df = pd.DataFrame({"text": ["spam spam", None, "spam spam", "ham"]})
    assert keyword_lf("k", "spam", 1)(df).tolist() == [1, -1, 1, -1]
    assert length_lf("l", 0, min_len=1)(df).tolist() == [0, -1, 0, 0]


def test_changed_dataframe_is_not_served_from_the_cache():
    df = pd.DataFrame({"text": ["spam", "ham"]})
    lf = keyword_lf("k", "spam", 1)
    assert lf(df).tolist() == [1, -1]
    df["text"] = ["ham", "spam"]
    assert lf(df).tolist() == [-1, 1]
    clear_cache()


@pytest.mark.slow
def test_lfs_pickle_and_run_in_worker_processes(youtube):
    lfs = list(youtube_builders().values())[:6]
    clone = pickle.loads(pickle.dumps(lfs[0]))
    assert clone.name == lfs[0].name and clone(youtube.valid.data).tolist() == lfs[0](youtube.valid.data).tolist()
    serial = apply_lfs(youtube.valid.data, lfs, progress=False)
    parallel = apply_lfs(youtube.valid.data, lfs, n_jobs=2, chunk_size=30, progress=False)
    np.testing.assert_array_equal(np.asarray(serial), np.asarray(parallel))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: keyword_lf("k", [], 1), "keywords must be non-empty"),
        (lambda: regex_lf("r", "(", 1), "invalid regular expression"),
        (lambda: regex_lf("r", "x", "SPAM"), "label='SPAM'; expected a class id"),
        (lambda: length_lf("l", 0), "give min_len, max_len or both"),
        (lambda: length_lf("l", 0, min_len=5, max_len=2), "min_len=5 is larger than max_len=2"),
        (lambda: length_lf("l", 0, max_len=2, unit="lines"), "unit='lines' is not one of"),
        (lambda: sentiment_lf("s", 0, method="bert"), "method='bert' is not one of"),
        (lambda: window_lf("w", ["x"], 0, right=None), "mode='between' needs two entity columns"),
        (lambda: keyword_lf("k", "x", 1)(pd.DataFrame({"body": ["x"]})), "Column 'text' not found"),
        (lambda: keyword_lf("k", "x", 1)(pd.DataFrame({"text": [3]})), r"row 0 \(id 0\) holds int"),
    ],
)
def test_errors_say_what_is_wrong(call, message):
    with pytest.raises((ValueError, KeyError, TypeError), match=message):
        call()


# The prefilter must never drop a text that the regex matches: compare with plain re.search. The alphabet
# holds the non-ASCII characters re.IGNORECASE ties to ASCII letters (KELVIN SIGN, LONG S, dotted and
# dotless I), the BOM that ends most WRENCH YouTube texts, and other non-ASCII letters with case.
ALPHABET = "ab cikmsAB\u017f\u212aK\nI\u0130\u0131\ufeff\u00e9\u00c9\u00df\u03a3\u03c2\u1e9e"
patterns = st.sampled_from([
    r"ab", r"(ab|ba) c", r"a(b|c)+a", r"(?i)ab", r"(?i:ab)c", r"AB|ca", r"^ab$", r"k", r"(?i)k", r"s", r"(?i)s",
    r"a{2,3}b", r"(a|b)?c", r"[ab]c", r"(?<!a)b c", r"(ab)\1", r"(?=ab)a", r"a.b", r"\bab\b", r"(ab|)c",
    r"is", r"mis+", r"(ki|sk) ", r"[ik]s", r"I\u00e9", r"ss", r"(?-i:ab)|sk", r"(?a)ks", r"\ufeffab", r"si$",
])
PYTHON_ONLY = {r"(?<!a)b c", r"(ab)\1", r"(?=ab)a"}


# Texts glued from the pattern's own letter runs, each letter spelt as any character re.IGNORECASE
# matches to it (written out here independently of the code under test), so near misses are common.
SPELLINGS = {"i": "iI\u0130\u0131", "s": "sS\u017f", "k": "kK\u212a"}


def spelt(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*[st.sampled_from(SPELLINGS.get(c.lower(), c.lower() + c.upper())) for c in word]).map("".join)


def texts_for(pattern: str) -> st.SearchStrategy[list[str]]:
    pieces = st.sampled_from(ALPHABET)
    for word in re.findall(r"[a-zA-Z ]+", pattern):
        pieces |= spelt(word)
    glued = st.lists(pieces, max_size=4).map("".join)
    return st.lists(st.text(ALPHABET, max_size=8) | glued, min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(pattern=patterns, flags=st.sampled_from([0, re.IGNORECASE, re.IGNORECASE]), data=st.data())
def test_batch_votes_equal_re_search(pattern, flags, data):
    texts = data.draw(texts_for(pattern))
    # RE2 runs every pattern but those that look around or refer back, which run on Python's engine.
    engine = "python" if pattern in PYTHON_ONLY else "re2"
    lf = regex_lf("p", pattern, 1, flags=flags, engine=engine)
    expected = [1 if re.search(pattern, t, flags) else ABSTAIN for t in texts]
    assert lf(pd.DataFrame({"text": texts})).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=3), data=st.data())
def test_keyword_votes_equal_re_search_on_any_unicode(words, data):
    lf = keyword_lf("k", words, 1)
    any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)  # pandas cannot hold lone surrogates
    near_misses = texts_for(" ".join(words)).map("".join)
    texts = data.draw(st.lists(any_text | st.text(ALPHABET, max_size=10) | near_misses, min_size=1, max_size=6))
    expected = [1 if lf.pattern.search(t) else ABSTAIN for t in texts]
    assert lf(pd.DataFrame({"text": texts})).tolist() == expected


def test_icase_fold_is_every_code_point_re_matches_to_ascii():
    # Exhaustive over all code points: which ones does each ASCII literal (alone or as a class) match?
    everything = "".join(map(chr, range(0x80, sys.maxunicode + 1)))
    matched: dict[str, set[str]] = {}
    for a in map(chr, range(128)):
        for pattern in (re.escape(a), f"[{re.escape(a)}]"):
            for ch in re.findall(pattern, everything, re.IGNORECASE):
                matched.setdefault(ch, set()).add(a.lower())
    fold = icase_fold()
    assert {chr(c): {v} for c, v in fold.table.items()} | {ch: matched[ch] for ch in fold.unsure} == matched
    assert set(fold.table) >= {0x212A, 0x017F, 0x0130, 0x0131}  # KELVIN SIGN, LONG S, dotted and dotless I
    assert fold.fold("\u212aelvin \u0130S \u017fIr\ufeff") == "kelvin is sir\ufeff"
    # Among ASCII characters, case-insensitive matching is exactly equality after lower().
    ascii_chars = [chr(a) for a in range(128)]
    assert all(
        (re.fullmatch(re.escape(a), b, re.IGNORECASE) is not None) == (a.lower() == b.lower())
        for a in ascii_chars for b in ascii_chars
    )


@pytest.mark.parametrize("special", sorted(map(chr, icase_fold().table)))
def test_each_special_character_matches_its_letter_in_batch(special):
    letter = re.escape(icase_fold().table[ord(special)])
    texts = [f"a{special}b\ufeff", f"{special}{special}", f"{special.upper()}a{special.lower()}", "ab", "\ufeff"]
    for pattern in (f"a{letter}b", f"{letter}{letter}", f"{letter.upper()}a{letter}", f"(x|a){letter}"):
        lf = regex_lf("p", pattern, 1, flags=re.IGNORECASE)
        expected = [1 if lf.pattern.search(t) else ABSTAIN for t in texts]
        assert lf(pd.DataFrame({"text": texts})).tolist() == expected, pattern
        assert expected != [ABSTAIN] * len(texts), pattern


def test_prefilter_rules_out_non_ascii_texts():
    lf = keyword_lf("k", ["subscribe"], 1)
    texts = ["great song\ufeff", "SUB\u017fCRIBE\ufeff", "caf\u00e9 subscribe", "\u00e9t\u00e9"]
    df = pd.DataFrame({"text": texts})
    assert lf(df).tolist() == [ABSTAIN, 1, 1, ABSTAIN]
    view = rules._batch.column_view(df, "text")
    assert rules._batch.LITERALS.candidates(view, lf._clauses, lf._icase).tolist() == [1, 2]


def test_prefilter_finds_the_literals_a_match_needs():
    pf = prefilter(re.compile(r"( |^)(what|which)[^\w]* (\w+ ){0,1}(is|was) capital"))
    assert pf.clauses == (frozenset({"what", "which"}), frozenset({"is capital", "was capital"}))
    assert prefilter(re.compile(r"a|b.*")).clauses == ()


@pytest.mark.parametrize(
    "module", ["rules.base", "rules.regex", "rules.length", "rules._regex_engine", "rules.kb", "rules.window",
               "rules.sentiment", "rules.preprocess", "sources.kb"]
)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    globs = {"pd": pd, "re": re, "np": np, "KnowledgeBase": KnowledgeBase, "keyword_lf": keyword_lf}
    result = doctest.testmod(mod, extraglobs=globs, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_explain_row_collects_spans_of_every_rule_lf():
    kb = KnowledgeBase(pairs=[("Alice", "Bob", "spouse")])
    plain = LabelingFunction("plain", lambda x: 1)
    lfs = [plain, keyword_lf("married", ["married"], 1), rules.kb_pair_lf("kb_spouse", kb, 1),
           window_lf("between", ["married"], 1, window=3)]
    row = {"text": "Alice married Bob", "entity1": "Alice", "entity2": "Bob"}
    spans = rules.explain_row(lfs, row)
    assert [(d["lf"], d["start"], d["end"]) for d in spans] == [
        ("kb_spouse", 0, 5), ("married", 6, 13), ("between", 6, 13), ("kb_spouse", 14, 17)]
    assert rules.explain_row(lfs, {"text": None, "entity1": None, "entity2": None}) == []
