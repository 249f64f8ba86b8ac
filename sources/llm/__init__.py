"""Language models as a source of votes: backends, the response cache and the call runner.

Two backends share one interface (:class:`Backend`): :class:`OpenAIBackend` talks to any
OpenAI-compatible chat-completions endpoint through the official ``openai`` client
(``pip install 'votewise[llm]'``); :class:`TransformersBackend` scores class words with a local causal
LM (``pip install 'votewise[llm-local]'``). Neither client is imported until a backend is used.
:func:`ask` answers prompts from a :class:`ResponseCache` first, then calls the model with bounded
concurrency under a :class:`Budget`; :func:`plan` is the dry run. The LF builder is
:func:`rules.prompt_lf`.
"""

from .base import Answer, Backend, Budget, BudgetExceeded, Prompt, PromptCallError, estimate_tokens
from .cache import ResponseCache, default_cache_path
from .local import LOCAL_INSTALL_HINT, TransformersBackend
from .loopback import LoopbackServer, Reply
from .openai_backend import INSTALL_HINT, OpenAIBackend
from .runner import CallStats, ask, plan

__all__ = [
    "Prompt",
    "Answer",
    "Backend",
    "OpenAIBackend",
    "TransformersBackend",
    "ResponseCache",
    "default_cache_path",
    "Budget",
    "BudgetExceeded",
    "PromptCallError",
    "CallStats",
    "ask",
    "plan",
    "estimate_tokens",
    "LoopbackServer",
    "Reply",
    "INSTALL_HINT",
    "LOCAL_INSTALL_HINT",
]
