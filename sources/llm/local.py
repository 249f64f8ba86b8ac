"""A local causal language model (``transformers``) that scores the verbalisers instead of generating.

Each class word is scored by its log-probability after the prompt: the prompt followed by every
verbaliser is one sequence, all sequences of a batch go through the model in one forward pass, and
the log-probabilities of each verbaliser's tokens are summed. No free generation, so an answer can
never fall outside the verbalisers, and the scores are real probabilities to threshold.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

from ..pretrained import load_pretrained
from .base import Answer, Backend, Prompt

__all__ = ["TransformersBackend", "LOCAL_INSTALL_HINT"]

LOCAL_INSTALL_HINT = "pip install 'votewise[llm-local]'"


class TransformersBackend(Backend):
    """Score verbalisers with a local causal LM, batched, on CPU or GPU.

    Parameters
    ----------
    model : str or path
        A local model folder (or a name ``transformers`` finds in its local cache; nothing is
        downloaded when ``HF_HUB_OFFLINE=1``), or a loaded ``PreTrainedModel`` together with
        ``tokenizer``.
    tokenizer : str, path or tokenizer, optional
        Defaults to ``model``'s.
    batch_size : int
        Prompts per forward pass (each adds one sequence per verbaliser).
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or ``"auto"`` (a GPU when there is one).
    chat_template : bool
        Wrap the messages in the tokenizer's chat template (instruction-tuned models) instead of
        joining them as plain text.
    name : str, optional
        The model name in cache keys and reports, when ``model`` is an object (default: its
        ``name_or_path``).

    Examples
    --------
    >>> backend = TransformersBackend("path/to/Qwen2.5-0.5B-Instruct", chat_template=True)  # doctest: +SKIP
    """

    kind = "transformers"
    concurrency = 1  # one forward pass at a time: the batch is the parallelism

    def __init__(
        self, model: Any, *, tokenizer: Any = None, batch_size: int = 16, device: str = "cpu",
        chat_template: bool = False, name: str | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"TransformersBackend: batch_size={batch_size!r}; expected an integer >= 1.")
        self._model = None if isinstance(model, (str, os.PathLike)) else model
        self._tokenizer = None if tokenizer is None or isinstance(tokenizer, (str, os.PathLike)) else tokenizer
        self.model_source = str(model) if isinstance(model, (str, os.PathLike)) else None
        self.tokenizer_source = str(tokenizer) if isinstance(tokenizer, (str, os.PathLike)) else None
        if self._model is not None and self._tokenizer is None:
            raise ValueError("TransformersBackend: give tokenizer= with a loaded model.")
        self.model = name or self.model_source or str(getattr(model, "name_or_path", "") or type(model).__name__)
        self.batch_size = batch_size
        self.device = device
        self.chat_template = bool(chat_template)
        self._lock = threading.Lock()

    def uses_verbalisers(self) -> bool:
        return True

    def params(self) -> dict[str, Any]:
        return {"chat_template": self.chat_template, "scoring": "verbaliser-logprob-sum"}

    def _load_tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                try:
                    from transformers import AutoTokenizer
                except ImportError as exc:
                    raise ImportError(f"TransformersBackend needs transformers: {LOCAL_INSTALL_HINT}") from exc
                self._tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_source or self.model_source)
            return self._tokenizer

    def _load(self) -> tuple[Any, Any]:
        tokenizer = self._load_tokenizer()
        with self._lock:
            if self._model is None:
                try:
                    from transformers import AutoModelForCausalLM
                except ImportError as exc:
                    raise ImportError(f"TransformersBackend needs transformers: {LOCAL_INSTALL_HINT}") from exc
                self._model = load_pretrained(AutoModelForCausalLM, self.model_source, what="the local model")
            if getattr(self._model, "training", False):
                self._model.eval()  # no dropout: scores are repeatable
            return self._model, tokenizer

    def _device(self) -> Any:
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def _text(self, tokenizer: Any, prompt: Prompt) -> str:
        if self.chat_template and getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(prompt.chat(), tokenize=False, add_generation_prompt=True)
        return prompt.as_text()

    def _encode(self, tokenizer: Any, prompt: Prompt) -> tuple[list[int], list[list[int]]]:
        """The prompt's token ids and each verbaliser's ids as they follow the prompt."""
        text = self._text(tokenizer, prompt)
        sep = "" if not text or text[-1].isspace() else " "
        head = tokenizer(text, add_special_tokens=True)["input_ids"]
        tails = []
        for word in prompt.verbalisers:
            # Tokenised together with the prompt, so the word gets the ids it has after a space there.
            full = tokenizer(text + sep + word, add_special_tokens=True)["input_ids"]
            if full[: len(head)] == head and len(full) > len(head):
                tails.append(full[len(head):])
            else:
                tails.append(tokenizer(sep + word, add_special_tokens=False)["input_ids"])
        return head, tails

    def count_tokens(self, prompt: Prompt) -> tuple[int, int]:
        tokenizer = self._load_tokenizer()  # a dry run needs no weights
        head, tails = self._encode(tokenizer, prompt)
        return len(head) + sum(len(t) for t in tails), 0

    def ask_batch(self, prompts: Sequence[Prompt]) -> list[Answer]:
        import torch

        model, tokenizer = self._load()
        device = self._device()
        if next(model.parameters()).device != device:
            model.to(device)
        limit = int(getattr(model.config, "max_position_embeddings", 0) or 0) or None
        seqs: list[list[int]] = []
        owners: list[tuple[int, int, int]] = []  # (prompt, verbaliser, length of the verbaliser)
        counts: list[int] = []
        for i, prompt in enumerate(prompts):
            if not prompt.verbalisers:
                raise ValueError("TransformersBackend scores verbalisers; this prompt has none.")
            head, tails = self._encode(tokenizer, prompt)
            counts.append(len(head) + sum(len(t) for t in tails))
            for v, tail in enumerate(tails):
                ids = head + tail
                if limit is not None and len(ids) > limit:
                    ids = ids[len(ids) - limit:]  # keep the end of the prompt: the question is there
                seqs.append(ids)
                owners.append((i, v, len(tail)))
        width = max(len(s) for s in seqs)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # Right padding: every real token keeps its position, and causal attention never sees the pads.
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[r, : len(s)] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logp = torch.log_softmax(logits, dim=-1)
        scores: list[dict[str, float]] = [{} for _ in prompts]
        for r, (i, v, n) in enumerate(owners):
            end = len(seqs[r])
            positions = torch.arange(end - n, end, device=logp.device)
            # The token at position t is predicted by the logits at t - 1.
            total = logp[r, positions - 1, ids[r, end - n : end].to(logp.device)].sum().item()
            word = prompts[i].verbalisers[v]
            scores[i][word] = max(scores[i].get(word, float("-inf")), float(total))
        answers = []
        for i, s in enumerate(scores):
            best = max(s, key=s.get)
            answers.append(Answer(best, s, "verbaliser", counts[i], 0))
        return answers

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_lock"]
        # What was loaded from a folder is loaded again by the worker; objects given by the caller travel.
        if self.model_source is not None:
            state["_model"] = None
        if self.tokenizer_source is not None or self.model_source is not None:
            state["_tokenizer"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TransformersBackend({self.model!r}, batch_size={self.batch_size}, device={self.device!r})"
