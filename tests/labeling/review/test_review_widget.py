"""Review widget (headless clicks), terminal review, guidelines, and the review notebook run by nbclient."""

from __future__ import annotations

import io

import pytest

from labeling.review import ActiveLoop, Guidelines, ReviewStore, review_terminal
from labeling.review.widget import highlight_spans, render_sample_html
from models import LabelModel

from conftest import ROOT  # noqa: E402
GUIDELINES = ROOT / "examples" / "review" / "guidelines.md"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> check my channel & win'


@pytest.fixture
def loop(tmp_path, youtube):
    store = ReviewStore(tmp_path / "w.sqlite", class_names=youtube.label_names)
    data = youtube.train.data.copy()
    data.iloc[0, data.columns.get_loc("text")] = EVIL
    lp = ActiveLoop(LabelModel(cardinality=2), data, youtube.train.L, strategy="entropy", store=store,
                    batch_size=5, random_state=0)
    lp.next_batch()
    return lp


def test_untrusted_text_is_escaped():
    out = highlight_spans(EVIL, [(len(EVIL) - 12, len(EVIL) - 5, 'lf"<x>')])
    assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out
    assert 'title="lf&quot;&lt;x&gt;"' in out and "&amp; win" in out
    from labeling.review.store import Sample

    html = render_sample_html(Sample("<id>", EVIL, {"votes": {"<lf>": 1}, "probs": [0.3, 0.7]}), ["<b>H</b>", "S"])
    assert "<script" not in html and "<b>H</b>" not in html and "&lt;lf&gt;" in html


def test_clicks_write_to_the_store(loop):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    w = ReviewWidget(loop.store, reviewer="ann", guidelines=Guidelines.load(GUIDELINES), loop=loop)
    first = w.current.sample_id
    w.class_buttons[1].click()
    assert loop.store.resolved_labels() == {first: 1}
    second = w.current.sample_id
    w.skip_button.click()
    third = w.current.sample_id
    w.keys.value = "u"  # keyboard shortcut box
    assert w.keys.value == ""
    w.keys.value = "1"
    kinds = [(d.sample_id, d.kind, d.label) for d in loop.store.decisions()]
    assert kinds[:3] == [(first, "label", 1), (second, "skip", None), (third, "unsure", None)]
    assert kinds[3][1:] == ("label", 0)
    w.undo_button.click()
    assert w.current.sample_id == kinds[3][0]
    assert "5 queued" not in w.status.value and "reviewer ann" in w.status.value
    assert "<script" not in w.sample_html.value


def test_widget_next_batch_and_suggestions(loop, youtube):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    w = ReviewWidget(loop.store, reviewer="ann", loop=loop)
    for _ in range(5):
        sid = w.current.sample_id
        w.label(int(youtube.train.y[loop.ids.index(sid)]))
    assert "Queue empty" in w.sample_html.value
    w.batch_button.click()
    assert w.current is not None and "refit on 5 labels" not in w.sample_html.value
    assert len(loop.store.queued_ids()) == 10
    table = w.show_suggestions()
    assert len(w.suggestions_box.children) >= 1
    if len(table):
        n = len(loop.lf_names)
        w.suggestions_box.children[0].children[0].click()
        assert len(loop.lf_names) == n + 1


def test_terminal_review(loop):
    keys = iter(["2", "s", "x", "u", "z", "1", "q"])
    out = io.StringIO()
    n = review_terminal(loop.store, reviewer="tom", guidelines=Guidelines.load(GUIDELINES),
                        input_fn=lambda prompt: next(keys), out=out)
    text = out.getvalue()
    assert "SPAM: Promotes a channel" in text and "unknown key 'x'" in text and "undid unsure" in text
    assert "LF votes:" in text and "model:" in text
    decisions = [(d.kind, d.label) for d in loop.store.decisions()]
    assert decisions == [("label", 1), ("skip", None), ("label", 0)]
    assert n == 3


def test_guidelines_yaml_and_markdown(tmp_path):
    g = Guidelines.load(GUIDELINES)
    assert set(g.classes) == {"HAM", "SPAM"} and g["SPAM"].examples[0] == "check out my channel please"
    y = tmp_path / "g.yaml"
    y.write_text("classes:\n  SPAM:\n    definition: ads <b>\n    examples: [buy]\n  HAM: real\n")
    gy = Guidelines.load(y)
    assert gy["HAM"].definition == "real" and "&lt;b&gt;" in gy.to_html()
    y.write_text("- just a list\n")
    with pytest.raises(ValueError, match="expected a mapping with a 'classes' mapping"):
        Guidelines.load(y)


def test_review_notebook_executes(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    jupytext = pytest.importorskip("jupytext")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    store = tmp_path / "nb.sqlite"
    monkeypatch.setenv("VOTEWISE_REVIEW_STORE", str(store))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = jupytext.read(ROOT / "examples" / "review" / "review.py")
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "examples" / "review")}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert ReviewStore(store).progress()["queued"] == 10
