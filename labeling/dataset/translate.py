"""Translators for back-translation: any callable on a list of texts, or MarianMT models from a local folder.

A translator is a callable ``texts -> translated texts`` (same length, same order). MarianMT models
(``transformers``, in the ``translate`` extra) are loaded only from a local folder, never downloaded:
save one with ``save_pretrained`` (or copy a downloaded ``Helsinki-NLP/opus-mt-*`` folder) first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from tqdm.auto import tqdm

from sources.pretrained import load_pretrained

__all__ = ["Translator", "MarianTranslator", "as_translator", "back_translate"]

_INSTALL_HINT = "pip install 'votewise[translate]'"


@runtime_checkable
class Translator(Protocol):
    """Anything that translates a list of texts into a list of texts of the same length."""

    def __call__(self, texts: Sequence[str]) -> list[str]: ...


class MarianTranslator:
    """A Hugging Face MarianMT model and its tokenizer, loaded from a local folder.

    Parameters
    ----------
    path : str or path-like
        Folder written by ``MarianMTModel.save_pretrained`` and ``MarianTokenizer.save_pretrained``
        (``config.json``, weights, ``source.spm``, ``target.spm``, ``vocab.json``).
    batch_size : int
        Texts per generation batch.
    max_new_tokens : int
        Longest translation, in tokens.
    num_beams : int
        Beam width (1 = greedy decoding, deterministic and fastest).
    device : str
        Torch device, e.g. ``"cpu"`` or ``"cuda"``.
    progress : bool
        Show a progress bar over batches.

    Examples
    --------
    >>> en_de = MarianTranslator("models/opus-mt-en-de")  # doctest: +SKIP
    >>> en_de(["Check out my channel"])  # doctest: +SKIP
    ['Schau dir meinen Kanal an']
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        batch_size: int = 16,
        max_new_tokens: int = 128,
        num_beams: int = 1,
        device: str = "cpu",
        progress: bool = False,
    ):
        self.path = path
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.device = device
        self.progress = progress

    def load(self) -> "MarianTranslator":
        """Load the model and tokenizer (done on first use); returns self."""
        if getattr(self, "model_", None) is not None:
            return self
        try:
            from transformers import MarianMTModel, MarianTokenizer
        except ImportError as exc:
            raise ImportError(f"MarianTranslator needs transformers and sentencepiece: {_INSTALL_HINT}") from exc
        path = Path(self.path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"{path} is not a saved MarianMT model folder (no config.json). Save one with "
                "model.save_pretrained(path) and tokenizer.save_pretrained(path); nothing is downloaded."
            )
        if self.batch_size < 1 or self.max_new_tokens < 1 or self.num_beams < 1:
            raise ValueError(
                f"batch_size={self.batch_size}, max_new_tokens={self.max_new_tokens} and "
                f"num_beams={self.num_beams} must all be >= 1."
            )
        self.tokenizer_ = load_pretrained(MarianTokenizer, path, what="the translation model's tokenizer in")
        self.model_ = load_pretrained(MarianMTModel, path, what="the translation model in").to(self.device).eval()
        return self

    def __call__(self, texts: Sequence[str]) -> list[str]:
        import torch

        self.load()
        texts = [str(t) for t in texts]
        # Long inputs are cut to what the model's position embeddings can hold.
        max_len = min(self.tokenizer_.model_max_length, self.model_.config.max_position_embeddings)
        out: list[str] = []
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="translate", disable=not self.progress, unit="batch"):
            batch = self.tokenizer_(
                texts[start : start + self.batch_size], return_tensors="pt", padding=True, truncation=True,
                max_length=max_len,
            ).to(self.device)
            with torch.inference_mode():
                generated = self.model_.generate(
                    **batch, max_new_tokens=self.max_new_tokens, num_beams=self.num_beams, do_sample=False
                )
            out.extend(self.tokenizer_.batch_decode(generated, skip_special_tokens=True))
        return out

    def __repr__(self) -> str:
        return f"MarianTranslator({str(self.path)!r})"


def as_translator(obj: Any) -> Callable[[Sequence[str]], list[str]]:
    """A translator from a callable, or a :class:`MarianTranslator` from a model folder path.

    The result checks that each call returns one string per input text.
    """
    if isinstance(obj, (str, os.PathLike)):
        fn: Callable = MarianTranslator(obj)
    elif callable(obj):
        fn = obj
    else:
        raise TypeError(
            f"Expected a translator: a callable on a list of texts or a MarianMT model folder; got {type(obj).__name__}."
        )

    def checked(texts: Sequence[str]) -> list[str]:
        texts = list(texts)
        result = list(fn(texts))
        if len(result) != len(texts) or not all(isinstance(t, str) for t in result):
            raise ValueError(
                f"Translator {fn!r} returned {len(result)} items for {len(texts)} texts; "
                "it must return one string per input text, in order."
            )
        return result

    checked.translator = fn  # type: ignore[attr-defined]
    return checked


def back_translate(texts: Sequence[str], forward: Any, backward: Any) -> list[str]:
    """Translate texts to a pivot language and back, giving paraphrases.

    Parameters
    ----------
    texts : sequence of str
        Source texts.
    forward, backward
        Translators (callables or MarianMT model folders): source -> pivot and pivot -> source.

    Examples
    --------
    >>> upper = lambda texts: [t.upper() for t in texts]
    >>> back_translate(["Hello world"], upper, lambda texts: [t.title() for t in texts])
    ['Hello World']
    """
    return as_translator(backward)(as_translator(forward)(texts))
