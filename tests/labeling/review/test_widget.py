"""Review widget (headless clicks), terminal review, guidelines, and the review notebook run by nbclient."""

from __future__ import annotations

import io
import time

import pytest

from labeling.review import ActiveLoop, Guidelines, ReviewStore, review_terminal
from labeling.review.widget import highlight_spans, render_sample_html
from models import LabelModel

from tests.conftest import ROOT  # noqa: E402
GUIDELINES = ROOT / "examples" / "review" / "guidelines.md"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> check my channel & win'


@pytest.fixture
def loop(tmp_path, youtube):
    store = ReviewStore(tmp_path / "w.sqlite", class_names=youtube.class_names)
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
    _type(w, "u1")  # the shortcut box: one message per key
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
    assert "Queue empty" in w.sample_html.value and "Nothing left to review" in w.sample_html.value
    w.batch_button.click()
    # The refit report stays on screen after the next sample shows, until the next decision.
    assert w.current is not None and "refit on 5 labels (5 new)" in w.report_html.value
    assert "est_accuracy_after" in w.report_html.value
    assert len(loop.store.queued_ids()) == 10
    w.label(0)
    assert w.report_html.value == ""
    for _ in range(20):   # enough labels for suggestions to appear
        if w.current is None:
            w.batch_button.click()
        w.label(int(youtube.train.y[loop.ids.index(w.current.sample_id)]))
    table = w.show_suggestions()
    assert len(w.suggestions_box.children) >= 1
    assert len(table), "the reviews should suggest at least one n-gram"
    n, first = len(loop.lf_names), table["ngram"][0]
    accept = w.suggestions_box.children[0].children[0]
    accept.click()
    accept.click()   # a second click on the same button adds nothing and raises nothing
    assert len(loop.lf_names) == n + 1 and accept.disabled
    assert first in w.message.value and "added LF" in w.message.value
    assert first not in set(w.show_suggestions()["ngram"])   # accepted: not proposed again
    assert loop.lf_names[-1] in w.lf_colors


def test_suggestion_error_shows_in_the_widget(loop, youtube, monkeypatch):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    w = ReviewWidget(loop.store, reviewer="ann", loop=loop)
    while w.current is not None:
        w.label(int(youtube.train.y[loop.ids.index(w.current.sample_id)]))
    w.batch_button.click()
    while w.current is not None:
        w.label(int(youtube.train.y[loop.ids.index(w.current.sample_id)]))
    table = w.show_suggestions()
    assert len(table)

    def broken(lf):
        raise ValueError("An LF named 'x' is already in the loop")

    monkeypatch.setattr(loop, "add_lf", broken)
    w.suggestions_box.children[0].children[0].click()
    assert "could not add an LF" in w.message.value and "already in the loop" in w.message.value


def test_keys_typed_fast_are_applied_in_order(loop):
    """Keys typed in a row each go to the next sample of the queue, in the order typed."""
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    w = ReviewWidget(loop.store, reviewer="ann")
    loop.store.release(w.current.sample_id, "ann")
    order = [s.sample_id for s in loop.store.checkout("probe", 5)]   # the queue's order
    for sid in order:
        loop.store.release(sid, "probe")
    assert order[0] == w.current.sample_id
    _type(w, "2121s")
    got = [(d.sample_id, d.kind, d.label) for d in loop.store.decisions()]
    assert got == [(order[0], "label", 1), (order[1], "label", 0), (order[2], "label", 1), (order[3], "label", 0),
                   (order[4], "skip", None)]
    _type(w, "x")               # not a shortcut: nothing happens
    assert len(loop.store.decisions()) == 5 and w.current is None


def test_adjudication_view_and_refresh(tmp_path):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    store = ReviewStore(tmp_path / "adj.sqlite", class_names=["HAM", "SPAM"])
    store.put_sample("a", "first", needed=2)
    store.put_sample("b", "second")
    store.record("a", 0, reviewer="ann")
    store.record("a", 1, reviewer="bob", note="a link")
    store.checkout("bob", 1)   # bob holds b
    w = ReviewWidget(store, reviewer="lead")
    assert w.current is None and "1 sample is leased to other reviewers" in w.sample_html.value
    assert "1 sample wait" in w.sample_html.value and w.adjudicate_button.description == "adjudicate (1)"
    w.adjudicate_button.click()
    assert w.current.sample_id == "a" and "vw-reviews" in w.sample_html.value
    assert "a link" in w.sample_html.value and ">bob<" in w.sample_html.value
    _type(w, "2")
    assert store.to_adjudicate() == [] and store.resolved_labels() == {"a": 1}
    assert store.reviews_of("a")[-1].kind == "adjudication" and "Nothing to adjudicate" in w.sample_html.value
    w.adjudicate_button.click()   # back to review; bob's lease ends, refresh takes b
    store.release("b", "bob")
    w.refresh_button.click()
    assert w.current.sample_id == "b"


def test_lease_taken_by_someone_else_shows_and_moves_on(tmp_path):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    store = ReviewStore(tmp_path / "lease.sqlite", class_names=["HAM", "SPAM"], lease_seconds=60)
    store.add_samples(["a", "b"], ["x", "y"])
    w = ReviewWidget(store, reviewer="ann")
    first = w.current.sample_id
    with store._tx() as con:   # ann's lease ran out and bob took the sample
        con.execute("UPDATE queue SET lease_owner = 'bob', lease_until = ? WHERE sample_id = ?",
                    (time.time() + 60, first))
    w.class_buttons[1].click()
    assert "leased to &#x27;bob&#x27;" in w.message.value and store.decisions() == []
    assert w.current.sample_id != first


def test_highlighting_narrowest_span_colours_legend_and_entities():
    from labeling.review.store import Sample

    colors: dict = {}
    text = "it&#39;s free, see https://example.com/" + "x" * 200
    spans = [(0, len(text), "short_comment"), (9, 13, "kw_free")]
    out = render_sample_html(Sample("s1", text, {"spans": spans, "votes": {"short_comment": 0, "kw_free": 1}}),
                             ["HAM", "SPAM"], lf_colors=colors)
    assert '<mark title="kw_free" style="background:' + colors["kw_free"] + '">free</mark>' in out
    assert "it&#x27;s" in out and "&amp;#39;" not in out        # decoded, then escaped
    assert "overflow-wrap:anywhere" in out and "vw-legend" in out
    assert colors["short_comment"] != colors["kw_free"]
    before = dict(colors)
    other = render_sample_html(Sample("s2", "free", {"spans": [(0, 4, "kw_free")]}), ["HAM", "SPAM"],
                               lf_colors=colors)
    assert colors == before and f"background:{before['kw_free']}" in other   # one colour per LF
    assert "<script" not in highlight_spans("&lt;script&gt;", [])


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


def test_guidelines_report_every_unknown_key_with_the_closest_one(tmp_path):
    y = tmp_path / "guide.yaml"
    y.write_text("intro: Label comments.\nclases: {}\nclasses:\n  SPAM:\n    defintion: Ads.\n    exmples: [buy]\n"
                 "  HAM:\n    definition: Real comments.\n    colour: green\n")
    with pytest.raises(ValueError) as err:
        Guidelines.load(y)
    assert err.value.problems == [
        f"{y}: unknown key 'clases'. Did you mean 'classes'? Allowed: ['classes', 'intro'].",
        f"{y}, class 'SPAM': unknown key 'defintion'. Did you mean 'definition'? Allowed: ['definition', 'examples'].",
        f"{y}, class 'SPAM': unknown key 'exmples'. Did you mean 'examples'? Allowed: ['definition', 'examples'].",
        f"{y}, class 'HAM': unknown key 'colour'. Allowed: ['definition', 'examples'].",
    ]
    assert "3 more problem(s) in the same guidelines file" in str(err.value)
    md = tmp_path / "guide.md"
    md.write_bytes(b"## SPAM\nAds.\n- caf\xe9\n")
    with pytest.raises(ValueError, match=r"guide\.md, line 3: not UTF-8 \(byte 0xe9\); save the guidelines file as UTF-8"):
        Guidelines.load(md)


@pytest.mark.slow
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
    done = ReviewStore(store)
    assert done.progress()["queued"] == 10
    # The shipped notebook passes its rule LFs, so the queued samples carry spans to highlight.
    assert sum(len(done.sample(sid).payload["spans"]) for sid in done.sample_ids()) >= 10


def test_terminal_format_marks_the_narrow_span_and_decodes_entities():
    from labeling.review import format_sample
    from labeling.review.store import Sample

    text = "it&#39;s free"
    out = format_sample(Sample("s", text, {"spans": [[0, len(text), "short"], [9, 13, "kw"]]}), ["HAM", "SPAM"])
    assert "it's [free]" in out


def test_terminal_reads_one_keypress_without_enter():
    import os
    import pty

    from labeling.review.terminal import read_key

    master, slave = pty.openpty()
    with open(slave, "r", closefd=True) as stream:
        os.write(master, b"2s")
        out = io.StringIO()
        assert read_key("> ", stream=stream, out=out) == "2"
        assert read_key(stream=stream, out=out) == "s"      # no Enter was ever sent
        os.write(master, b"\x04")
        assert read_key(stream=stream, out=out) == "q"      # Ctrl-D quits
    os.close(master)


def test_terminal_ctrl_c_gives_the_sample_back(loop):
    keys = iter(["2"])

    def typed(prompt):
        try:
            return next(keys)
        except StopIteration:
            raise KeyboardInterrupt from None

    out = io.StringIO()
    assert review_terminal(loop.store, reviewer="tom", input_fn=typed, out=out) == 1
    assert "Stopped; 1 decisions recorded, sample" in out.getvalue() and "given back" in out.getvalue()
    assert loop.store.leased_to_others("someone") == (0, None)   # nothing left leased to tom


def test_terminal_adjudication(tmp_path):
    store = ReviewStore(tmp_path / "t.sqlite", class_names=["HAM", "SPAM"])
    for sid in ("a", "b"):
        store.put_sample(sid, f"text {sid}", needed=2)
        store.record(sid, 0, reviewer="ann")
        store.record(sid, 1, reviewer="bob", note="has a link")
    keys = iter(["s", "x", "2", "1", "q"])
    out = io.StringIO()
    n = review_terminal(store, reviewer="lead", input_fn=lambda p: next(keys), out=out, adjudicate=True)
    text = out.getvalue()
    assert n == 2 and "reviews:\n  ann: label HAM\n  bob: label SPAM  (has a link)" in text
    assert "unknown key 'x'" in text and "Nothing to adjudicate." in text
    assert store.resolved_labels() == {"b": 1, "a": 0} and store.to_adjudicate() == []


def test_widget_refreshes_itself_when_others_leases_end(tmp_path):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    store = ReviewStore(tmp_path / "auto.sqlite", class_names=["HAM", "SPAM"])
    store.add_samples(["a"], ["x"])
    store.checkout("bob", 1, lease_seconds=1.0)
    w = ReviewWidget(store, reviewer="ann")
    assert w.current is None and "refreshes itself" in w.sample_html.value
    end = time.time() + 10
    while w.current is None and time.time() < end:
        time.sleep(0.1)
    assert w.current is not None and w.current.sample_id == "a" and "id a" in w.sample_html.value
    quiet = ReviewWidget(ReviewStore(tmp_path / "q.sqlite", class_names=["HAM", "SPAM"]), reviewer="ann",
                         auto_refresh=False)
    assert quiet._timer is None


def test_terminal_lease_lost_is_reported_not_raised(tmp_path):
    store = ReviewStore(tmp_path / "lost.sqlite", class_names=["HAM", "SPAM"])
    store.add_samples(["a", "b"], ["x", "y"])

    def typed(prompt, keys=iter(["2", "1", "q"])):
        key = next(keys)
        if key == "2":   # while 'a' is on screen, tom's lease runs out and bob takes it
            with store._tx() as con:
                con.execute("UPDATE queue SET lease_owner = 'bob', lease_until = ? WHERE sample_id = 'a'",
                            (time.time() + 60,))
        return key

    out = io.StringIO()
    assert review_terminal(store, reviewer="tom", input_fn=typed, out=out) == 1
    assert "not recorded: Sample 'a' is leased to 'bob'" in out.getvalue()
    assert [(d.sample_id, d.label) for d in store.decisions()] == [("b", 0)]


def test_widget_undo_of_an_adjudication_returns_to_it(tmp_path):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    store = ReviewStore(tmp_path / "undo.sqlite", class_names=["HAM", "SPAM"])
    for sid in ("a", "b"):
        store.put_sample(sid, sid, needed=2)
        store.record(sid, 0, reviewer="ann")
        store.record(sid, 1, reviewer="bob")
    w = ReviewWidget(store, reviewer="lead")
    w.toggle_adjudication()
    assert w.current.sample_id == "a"
    w.label(1)
    assert w.current.sample_id == "b" and store.to_adjudicate() == ["b"]
    w.undo()
    assert w.mode == "adjudicate" and w.current.sample_id == "a" and sorted(store.to_adjudicate()) == ["a", "b"]


def test_refit_report_html_shows_the_audit():
    import pandas as pd

    from labeling.review import RefitReport
    from labeling.review.widget import render_refit_report

    lf = pd.DataFrame({"est_accuracy_before": [0.7], "est_accuracy_after": [0.8]}, index=["<kw>"])
    out = render_refit_report(RefitReport(n_reviewed=30, n_new=10, label_accuracy_before=0.8,
                                          label_accuracy_after=0.85, lf_accuracy=lf, batch_accuracy=0.6,
                                          audit_n=6, audit_accuracy=5 / 6, audit_low=0.44, audit_high=0.97))
    assert "refit on 30 labels (10 new)" in out and "0.800 -&gt; 0.850" in out
    assert "audit: 83% right on 6 random rows (95% interval 44-97%)" in out and "&lt;kw&gt;" in out


def test_only_key_messages_from_the_shortcut_box_act(loop):
    """The box acts on the browser's key messages, one decision per key, and on nothing else on its comm."""
    pytest.importorskip("anywidget")
    from labeling.review import ReviewWidget

    w = ReviewWidget(loop.store, reviewer="ann")
    _message(w, {"event": "vw-key", "key": "1"})
    for junk in [{"event": "vw-key", "key": "12"}, {"event": "vw-key", "key": 1}, {"event": "click", "key": "1"},
                 ["vw-key", "1"], {"event": "vw-key"}]:
        _message(w, junk)
    _message(w, {"event": "vw-key", "key": "S"})   # caps lock on: still skip
    assert [(d.kind, d.label) for d in loop.store.decisions()] == [("label", 0), ("skip", None)]
    assert w.keys.get_state()["placeholder"].startswith("shortcut keys")


def test_adjudicate_button_is_red_only_with_something_to_adjudicate(tmp_path):
    pytest.importorskip("ipywidgets")
    from labeling.review import ReviewWidget

    store = ReviewStore(tmp_path / "adj.sqlite", class_names=["HAM", "SPAM"])
    store.put_sample("a", "first", needed=2)
    w = ReviewWidget(store, reviewer="lead")
    assert w.adjudicate_button.description == "adjudicate (0)" and w.adjudicate_button.button_style == ""
    store.release("a", "lead")
    store.record("a", 0, reviewer="ann")
    store.record("a", 1, reviewer="bob")
    w.refresh_button.click()
    assert w.adjudicate_button.description == "adjudicate (1)" and w.adjudicate_button.button_style == "danger"


def test_model_probabilities_sit_in_their_own_section():
    from labeling.review.store import Sample

    html_ = render_sample_html(Sample("s", "check it http://x", {"votes": {"keyword_link": 1, "short": 0},
                                                               "probs": [0.49, 0.51]}), ["HAM", "SPAM"])
    votes = html_[html_.index("class='vw-votes'"):html_.index("</table>", html_.index("class='vw-votes'"))]
    assert "0.51" not in votes and "0.49" not in votes and votes.count("<tr>") == 3
    model = html_[html_.index("class='vw-model'"):]
    assert "label model" in model and "0.49" in model and "0.51" in model
    assert html_.index("class='vw-model'") > html_.index("class='vw-votes'")
    assert "display:flex" not in html_    # not side by side with the votes


def _message(w, content) -> None:
    """Deliver ``content`` to the shortcut box the way the browser's message reaches the kernel (its comm)."""
    w.keys._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def _type(w, text: str) -> None:
    """Type ``text`` in the shortcut box: one key message per character, in order."""
    for key in text:
        _message(w, {"event": "vw-key", "key": key})
