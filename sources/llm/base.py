"""What every model backend shares: a prompt, an answer, the backend interface, budgets and their errors."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

__all__ = [
    "Prompt",
    "Answer",
    "Backend",
    "Budget",
    "BudgetExceeded",
    "PromptCallError",
    "estimate_tokens",
]

_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Prompt:
    """One question to a model: chat messages and the words it may answer with.

    Attributes
    ----------
    messages : tuple of (role, content)
        ``role`` is ``"system"``, ``"user"`` or ``"assistant"`` (few-shot answers); the last message is
        the user's question.
    verbalisers : tuple of str
        Every word any class may be answered with, in class order. A chat endpoint is not sent them
        (they are in the prompt text the user wrote); a scoring backend scores each of them.
    """

    messages: tuple[tuple[str, str], ...]
    verbalisers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for i, item in enumerate(self.messages):
            if not (isinstance(item, tuple) and len(item) == 2 and item[0] in _ROLES and isinstance(item[1], str)):
                raise ValueError(f"Prompt message {i} is {item!r:.80}; expected (role, text) with role in {_ROLES}.")
        if not self.messages or self.messages[-1][0] != "user":
            raise ValueError("A prompt's last message must be the user's question (role 'user').")

    def as_text(self) -> str:
        """The prompt as one plain text: few-shot answers follow their question after a space."""
        parts: list[str] = []
        for role, content in self.messages:
            if role == "assistant" and parts:
                parts[-1] = f"{parts[-1]} {content}"
            else:
                parts.append(content)
        return "\n\n".join(parts)

    def chat(self) -> list[dict[str, str]]:
        """The messages in the chat-completions format."""
        return [{"role": role, "content": content} for role, content in self.messages]


@dataclass
class Answer:
    """A model's answer to one prompt, as cached.

    Attributes
    ----------
    text : str
        What the model said (for a scoring backend: the best verbaliser).
    scores : dict of str to float, optional
        Log-probabilities: of each verbaliser (``score_kind="verbaliser"``) or of the most likely first
        tokens of the answer (``score_kind="first_token"``); ``None`` when the backend gave none.
    score_kind : str
        ``"verbaliser"``, ``"first_token"`` or ``"none"``.
    tokens_in, tokens_out : int
        Tokens the call read and wrote (as the backend counted them).
    """

    text: str
    scores: dict[str, float] | None = None
    score_kind: str = "none"
    tokens_in: int = 0
    tokens_out: int = 0
    cached: bool = field(default=False, compare=False)


def estimate_tokens(text: str) -> int:
    """A rough token count (four characters a token, English text) where no tokenizer is at hand."""
    return max(1, (len(text) + 3) // 4)


class Backend:
    """The interface between prompted LFs and a model.

    A backend answers a batch of prompts (:meth:`ask_batch`). ``batch_size`` prompts go in one call
    and ``concurrency`` calls run at once: an HTTP endpoint takes one prompt a call and many calls
    at once, a local model a batch a forward pass and one pass at a time. :meth:`cache_key` names
    everything that decides an answer, so that the response cache never serves an answer to a
    different question.
    """

    # The LF cache hashes a backend by type: what decides answers is in a prompted LF's cache_key
    # (kind, model, params), not in the client or the loaded weights a backend holds.
    __votewise_process_state__ = True

    kind: str = "backend"
    model: str = ""
    batch_size: int = 1
    concurrency: int = 1

    def params(self) -> dict[str, Any]:
        """The request parameters that change answers (temperature, max tokens...), for the cache key."""
        return {}

    def uses_verbalisers(self) -> bool:
        """Whether the verbalisers are part of the question (a scoring backend) or only of its text."""
        return False

    def cache_key(self, prompt: Prompt) -> bytes:
        """The response-cache key of ``prompt``: backend kind, model, parameters and prompt text."""
        parts = [self.kind, self.model, self.params(), prompt.messages]
        if self.uses_verbalisers():
            parts.append(prompt.verbalisers)
        raw = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=20).digest()

    def count_tokens(self, prompt: Prompt) -> tuple[int, int]:
        """Tokens one call on ``prompt`` would read and at most write (an estimate unless overridden)."""
        return estimate_tokens(prompt.as_text()), 1

    def ask_batch(self, prompts: Sequence[Prompt]) -> list[Answer]:  # pragma: no cover - abstract
        """Answer each prompt; raise on a failed call (the runner counts it and abstains)."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short name for messages and reports, e.g. ``openai:llama3.1@http://localhost:8000/v1``."""
        return f"{self.kind}:{self.model}"

    @property
    def group(self) -> str:
        """The default correlation group of LFs asking this backend: backend kind and model."""
        return f"{self.kind}:{self.model}"


class BudgetExceeded(RuntimeError):
    """A run reached its call or token budget: the answers so far are cached; re-run with a larger one."""


class PromptCallError(RuntimeError):
    """Calls to a model failed after their retries (the answers that came back are cached)."""


class Budget:
    """A ceiling on calls and tokens, shared by every prompted LF that is given it.

    Calls are refused once ``max_calls`` have been made or ``max_tokens`` (read + written) used; calls
    already running finish and are counted, so the tokens used may pass ``max_tokens`` by what those
    calls use. Thread-safe.

    Parameters
    ----------
    max_calls : int, optional
        Most calls to the model (cached answers are free).
    max_tokens : int, optional
        Most tokens read and written together.
    """

    def __init__(self, *, max_calls: int | None = None, max_tokens: int | None = None) -> None:
        for name, value in (("max_calls", max_calls), ("max_tokens", max_tokens)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"Budget({name}={value!r}); expected an integer >= 0 or None.")
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.calls = 0
        self.tokens = 0
        self._lock = threading.Lock()

    def take_call(self) -> None:
        """Count one call about to be made, or raise :class:`BudgetExceeded` when none is left."""
        with self._lock:
            if self.max_calls is not None and self.calls >= self.max_calls:
                raise BudgetExceeded(f"the call budget of {self.max_calls:,} calls is spent")
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                raise BudgetExceeded(f"the token budget of {self.max_tokens:,} tokens is spent ({self.tokens:,} used)")
            self.calls += 1

    def add_tokens(self, n: int) -> None:
        with self._lock:
            self.tokens += int(n)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"Budget(max_calls={self.max_calls}, max_tokens={self.max_tokens}; "
                f"used {self.calls} calls, {self.tokens} tokens)")
