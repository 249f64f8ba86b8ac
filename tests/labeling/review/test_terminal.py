"""Terminal review prints untrusted ids, texts, LF, class and reviewer names escaped, never raw."""

from __future__ import annotations

import io
import re

import pandas as pd

from labeling.review import ReviewStore, review_terminal
from labeling.review.terminal import format_sample, shown
from labeling.review.store import Sample

from tests.conftest import ROOT  # noqa: E402

ESC = "\x1b[2J\x1b]0;owned\x07"      # clear screen, then set the window title
RLO = "\u202e"                        # right-to-left override: reorders what follows


def _raw_controls(text: str) -> list[str]:
    """Characters a terminal would act on: C0/C1 controls (but newline) and bidi overrides."""
    return [ch for ch in text if (ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) < 0xA0 or ch in "\u202a\u202b\u202d\u202e\ufeff"]


def test_bundled_comment_with_a_byte_order_mark_prints_without_it():
    # The bundled comments end with U+FEFF (as scraped): the reviewer sees the text, not "\ufeff".
    df = pd.read_csv(ROOT / "examples" / "youtube_spam" / "data" / "Youtube05-Shakira.csv")
    text = df["CONTENT"].iloc[0]
    assert text.endswith("\ufeff")
    out = format_sample(Sample(str(df["COMMENT_ID"].iloc[0]), text), ["HAM", "SPAM"])
    assert "\ufeff" not in out and "\\ufeff" not in out and "Nice song" in out


def test_control_characters_in_every_untrusted_field_are_escaped(tmp_path):
    classes = [f"HAM{ESC}", f"SP{RLO}AM"]
    store = ReviewStore(tmp_path / "t.sqlite", class_names=classes)
    sid = f"id{ESC}1"
    store.add_samples([sid], [f"win {ESC} cash {RLO}gnp.exe\ufeff"],
                      payloads=[{"votes": {f"lf{ESC}": 1}, "probs": [0.4, 0.6]}])
    store.record(sid, 0, reviewer=f"ann{ESC}")
    store.undo(reviewer=f"ann{ESC}")
    store.release(sid, f"ann{ESC}")
    out = io.StringIO()
    keys = iter(["\x1b[A", "1", "q"])

    def typed(prompt: str) -> str:   # as read_key does: the prompt goes to the same terminal
        out.write(prompt)
        return next(keys)

    assert review_terminal(store, reviewer="tom", input_fn=typed, out=out) == 1
    text = out.getvalue()
    assert _raw_controls(text) == []
    assert "id\\x1b[2J\\x1b]0;owned\\x071" in text                       # the sample id
    assert "win \\x1b[2J" in text and "\\u202egnp.exe" in text           # the text
    assert "lf\\x1b[2J\\x1b]0;owned\\x07=SP\\u202eAM" in text           # LF name and class name
    assert "1=HAM\\x1b[2J" in text                                      # the keys line
    assert "unknown key '\\x1b[a'" in text


def test_reviewer_names_and_notes_are_escaped_for_the_adjudicator(tmp_path):
    store = ReviewStore(tmp_path / "a.sqlite", class_names=["HAM", "SPAM"])
    store.put_sample("a", "text", needed=2)
    store.record("a", 0, reviewer=f"ann{ESC}")
    store.record("a", 1, reviewer="bob", note=f"see {RLO}link")
    out = io.StringIO()
    keys = iter(["2", "q"])
    assert review_terminal(store, reviewer="lead", input_fn=lambda p: next(keys), out=out, adjudicate=True) == 1
    text = out.getvalue()
    assert _raw_controls(text) == []
    assert re.search(r"ann\\x1b\[2J\\x1b\]0;owned\\x07: label HAM", text)
    assert "(see \\u202elink)" in text


def test_model_probabilities_have_their_own_line():
    out = format_sample(Sample("s", "check out my channel", {"votes": {"keyword_link": 1}, "probs": [0.49, 0.51]}),
                        ["HAM", "SPAM"])
    lines = out.splitlines()
    assert "LF votes: keyword_link=SPAM" in lines
    assert "label model: HAM 0.49  SPAM 0.51" in lines


def test_shown_keeps_printable_unicode():
    assert shown("café – 日本 😀") == "café – 日本 😀"
    assert shown("a\nb") == "a\\nb" and shown("a\nb", newlines=True) == "a\nb"
