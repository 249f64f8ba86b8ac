"""Prompted LFs: a language model votes a class by answering a prompt built from each row.

``prompt_lf`` turns a prompt template over row fields, the classes with their verbalisers (the words
the model may answer with), optional few-shot examples and a confidence threshold into an LF. It votes
like any LF (``apply_lfs``, the LF cache, streaming, Dask, ``lf_summary``); its calls go through
:func:`sources.llm.ask`, so answers come from the response cache when they can, calls run with bounded
concurrency under an optional budget, and every answer is cached as it arrives. An answer that names
no class is an abstain, counted in ``lf.stats.unparseable``. :func:`lf_groups` tells the label model
which LFs ask the same model (their errors are correlated).
"""

from __future__ import annotations

import math
import re
import string
import warnings
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from labeling import ABSTAIN, LabelingFunction, Preprocessor
from labeling.core.safe_yaml import short_repr
from sources.llm import (
    Answer,
    Backend,
    Budget,
    BudgetExceeded,
    CallStats,
    OpenAIBackend,
    Prompt,
    PromptCallError,
    ResponseCache,
    TransformersBackend,
    ask,
    plan,
)

from .base import RuleLF, Span

__all__ = ["PromptLF", "prompt_lf", "lf_groups", "run_prompts", "prompt_report", "prompt_from_rule"]

_SHOWN = 3  # unparseable answers kept per LF for the report
_EDGE = " \t\r\n\"'`*_.,:;!?()[]{}<>"


def _norm(text: str) -> str:
    return " ".join(str(text).casefold().split())


class _Runtime:
    """What a prompted LF uses but does not vote with: cache, budget and counts (never fingerprinted)."""

    # The LF cache hashes this by type only: a budget's counters or a cache's path never change votes.
    __votewise_process_state__ = True

    def __init__(self, cache: ResponseCache | None, budget: Budget | None, progress: bool) -> None:
        self.cache = cache
        self.budget = budget
        self.progress = progress
        self.stats = CallStats()
        self.unparseable: list[str] = []  # a few answers that named no class, to show in the report


class PromptLF(RuleLF):
    """An LF whose vote is a language model's answer to a prompt built from the row. See :func:`prompt_lf`.

    Attributes
    ----------
    stats : CallStats
        Calls made, cached, failed and unparseable, tokens in and out, summed over this LF's runs in this
        process (:func:`prompt_report` gathers them; ``lf.reset_stats()`` starts again).
    group : str
        Correlation group for the label model (default: backend kind and model).
    """

    kind = "prompt"

    def __init__(
        self, name: str, *, template: str, classes: Mapping[int, Sequence[str]], backend: Backend,
        few_shot: Sequence[tuple[Mapping[str, Any] | str, int]] = (), system: str | None = None,
        threshold: float = 0.5, abstain_words: Sequence[str] = (), group: str | None = None,
        cache: ResponseCache | None = None, budget: Budget | None = None, progress: bool = True,
        pre: Sequence[Preprocessor] | None = None,
    ) -> None:
        if not isinstance(template, str) or not template.strip():
            raise ValueError(f"LF {name!r}: template must be a non-empty string; got {short_repr(template)}.")
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise ValueError(f"LF {name!r}: template {short_repr(template)} is not a format string ({exc}); "
                             "write row fields as {text} and literal braces as {{ }}.") from None
        if not fields:
            raise ValueError(f"LF {name!r}: template {short_repr(template)} names no row field; write e.g. {{text}}.")
        bad = [f for f in fields if not f.isidentifier()]
        if bad:
            raise ValueError(f"LF {name!r}: template field {{{bad[0]}}} is not a column name; use plain names such "
                             "as {text} (attribute and index access are not allowed).")
        super().__init__(name, None, column=fields[0], pre=pre)
        if not isinstance(backend, Backend):
            raise TypeError(f"LF {name!r}: backend must be a sources.llm backend (OpenAIBackend, "
                            f"TransformersBackend...); got {type(backend).__name__}.")
        self.template = template
        self.fields = tuple(dict.fromkeys(fields))
        self.classes = _check_classes(name, classes)
        self.backend = backend
        self.threshold = float(threshold)
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"LF {name!r}: threshold={threshold!r}; expected a probability in [0, 1].")
        self.abstain_words = tuple(_norm(w) for w in abstain_words)
        self.system = self._default_system() if system is None else (system or None)
        self.few_shot = tuple(self._shot(example, label) for example, label in few_shot)
        self.group = group if group is not None else backend.group
        self._runtime = _Runtime(cache, budget, progress)
        # What decides the votes, for the LF cache: the backend object itself is process state.
        self.cache_key = {"backend": backend.kind, "model": backend.model, "params": backend.params()}
        words = [(w, c) for c, ws in self.classes.items() for w in ws]
        self._words = sorted(((_norm(w), c) for w, c in words), key=lambda wc: -len(wc[0]))
        self._verbalisers = tuple(w for w, _ in words)

    # -- configuration ---------------------------------------------------------------------------

    @property
    def stats(self) -> CallStats:
        return self._runtime.stats

    def reset_stats(self) -> None:
        """Start counting calls, cached answers and tokens from zero."""
        self._runtime.stats = CallStats()
        self._runtime.unparseable = []

    @property
    def cache(self) -> ResponseCache | None:
        return self._runtime.cache

    @property
    def budget(self) -> Budget | None:
        return self._runtime.budget

    def _default_system(self) -> str:
        first = [ws[0] for ws in self.classes.values()]
        return "Answer with exactly one of: " + ", ".join(first) + "."

    def _shot(self, example: Mapping[str, Any] | str, label: int) -> tuple[str, str]:
        row = {self.column: example} if isinstance(example, str) else dict(example)
        if label not in self.classes:
            raise ValueError(f"LF {self.name!r}: few-shot example {short_repr(example)} has label {label!r}; "
                             f"expected one of the classes {sorted(self.classes)}.")
        missing = [f for f in self.fields if f not in row]
        if missing:
            raise ValueError(f"LF {self.name!r}: few-shot example {short_repr(example)} lacks field {missing[0]!r} "
                             "of the template.")
        return self.template.format_map(row), self.classes[label][0]

    def prompt(self, row: Mapping[str, Any]) -> Prompt:
        """The prompt for one row (a mapping with the template's fields)."""
        messages: list[tuple[str, str]] = [("system", self.system)] if self.system else []
        for question, answer in self.few_shot:
            messages += [("user", question), ("assistant", answer)]
        messages.append(("user", self.template.format_map({f: row[f] for f in self.fields})))
        return Prompt(tuple(messages), self._verbalisers)

    # -- answers to votes ------------------------------------------------------------------------

    def parse(self, text: str) -> int | None:
        """The class an answer names, or ``None`` (unparseable, or one of ``abstain_words``).

        Case, spacing and surrounding punctuation are ignored; the answer must be a verbaliser or start
        with one followed by a non-letter (``"Spam."``, ``"spam - it sells"``), the longest verbaliser
        first, so ``"not spam"`` is read as ``not spam`` and never as ``spam``.
        """
        answer = _norm(str(text).strip().splitlines()[0] if str(text).strip() else "").strip(_EDGE)
        if not answer or answer in self.abstain_words:
            return None
        for word, c in self._words:
            if answer == word or (answer.startswith(word) and not answer[len(word)].isalnum()):
                return c
        return None

    def probabilities(self, answer: Answer) -> np.ndarray | None:
        """Class probabilities from an answer's scores (in class order), ``None`` when it has none."""
        order = list(self.classes)
        if answer.score_kind == "verbaliser" and answer.scores:
            logs = np.full(len(order), -np.inf)
            for j, c in enumerate(order):
                vals = [answer.scores[w] for w in self.classes[c] if w in answer.scores]
                if vals:
                    logs[j] = np.logaddexp.reduce(np.asarray(vals, dtype=float))
            if not np.isfinite(logs).any():
                return None
            p = np.exp(logs - logs.max())
            return p / p.sum()
        if answer.score_kind == "first_token" and answer.scores:
            mass = np.zeros(len(order))
            for token, logprob in answer.scores.items():
                t = _norm(token).strip(_EDGE)
                if not t:
                    continue
                owners = {j for j, c in enumerate(order) if any(_norm(w).startswith(t) for w in self.classes[c])}
                if len(owners) == 1:  # a token that starts words of several classes is no evidence
                    mass[owners.pop()] += math.exp(logprob)
            return mass / mass.sum() if mass.sum() > 0 else None
        return None

    def decide(self, answer: Answer) -> tuple[int, float | None, int | None]:
        """``(vote, probability of the class read, class read)`` for one answer."""
        found = self.parse(answer.text)
        if found is None:
            return ABSTAIN, None, None
        p = self.probabilities(answer)
        if p is None:
            return found, None, found
        prob = float(p[list(self.classes).index(found)])
        return (found if prob >= self.threshold else ABSTAIN), prob, found

    # -- voting ----------------------------------------------------------------------------------

    def _prompts(self, df: pd.DataFrame) -> tuple[np.ndarray, list[Prompt]]:
        missing = [f for f in self.fields if f not in df.columns]
        if missing:
            raise KeyError(f"LF {self.name!r}: the template reads column {missing[0]!r}, which the data lacks "
                           f"(columns: {short_repr(list(map(str, df.columns)))}).")
        columns = [df[f].tolist() for f in self.fields]
        ok = np.ones(len(df), dtype=bool)
        prompts = []
        for i, values in enumerate(zip(*columns)):
            if any(v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
                   or (isinstance(v, str) and not v.strip()) for v in values):
                ok[i] = False  # nothing to ask about: abstain without a call
                continue
            prompts.append(self.prompt(dict(zip(self.fields, values))))
        return ok, prompts

    def answers(self, df: pd.DataFrame) -> list[Answer | None]:
        """The model's answer for each row (from the cache where possible); ``None`` where it has none."""
        ok, prompts = self._prompts(df)
        runtime = self._runtime
        try:
            got, stats, errors = ask(self.backend, prompts, cache=runtime.cache, budget=runtime.budget,
                                     progress=runtime.progress)
        except BudgetExceeded as exc:
            runtime.stats += getattr(exc, "stats", CallStats())
            raise
        runtime.stats += stats
        if errors:
            raise PromptCallError(
                f"LF {self.name!r}: {stats.failed:,} of {stats.prompts - stats.cached:,} calls to "
                f"{self.backend.describe()} failed after retries (first: {errors[0]}). The {stats.calls:,} answers "
                "received are cached: run again to ask only the rest, or pass fault_tolerant=True to abstain there."
            )
        out: list[Answer | None] = [None] * len(df)
        it = iter(got)
        for i in np.flatnonzero(ok):
            out[i] = next(it)
        return out

    def votes(self, df: pd.DataFrame) -> np.ndarray:
        votes = self._abstain(len(df))
        unparseable = 0
        for i, answer in enumerate(self.answers(df)):
            if answer is None:
                continue
            vote, _, found = self.decide(answer)
            if found is None and _norm(answer.text).strip(_EDGE) not in self.abstain_words:
                unparseable += 1
                if len(self._runtime.unparseable) < _SHOWN and answer.text not in self._runtime.unparseable:
                    self._runtime.unparseable.append(answer.text)
            votes[i] = vote
        self._runtime.stats.unparseable += unparseable
        return votes

    def scores(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities per row (rows x classes, in class order); NaN where there is no answer.

        An answer without scores counts as probability 1 for the class it names. For the label model
        and for review; the votes are these thresholded.
        """
        out = np.full((len(df), len(self.classes)), np.nan)
        order = list(self.classes)
        for i, answer in enumerate(self.answers(df)):
            if answer is None:
                continue
            p = self.probabilities(answer)
            found = self.parse(answer.text)
            if p is not None:
                out[i] = p
            elif found is not None:
                out[i] = 0.0
                out[i, order.index(found)] = 1.0
        return out

    def answer(self, text: str, /, **columns: Any) -> dict[str, Any]:
        """The model's answer on one row and what the LF made of it (also when it abstains)."""
        df = pd.DataFrame({self.column: [text], **{k: [v] for k, v in columns.items()}})
        got = self.answers(df)[0]
        if got is None:
            return {"answer": None, "vote": ABSTAIN, "probability": None, "cached": False}
        vote, prob, found = self.decide(got)
        return {"answer": got.text, "vote": vote, "class_read": found, "probability": prob, "cached": got.cached}

    def explain(self, text: str, /, **columns: Any) -> list[Span]:
        """The whole text with the model's answer (and its probability) when the LF votes; else ``[]``.

        A template over several fields needs the others as keywords (``explain(text, title=...)``);
        without them there is nothing to ask and the result is ``[]``.
        """
        if not isinstance(text, str) or not text.strip():
            return []
        if any(f not in columns for f in self.fields if f != self.column):
            return []
        got = self.answer(text, **columns)
        if got["vote"] == ABSTAIN:
            return []
        prob = "" if got["probability"] is None else f", p={got['probability']:.2f}"
        return [Span(0, len(text), f"{self.backend.model} answered {got['answer'][:60]!r}{prob}")]

    @property
    def info(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "label": None, "column": self.column,
                "template": self.template, "classes": {c: list(ws) for c, ws in self.classes.items()},
                "threshold": self.threshold, "n_few_shot": len(self.few_shot), "backend": self.backend.describe(),
                "group": self.group}

    def __repr__(self) -> str:
        return f"PromptLF({self.name!r}, backend={self.backend.describe()!r}, classes={sorted(self.classes)})"


def _check_classes(name: str, classes: Any) -> dict[int, tuple[str, ...]]:
    if not isinstance(classes, Mapping) or len(classes) < 1:
        raise ValueError(f"LF {name!r}: classes must map class ids to their verbalisers, e.g. "
                         f"{{0: ['ham'], 1: ['spam']}}; got {short_repr(classes)}.")
    out: dict[int, tuple[str, ...]] = {}
    seen: dict[str, int] = {}
    for c, words in classes.items():
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"LF {name!r}: class {c!r} is not a class id (an integer >= 0).")
        words = [words] if isinstance(words, str) else list(words)
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise ValueError(f"LF {name!r}: class {c} needs one or more non-empty verbalisers; got {short_repr(words)}.")
        for w in words:
            if _norm(w) in seen and seen[_norm(w)] != int(c):
                raise ValueError(f"LF {name!r}: verbaliser {w!r} is given for classes {seen[_norm(w)]} and {c}; "
                                 "each word may name one class only.")
            seen[_norm(w)] = int(c)
        out[int(c)] = tuple(w.strip() for w in words)
    return out


def prompt_lf(
    name: str, template: str, classes: Mapping[int, str | Sequence[str]], *, backend: Backend,
    few_shot: Sequence[tuple[Mapping[str, Any] | str, int]] = (), system: str | None = None,
    threshold: float = 0.5, abstain_words: Sequence[str] = ("unsure", "unknown", "none"),
    group: str | None = None, cache: ResponseCache | str | None | bool = None, budget: Budget | None = None,
    progress: bool = True, pre: Sequence[Preprocessor] | None = None,
) -> PromptLF:
    """An LF that asks a language model to classify each row and votes its answer.

    Parameters
    ----------
    name : str
        LF name.
    template : str
        The question, with row fields in braces: ``"Comment: {text}\\nIs this comment spam or ham?"``.
    classes : mapping of class id to str or list of str
        The verbalisers of each class: the words the model may answer with (``{0: ["ham", "not spam"],
        1: "spam"}``). The first word of a class is the one few-shot examples answer with.
    backend : sources.llm.Backend
        :class:`~sources.llm.OpenAIBackend` (any OpenAI-compatible endpoint) or
        :class:`~sources.llm.TransformersBackend` (a local model scoring the verbalisers).
    few_shot : sequence of (row or text, class id)
        Worked examples put before the question, each answered with its class's first verbaliser.
    system : str, optional
        The system message; by default ``"Answer with exactly one of: ham, spam."``; ``""`` sends none.
    threshold : float
        Least probability of the class read for a vote (else abstain). Scores come from the local
        backend, or from an endpoint's log-probabilities (``OpenAIBackend(logprobs=5)``); an answer
        without scores counts as probability 1.
    abstain_words : sequence of str
        Answers that mean "don't know": abstains, not counted as unparseable.
    group : str, optional
        Correlation group for the label model (default: backend kind and model); see :func:`lf_groups`.
    cache : ResponseCache, path, None or False
        The response cache (default: :func:`sources.llm.default_cache_path`); ``False`` caches nothing.
    budget : sources.llm.Budget, optional
        Call and token ceiling, shared by every LF given the same object.
    progress : bool
        Show a progress bar (with an estimate of the time left) while calls run.
    pre : sequence of Preprocessor, optional
        Vectorized preprocessors run first.

    Returns
    -------
    PromptLF

    Examples
    --------
    >>> from sources.llm import OpenAIBackend
    >>> backend = OpenAIBackend("llama3.1:8b", base_url="http://localhost:11434/v1")
    >>> lf = prompt_lf("llm_spam", "Comment: {text}\\nSpam or ham?", {0: "ham", 1: "spam"}, backend=backend)
    >>> lf.prompt({"text": "check out my channel"}).messages[-1]
    ('user', 'Comment: check out my channel\\nSpam or ham?')
    """
    if cache is None or cache is True:
        cache = ResponseCache()
    elif cache is False:
        cache = None
    elif not isinstance(cache, ResponseCache):
        cache = ResponseCache(cache)
    return PromptLF(name, template=template, classes=classes, backend=backend, few_shot=few_shot, system=system,
                    threshold=threshold, abstain_words=abstain_words, group=group, cache=cache, budget=budget,
                    progress=progress, pre=pre)


def lf_groups(lfs: Iterable[LabelingFunction]) -> list[str | None]:
    """One correlation group per LF, for ``LabelModel().fit(L, lf_groups=...)``.

    Prompted LFs asking the same model are not independent evidence: each carries a group (by default
    its backend kind and model). Other LFs get ``None`` (ungrouped).

    Examples
    --------
    >>> from rules import keyword_lf
    >>> lf_groups([keyword_lf("kw", "free", 1)])
    [None]
    """
    return [getattr(lf, "group", None) if isinstance(lf, PromptLF) else None for lf in lfs]


def _prompted(lfs: Iterable[LabelingFunction]) -> list[PromptLF]:
    return [lf for lf in lfs if isinstance(lf, PromptLF)]


def prompt_report(lfs: Iterable[LabelingFunction]) -> pd.DataFrame:
    """The end-of-run report of the prompted LFs among ``lfs``: one row per LF plus a total.

    Columns: ``backend``, ``group``, ``prompts``, ``cached``, ``calls``, ``failed``, ``not_asked``,
    ``unparseable``, ``tokens_in``, ``tokens_out``, ``seconds`` (counted since each LF's
    ``reset_stats()``, in this process) and ``unparseable_examples``: up to three answers that named no
    class, as ``repr`` strings (control characters escaped, safe to print).
    """
    rows = []
    for lf in _prompted(lfs):
        shown = "; ".join(repr(a[:60]) for a in lf._runtime.unparseable)
        rows.append({"lf": lf.name, "backend": lf.backend.describe(), "group": lf.group, **lf.stats.as_dict(),
                     "unparseable_examples": shown})
    text = ["lf", "backend", "group"]
    table = pd.DataFrame(rows, columns=[*text, *CallStats().as_dict(), "unparseable_examples"])
    if len(table):
        total = table.drop(columns=[*text, "unparseable_examples"]).sum()
        table.loc[len(table)] = {"lf": "total", "backend": "", "group": "", **total.to_dict(), "unparseable_examples": ""}
    return table.set_index("lf")


def run_prompts(
    data: pd.DataFrame, lfs: Iterable[LabelingFunction], *, dry_run: bool = False, progress: bool = True,
) -> pd.DataFrame:
    """Ask every prompted LF's model about every row (or, with ``dry_run``, count what that would cost).

    A run fills the response cache, so a following ``apply_lfs`` makes no call; it stops cleanly at a
    budget (:class:`~sources.llm.BudgetExceeded`, with the answers so far cached). The dry run calls
    nothing and returns, per LF, the distinct prompts, how many are cached, the calls to make and
    their tokens in (exact for the local backend, else about four characters a token) and at most out.

    Returns
    -------
    DataFrame
        The dry run's plan, or :func:`prompt_report` of the run.
    """
    prompted = _prompted(lfs)
    if not prompted:
        raise ValueError("run_prompts: none of the LFs is a prompted LF (made with prompt_lf).")
    if dry_run:
        rows = []
        for lf in prompted:
            _, prompts = lf._prompts(lf.preprocess(data) if lf.pre else data)
            rows.append({"lf": lf.name, **plan(lf.backend, prompts, cache=lf.cache)})
        return pd.DataFrame(rows).set_index("lf")
    for lf in prompted:
        lf.reset_stats()
        old, lf._runtime.progress = lf._runtime.progress, progress
        try:
            lf.votes(lf.preprocess(data) if lf.pre else data)
        finally:
            lf._runtime.progress = old
    report = prompt_report(prompted)
    failed = int(report.loc["total", "failed"]) if "total" in report.index else 0
    if failed:
        warnings.warn(f"run_prompts: {failed} calls failed after retries; run again to ask only those.", stacklevel=2)
    return report


# -- rule files ---------------------------------------------------------------------------------

_RULE_KEYS = {"name", "prompt", "classes", "threshold", "few_shot", "system", "group", "backend", "abstain_words"}


def _backend_from(spec: Any, where: str) -> Backend:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: backend takes a mapping such as {{kind: openai, model: llama3.1:8b, "
                         f"base_url: http://localhost:11434/v1}}; got {short_repr(spec)}.")
    spec = dict(spec)
    kind = spec.pop("kind", "openai")
    if "api_key" in spec:
        raise ValueError(f"{where}: a rule file never holds an API key; name the environment variable that holds "
                         "it with api_key_env: (default OPENAI_API_KEY).")
    try:
        if kind == "openai":
            return OpenAIBackend(spec.pop("model"), **spec)
        if kind in ("transformers", "local"):
            return TransformersBackend(spec.pop("model"), **spec)
    except KeyError:
        raise ValueError(f"{where}: backend needs a model: name.") from None
    except TypeError as exc:
        raise ValueError(f"{where}: backend: {exc}.") from None
    raise ValueError(f"{where}: backend kind {short_repr(kind)} is not one of 'openai', 'transformers'.")


def prompt_from_rule(
    rule: Mapping[str, Any], *, where: str, to_label: Any, name: str, options: Mapping[str, Any] | None = None,
) -> PromptLF:
    """A :class:`PromptLF` from one ``prompt:`` entry of a rule file (see :func:`rules.rules_from_file`).

    ``to_label(word, where)`` maps a class name of the file to a class id. ``options`` holds
    ``prompt_lf`` arguments from the caller (``backend``, ``cache``, ``budget``, ``progress``); a
    ``backend`` there is used for entries without their own.
    """
    unknown = set(rule) - _RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} in a prompt rule; expected some of "
                         f"{sorted(_RULE_KEYS)}.")
    options = dict(options or {})
    if "backend" in rule:
        options["backend"] = _backend_from(rule["backend"], where)
    if options.get("backend") is None:
        raise ValueError(f"{where}: a prompt rule needs a backend: give it a backend: entry or pass "
                         "prompt_options={'backend': OpenAIBackend(...)} to rules_from_file.")
    classes = rule.get("classes")
    if not isinstance(classes, Mapping) or not classes:
        raise ValueError(f"{where}: classes maps each class name to its verbalisers, e.g. "
                         f"{{SPAM: [spam], HAM: [ham]}}; got {short_repr(classes)}.")
    by_id = {to_label(k, where): v for k, v in classes.items()}
    shots = []
    for i, shot in enumerate(rule.get("few_shot") or []):
        if not isinstance(shot, Mapping) or "label" not in shot or not ({"text", "row"} & set(shot)):
            raise ValueError(f"{where}, few_shot {i}: expected {{text: ..., label: ...}} or {{row: {{...}}, label: ...}}.")
        shots.append((shot.get("row") or shot["text"], to_label(shot["label"], f"{where}, few_shot {i}")))
    kwargs = {k: rule[k] for k in ("threshold", "system", "group", "abstain_words") if k in rule}
    try:
        return prompt_lf(str(rule.get("name") or name), rule["prompt"], by_id, few_shot=shots, **kwargs, **options)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: {exc}") from None
