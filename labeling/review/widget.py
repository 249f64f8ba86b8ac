"""Notebook review widget (ipywidgets): one sample at a time, every click committed to the store.

Install with ``pip install 'votewise[notebook]'``. All sample text, LF names,
class names and guideline text are HTML-escaped before display, so untrusted text
can never inject markup or script.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any, Sequence

from .keybox import key_box
from .spans import span_runs
from .store import LeaseError, ReviewStore, Sample
from .suggest import suggest_lfs, suggestion_to_lf

__all__ = ["ReviewWidget", "render_sample_html", "highlight_spans", "render_legend", "lf_color"]

_PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#e9d5ff", "#fed7aa", "#c7d2fe", "#99f6e4"]


def _require_ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The review widget needs ipywidgets; install it with: pip install 'votewise[notebook]'"
        ) from exc
    return ipywidgets


def lf_color(name: str, colors: dict[str, str]) -> str:
    """The colour of LF ``name``, assigned on first sight and then kept in ``colors`` for the session."""
    if name not in colors:
        colors[name] = _PALETTE[len(colors) % len(_PALETTE)]
    return colors[name]


def _show(text: str) -> str:
    # Data scraped from the web often holds entities ("&#39;"): decode them so they read as the
    # character, then escape everything, so decoding can never produce live markup.
    return html.escape(html.unescape(text))


def highlight_spans(text: str, spans: Sequence[Sequence[Any]], lf_colors: dict[str, str] | None = None) -> str:
    """``text`` as escaped HTML with ``spans`` (start, end, lf_name) wrapped in ``<mark>``.

    Where spans overlap, the narrowest one covering a character marks it, so a span over the
    whole text (a length rule) never hides a keyword's mark inside it. ``lf_colors`` (LF name
    to colour) is filled in for LFs it lacks; pass the same dict for every sample to keep one
    colour per LF. HTML entities in the text are decoded, then every piece, and the LF name in
    the tooltip, is escaped.

    Examples
    --------
    >>> highlight_spans("<b>buy</b> now", [(3, 6, "lf_buy")])
    '&lt;b&gt;<mark title="lf_buy" style="background:#fde68a">buy</mark>&lt;/b&gt; now'
    >>> highlight_spans("it&#39;s free", [(0, 13, "long"), (9, 13, "kw")], {"long": "#aaa", "kw": "#bbb"})
    '<mark title="long" style="background:#aaa">it&#x27;s </mark><mark title="kw" style="background:#bbb">free</mark>'
    """
    colors = lf_colors if lf_colors is not None else {}
    return "".join(
        _show(piece) if name is None else
        f'<mark title="{html.escape(name, quote=True)}" style="background:{lf_color(name, colors)}">'
        f"{_show(piece)}</mark>"
        for piece, name in span_runs(text, spans))


def render_legend(names: Sequence[str], lf_colors: dict[str, str]) -> str:
    """One swatch per LF name, in the colour its marks have."""
    return "".join(
        f"<span class='vw-legend-item' style='margin-right:10px;white-space:nowrap'>"
        f"<span style='background:{lf_color(str(n), lf_colors)};padding:0 7px;border-radius:2px'>&nbsp;</span> "
        f"{html.escape(str(n))}</span>" for n in names)


def render_sample_html(
    sample: Sample, class_names: Sequence[str], *, lf_colors: dict[str, str] | None = None,
    reviews: Sequence[Any] | None = None,
) -> str:
    """The sample panel: highlighted text, a legend, each LF's vote, then the label model's probabilities.

    ``reviews`` (decisions on the sample) adds the table an adjudicator decides from.
    """
    colors = lf_colors if lf_colors is not None else {}
    payload = sample.payload or {}
    spans = payload.get("spans", [])
    text_html = highlight_spans(sample.text, spans, colors)
    votes = payload.get("votes", {})
    marked = list(dict.fromkeys(str(s[2]) for s in spans))
    legend = (f"<div class='vw-legend' style='font-size:0.9em;margin:4px 0'>{render_legend(marked, colors)}</div>"
              if marked else "")
    vote_rows = "".join(
        f"<tr><td><span style='background:{lf_color(str(lf), colors)};padding:0 5px'>&nbsp;</span> "
        f"{html.escape(str(lf))}</td><td>{html.escape(_name(v, class_names))}</td></tr>"
        for lf, v in votes.items()
    ) or "<tr><td colspan='2'><i>no LF fired</i></td></tr>"
    probs = payload.get("probs") or []
    prob_rows = "".join(
        f"<tr><td>{html.escape(_name(c, class_names))}</td><td>"
        f"<div style='background:#60a5fa;height:0.8em;width:{100 * float(p):.0f}px;display:inline-block'></div>"
        f" {float(p):.2f}</td></tr>"
        for c, p in enumerate(probs)
    )
    # The label model's probabilities combine every LF's vote: a section of their own below the votes, so
    # they never read as the probability of the LF on the same line.
    model = ("<div class='vw-model' style='margin-top:6px'><div style='font-weight:bold'>label model "
             "<span style='font-weight:normal;color:#6b7280'>(all LF votes combined)</span></div>"
             f"<table class='vw-probs'><tr><th>class</th><th>probability</th></tr>{prob_rows}</table></div>"
             if probs else "")
    review_table = ""
    if reviews is not None:
        rows = "".join(
            f"<tr><td>{html.escape(d.reviewer)}</td><td>{html.escape(d.kind)}</td>"
            f"<td>{'' if d.label is None else html.escape(_name(d.label, class_names))}</td>"
            f"<td>{html.escape(d.note or '')}</td></tr>" for d in reviews)
        review_table = ("<table class='vw-reviews'><tr><th>reviewer</th><th>decision</th><th>label</th>"
                        f"<th>note</th></tr>{rows}</table>")
    return (
        "<div class='vw-sample'>"
        f"<div class='vw-id' style='color:#6b7280'>id {html.escape(sample.sample_id)}</div>"
        # pre-wrap keeps the data's line breaks; anywhere-wrapping keeps long URLs inside the box.
        "<div class='vw-text' style='font-size:1.1em;padding:6px;border:1px solid #e5e7eb;white-space:pre-wrap;"
        f"overflow-wrap:anywhere;word-break:break-word;max-width:100%'>{text_html}</div>"
        f"{legend}{review_table}"
        f"<table class='vw-votes'><tr><th>LF</th><th>vote</th></tr>{vote_rows}</table>"
        f"{model}</div>"
    )


def _name(c: Any, class_names: Sequence[str]) -> str:
    c = int(c)
    return class_names[c] if 0 <= c < len(class_names) else str(c)


class ReviewWidget:
    """Review samples from a :class:`ReviewStore` in Jupyter.

    Buttons: one per class, then skip, unsure and undo. Keyboard: click the
    shortcut box and press ``1``..``k`` for a class, ``s`` skip, ``u`` unsure,
    ``z`` undo. Keys typed faster than the kernel answers are queued and applied
    in the order typed, each to the next sample, never dropped. Each decision is
    committed to the store before the next sample shows.

    "adjudicate" switches to the samples whose double reviewers disagree: the
    sample shows with every review, and a class button settles it. "refresh"
    looks for samples again once other reviewers' leases are released or expire.

    Parameters
    ----------
    store : ReviewStore
    reviewer : str
        Name written with every decision.
    guidelines : Guidelines, optional
        Shown beside the sample.
    loop : ActiveLoop, optional
        Enables "next batch" (queue more rows and refit) and LF suggestions; its LF
        names fix each LF's highlight colour for the session.
    auto_refresh : bool
        When the queue is empty only because others hold samples, look again by itself
        once the first of their leases ends (a background timer), as "refresh" does.

    Examples
    --------
    >>> w = ReviewWidget(store, reviewer="ann")   # doctest: +SKIP
    >>> w                                         # doctest: +SKIP
    """

    def __init__(
        self, store: ReviewStore, *, reviewer: str, guidelines: Any = None, loop: Any = None,
        auto_refresh: bool = True,
    ) -> None:
        widgets = _require_ipywidgets()
        # One action at a time: UI callbacks and the auto-refresh timer share the current sample.
        self._lock = threading.RLock()
        self.auto_refresh = auto_refresh
        self._timer: threading.Timer | None = None
        self.store = store
        self.reviewer = reviewer
        self.guidelines = guidelines
        self.loop = loop
        self.class_names = store.class_names or (loop.class_names if loop is not None else [])
        if not self.class_names:
            raise ValueError(f"{store} has no class names; create it with ReviewStore(path, class_names=[...]).")
        self.current: Sample | None = None
        self.mode = "review"
        # One colour per LF for the whole session: the loop's LFs in order, others as they appear.
        self.lf_colors: dict[str, str] = {}
        for name in (loop.lf_names if loop is not None else []):
            lf_color(name, self.lf_colors)
        self._adjudication_passed: set[str] = set()
        self._adjudication_first: str | None = None  # shown first in the adjudication view (after an undo)
        self.accepted_suggestions: list[str] = []
        self.sample_html = widgets.HTML()
        self.status = widgets.HTML()
        self.message = widgets.HTML()
        self.message.add_class("vw-message")
        self.report_html = widgets.HTML()
        self.report_html.add_class("vw-report")
        self.progress = widgets.IntProgress(min=0, max=1, value=0, description="done")
        def button(description: str, **kw: Any) -> Any:
            # Sized to the label and never shrunk by the row (a squeezed button read "unsur..."); rows wrap.
            return widgets.Button(description=description, layout=widgets.Layout(width="auto", flex="0 0 auto",
                                                                                 min_width="fit-content"), **kw)

        wrap = widgets.Layout(flex_flow="row wrap")
        self.class_buttons = [
            button(f"{name} [{i + 1}]", tooltip=f"label as {name} (key {i + 1})", button_style="primary")
            for i, name in enumerate(self.class_names)
        ]
        for i, b in enumerate(self.class_buttons):
            b.add_class(f"vw-label-{i}")
            b.on_click(self._guard(lambda _b, i=i: self.label(i)))
        self.skip_button = button("skip [s]")
        self.unsure_button = button("unsure [u]", button_style="warning")
        self.undo_button = button("undo [z]")
        self.refresh_button = button("refresh", tooltip="look for samples again")
        # Red only while there is something to adjudicate (_update_progress).
        self.adjudicate_button = button("adjudicate (0)")
        for b, cls, fn in [(self.skip_button, "vw-skip", self.skip), (self.unsure_button, "vw-unsure", self.unsure),
                           (self.undo_button, "vw-undo", self.undo), (self.refresh_button, "vw-refresh", self.advance),
                           (self.adjudicate_button, "vw-adjudicate", self.toggle_adjudication)]:
            b.add_class(cls)
            b.on_click(self._guard(lambda _b, fn=fn: fn()))
        self.keys = key_box(self._guard(self.press), placeholder="shortcut keys: 1..k, s, u, z")
        self.keys.add_class("vw-keys")
        rows: list[Any] = [self.progress, self.status, self.message, self.report_html, self.sample_html,
                           widgets.HBox(self.class_buttons, layout=wrap),
                           widgets.HBox([self.skip_button, self.unsure_button, self.undo_button, self.keys],
                                        layout=wrap),
                           widgets.HBox([self.refresh_button, self.adjudicate_button], layout=wrap)]
        if loop is not None:
            self.batch_button = button("next batch + refit")
            self.batch_button.add_class("vw-next-batch")
            self.batch_button.on_click(self._guard(lambda _b: self.next_batch()))
            self.suggest_button = button("suggest LFs")
            self.suggest_button.add_class("vw-suggest")
            self.suggest_button.on_click(self._guard(lambda _b: self.show_suggestions()))
            self.suggestions_box = widgets.VBox()
            self.suggestions_box.add_class("vw-suggestions")
            rows += [widgets.HBox([self.batch_button, self.suggest_button], layout=wrap), self.suggestions_box]
        side = widgets.HTML(guidelines.to_html(self.class_names)) if guidelines is not None else widgets.HTML()
        self.widget = widgets.HBox([widgets.VBox(rows, layout=widgets.Layout(width="70%")), side])
        self.widget.add_class("vw-review")
        self.advance()

    def _ipython_display_(self) -> None:  # pragma: no cover - display hook
        from IPython.display import display

        display(self.widget)

    def _guard(self, fn: Any) -> Any:
        """``fn`` as a UI callback whose errors show in the widget (not only in JupyterLab's log)."""

        def run(*args: Any) -> None:
            with self._lock:
                try:
                    fn(*args)
                except Exception as exc:  # noqa: BLE001 - shown to the reviewer, who can act on it
                    self.show_message(f"{type(exc).__name__}: {exc}", error=True)

        return run

    def show_message(self, text: str, *, error: bool = False) -> None:
        """A one-line note above the sample (red for errors), escaped."""
        color = "#b91c1c" if error else "#065f46"
        self.message.value = f"<div style='color:{color}'>{html.escape(text)}</div>" if text else ""

    # actions ----------------------------------------------------------------
    def advance(self) -> Sample | None:
        """Show the next sample: lease one to review, or the next one to adjudicate."""
        if self.mode == "adjudicate":
            return self._next_adjudication()
        got = self.store.checkout(self.reviewer, 1)
        self.current = got[0] if got else None
        if self.current is None:
            self.sample_html.value = self._empty_html()
        else:
            self.sample_html.value = render_sample_html(self.current, self.class_names, lf_colors=self.lf_colors)
        self._enable()
        self._update_progress()
        return self.current

    def _schedule_refresh(self, at: float) -> None:
        """Run :meth:`advance` once the lease ending at ``at`` (epoch seconds) has ended."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(max(at - time.time(), 0.0) + 0.5, self._guard(self._auto_refresh))
        self._timer.daemon = True
        self._timer.start()

    def _auto_refresh(self) -> None:
        if self.current is None and self.mode == "review":
            self.advance()

    def _empty_html(self) -> str:
        leased, first_end = self.store.leased_to_others(self.reviewer)
        parts = ["<div class='vw-empty'><b>Queue empty.</b> "]
        if leased and self.auto_refresh:
            self._schedule_refresh(first_end)
        if leased:
            until = time.strftime("%H:%M:%S", time.localtime(first_end))
            parts.append(html.escape(
                f"{leased} sample{'s are' if leased > 1 else ' is'} leased to other reviewers; the first lease "
                f"ends at {until}. Press refresh to take what they release"
                + (" (this view refreshes itself then)." if self.auto_refresh else ".")))
        else:
            parts.append("Nothing left to review.")
        n_adj = len(self.store.to_adjudicate())
        if n_adj:
            parts.append(html.escape(f" {n_adj} sample{'s' if n_adj > 1 else ''} wait for adjudication."))
        return "".join(parts) + "</div>"

    def _enable(self) -> None:
        for b in [*self.class_buttons, self.skip_button]:
            b.disabled = self.current is None
        self.unsure_button.disabled = self.current is None or self.mode == "adjudicate"

    def _update_progress(self) -> None:
        p = self.store.progress()
        self.progress.max = max(p["queued"], 1)
        self.progress.value = p["done"]
        self.adjudicate_button.description = (
            "back to review" if self.mode == "adjudicate" else f"adjudicate ({p['adjudicate']})")
        self.adjudicate_button.button_style = "danger" if p["adjudicate"] and self.mode != "adjudicate" else ""
        self.status.value = html.escape(
            f"{p['done']}/{p['queued']} done, {p['skipped']} skipped, {p['unsure']} unsure, "
            f"{p['adjudicate']} to adjudicate - reviewer {self.reviewer}"
            + (" - adjudicating" if self.mode == "adjudicate" else "")
        )

    def _decided(self) -> None:
        # A decision is the reviewer's next step: the refit report and old notes have been read.
        self.report_html.value = ""
        self.show_message("")

    def _record(self, fn: Any) -> None:
        try:
            fn()
        except LeaseError as exc:
            # The lease ran out and someone else took the sample: say so and move on.
            self.advance()
            self.show_message(str(exc), error=True)
            return
        self._decided()
        self.advance()

    def label(self, c: int) -> None:
        """Record class ``c`` for the current sample (an adjudication in that view) and move on."""
        if self.current is None:
            return
        sid = self.current.sample_id
        if self.mode == "adjudicate":
            self._record(lambda: self.store.adjudicate(sid, int(c), reviewer=self.reviewer))
        else:
            self._record(lambda: self.store.record(sid, int(c), reviewer=self.reviewer))

    def skip(self) -> None:
        """Skip the current sample (in the adjudication view: leave it for later)."""
        if self.current is None:
            return
        if self.mode == "adjudicate":
            self._adjudication_passed.add(self.current.sample_id)
            self.advance()
            return
        sid = self.current.sample_id
        self._record(lambda: self.store.skip(sid, reviewer=self.reviewer))

    def unsure(self) -> None:
        """Mark the current sample unsure."""
        if self.current is not None and self.mode == "review":
            sid = self.current.sample_id
            self._record(lambda: self.store.unsure(sid, reviewer=self.reviewer))

    def undo(self) -> None:
        """Undo this reviewer's last decision and show that sample again."""
        if self.current is not None and self.mode == "review":
            self.store.release(self.current.sample_id, self.reviewer)
        undone = self.store.undo(reviewer=self.reviewer)
        # An undone adjudication puts its sample back among the disagreements: show it there.
        self.mode = "adjudicate" if undone is not None and undone.kind == "adjudication" else "review"
        self._adjudication_first = undone.sample_id if self.mode == "adjudicate" else None
        self._decided()
        self.advance()

    # adjudication -------------------------------------------------------------
    def toggle_adjudication(self) -> None:
        """Switch between reviewing the queue and settling double-review disagreements."""
        if self.mode == "review" and self.current is not None:
            self.store.release(self.current.sample_id, self.reviewer)
        self.mode = "review" if self.mode == "adjudicate" else "adjudicate"
        self._adjudication_passed.clear()
        self.advance()

    def _next_adjudication(self) -> Sample | None:
        # Passed samples come last; once every one was passed, they come round again.
        todo = [sid for sid in self.store.to_adjudicate() if sid not in self._adjudication_passed]
        if not todo:
            self._adjudication_passed.clear()
            todo = self.store.to_adjudicate()
        if self._adjudication_first in todo:
            todo.insert(0, self._adjudication_first)
        self._adjudication_first = None
        self.current = self.store.sample(todo[0]) if todo else None
        if self.current is None:
            self.sample_html.value = ("<div class='vw-empty'><b>Nothing to adjudicate.</b> "
                                      "Press \"back to review\" to go on reviewing.</div>")
        else:
            self.sample_html.value = (
                "<div class='vw-adjudication'><b>Adjudicate:</b> the reviewers disagree; the class you pick "
                "settles the sample.</div>"
                + render_sample_html(self.current, self.class_names, lf_colors=self.lf_colors,
                                     reviews=self.store.reviews_of(self.current.sample_id)))
        self._enable()
        self._update_progress()
        return self.current

    # keyboard ------------------------------------------------------------------
    def press(self, key: str) -> None:
        """Act on one key: ``1``..``k`` label (or adjudicate), ``s`` skip, ``u`` unsure, ``z`` undo."""
        key = key.lower()  # caps lock on is still a shortcut
        if key.isdigit() and 1 <= int(key) <= len(self.class_names):
            self.label(int(key) - 1)
        elif key == "s":
            self.skip()
        elif key == "u":
            self.unsure()
        elif key == "z":
            self.undo()

    # loop ----------------------------------------------------------------------
    def next_batch(self) -> None:
        """Refit the loop on the labels so far, queue its next batch, and show what the refit changed."""
        if self.loop is None:
            return
        report = self.loop.refit()
        self.loop.next_batch()
        self.advance()
        # Shown after advance() and kept until the next decision, so the reviewer can read it.
        self.report_html.value = render_refit_report(report)

    def show_suggestions(self, top: int = 5) -> Any:
        """List candidate LFs from the reviews, each with an "accept" button.

        N-grams already accepted (in this widget, or as ``suggested_*`` LFs of the loop) are
        not proposed again; an error while accepting shows in the widget.
        """
        widgets = _require_ipywidgets()

        loop = self.loop
        known = [n.split("_", 2)[2].replace("_", " ") for n in loop.lf_names
                 if n.startswith("suggested_") and n.count("_") >= 2]
        table = suggest_lfs(loop.data[loop.text_column].tolist(), loop.human_labels(), probs=loop.probs_,
                            class_names=self.class_names, top=top,
                            exclude=[*self.accepted_suggestions, *known])
        items = []
        for _, row in table.iterrows():
            desc = widgets.HTML(html.escape(
                f"'{row['ngram']}' -> {row['label_name']}: precision {row['precision_reviewed']:.2f} on "
                f"{row['reviewed_n']} reviewed, coverage {row['coverage_unreviewed']:.3f} of unreviewed"))
            button = widgets.Button(description="accept")
            button.add_class("vw-accept")

            def accept(b: Any, row: Any = row) -> None:
                if b.disabled:
                    return  # a double click's second message arrives before the browser disables the button
                b.disabled = True
                try:
                    loop.add_lf(suggestion_to_lf(row))
                except Exception as exc:  # noqa: BLE001 - the reviewer must see why nothing was added
                    self.show_message(f"could not add an LF for '{row['ngram']}': {exc}", error=True)
                    return
                self.accepted_suggestions.append(str(row["ngram"]))
                lf_color(loop.lf_names[-1], self.lf_colors)
                self.show_message(f"added LF for '{row['ngram']}'; {len(loop.lf_names)} LFs")
                self.show_suggestions(top)

            button.on_click(accept)
            items.append(widgets.HBox([button, desc]))
        self.suggestions_box.children = items or [widgets.HTML("<i>no suggestion yet</i>")]
        return table


def render_refit_report(report: Any, *, top: int = 8) -> str:
    """A refit report as HTML: labels used, estimated accuracy before and after, and the LFs that moved most."""
    head = (f"refit on {report.n_reviewed} labels ({report.n_new} new): estimated label accuracy "
            f"{report.label_accuracy_before:.3f} -> {report.label_accuracy_after:.3f}")
    if report.batch_accuracy is not None:
        head += f"; the model was right on {100 * report.batch_accuracy:.0f}% of the new labels"
    audit_n = getattr(report, "audit_n", 0)
    if audit_n and getattr(report, "audit_accuracy", None) is not None:
        head += (f"; audit: {100 * report.audit_accuracy:.0f}% right on {audit_n} random rows "
                 f"(95% interval {100 * report.audit_low:.0f}-{100 * report.audit_high:.0f}%)")
    table = ""
    lf = getattr(report, "lf_accuracy", None)
    if lf is not None and len(lf) and {"est_accuracy_before", "est_accuracy_after"} <= set(lf.columns):
        moved = (lf["est_accuracy_after"] - lf["est_accuracy_before"]).abs().sort_values(ascending=False)
        shown = lf.loc[moved.index[:top]].round(3)
        table = shown.to_html(classes="vw-report-lfs", border=0, escape=True)
    return (f"<div style='border:1px solid #a7f3d0;background:#ecfdf5;padding:6px'><b>{html.escape(head)}</b>"
            f"{table}</div>")
