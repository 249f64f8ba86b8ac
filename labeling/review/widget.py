"""Notebook review widget (ipywidgets): one sample at a time, every click committed to the store.

Install with ``pip install 'votewise[notebook]'``. All sample text, LF names,
class names and guideline text are HTML-escaped before display, so untrusted text
can never inject markup or script.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

from .store import ReviewStore, Sample

__all__ = ["ReviewWidget", "render_sample_html", "highlight_spans"]

_PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#e9d5ff", "#fed7aa", "#c7d2fe", "#99f6e4"]


def _require_ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The review widget needs ipywidgets; install it with: pip install 'votewise[notebook]'"
        ) from exc
    return ipywidgets


def highlight_spans(text: str, spans: Sequence[Sequence[Any]], lf_colors: dict[str, str] | None = None) -> str:
    """``text`` as escaped HTML with ``spans`` (start, end, lf_name) wrapped in ``<mark>``.

    Overlapping spans are merged into the first one; every piece of text, and the
    LF name in the tooltip, is escaped.

    Examples
    --------
    >>> highlight_spans("<b>buy</b> now", [(3, 6, "lf_buy")])
    '&lt;b&gt;<mark title="lf_buy" style="background:#fde68a">buy</mark>&lt;/b&gt; now'
    """
    colors = dict(lf_colors or {})
    out: list[str] = []
    pos = 0
    for start, end, name in sorted(((int(s[0]), int(s[1]), str(s[2])) for s in spans), key=lambda s: s[:2]):
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        color = colors.setdefault(name, _PALETTE[len(colors) % len(_PALETTE)])
        out.append(html.escape(text[pos:start]))
        out.append(f'<mark title="{html.escape(name, quote=True)}" style="background:{color}">'
                   f"{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def render_sample_html(sample: Sample, class_names: Sequence[str]) -> str:
    """The sample panel: highlighted text, each LF's vote and the model's class probabilities."""
    payload = sample.payload or {}
    text_html = highlight_spans(sample.text, payload.get("spans", []))
    votes = payload.get("votes", {})
    vote_rows = "".join(
        f"<tr><td>{html.escape(str(lf))}</td><td>{html.escape(_name(v, class_names))}</td></tr>"
        for lf, v in votes.items()
    ) or "<tr><td colspan='2'><i>no LF fired</i></td></tr>"
    probs = payload.get("probs") or []
    prob_rows = "".join(
        f"<tr><td>{html.escape(_name(c, class_names))}</td><td>"
        f"<div style='background:#60a5fa;height:0.8em;width:{100 * float(p):.0f}px;display:inline-block'></div>"
        f" {float(p):.2f}</td></tr>"
        for c, p in enumerate(probs)
    )
    return (
        "<div class='vw-sample'>"
        f"<div class='vw-id' style='color:#6b7280'>id {html.escape(sample.sample_id)}</div>"
        f"<div class='vw-text' style='font-size:1.1em;padding:6px;border:1px solid #e5e7eb;white-space:pre-wrap'>"
        f"{text_html}</div>"
        "<div style='display:flex;gap:24px'>"
        f"<table class='vw-votes'><tr><th>LF</th><th>vote</th></tr>{vote_rows}</table>"
        f"<table class='vw-probs'><tr><th>class</th><th>model</th></tr>{prob_rows}</table>"
        "</div></div>"
    )


def _name(c: Any, class_names: Sequence[str]) -> str:
    c = int(c)
    return class_names[c] if 0 <= c < len(class_names) else str(c)


class ReviewWidget:
    """Review samples from a :class:`ReviewStore` in Jupyter.

    Buttons: one per class, then skip, unsure and undo. Keyboard: click the
    shortcut box and press ``1``..``k`` for a class, ``s`` skip, ``u`` unsure,
    ``z`` undo. Each decision is committed to the store before the next sample
    shows.

    Parameters
    ----------
    store : ReviewStore
    reviewer : str
        Name written with every decision.
    guidelines : Guidelines, optional
        Shown beside the sample.
    loop : ActiveLoop, optional
        Enables "next batch" (queue more rows and refit) and LF suggestions.

    Examples
    --------
    >>> w = ReviewWidget(store, reviewer="ann")   # doctest: +SKIP
    >>> w                                         # doctest: +SKIP
    """

    def __init__(self, store: ReviewStore, *, reviewer: str, guidelines: Any = None, loop: Any = None) -> None:
        widgets = _require_ipywidgets()
        self.store = store
        self.reviewer = reviewer
        self.guidelines = guidelines
        self.loop = loop
        self.class_names = store.class_names or (loop.class_names if loop is not None else [])
        if not self.class_names:
            raise ValueError(f"{store} has no class names; create it with ReviewStore(path, class_names=[...]).")
        self.current: Sample | None = None
        self.sample_html = widgets.HTML()
        self.status = widgets.HTML()
        self.progress = widgets.IntProgress(min=0, max=1, value=0, description="done")
        self.class_buttons = [
            widgets.Button(description=f"{name} [{i + 1}]", tooltip=f"label as {name} (key {i + 1})",
                           button_style="primary")
            for i, name in enumerate(self.class_names)
        ]
        for i, b in enumerate(self.class_buttons):
            b.add_class(f"vw-label-{i}")
            b.on_click(lambda _b, i=i: self.label(i))
        self.skip_button = widgets.Button(description="skip [s]")
        self.unsure_button = widgets.Button(description="unsure [u]", button_style="warning")
        self.undo_button = widgets.Button(description="undo [z]")
        self.skip_button.on_click(lambda _b: self.skip())
        self.unsure_button.on_click(lambda _b: self.unsure())
        self.undo_button.on_click(lambda _b: self.undo())
        self.keys = widgets.Text(placeholder="keys: 1..k, s, u, z", description="shortcut",
                                 continuous_update=True, layout=widgets.Layout(width="260px"))
        self.keys.observe(self._on_key, names="value")
        rows: list[Any] = [self.progress, self.status, self.sample_html,
                           widgets.HBox(self.class_buttons),
                           widgets.HBox([self.skip_button, self.unsure_button, self.undo_button, self.keys])]
        if loop is not None:
            self.batch_button = widgets.Button(description="next batch + refit")
            self.batch_button.on_click(lambda _b: self.next_batch())
            self.suggest_button = widgets.Button(description="suggest LFs")
            self.suggest_button.on_click(lambda _b: self.show_suggestions())
            self.suggestions_box = widgets.VBox()
            rows += [widgets.HBox([self.batch_button, self.suggest_button]), self.suggestions_box]
        side = widgets.HTML(guidelines.to_html(self.class_names)) if guidelines is not None else widgets.HTML()
        self.widget = widgets.HBox([widgets.VBox(rows, layout=widgets.Layout(width="70%")), side])
        self.widget.add_class("vw-review")
        self.advance()

    def _ipython_display_(self) -> None:  # pragma: no cover - display hook
        from IPython.display import display

        display(self.widget)

    # actions ----------------------------------------------------------------
    def advance(self) -> Sample | None:
        """Lease the next sample (or show that the queue is empty)."""
        got = self.store.checkout(self.reviewer, 1)
        self.current = got[0] if got else None
        if self.current is None:
            self.sample_html.value = "<div class='vw-empty'><b>Queue empty.</b> Nothing left to review.</div>"
        else:
            self.sample_html.value = render_sample_html(self.current, self.class_names)
        for b in [*self.class_buttons, self.skip_button, self.unsure_button]:
            b.disabled = self.current is None
        self._update_progress()
        return self.current

    def _update_progress(self) -> None:
        p = self.store.progress()
        self.progress.max = max(p["queued"], 1)
        self.progress.value = p["done"]
        self.status.value = html.escape(
            f"{p['done']}/{p['queued']} done, {p['skipped']} skipped, {p['unsure']} unsure, "
            f"{p['adjudicate']} to adjudicate - reviewer {self.reviewer}"
        )

    def label(self, c: int) -> None:
        """Record class ``c`` for the current sample and move on."""
        if self.current is None:
            return
        self.store.record(self.current.sample_id, int(c), reviewer=self.reviewer)
        self.advance()

    def skip(self) -> None:
        if self.current is not None:
            self.store.skip(self.current.sample_id, reviewer=self.reviewer)
            self.advance()

    def unsure(self) -> None:
        if self.current is not None:
            self.store.unsure(self.current.sample_id, reviewer=self.reviewer)
            self.advance()

    def undo(self) -> None:
        """Undo this reviewer's last decision and show that sample again."""
        if self.current is not None:
            self.store.release(self.current.sample_id, self.reviewer)
        self.store.undo(reviewer=self.reviewer)
        self.advance()

    def _on_key(self, change: dict) -> None:
        value = change.get("new") or ""
        if not value:
            return
        key = value[-1].lower()
        self.keys.value = ""
        if key.isdigit() and 1 <= int(key) <= len(self.class_names):
            self.label(int(key) - 1)
        elif key == "s":
            self.skip()
        elif key == "u":
            self.unsure()
        elif key == "z":
            self.undo()

    def next_batch(self) -> None:
        """Refit the loop on the labels so far and queue its next batch."""
        if self.loop is None:
            return
        report = self.loop.refit()
        self.loop.next_batch()
        self.status.value = html.escape(
            f"refit on {report.n_reviewed} labels: estimated label accuracy "
            f"{report.label_accuracy_before:.3f} -> {report.label_accuracy_after:.3f}"
        )
        self.advance()

    def show_suggestions(self, top: int = 5) -> Any:
        """List candidate LFs from the reviews, each with an "accept" button."""
        widgets = _require_ipywidgets()
        from .suggest import suggest_lfs, suggestion_to_lf

        loop = self.loop
        table = suggest_lfs(loop.data[loop.text_column].tolist(), loop.human_labels(), probs=loop.probs_,
                            class_names=self.class_names, top=top)
        items = []
        for _, row in table.iterrows():
            desc = widgets.HTML(html.escape(
                f"'{row['ngram']}' -> {row['label_name']}: precision {row['precision_reviewed']:.2f} on "
                f"{row['reviewed_n']} reviewed, coverage {row['coverage_unreviewed']:.3f} of unreviewed"))
            button = widgets.Button(description="accept")

            def accept(_b: Any, row: Any = row) -> None:
                loop.add_lf(suggestion_to_lf(row))
                self.status.value = html.escape(f"added LF for '{row['ngram']}'; {len(loop.lf_names)} LFs")

            button.on_click(accept)
            items.append(widgets.HBox([button, desc]))
        self.suggestions_box.children = items or [widgets.HTML("<i>no suggestion yet</i>")]
        return table
