"""Terminal review (``votewise review STORE``): the widget's information as text, one key per class."""

from __future__ import annotations

import sys
import textwrap
from typing import Any, Callable, TextIO

from .store import ReviewStore, Sample

__all__ = ["review_terminal", "format_sample"]


def format_sample(sample: Sample, class_names: list[str], *, width: int = 88) -> str:
    """Plain-text panel: text (spans in [brackets]), LF votes, model probabilities."""
    payload = sample.payload or {}
    text = sample.text
    # Brackets around matched spans; control characters from the data are shown escaped.
    pieces, pos = [], 0
    for start, end, _name in sorted((int(s[0]), int(s[1]), s[2]) for s in payload.get("spans", [])):
        if start < pos:
            continue
        pieces += [text[pos:start], "[", text[start:end], "]"]
        pos = end
    pieces.append(text[pos:])
    shown = "".join(pieces)
    shown = "".join(ch if ch.isprintable() or ch == "\n" else repr(ch)[1:-1] for ch in shown)
    lines = [f"--- sample {sample.sample_id} ---", textwrap.fill(shown, width=width) if shown else "(empty)"]
    votes = payload.get("votes", {})
    if votes:
        lines.append("LF votes: " + ", ".join(
            f"{lf}={class_names[v] if 0 <= v < len(class_names) else v}" for lf, v in votes.items()))
    else:
        lines.append("LF votes: none fired")
    probs = payload.get("probs")
    if probs:
        lines.append("model:    " + "  ".join(f"{class_names[c] if c < len(class_names) else c} {p:.2f}"
                                              for c, p in enumerate(probs)))
    return "\n".join(lines)


def review_terminal(
    store: ReviewStore,
    *,
    reviewer: str,
    guidelines: Any = None,
    input_fn: Callable[[str], str] = input,
    out: TextIO | None = None,
    limit: int | None = None,
) -> int:
    """Review queued samples at the terminal; returns the number of decisions recorded.

    Keys: ``1``..``k`` label, ``s`` skip, ``u`` unsure, ``z`` undo, ``g`` guidelines,
    ``q`` quit. Every decision is committed before the next sample is shown.
    """
    out = out or sys.stdout
    names = store.class_names
    if not names:
        raise ValueError(f"{store} has no class names; create it with ReviewStore(path, class_names=[...]).")
    keys = "  ".join(f"{i + 1}={n}" for i, n in enumerate(names)) + "  s=skip  u=unsure  z=undo  g=guidelines  q=quit"
    if guidelines is not None:
        print(guidelines.to_text(names), file=out)
    done = 0
    while limit is None or done < limit:
        got = store.checkout(reviewer, 1)
        if not got:
            print("Queue empty: nothing left to review.", file=out)
            break
        sample = got[0]
        p = store.progress()
        print(f"\n[{p['done']}/{p['queued']} done]", file=out)
        print(format_sample(sample, names), file=out)
        while True:
            try:
                key = input_fn(keys + "\n> ").strip().lower()
            except EOFError:
                key = "q"
            if key == "q":
                store.release(sample.sample_id, reviewer)
                return done
            if key == "g" and guidelines is not None:
                print(guidelines.to_text(names), file=out)
                continue
            if key.isdigit() and 1 <= int(key) <= len(names):
                store.record(sample.sample_id, int(key) - 1, reviewer=reviewer)
            elif key == "s":
                store.skip(sample.sample_id, reviewer=reviewer)
            elif key == "u":
                store.unsure(sample.sample_id, reviewer=reviewer)
            elif key == "z":
                store.release(sample.sample_id, reviewer)
                undone = store.undo(reviewer=reviewer)
                print("nothing to undo" if undone is None else f"undid {undone.kind} on {undone.sample_id}", file=out)
                if undone is not None:
                    done -= 1
                break
            else:
                print(f"unknown key {key!r}", file=out)
                continue
            done += 1
            break
    return done
