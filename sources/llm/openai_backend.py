"""Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, LM Studio, OpenAI)."""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

from .base import Answer, Backend, Prompt, estimate_tokens

__all__ = ["OpenAIBackend", "INSTALL_HINT"]

INSTALL_HINT = "pip install 'votewise[llm]'"


class OpenAIBackend(Backend):
    """Ask a chat-completions endpoint through the official ``openai`` client.

    The client does the retries: a 408, 409, 429 or 5xx answer or a dropped connection is retried
    ``max_retries`` times with exponential backoff (honouring the server's ``Retry-After``), and each
    attempt waits at most ``timeout`` seconds for the server. A call still failing after that counts as
    failed. The key is read from the environment variable ``api_key_env`` when the client is first
    needed, never stored in the LF, the cache or a file.

    Parameters
    ----------
    model : str
        The model name the endpoint serves (``"llama3.1:8b"`` on Ollama, the path on vLLM...).
    base_url : str, optional
        E.g. ``http://localhost:8000/v1`` (vLLM), ``http://localhost:11434/v1`` (Ollama); ``None`` is
        the client's default (``$OPENAI_BASE_URL``, else OpenAI itself).
    api_key_env : str
        The environment variable holding the key. Local servers take any key; when the variable is not
        set, ``"not-needed"`` is sent.
    temperature : float
        0 makes answers repeatable, which is what a cache keyed by prompt assumes.
    max_tokens : int
        Most tokens an answer may have (a class word needs few).
    logprobs : int
        When > 0, ask for the log-probabilities of this many most likely first tokens (vLLM and OpenAI
        give them): a prompted LF then has scores to threshold. 0 asks for none.
    concurrency : int
        Calls in flight at once.
    timeout : float
        Seconds an attempt may wait for the server before it is abandoned (and retried).
    max_retries : int
        Retries of a failed attempt.
    extra : dict, optional
        More request fields (``seed``, ``top_p``, ``stop``...), part of the cache key.

    Examples
    --------
    >>> backend = OpenAIBackend("llama3.1:8b", base_url="http://localhost:11434/v1")   # doctest: +SKIP
    """

    kind = "openai"

    def __init__(
        self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.0, max_tokens: int = 8, logprobs: int = 0, concurrency: int = 16,
        timeout: float = 60.0, max_retries: int = 4, extra: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError(f"OpenAIBackend: model={model!r}; expected the name the endpoint serves.")
        checks = (("max_tokens", max_tokens, 1), ("concurrency", concurrency, 1), ("max_retries", max_retries, 0),
                  ("logprobs", logprobs, 0))
        for name, value, low in checks:
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"OpenAIBackend: {name}={value!r}; expected an integer >= {low}.")
        if not float(timeout) > 0:
            raise ValueError(f"OpenAIBackend: timeout={timeout!r}; expected seconds > 0.")
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.logprobs = logprobs
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.extra = dict(extra or {})
        self._client: Any = None
        self._lock = threading.Lock()

    def params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "logprobs": self.logprobs,
                **self.extra}

    def describe(self) -> str:
        return f"openai:{self.model}" + (f"@{self.base_url}" if self.base_url else "")

    def count_tokens(self, prompt: Prompt) -> tuple[int, int]:
        # Each chat message costs a few tokens of framing on top of its text.
        return sum(estimate_tokens(c) + 4 for _, c in prompt.messages), self.max_tokens

    def client(self) -> Any:
        """The ``openai.OpenAI`` client, made on first use (one per process, shared by its threads)."""
        with self._lock:
            if self._client is None:
                try:
                    import openai
                except ImportError as exc:
                    raise ImportError(f"OpenAIBackend needs the openai client: {INSTALL_HINT}") from exc
                self._client = openai.OpenAI(
                    base_url=self.base_url, api_key=os.environ.get(self.api_key_env) or "not-needed",
                    timeout=self.timeout, max_retries=self.max_retries,
                )
            return self._client

    def ask_batch(self, prompts: Sequence[Prompt]) -> list[Answer]:
        return [self._ask(p) for p in prompts]

    def _ask(self, prompt: Prompt) -> Answer:
        request: dict[str, Any] = {"model": self.model, "messages": prompt.chat(), "temperature": self.temperature,
                                   "max_tokens": self.max_tokens, **self.extra}
        if self.logprobs:
            request.update(logprobs=True, top_logprobs=self.logprobs)
        response = self.client().chat.completions.create(**request)
        choices = getattr(response, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise ValueError(f"the endpoint's reply has no choices[0].message: {str(response)[:200]}")
        choice = choices[0]
        text = choice.message.content or ""
        scores, kind = None, "none"
        tokens = getattr(getattr(choice, "logprobs", None), "content", None)
        if tokens:
            # The first answer token's alternatives, the distribution over how the answer starts.
            top = tokens[0].top_logprobs or []
            scores = {t.token: float(t.logprob) for t in top} or {tokens[0].token: float(tokens[0].logprob)}
            kind = "first_token"
        usage = getattr(response, "usage", None)
        t_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        t_out = int(getattr(usage, "completion_tokens", 0) or 0)
        return Answer(text, scores, kind, t_in, t_out)

    def __getstate__(self) -> dict:
        # The client holds connections (and the key): a worker process makes its own.
        state = dict(self.__dict__)
        state["_client"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.model!r}, base_url={self.base_url!r}, concurrency={self.concurrency})"
