"""The personal-data suite (tests/data/pii/suite.tsv): recall and false-positive bounds per kind and engine,
the reported leaks, and what each engine says it looked for."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from tests.conftest import DATA
from labeling.dataset import privacy
from labeling.dataset._pii_eval import read_pii_cases, score_pii
from labeling.dataset._pii_presidio import merge_matches
from labeling.dataset.privacy import (
    BUILTIN_KINDS,
    DEFAULT_REGIONS,
    PIIMatch,
    PII_KINDS,
    find_pii,
    kinds_checked,
    kinds_missing,
    mask_pii,
    scrub_pii,
)

SUITE = DATA / "pii" / "suite.tsv"


@pytest.fixture(scope="module")
def cases():
    return read_pii_cases(SUITE)


def _engine(name):
    return lambda texts: [find_pii(t, engine=name) for t in texts]


def test_suite_is_large_and_mixed(cases):
    items = Counter(k for c in cases for k, _ in c.items)
    lookalikes = [c for c in cases if c.lookalike]
    assert sum(items.values()) >= 150 and len(items) >= 12 and min(items.values()) >= 3, items
    assert len(lookalikes) >= 50
    assert {c.style for c in cases} == {"sms", "email", "chat", "code"}
    assert all(Counter(c.style for c in cases)[s] >= 25 for s in ("sms", "email", "chat", "code"))


def test_suite_reader_names_file_and_line(tmp_path):
    bad = tmp_path / "cases.tsv"
    bad.write_text("# comment\nsms\tphone=0123\tno number here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.tsv, line 2: item 'phone=0123' is not 'kind=span'"):
        read_pii_cases(bad)
    bad.write_text("sms\tjust two fields\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: expected 3 tab-separated fields"):
        read_pii_cases(bad)


def test_builtin_recall_and_false_positives(cases):
    table = score_pii(cases, _engine("builtin"))
    for kind in BUILTIN_KINDS:
        assert table.loc[kind, "recall"] >= 0.9, table.loc[kind]
    assert table.loc["person", "masked"] == 0  # names need the model: not looked for, and said so
    assert table.loc["all", "lookalikes_masked"] <= 2 and table.loc["all", "extra_spans"] <= 3, table


@pytest.mark.slow
def test_merged_keeps_presidio_recall_and_builtin_precision(cases):
    pytest.importorskip("presidio_analyzer")
    pytest.importorskip("spacy")
    merged = score_pii(cases, _engine("merged"))
    alone = score_pii(cases, _engine("presidio"))
    builtin = score_pii(cases, _engine("builtin"))
    assert merged.loc["all", "recall"] >= 0.95, merged
    assert merged.loc["person", "recall"] >= 0.85, merged.loc["person"]
    for kind in PII_KINDS:
        if kind in alone.index and alone.loc[kind, "items"]:
            assert merged.loc[kind, "masked"] >= alone.loc[kind, "masked"], (kind, merged.loc[kind], alone.loc[kind])
    assert merged.loc["all", "lookalikes_masked"] <= builtin.loc["all", "lookalikes_masked"] + 1
    assert merged.loc["all", "extra_spans"] <= 3
    # Presidio alone masks many look-alikes (dates, counts, ids); the merge does not.
    assert alone.loc["all", "lookalikes_masked"] >= 5 * max(merged.loc["all", "lookalikes_masked"], 1)


@pytest.mark.parametrize(
    "text, found",
    [
        ("Tel:020 7946 0958 for the booking", [("phone", "020 7946 0958")]),
        ("call 07946746291/07880867867 after 6", [("phone", "07946746291"), ("phone", "07880867867")]),
        ("PO 89693. 08715500022 to claim", [("phone", "08715500022")]),
        ("my iban is gb82 west 1234 5698 7654 32, thanks", [("iban", "gb82 west 1234 5698 7654 32")]),
        ("link-local fe80::1%eth0 responds", [("ip", "fe80::1%eth0")]),
        ("route via fe80::1ff:fe23:4567:890a%3", [("ip", "fe80::1ff:fe23:4567:890a%3")]),
        ("The card on file is 5555-5555-5555-4444.", [("card", "5555-5555-5555-4444")]),
    ],
)
def test_reported_leaks_are_masked(text, found):
    assert [(m.kind, m.text) for m in find_pii(text, engine="builtin")] == found
    masked, _ = mask_pii(text, engine="builtin")
    assert not any(span in masked for _, span in found)


@pytest.mark.parametrize(
    "text, number",
    [
        # Numbers glued to words and to the rate or time after them, as in SMS adverts.
        ("to claim, call09050123456", "09050123456"),
        ("help:08700621234150p provided by tones", "08700621234"),
        ("2optout 087123456781.50gbp/mtmsg18", "08712345678"),
        ("speak to a live operator 07400123456am-7pm", "07400123456"),
        ("u 447911123456 have a secret admirer", "447911123456"),
    ],
)
def test_glued_phone_numbers_are_masked(text, number):
    masked, counts = mask_pii(text, engine="builtin")
    assert counts == {"phone": 1} and number not in masked and "[PHONE]" in masked


@pytest.mark.parametrize(
    "text",
    ["Upload icon@2x.png and logo@3x.png", "@pytest.mark.slow", "order_id = 4532015112830366",
     "The meeting is on 12/03/2024 at 10am.", "Use 000-12-3456 as a placeholder", "The token=example placeholder"],
)
def test_lookalikes_are_left_alone(text):
    assert find_pii(text, engine="builtin") == []


def test_kinds_checked_and_missing(monkeypatch):
    assert kinds_missing("builtin") == ("person",)
    assert kinds_checked("builtin") == BUILTIN_KINDS
    assert kinds_missing("builtin", kinds=["email", "phone"]) == ()
    monkeypatch.setattr(privacy, "presidio_available", lambda: False)
    assert privacy.resolve_engine("auto") == "builtin" and kinds_missing() == ("person",)
    with pytest.raises(ImportError, match=r"pip install 'votewise\[privacy\]'"):
        find_pii("x", engine="merged")
    import pandas as pd

    res = scrub_pii(pd.DataFrame({"text": ["Dear Jane Doe, call 020 7946 0958"]}))
    assert res.engine == "builtin" and res.kinds_missing == ("person",) and "person" not in res.kinds_checked
    assert res.data["text"].iloc[0] == "Dear Jane Doe, call [PHONE]"
    with pytest.raises(ValueError, match=r"Unknown PII kind\(s\) \['ssn'\]"):
        kinds_missing("builtin", kinds=["ssn"])


def test_importing_the_package_loads_no_presidio():
    code = ("import sys, labeling.dataset, labeling.dataset.privacy; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('presidio_analyzer', 'spacy', 'thinc')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_scrub_pii_merged_reports_every_kind():
    pytest.importorskip("presidio_analyzer")
    pytest.importorskip("spacy")
    import pandas as pd

    df = pd.DataFrame({"text": ["Please ask Sarah Connor to call 020 7946 0958", "version 1.2.3.4 on 12/03/2024"]})
    res = scrub_pii(df, engine="merged")
    assert res.engine == "merged" and res.kinds_missing == () and res.kinds_checked == PII_KINDS
    assert res.data["text"].tolist() == ["Please ask [PERSON] to call [PHONE]", "version 1.2.3.4 on 12/03/2024"]
    assert res.counts["person"] == 1 and res.counts["phone"] == 1 and res.counts["rows_with_pii"] == 1


def _theirs(text, *items):
    """Presidio-style matches (kind, span text) located in ``text``."""
    out = []
    for kind, span in items:
        start = text.index(span)
        out.append(PIIMatch(kind, start, start + len(span), span))
    return out


@pytest.mark.parametrize(
    "text, theirs, expected",
    [
        # Names Presidio's model finds are kept, with their title; field labels are not names.
        ("Margaret O'Neill\nHead of Sales", [("person", "Margaret O'Neill")], [("person", "Margaret O'Neill")]),
        ("Appointment with Dr. Ahmed Khan.", [("person", "Ahmed Khan")], [("person", "Dr. Ahmed Khan")]),
        ("# Maintainer: Jane Smith", [("person", "Maintainer"), ("person", "Jane")], [("person", "Jane Smith")]),
        ("OMG LOL WTF", [("person", "OMG LOL WTF")], []),
        # Dates are personal only after a birth word; Presidio's longer span replaces votewise's.
        ("The meeting is on 12/03/2024.", [("birth_date", "12/03/2024")], []),
        ("I was born on the 3rd of May 1985.", [("birth_date", "the 3rd of May 1985")],
         [("birth_date", "the 3rd of May 1985")]),
        # Numbers Presidio reports are kept only when votewise's validator agrees.
        ("version 1.2.3.4 is out", [("ip", "1.2.3.4")], []),
        ("order_id = 4532015112830366", [("card", "4532015112830366")], []),
        ("Use 000-12-3456 as a placeholder", [("us_ssn", "000-12-3456")], []),
        ("call 555-0142 after 5", [("phone", "555-0142")], [("phone", "555-0142")]),
        ("Population 13 960 000", [("phone", "13 960 000")], []),
        # A place after one of votewise's addresses extends it; a place on its own is not an address.
        ("Ship to 742 Evergreen Terrace, Springfield please", [("address", "Springfield")],
         [("address", "742 Evergreen Terrace, Springfield")]),
        ("Flights to London are cheap", [("address", "London")], []),
        ("he lives in Leeds now", [("address", "Leeds")], [("address", "Leeds")]),
        # Entity types without a votewise kind are not taken.
        ("ref 07946746291", [("us_bank_number", "07946746291")], []),
    ],
)
def test_merge_keeps_what_votewise_checks_accept(text, theirs, expected):
    ours = find_pii(text, engine="builtin")
    merged = merge_matches(text, ours, _theirs(text, *theirs), DEFAULT_REGIONS, PII_KINDS)
    assert [(m.kind, m.text) for m in merged] == expected


def test_long_run_says_up_front_what_it_runs(monkeypatch, caplog):
    import logging

    import pandas as pd

    monkeypatch.setattr(privacy, "_RATE", {"builtin": 0.5, "presidio": 0.5, "merged": 0.5})
    df = pd.DataFrame({"text": ["call 020 7946 0958"] * 20})
    with caplog.at_level(logging.INFO, logger="votewise.build"):
        scrub_pii(df, engine="builtin", progress=True)
    assert "pii: builtin engine on 20 texts, about 1 min on one core" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="votewise.build"):
        scrub_pii(df, engine="builtin", progress=False)
    assert caplog.text == ""
