"""Regex LFs on RE2: pathological patterns answer at once, votes equal Python's re, unsupported constructs are named."""

import pickle
import re
import threading
import time

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling import ABSTAIN, apply_lfs
from rules import RegexTimeout, keyword_lf, regex_lf, rules_from_file
from rules._re2 import UnsupportedPattern, compile_re2, translate

N = 150_000

# (pattern, text, does re.search match?) -- each one hangs Python's re (or takes minutes) on these texts.
PATHOLOGICAL = [
    (r"(a{1,99}){1,99}$", "a" * N + "!", False),
    (r"(a{1,99}){1,99}$", "a" * N, True),
    (r"(a?){30}a{30}", "a" * N, True),
    (r"(a?){30}a{30}", "a" * 29, False),
    (r"[a-z]+\d", "a" * N, False),
    (r"\s+$", " " * N + "x", False),
    (r"\s+$", " " * N, True),
    (r"(a+)+$", "a" * N + "!", False),
    (r"(a|aa)+$", "a" * N + "!", False),
    (r"(a|a?)+b", "a" * N, False),
    (r"(\w+\s?)+$", "ab " * (N // 3) + "!", False),
    (r"(.*)*x", "y" * N, False),
    (r"(x+x+)+y", "x" * N, False),
    (r"(\d+)*[a-z]{1000}", "1" * N, False),
    (r"^(\w+)*@", "a" * N, False),
    (r".*.*.*=", "x" * N, False),
    (r"(?i)(free|fre)+e!", "FREE" * (N // 4), False),
    (r"\b\w+\b\s+\b\w+\b\s+!", "word " * (N // 5), False),
    (r"(a{2}|a{3})*!$", "a" * N + "b", False),
    (r"(a?){500}a{500}", "a" * 499, False),
    (r"^(a{1,99}){1,99}$", "a" * 9801, True),
    (r"^(a{1,99}){1,99}$", "a" * N, False),
    (r"(a{1,99}){1,99}$", "a" * N + "\n", True),
    (r"([a-z]{1,50}){1,50}\d", "b" * N, False),
]


def _run_in_thread(fn, limit: float):
    # A hang would block pytest for ever: run the search in a thread and give up after `limit` seconds.
    result: list = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    start = time.perf_counter()
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still searching after {limit} s"
    return result[0], time.perf_counter() - start


@pytest.mark.parametrize("pattern, text, expected", PATHOLOGICAL, ids=[p for p, _, _ in PATHOLOGICAL])
def test_pathological_patterns_answer_on_150k_characters(pattern, text, expected):
    lf = regex_lf("p", pattern, 1)
    votes, _ = _run_in_thread(lambda: lf(pd.DataFrame({"text": [text, "no"]})).tolist(), 20)
    assert votes == [1 if expected else ABSTAIN, 1 if re.search(pattern, "no") else ABSTAIN]


def test_pathological_rules_from_a_file_apply_with_the_row_votes(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("".join(f"- {{label: SPAM, regex: '{p}'}}\n" for p, _, _ in PATHOLOGICAL[:10]))
    lfs = rules_from_file(path, class_names=["HAM", "SPAM"])
    data = pd.DataFrame({"text": [t for _, t, _ in PATHOLOGICAL[:10]]})
    L, _ = _run_in_thread(lambda: apply_lfs(data, lfs, progress=False), 60)
    assert [L.values[i, i] for i in range(10)] == [1 if e else ABSTAIN for _, _, e in PATHOLOGICAL[:10]]


def test_explain_on_a_pathological_text_answers():
    lf = regex_lf("p", r"(a|aa)+b", 1)
    spans, _ = _run_in_thread(lambda: lf.explain("a" * N + "b"), 20)
    assert [(s.start, s.end) for s in spans] == [(0, N + 1)]


@pytest.mark.parametrize("pattern, construct", [
    (r"(ab)\1", "a back-reference"),
    (r"(?P<w>a)(?P=w)", "a back-reference"),
    (r"free(?= trial)", r"a lookahead \(\?=\.\.\.\)"),
    (r"free(?! trial)", r"a negative lookahead \(\?!\.\.\.\)"),
    (r"(?<=\$)\d+", r"a lookbehind \(\?<=\.\.\.\)"),
    (r"(?<!\w)win", r"a negative lookbehind \(\?<!\.\.\.\)"),
    (r"(?>a+)b", r"an atomic group \(\?>\.\.\.\)"),
    (r"a++b", r"a possessive repeat"),
    (r"(a)?(?(1)b|c)", r"a conditional group"),
    (r"((ab){1,99}){1,99}", r"repeat counts up to 1000"),
])
def test_a_pattern_re2_cannot_run_names_the_lf_and_the_construct(pattern, construct):
    with pytest.raises(UnsupportedPattern, match=rf"LF 'p': regex .*RE2 cannot run {construct}|"
                                                 rf"LF 'p': regex .*RE2 refuses .*{construct}") as info:
        regex_lf("p", pattern, 1)
    assert "engine='python'" in str(info.value)
    assert isinstance(info.value, ValueError)  # callers catching ValueError for bad rules still do


def test_engine_python_runs_them_under_a_time_limit():
    lf = regex_lf("p", r"(\w+) \1", 1, engine="python")
    assert lf(pd.DataFrame({"text": ["bye bye", "bye now"]})).tolist() == [1, -1]
    assert lf.info["engine"] == "python" and lf.timeout == 1.0
    with pytest.raises(ValueError, match="timeout= applies to engine='python' only"):
        regex_lf("p", "a", 1, timeout=2)
    with pytest.raises(ValueError, match=r"engine='pcre' is not one of"):
        regex_lf("p", "a", 1, engine="pcre")


def test_whole_word_keywords_need_no_lookaround():
    lf = keyword_lf("k", ["win", "new york"], 1, whole_word=True)
    texts = ["win win", "window", "a win!", "new yorker", "in new york", "éwin", "win_", "Win", "new york"]
    assert lf(pd.DataFrame({"text": texts})).tolist() == [1, -1, 1, -1, 1, -1, -1, 1, 1]
    # Adjacent whole words share the space between them; both are explained.
    assert [(s.start, s.end) for s in lf.explain("win win")] == [(0, 3), (4, 7)]
    assert [s.what for s in lf.explain("in New York")] == ["keyword 'New York'"]


def test_re2_lf_pickles_for_worker_processes():
    lf = regex_lf("p", r"(?i)\bfree\b", 1)
    back = pickle.loads(pickle.dumps(lf))
    assert back(pd.DataFrame({"text": ["FREE stuff", "freedom"]})).tolist() == [1, -1]


def test_lone_surrogates_do_not_stop_a_search():
    pattern = compile_re2(re.compile(r"b+"))
    assert pattern.search("a\ud800bb").span() == (2, 4)
    assert [m.span() for m in pattern.finditer("\udfffb")] == [(1, 2)]


def test_translation_keeps_python_meanings():
    assert translate(re.compile(r"end$")) == r"end(?:\n?\z)"
    assert translate(re.compile(r"x\Z")) == r"x\z"
    assert translate(re.compile("(?x) a  b  # comment")) == "ab"
    # Nested counts multiply past RE2's limit of 1000: the same lengths, 1 to 9801, as a chain of repeats.
    assert translate(re.compile(r"(a{1,99}){1,99}")) == "a{1,1000}" + "a{0,1000}" * 8 + "a{0,801}"


# Differential check against Python's re, on texts built from characters where the engines' tables differ:
# Unicode digits and letters newer than RE2's tables, case pairs RE2 folds differently, odd whitespace.
CHARS = "aAbB1 _\n\t\u00e9\u00c9\u0130\u0131iIkK\u212a\u017fsS\u00df\u1e9e\u0663\U00011f50\U00011f04\u2003\u00a0\u3000x!."
DIFF_PATTERNS = [
    r"\w+", r"\W", r"\d", r"\D+", r"\s", r"\S\s\S", r"[\w.]+", r"[^\w]", r"[\W\d]", r"[^\s\d]+", r"(?i)k", r"(?i)s",
    r"(?i)i", r"(?i)[a-k]", r"(?i)[^k]", r"(?i)\u00df", r"(?i:ss)", r"(?a)\w+", r"(?a)\d", r"(?a)[\w]", r"^a", r"a$",
    r"(?m)^b", r"(?m)a$", r"(?s)a.b", r"a.b", r"\Aa", r"a\Z", r"[^a]", r"(?i)[^a]", r"x{2,}", r"(a|\d){2,3}",
    r"(?i)(?-i:a)b", r"(?x) a \s b", r"[\u00c0-\u024f]+", r"\.", r"a?b*?c+?", r"(a{0,2}){0,3}b", r"(\d{1,2}){1,3}!",
]


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(DIFF_PATTERNS), texts=st.lists(st.text(CHARS, max_size=8), min_size=1, max_size=6))
def test_re2_votes_equal_python_re(pattern, texts):
    lf = regex_lf("p", pattern, 1)
    assert lf(pd.DataFrame({"text": texts})).tolist() == [1 if re.search(pattern, t) else ABSTAIN for t in texts]
    compiled = compile_re2(re.compile(pattern))
    for t in texts:
        ours, theirs = compiled.search(t), re.search(pattern, t)
        assert (ours is None) == (theirs is None)
        if theirs is not None and r"\Z" not in pattern and "$" not in pattern:
            assert ours.span() == theirs.span()  # leftmost match, same start and (greedy) end


BOUNDARY_PATTERNS = [r"\bab\b", r"\b\w+\b", r"\Ba", r"a\B", r"(?i)\bss\b", r"\b\u00e9", r"(?a)\bab\b", r"(x|\bb)"]


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(BOUNDARY_PATTERNS),
       texts=st.lists(st.text("abAB sS_1!\u00e9\u00c9\u00df\u0663x", max_size=8), min_size=1, max_size=6))
def test_word_boundaries_mean_what_python_says_on_every_text(pattern, texts):
    """RE2's \\b sees only ASCII word characters; the LF's votes and spans are Python's on every text."""
    lf = regex_lf("p", pattern, 1)
    assert lf(pd.DataFrame({"text": texts})).tolist() == [1 if re.search(pattern, t) else ABSTAIN for t in texts]
    for t in texts:
        theirs = re.search(pattern, t)
        assert [(s.start, s.end) for s in lf.explain(t)][:1] == ([theirs.span()] if theirs else [])


def test_a_word_boundary_beside_accented_letters():
    lf = regex_lf("cafe", r"\bcafé\b", 1)
    assert lf(pd.DataFrame({"text": ["un café!", "cafés", "café", "CAFÉ"]})).tolist() == [1, -1, 1, -1]
    ab = pickle.loads(pickle.dumps(regex_lf("ab", r"\bab\b", 1)))   # RE2 sees a boundary in "abÉ", Python none
    assert ab(pd.DataFrame({"text": ["abÉ", "ab É", "ab", "xab"]})).tolist() == [-1, 1, 1, -1]
    # There the backtracking engine runs, under the time limit, and says why it ran.
    slow = regex_lf("slow", r"\b(a|aa)+$", 1)
    assert slow(pd.DataFrame({"text": ["a" * 40 + "!"]})).tolist() == [-1]   # ASCII: RE2, instantly
    with pytest.raises(RegexTimeout, match=r"LF 'slow'.*texts with non-ASCII letters"):
        slow(pd.DataFrame({"text": ["a" * 40 + "é!"]}))


@pytest.mark.parametrize("keyword, text", [("İ", "I"), ("İ", "i"), ("K", "k"), ("ſ", "S")])
def test_a_non_ascii_keyword_matches_the_ascii_letters_it_folds_to(keyword, text):
    # ASCII texts run on an ASCII-only program; a letter such as U+0130 still folds to "i" there, as in re.
    import re

    import pandas as pd

    from rules import keyword_lf

    assert re.search(re.escape(keyword), text, re.IGNORECASE)
    assert keyword_lf("k", [keyword], 1)(pd.DataFrame({"text": [text, "xyz"]})).tolist() == [1, -1]
