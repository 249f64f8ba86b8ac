"""Finding 2: personal-data detection on a labelled set of cases from many countries, and the reported misses."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import DATA
from labeling.dataset import find_pii, mask_pii

CASES = DATA / "pii" / "cases.tsv"


def _cases() -> list[tuple[str, set[tuple[str, str]]]]:
    out = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        text, expected = line.split("\t")
        out.append((text, {tuple(item.split("=", 1)) for item in expected.split(" | ") if item}))
    return out


def score_cases() -> dict[str, tuple[int, int, int]]:
    """``kind -> (true positives, false positives, false negatives)`` over the labelled cases."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for text, expected in _cases():
        got = {(m.kind, m.text) for m in find_pii(text, engine="builtin")}
        tp.update(k for k, _ in got & expected)
        fp.update(k for k, _ in got - expected)
        fn.update(k for k, _ in expected - got)
    return {k: (tp[k], fp[k], fn[k]) for k in sorted(set(tp) | set(fp) | set(fn))}


def test_labelled_set_is_large_and_mixed():
    cases = _cases()
    assert len(cases) >= 100
    negatives = [t for t, e in cases if not e]
    assert len(negatives) >= 40
    kinds = Counter(k for _, e in cases for k, _ in e)
    assert kinds["phone"] >= 40 and all(kinds[k] >= 2 for k in ("email", "ip", "card", "iban", "handle"))


def test_precision_and_recall_on_the_labelled_set():
    scores = score_cases()
    tp = sum(s[0] for s in scores.values())
    fp = sum(s[1] for s in scores.values())
    fn = sum(s[2] for s in scores.values())
    assert tp / (tp + fp) >= 0.95 and tp / (tp + fn) >= 0.95, scores
    for kind, (t, f, n) in scores.items():
        assert t / max(t + f, 1) >= 0.95 and t / max(t + n, 1) >= 0.95, (kind, t, f, n)


@pytest.mark.parametrize(
    "text, found",
    [
        ("appelle +33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("Sydney +61 2 9876 5432", "+61 2 9876 5432"),
        ("Ruf an 030/12345678", "030/12345678"),
        ("reach me on 5551234567", "5551234567"),
        ("host 2001:db8::1 up", "2001:db8::1"),
        ("Call me 07946746291 2nite", "07946746291"),
    ],
)
def test_reported_misses_are_found(text, found):
    assert [m.text for m in find_pii(text, engine="builtin")] == [found]


@pytest.mark.parametrize(
    "text",
    ["ISBN 978-3-16-148410-0", "population 13 960 000", "lottery numbers 12 23 34 45 56 67", "EC 1.14.16.1"],
)
def test_reported_false_positives_are_left_alone(text):
    assert find_pii(text, engine="builtin") == []
    assert mask_pii(text, engine="builtin")[0] == text


def test_uk_mobiles_in_sms_style_texts_are_masked():
    # SMS-style texts, one UK mobile each, in the ways they are written (07..., 07... with spaces, +44).
    texts = [f"Hi its me, call 07{n:09d} l8r" for n in range(946746291, 946746291 + 17)]
    texts[::3] = [t.replace("call 07", "my no 07") for t in texts[::3]]
    masked = [mask_pii(t, engine="builtin")[0] for t in texts]
    assert all("[PHONE]" in m and not any(c.isdigit() for c in m.replace("l8r", "")) for m in masked), masked
