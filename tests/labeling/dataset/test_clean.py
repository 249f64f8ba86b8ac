"""Tests of labeling.dataset.clean on the WRENCH youtube comments."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.dataset import clean_texts, normalize_text


@pytest.mark.parametrize(
    "raw, kwargs, expected",
    [
        ("Check&nbsp;out <b>my</b>  channel", {}, "Check out my channel"),
        ("line one<br/>line two", {}, "line one line two"),
        ("\ufeffHello\u200b world ", {}, "Hello world"),
        ("ＦＵＬＬ width", {}, "FULL width"),
        ("ＦＵＬＬ width", {"unicode_form": None}, "ＦＵＬＬ width"),
        ("<i>Nice</i> SONG", {"lowercase": True}, "nice song"),
        ("a <b>tag</b>", {"strip_markup": False}, "a <b>tag</b>"),
        ("  keep\n\tspaces ", {"collapse_whitespace": False}, "  keep\n\tspaces "),
        # Only markup goes: comparisons, escaped tags, SMS spans in angle brackets are text.
        ("if x < y and y > z then stop", {}, "if x < y and y > z then stop"),
        ("&lt;div&gt; is a tag name", {}, "<div> is a tag name"),
        ("I'll call you <ukp> later <#>", {}, "I'll call you <ukp> later <#>"),
        ("I <3 u, a<b", {}, "I <3 u, a<b"),
        ("ok<script>var x = 1;</script> <style>p {}</style>done", {}, "ok done"),
        ("one<br>two</p><p>three", {}, "one two three"),
        # Joiners that emoji sequences and scripts need are kept; a stray one between ASCII letters goes.
        ("\U0001F468\u200d\U0001F469\u200d\U0001F467 family", {}, "\U0001F468\u200d\U0001F469\u200d\U0001F467 family"),
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", {}, "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
        ("x\u200dy", {}, "xy"),
        # NFKC folds look-alikes but not fractions, superscripts or subscripts.
        ("1½ cups, 5 m² of H₂O", {}, "1½ cups, 5 m² of H₂O"),
        ("ﬁne ＡＢＣ", {}, "fine ABC"),
        # NUL, escape sequences and bidirectional controls are never text: a right-to-left override
        # (U+202E) makes "evil\u202etxt.exe" display as "evilexe.txt".
        ("a\x00b", {}, "ab"),
        ("evil\u202etxt.exe", {}, "eviltxt.exe"),
        ("\u2066isolated\u2069 \u202aembedded\u202c \u200fmark", {}, "isolated embedded mark"),
        ("red\x1b[31m text\x7f\x08", {}, "red[31m text"),
        ("c1\x85\x9bcontrols", {"collapse_whitespace": False}, "c1controls"),
        ("tab\tand\nnewline kept", {"collapse_whitespace": False}, "tab\tand\nnewline kept"),
        ("\u05e9\u05dc\u05d5\u05dd", {}, "\u05e9\u05dc\u05d5\u05dd"),
    ],
)
def test_normalize_text(raw, kwargs, expected):
    assert normalize_text(raw, **kwargs) == expected


def test_normalize_text_rejects_unknown_form():
    with pytest.raises(ValueError, match="unicode_form='NFX' is not one of"):
        normalize_text("x", unicode_form="NFX")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip()


def test_clean_texts_on_youtube(youtube):
    df = youtube.train.data.copy()
    df["label"] = youtube.train.y
    # Real comments carry BOMs and double spaces; three broken rows are added to be dropped.
    extra = pd.DataFrame({"text": [None, "   ", "a"], "label": [0, 1, 0]}, index=["m", "e", "s"])
    res = clean_texts(pd.concat([df, extra]), min_chars=2)
    assert res.counts == {"missing": 1, "empty": 1, "too_short": 1}
    assert len(res.data) == len(df)
    assert res.removed.index.tolist() == ["m", "e", "s"]
    assert res.removed["reason"].tolist() == ["missing", "empty", "too_short"]
    assert res.data.index.equals(df.index)
    assert (res.data["label"] == df["label"]).all()
    n_bom = df["text"].str.contains("\ufeff").sum()
    assert n_bom > 100  # the WRENCH youtube texts really do end in a BOM
    assert not res.data["text"].str.contains("\ufeff|  ").any()


def test_clean_texts_errors(youtube):
    with pytest.raises(KeyError, match="no text column 'body'"):
        clean_texts(youtube.train.data, text_column="body")
    with pytest.raises(ValueError, match="min_chars=-1"):
        clean_texts(youtube.train.data, min_chars=-1)
