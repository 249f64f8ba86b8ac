"""Rule files: TREC's 68 WRENCH rules reproduce the stored weak labels; YAML rules; errors."""

import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA
from labeling import apply_lfs
from rules import match_label, rules_from_file

TREC_RULES = DATA / "trec" / "readme.txt"


@pytest.fixture(scope="module")
def trec_lfs():
    return rules_from_file(TREC_RULES)


def test_trec_rules_are_read_with_names_labels_and_sources(trec_lfs):
    assert len(trec_lfs) == 68
    first = trec_lfs[0]
    assert (first.name, first.label, first.source) == ("rule_00_entity", 1, "readme.txt:20")
    assert first.example.startswith("Name a canine cartoon character")
    assert {lf.label for lf in trec_lfs} == set(range(6))
    assert len({lf.name for lf in trec_lfs}) == 68


@pytest.mark.parametrize("split", ["train", "valid"])
def test_trec_rules_reproduce_stored_weak_labels_exactly(trec, trec_lfs, split):
    data = trec[split]
    L = apply_lfs(data.data, trec_lfs, progress=False, cardinality=6)
    stored = data.L.values
    assert L.values.shape == stored.shape == (len(data.data), 68)
    mismatch = np.argwhere(L.values != stored)
    assert len(mismatch) == 0, f"{len(mismatch)} cells differ, first (row, LF): {mismatch[:5].tolist()}"


def test_trec_test_split_differs_only_by_case(trec, trec_lfs):
    # The test split keeps the original capitalisation while the rules were run on lower-cased text:
    # as written the rules miss many test rows; with IGNORECASE only 2 cells of 34,000 differ.
    data = trec.test
    as_written = apply_lfs(data.data, trec_lfs, progress=False).values
    assert (as_written != data.L.values).sum() == 705
    folded = apply_lfs(data.data, rules_from_file(TREC_RULES, flags=re.IGNORECASE), progress=False).values
    assert (folded != data.L.values).sum() == 2


def test_explain_points_at_the_words_of_a_trec_rule(trec_lfs):
    capital = next(lf for lf in trec_lfs if "capital" in lf.pattern.pattern)
    text = "what is the capital of uruguay ?"
    [span] = capital.explain(text)
    assert text[span.start:span.end].strip() == "capital of"
    assert span.what.startswith("regex ")


@pytest.mark.parametrize(
    "word, expected",
    [("DESCRIPTION", 0), ("ENTITY", 1), ("HUMAN", 2), ("ABBREVIATION", 3), ("LOCATION", 4), ("NUMERIC", 5),
     ("hum", 2), ("COLOR", None)],
)
def test_label_words_map_to_wrench_class_names(word, expected):
    assert match_label(word, ["DESC", "ENTY", "HUM", "ABBR", "LOC", "NUM"]) == expected


def test_yaml_rules(tmp_path):
    path = tmp_path / "spam.yaml"
    path.write_text(
        """
- {name: subscribe, label: SPAM, keywords: [subscribe, sub4sub]}
- {label: SPAM, regex: 'check.*out', flags: [IGNORECASE], example: Check it out}
- {label: HAM, length: {max: 3}}
- {label: 1, keywords: [http], whole_word: true, case: true}
"""
    )
    lfs = rules_from_file(path, class_names=["HAM", "SPAM"])
    assert [lf.name for lf in lfs] == ["subscribe", "rule_01_spam", "rule_02_ham", "rule_03_1"]
    assert [lf.kind for lf in lfs] == ["keyword", "regex", "length", "keyword"]
    import pandas as pd

    df = pd.DataFrame({"text": ["Please SUBSCRIBE", "CHECK this OUT now please", "nice", "see http://x"]})
    L = apply_lfs(df, lfs, progress=False).values
    assert L.tolist() == [[1, -1, 0, -1], [-1, 1, -1, -1], [-1, -1, 0, -1], [-1, -1, 0, 1]]


def test_rule_files_never_run_code(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("- !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(Exception, match="could not determine a constructor|python/object"):
        rules_from_file(path)


@pytest.mark.parametrize(
    "content, suffix, message",
    [
        ("COLOR\tred\n", ".txt", r"line 1: label 'COLOR' does not name exactly one of classes"),
        ("ENTITY\t(unclosed\n", ".txt", r"line 1: .*invalid regular expression"),
        ("just prose, no rules\n", ".txt", "no rules found"),
        ("- {label: HAM}\n", ".yaml", "give exactly one of regex, keywords, length"),
        ("- {label: HAM, regex: x, colour: red}\n", ".yaml", r"rule 0 \(line 1\): unknown key 'colour'\. Did you mean 'column'\?"),
        ("- label: HAM\n  regx: x\n", ".yaml", r"rule 0 \(line 2\): unknown key 'regx'\. Did you mean 'regex'\?"),
        ("- {label: HAM, keywords: [x], wholeword: true}\n", ".yaml", r"unknown key 'wholeword'\. Did you mean 'whole_word'"),
        ("- {label: HAM, keywords: [x], zzz: 1}\n", ".yaml", r"unknown key 'zzz'\. Allowed: \['case', 'column'"),
        ("- {label: HAM, keywords: [x], flags: [I]}\n", ".yaml", r"the key 'flags' does not apply to a keywords rule"),
        ("- label: HAM\n  label: SPAM\n  regex: x\n", ".yaml", r"line 2: the key 'label' is given twice .*first on line 1"),
        ("rules:\n- {label: HAM, regex: x}\n- label: HAM\n  keywords: [a]\n  keywords: [b]\n", ".yaml",
         r"line 5: the key 'keywords' is given twice"),
        ("- {label: HAM, length: {max: five}}\n", ".yaml", r"rule 0: length\.max is 'five'; expected a whole number"),
        ("- {label: HAM, length: {min: true}}\n", ".yaml", r"rule 0: length\.min is True; expected a whole number"),
        ("- {label: HAM, length: {mx: 5}}\n", ".yaml", r"rule 0: unknown field length\.mx\. Did you mean 'max'\? Allowed: \['max', 'min', 'unit'\]"),
        ("- {label: HAM, length: {max: 5, unit: lines}}\n", ".yaml", r"rule 0: length\.unit is 'lines'"),
        ("- {label: HAM, keywords: [x], case: 'no'}\n", ".yaml", r"rule 0: case is 'no'; expected true or false"),
        ("- {label: HAM, regex: x, engine: perl}\n", ".yaml", r"rule 0: engine is 'perl'; expected one of"),
        ("- {label: HAM, regex: x, timeout: 2}\n", ".yaml", r"rule 0: timeout applies to `engine: python` only"),
        ("- {label: HAM, regex: '(a)\\1'}\n", ".yaml", r"rule 0: LF 'rule_00_ham': regex '\(a\)\\\\1': RE2 cannot run a "
                                                       r"back-reference .*engine: python"),
        ("- {label: HAM, regex: 'x(?!y)'}\n", ".yaml", r"rule 0: .*RE2 cannot run a negative lookahead \(\?!\.\.\.\)"),
        ("ENTITY\t(?<=a)b\n", ".txt", r"line 1: .*RE2 cannot run a lookbehind \(\?<=\.\.\.\)"),
        ("- {label: HAM, regex: x, flags: [LOUD]}\n", ".yaml", "unknown regex flag 'LOUD'"),
        ("rules: 3\n", ".yaml", "expected a YAML list of rules"),
    ],
)
def test_rule_file_errors_name_the_line_and_the_fix(tmp_path, content, suffix, message):
    path = tmp_path / f"rules{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        rules_from_file(path, class_names=["HAM", "SPAM"] if suffix == ".yaml" else ["DESC", "ENTY"])


def test_every_problem_of_a_rule_file_is_reported_at_once(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "- {label: HAM, regex: 'hi'}\n"              # fine
        "- label: HAM\n"
        "  regx: free\n"                             # misspelt, with a second unknown key in the same rule
        "  exmple: free money\n"
        "- {label: EGGS, keywords: [x]}\n"           # no such class
        "- {label: SPAM, length: {mx: 5}}\n"         # misspelt field
        "- label: SPAM\n"
        "  keywords: [a]\n"
        "  keywords: [b]\n"                          # given twice
        "- {label: SPAM, keywords: [x], flags: [I]}\n"  # not a keywords rule's key
    )
    with pytest.raises(ValueError) as err:
        rules_from_file(path, class_names=["HAM", "SPAM"])
    lines = str(err.value).splitlines()
    assert lines[0] == f"{path}, line 10: the key 'keywords' is given twice in one mapping (first on line 9); keep one."
    assert lines[1] == "5 more problem(s) in the same rule file:"
    expected = [
        r"rule 1 \(line 4\): unknown key 'regx'\. Did you mean 'regex'\? Allowed: \[",
        r"rule 1 \(line 5\): unknown key 'exmple'\. Did you mean 'example'\?",
        r"rule 2: label 'EGGS' does not name exactly one of classes \['HAM', 'SPAM'\]",
        r"rule 3: unknown field length\.mx\. Did you mean 'max'\?",
        r"rule 5 \(line 11\): the key 'flags' does not apply to a keywords rule",
    ]
    assert len(lines) == 2 + len(expected) == len(err.value.problems) + 1
    for line, pattern in zip(lines[2:], expected):
        assert re.match(rf"  {re.escape(str(path))}, {pattern}", line), line


def test_every_bad_line_of_a_tsv_rule_file_is_reported_at_once(tmp_path):
    path = tmp_path / "rules.txt"
    path.write_text("# rules\nDESC\tfine\nCOLOR\tred\nENTY\t(unclosed\nDESC\t\n")
    with pytest.raises(ValueError) as err:
        rules_from_file(path, class_names=["DESC", "ENTY"])
    assert [p.split(": ", 1)[0] for p in err.value.problems] == [f"{path}, line {n}" for n in (3, 4, 5)]
    assert "label 'COLOR' does not name exactly one of" in str(err.value)
    assert "2 more problem(s) in the same rule file" in str(err.value)


def test_label_map_overrides_names(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("COLOR\tred\nSIZE\tbig\n")
    lfs = rules_from_file(path, label_map={"color": 0, "SIZE": 1})
    assert [lf.label for lf in lfs] == [0, 1]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        rules_from_file(tmp_path / "missing.tsv")


def test_a_bad_rule_late_in_the_file_fails_before_any_lf_runs(tmp_path):
    # Every rule is checked when the file is read: a typo in the last rule stops the load, not the apply.
    rules = "".join(f"- {{label: HAM, keywords: [w{i}]}}\n" for i in range(50)) + "- {label: SPAM, length: {max: five}}\n"
    path = tmp_path / "rules.yaml"
    path.write_text(rules)
    with pytest.raises(ValueError, match=r"rules\.yaml, rule 50: length\.max is 'five'"):
        rules_from_file(path, class_names=["HAM", "SPAM"])


def test_engine_python_in_a_rule_runs_what_re2_cannot(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("- {label: SPAM, regex: '(\\w+) \\1', engine: python, timeout: 0.5}\n"
                    "- {label: SPAM, regex: 'free(?! trial)'}\n")
    with pytest.raises(ValueError, match=r"rule 1: .*negative lookahead"):
        rules_from_file(path, class_names=["HAM", "SPAM"])
    path.write_text("- {label: SPAM, regex: '(\\w+) \\1', engine: python, timeout: 0.5}\n")
    [lf] = rules_from_file(path, class_names=["HAM", "SPAM"])
    assert (lf.engine, lf.timeout) == ("python", 0.5)
    assert lf(pd.DataFrame({"text": ["so so good", "so good"]})).tolist() == [1, -1]
    tsv = tmp_path / "rules.txt"
    tsv.write_text("ENTY\t(?<=the )colou?r\n")
    [lf] = rules_from_file(tsv, class_names=["DESC", "ENTY"], engine="python")
    assert lf(pd.DataFrame({"text": ["the color red", "a color"]})).tolist() == [1, -1]


def test_well_formed_typed_fields_still_load(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("- {label: HAM, length: {min: 0, max: 3, unit: chars}}\n"
                    "- {label: SPAM, keywords: [Free], case: true, whole_word: true, column: body}\n")
    short, free = rules_from_file(path, class_names=["HAM", "SPAM"])
    assert (short.min_len, short.max_len, short.unit) == (0, 3, "chars")
    assert free.column == "body"
    assert free(pd.DataFrame({"body": ["Free stuff", "free stuff", "Freedom"]})).tolist() == [1, -1, -1]
