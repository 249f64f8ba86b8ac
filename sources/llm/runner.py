"""Asking a backend many prompts: cache first, then bounded concurrent calls under a budget, with progress."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from tqdm.auto import tqdm

from .base import Answer, Backend, Budget, BudgetExceeded, Prompt
from .cache import ResponseCache

__all__ = ["CallStats", "ask", "plan"]

# Below this many calls a progress bar would only flash.
_BAR_FROM = 20


@dataclass
class CallStats:
    """What asking a model cost: the numbers of the end-of-run report.

    Attributes
    ----------
    prompts : int
        Distinct prompts needed (identical rows and repeated prompts are asked once).
    cached : int
        Of those, answered from the response cache.
    calls : int
        Answered by the model in this run (each one now cached).
    failed : int
        Calls that failed after their retries (no answer; asked again next run).
    not_asked : int
        Prompts left unasked because a budget ran out.
    unparseable : int
        Answers that named no class (those rows abstain); counted by the prompted LF.
    tokens_in, tokens_out : int
        Tokens the calls of this run read and wrote (cached answers cost none).
    seconds : float
        Wall time spent asking.
    """

    prompts: int = 0
    cached: int = 0
    calls: int = 0
    failed: int = 0
    not_asked: int = 0
    unparseable: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0

    def __iadd__(self, other: "CallStats") -> "CallStats":
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _distinct(backend: Backend, prompts: Sequence[Prompt]) -> tuple[list[bytes], dict[bytes, Prompt]]:
    keys = [backend.cache_key(p) for p in prompts]
    first: dict[bytes, Prompt] = {}
    for key, prompt in zip(keys, prompts):
        first.setdefault(key, prompt)
    return keys, first


def plan(backend: Backend, prompts: Sequence[Prompt], *, cache: ResponseCache | None = None) -> dict[str, Any]:
    """What asking ``prompts`` would cost, without calling the model (the dry run).

    Returns
    -------
    dict
        ``prompts`` (distinct), ``cached``, ``calls`` (to make), ``tokens_in`` (of those calls; exact
        for a backend with a tokenizer, else about four characters a token) and ``tokens_out_max``
        (the most they may write).
    """
    keys, first = _distinct(backend, prompts)
    hits = cache.get_many(list(first)) if cache is not None else {}
    todo = [first[k] for k in first if k not in hits]
    counts = [backend.count_tokens(p) for p in todo]
    return {"backend": backend.describe(), "prompts": len(first), "cached": len(hits), "calls": len(todo),
            "tokens_in": sum(c[0] for c in counts), "tokens_out_max": sum(c[1] for c in counts)}


def ask(
    backend: Backend,
    prompts: Sequence[Prompt],
    *,
    cache: ResponseCache | None = None,
    budget: Budget | None = None,
    progress: bool = True,
) -> tuple[list[Answer | None], CallStats, list[str]]:
    """Answers to ``prompts`` (in order), from the cache where possible, else from ``backend``.

    Calls run ``backend.concurrency`` at a time, ``backend.batch_size`` prompts each; every answer is
    committed to ``cache`` as it arrives, so an interrupted run keeps it. A failed call (after the
    backend's own retries) leaves ``None`` for its prompts and an error message; the other calls go on.

    Returns
    -------
    answers : list of Answer or None
        One per prompt; ``None`` where the call failed.
    stats : CallStats
        Calls made, cached, failed and tokens used.
    errors : list of str
        One message per failed call.

    Raises
    ------
    BudgetExceeded
        When ``budget`` ran out before every prompt was answered: the calls in flight finish and are
        cached first, so a re-run with a larger budget asks only the prompts left.
    """
    start = time.perf_counter()
    keys, first = _distinct(backend, prompts)
    found = cache.get_many(list(first)) if cache is not None else {}
    todo = [k for k in first if k not in found]
    stats = CallStats(prompts=len(first), cached=len(found))
    errors: list[str] = []
    stop: BudgetExceeded | None = None
    size = max(1, int(backend.batch_size))
    units = [todo[s : s + size] for s in range(0, len(todo), size)]
    bar = tqdm(total=len(todo), unit="call", disable=not progress or len(todo) < _BAR_FROM, leave=False,
               desc=f"{backend.describe()}: {len(todo):,} calls ({len(found):,} cached), {backend.concurrency} at once")
    pending: dict[Future, list[bytes]] = {}
    workers = max(1, int(backend.concurrency))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="votewise-llm")
    try:
        next_unit = 0
        while next_unit < len(units) or pending:
            # Keep the pool full but never queue more than it can run: a budget stop then leaves
            # nothing submitted that has not started.
            while stop is None and next_unit < len(units) and len(pending) < workers:
                unit = units[next_unit]
                try:
                    for _ in unit:
                        if budget is not None:
                            budget.take_call()
                except BudgetExceeded as exc:
                    stop = exc
                    break
                pending[pool.submit(backend.ask_batch, [first[k] for k in unit])] = unit
                next_unit += 1
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                unit = pending.pop(future)
                try:
                    answers = future.result()
                    if len(answers) != len(unit):
                        raise RuntimeError(f"the backend returned {len(answers)} answers for {len(unit)} prompts")
                except Exception as exc:  # a failed call: no answer, counted, asked again next run
                    stats.failed += len(unit)
                    errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                    bar.update(len(unit))
                    continue
                for key, answer in zip(unit, answers):
                    if cache is not None:
                        cache.put(key, backend.kind, answer)
                    found[key] = answer
                    stats.calls += 1
                    stats.tokens_in += answer.tokens_in
                    stats.tokens_out += answer.tokens_out
                    if budget is not None:
                        budget.add_tokens(answer.tokens_in + answer.tokens_out)
                bar.update(len(unit))
    finally:
        # Every submitted call has finished unless the loop was interrupted (Ctrl-C): then do not wait
        # for calls in flight; their answers are lost, every earlier one is cached.
        pool.shutdown(wait=False, cancel_futures=True)
        bar.close()
        stats.seconds = time.perf_counter() - start
    if stop is not None:
        stats.not_asked = sum(len(u) for u in units[next_unit:])
        error = BudgetExceeded(
            f"{backend.describe()}: {stop}. {stats.calls:,} answers of this run are cached and "
            f"{stats.not_asked:,} prompts were not asked; run again with a larger budget to ask only those."
        )
        error.stats = stats  # the report of the run so far
        raise error from None
    return [found.get(k) for k in keys], stats, errors
