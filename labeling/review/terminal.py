"""Terminal review (``votewise review STORE``): the widget's information as text, one key per class."""

from __future__ import annotations

import html
import os
import sys
import textwrap
from typing import Any, Callable, TextIO

from .spans import span_runs
from .store import Decision, LeaseError, ReviewStore, Sample

__all__ = ["review_terminal", "format_sample", "format_reviews", "read_key", "shown"]


def shown(value: Any, *, newlines: bool = False) -> str:
    """``value`` as text safe to print on a terminal: control characters escaped, byte-order marks dropped.

    Ids, texts, LF, class and reviewer names come from data files; printed raw, an escape
    sequence among them (``\\x1b[2J``, a cursor move, a title change) would act on the terminal,
    and a right-to-left override (U+202E) would reorder what the reviewer reads. Every character
    that is not printable is shown as its Python escape (``\\x1b``, ``\\u202e``); U+FEFF (a byte-order
    mark or zero-width no-break space left in scraped text) is dropped, as it shows nothing.
    ``newlines=True`` keeps line breaks (in a sample's text).
    """
    text = str(value).replace("\ufeff", "")
    return "".join(ch if ch.isprintable() or (newlines and ch == "\n") else repr(ch)[1:-1] for ch in text)


def format_sample(sample: Sample, class_names: list[str], *, width: int = 88) -> str:
    """Plain-text panel: text (spans in [brackets]), LF votes, model probabilities."""
    payload = sample.payload or {}
    # Brackets around matched spans (the narrowest wins where they overlap); entities scraped with
    # the data ("&#39;") read as the character they stand for; control characters are shown escaped.
    # A span over the whole text (a length rule) would bracket everything: it is left out here.
    spans = [s for s in payload.get("spans", []) if not (int(s[0]) <= 0 and int(s[1]) >= len(sample.text))]
    text = "".join(html.unescape(piece) if name is None else f"[{html.unescape(piece)}]"
                   for piece, name in span_runs(sample.text, spans))
    text = shown(text, newlines=True)
    names = [shown(c) for c in class_names]
    lines = [f"--- sample {shown(sample.sample_id)} ---",
             textwrap.fill(text, width=width) if text.strip() else "(empty)"]
    votes = payload.get("votes", {})
    if votes:
        lines.append("LF votes: " + ", ".join(
            f"{shown(lf)}={names[v] if 0 <= v < len(names) else shown(v)}" for lf, v in votes.items()))
    else:
        lines.append("LF votes: none fired")
    probs = payload.get("probs")
    if probs:
        # A section of its own: the label model's view of the row, not one LF's.
        lines.append("label model: " + "  ".join(f"{names[c] if c < len(names) else c} {p:.2f}"
                                                 for c, p in enumerate(probs)))
    return "\n".join(lines)


def read_key(prompt: str = "", *, stream: TextIO | None = None, out: TextIO | None = None) -> str:
    """One keypress, without waiting for Enter, when ``stream`` is a terminal; a line otherwise.

    The terminal goes into cbreak mode for the read only (Ctrl-C still interrupts) and is
    restored afterwards, even on Ctrl-C. Piped input (a script, a test) is read a line at a time.
    Ctrl-D returns ``"q"``.
    """
    stream = stream or sys.stdin
    out = out or sys.stdout
    if prompt:
        print(prompt, end="", file=out, flush=True)
    try:
        fd = stream.fileno()
        is_tty = os.isatty(fd)
    except (AttributeError, OSError, ValueError):
        is_tty = False
    if not is_tty:
        line = stream.readline()
        if not line:
            raise EOFError
        return line.strip()
    import termios
    import tty

    old = termios.tcgetattr(fd)
    try:
        # TCSANOW, not the default TCSAFLUSH, which would throw away keys typed ahead.
        tty.setcbreak(fd, termios.TCSANOW)
        ch = os.read(fd, 1).decode("utf-8", "replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
    print(ch if ch.isprintable() else "", file=out, flush=True)
    # Ctrl-D arrives as \x04, or as \x00 when typed while the terminal was between reads (canonical mode).
    return "q" if ch in ("\x04", "\x00", "") else ch


def format_reviews(decisions: list[Decision], class_names: list[str]) -> str:
    """The reviews an adjudicator weighs, one line each."""
    lines = ["reviews:"]
    for d in decisions:
        label = "" if d.label is None else (class_names[d.label] if 0 <= d.label < len(class_names) else str(d.label))
        lines.append(f"  {shown(d.reviewer)}: {d.kind} {shown(label)}".rstrip()
                     + (f"  ({shown(d.note)})" if d.note else ""))
    return "\n".join(lines)


def _next_key(input_fn: Callable[[str], str], keys: str) -> str:
    """The next key, lower-cased; end of input reads as ``"q"`` (quit, giving the sample back)."""
    try:
        return input_fn(keys + "\n> ").strip().lower()
    except EOFError:
        return "q"


def _decision_of(key: str, k: int) -> tuple[str, int | None] | None:
    """``(kind, label)`` a review key stands for, or None for the other keys."""
    if key.isdigit() and 1 <= int(key) <= k:
        return "label", int(key) - 1
    return {"s": ("skip", None), "u": ("unsure", None)}.get(key)


def review_terminal(
    store: ReviewStore,
    *,
    reviewer: str,
    guidelines: Any = None,
    input_fn: Callable[[str], str] | None = None,
    out: TextIO | None = None,
    limit: int | None = None,
    adjudicate: bool = False,
) -> int:
    """Review queued samples at the terminal; returns the number of decisions recorded.

    Keys (one keypress each, no Enter): ``1``..``k`` label, ``s`` skip, ``u`` unsure, ``z``
    undo, ``g`` guidelines, ``q`` quit. Every decision is committed before the next sample
    is shown. Ctrl-C gives the sample on screen back (its lease is released, so a colleague
    gets it at once) and returns like ``q``.

    With ``adjudicate=True`` the samples whose double reviewers disagree are shown instead,
    each with its reviews; a class key settles the sample, ``s`` passes it.
    """
    out = out or sys.stdout
    if input_fn is None:
        def input_fn(prompt: str) -> str:
            return read_key(prompt, out=out)
    names = store.class_names
    if not names:
        raise ValueError(f"{store} has no class names; create it with ReviewStore(path, class_names=[...]).")
    if adjudicate:
        return _adjudicate(store, reviewer=reviewer, input_fn=input_fn, out=out, limit=limit)
    keys = ("  ".join(f"{i + 1}={shown(n)}" for i, n in enumerate(names))
            + "  s=skip  u=unsure  z=undo  g=guidelines  q=quit")
    if guidelines is not None:
        print(shown(guidelines.to_text(names), newlines=True), file=out)
    done = 0
    sample: Sample | None = None
    try:
        while limit is None or done < limit:
            got = store.checkout(reviewer, 1)
            if not got:
                sample = None
                leased, _ = store.leased_to_others(reviewer)
                print("Queue empty: nothing left to review"
                      + (f" ({leased} leased to other reviewers; run again later for what they release)."
                         if leased else "."), file=out)
                n_adj = len(store.to_adjudicate())
                if n_adj:
                    print(f"{n_adj} to adjudicate: votewise review {store.path} --adjudicate", file=out)
                break
            sample = got[0]
            p = store.progress()
            print(f"\n[{p['done']}/{p['queued']} done]", file=out)
            print(format_sample(sample, names), file=out)
            while True:
                key = _next_key(input_fn, keys)
                if key == "q":
                    store.release(sample.sample_id, reviewer)
                    return done
                if key == "g" and guidelines is not None:
                    print(shown(guidelines.to_text(names), newlines=True), file=out)
                    continue
                decision = _decision_of(key, len(names))
                if decision is not None:
                    try:
                        store.record(sample.sample_id, decision[1], reviewer=reviewer, kind=decision[0])
                    except LeaseError as exc:
                        # The lease ran out while the sample was on screen and a colleague took it.
                        print(f"not recorded: {shown(exc)}", file=out)
                        sample = None
                        break
                elif key == "z":
                    store.release(sample.sample_id, reviewer)
                    undone = store.undo(reviewer=reviewer)
                    print("nothing to undo" if undone is None else f"undid {undone.kind} on {shown(undone.sample_id)}",
                          file=out)
                    if undone is not None:
                        done -= 1
                    break
                else:
                    print(f"unknown key {key!r}", file=out)
                    continue
                done += 1
                sample = None
                break
    except KeyboardInterrupt:
        if sample is not None:
            store.release(sample.sample_id, reviewer)
        print(f"\nStopped; {done} decisions recorded"
              + (f", sample {shown(sample.sample_id)} given back." if sample is not None else "."), file=out)
    return done


def _adjudicate(store: ReviewStore, *, reviewer: str, input_fn: Callable[[str], str], out: TextIO,
                limit: int | None) -> int:
    names = store.class_names
    keys = "  ".join(f"{i + 1}={shown(n)}" for i, n in enumerate(names)) + "  s=pass  q=quit"
    passed: set[str] = set()
    done = 0
    try:
        while limit is None or done < limit:
            todo = [sid for sid in store.to_adjudicate() if sid not in passed] or store.to_adjudicate()
            passed &= set(todo)  # once every sample was passed, they come round again
            if not todo:
                print("Nothing to adjudicate.", file=out)
                break
            sample = store.sample(todo[0])
            print(f"\n[{len(todo)} to adjudicate] the reviewers disagree; your class settles the sample", file=out)
            print(format_sample(sample, names), file=out)
            print(format_reviews(store.reviews_of(sample.sample_id), names), file=out)
            while True:
                key = _next_key(input_fn, keys)
                if key == "q":
                    return done
                if key.isdigit() and 1 <= int(key) <= len(names):
                    store.adjudicate(sample.sample_id, int(key) - 1, reviewer=reviewer)
                    done += 1
                elif key == "s":
                    passed.add(sample.sample_id)
                else:
                    print(f"unknown key {key!r}", file=out)
                    continue
                break
    except KeyboardInterrupt:
        # Adjudication takes no lease: nothing to give back.
        print(f"\nStopped; {done} adjudications recorded.", file=out)
    return done
