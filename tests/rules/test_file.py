"""Rule files: TREC's 68 WRENCH rules reproduce the stored weak labels; YAML rules; errors."""

import re

import numpy as np
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
    lfs = rules_from_file(path, labels=["HAM", "SPAM"])
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
        ("- {label: HAM, regex: x, colour: red}\n", ".yaml", r"unknown key\(s\) \['colour'\]"),
        ("- {label: HAM, regex: x, flags: [LOUD]}\n", ".yaml", "unknown regex flag 'LOUD'"),
        ("rules: 3\n", ".yaml", "expected a YAML list of rules"),
    ],
)
def test_rule_file_errors_name_the_line_and_the_fix(tmp_path, content, suffix, message):
    path = tmp_path / f"rules{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        rules_from_file(path, labels=["HAM", "SPAM"] if suffix == ".yaml" else ["DESC", "ENTY"])


def test_label_map_overrides_names(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("COLOR\tred\nSIZE\tbig\n")
    lfs = rules_from_file(path, label_map={"color": 0, "SIZE": 1})
    assert [lf.label for lf in lfs] == [0, 1]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        rules_from_file(tmp_path / "missing.tsv")
