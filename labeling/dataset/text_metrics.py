"""Metrics for text: n-gram perplexity (``nltk.lm``) and BLEU (sacrebleu, or nltk when it is absent)."""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

__all__ = ["tokenize", "fit_ngram_model", "perplexity", "bleu", "sentence_bleu_scores"]

# Han ideographs and kana are written without spaces: each character is a token (as sacrebleu's "zh"
# tokeniser does), otherwise a whole Chinese or Japanese sentence would be one token.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_SMOOTHING = ("laplace", "lidstone", "witten_bell", "kneser_ney", "mle")
_BACKENDS = ("auto", "sacrebleu", "nltk")


def tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks (no nltk data needed).

    Examples
    --------
    >>> tokenize("Check out my channel!")
    ['check', 'out', 'my', 'channel', '!']
    >>> tokenize("我喜欢这首歌 ok")
    ['我', '喜', '欢', '这', '首', '歌', 'ok']
    """
    return _TOKEN.findall(str(text).lower())


def fit_ngram_model(
    texts: Sequence[str], *, order: int = 3, smoothing: str = "laplace", gamma: float = 0.1, unk_cutoff: int = 1
) -> Any:
    """Fit an ``nltk.lm`` n-gram language model on texts.

    Parameters
    ----------
    texts : sequence of str
        Training texts, one sentence each (padded with ``<s>``/``</s>``).
    order : int
        n of the n-grams.
    smoothing : {"laplace", "lidstone", "witten_bell", "kneser_ney", "mle"}
        ``"mle"`` gives infinite perplexity to any unseen n-gram; ``"kneser_ney"`` is accurate but
        nltk scores it n-gram by n-gram in Python, far slower than the others, so it suits small
        evaluations only.
    gamma : float
        Additive constant of ``"lidstone"``.
    unk_cutoff : int
        Training words seen fewer times become ``<UNK>``. The interpolated models
        (``"witten_bell"``, ``"kneser_ney"``) give unseen words probability 0 (infinite perplexity)
        unless ``<UNK>`` has training counts, so use 2 or more with them.

    Returns
    -------
    nltk.lm.LanguageModel
    """
    from nltk.lm import MLE, KneserNeyInterpolated, Laplace, Lidstone, Vocabulary, WittenBellInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline

    if order < 1:
        raise ValueError(f"order={order} must be >= 1.")
    if smoothing not in _SMOOTHING:
        raise ValueError(f"smoothing={smoothing!r} is not one of {_SMOOTHING}.")
    sents = [tokenize(t) for t in texts]
    if not any(sents):
        raise ValueError("Cannot fit a language model: the training texts have no tokens.")
    if unk_cutoff < 1:
        raise ValueError(f"unk_cutoff={unk_cutoff} must be >= 1.")
    vocab = Vocabulary(unk_cutoff=unk_cutoff)
    model = {
        "laplace": lambda: Laplace(order, vocabulary=vocab),
        "lidstone": lambda: Lidstone(gamma, order, vocabulary=vocab),
        "witten_bell": lambda: WittenBellInterpolated(order, vocabulary=vocab),
        "kneser_ney": lambda: KneserNeyInterpolated(order, vocabulary=vocab),
        "mle": lambda: MLE(order, vocabulary=vocab),
    }[smoothing]()
    train, words = padded_everygram_pipeline(order, sents)
    model.fit(train, words)
    return model


def perplexity(
    texts: Sequence[str],
    *,
    train_texts: Sequence[str] | None = None,
    model: Any = None,
    order: int = 3,
    smoothing: str = "laplace",
    unk_cutoff: int = 1,
) -> float:
    """Perplexity of texts under an n-gram model trained on other texts.

    Lower is more predictable: use it to compare a split (or augmented rows) with the training
    text, e.g. to see that augmentation kept the language close to the source.

    Parameters
    ----------
    texts : sequence of str
        Texts to score.
    train_texts : sequence of str, optional
        Texts to fit the model on (with ``order`` and ``smoothing``).
    model : nltk.lm.LanguageModel, optional
        An already fitted model (from :func:`fit_ngram_model`), instead of ``train_texts``.
    order, smoothing, unk_cutoff
        As in :func:`fit_ngram_model`, used with ``train_texts``.

    Returns
    -------
    float
        ``2 ** cross-entropy`` over all padded n-grams of ``texts``.

    Examples
    --------
    >>> round(perplexity(["a b"], train_texts=["a b", "a c"], order=1), 3)  # 1 / sqrt(3/8 * 2/8)
    3.266
    """
    from nltk.lm.preprocessing import pad_both_ends
    from nltk.util import ngrams

    if (model is None) == (train_texts is None):
        raise ValueError("Give exactly one of train_texts= or model=.")
    if model is None:
        model = fit_ngram_model(train_texts, order=order, smoothing=smoothing, unk_cutoff=unk_cutoff)
    n = model.order
    grams = [g for t in texts for g in ngrams(pad_both_ends(tokenize(t), n=n), n)]
    if not grams:
        raise ValueError("The texts to score have no tokens.")
    return float(model.perplexity(grams))


def _references(hypotheses: Sequence[str], references: Sequence[Any]) -> list[list[str]]:
    if len(hypotheses) != len(references):
        raise ValueError(f"Got {len(hypotheses)} hypotheses but {len(references)} references; they must pair up.")
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if any(not r for r in refs):
        raise ValueError("Every hypothesis needs at least one reference.")
    return refs


def _backend(backend: str) -> str:
    if backend not in _BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {_BACKENDS}.")
    if backend == "nltk":
        return backend
    try:
        import sacrebleu  # noqa: F401
    except ImportError:
        if backend == "sacrebleu":
            raise ImportError("backend='sacrebleu' needs sacrebleu: pip install 'votewise[translate]'") from None
        return "nltk"
    return "sacrebleu"


def _sacre_tokenizer(hypotheses: Sequence[str], refs: list[list[str]]) -> str:
    """sacrebleu's standard "13a", or "zh" (one token per ideograph) when the texts hold Chinese or Japanese."""
    texts = list(hypotheses) + [x for r in refs for x in r if x is not None]
    return "zh" if any(_HAS_CJK.search(t) for t in texts) else "13a"


def bleu(
    hypotheses: Sequence[str], references: Sequence[str | Sequence[str]], *, backend: str = "auto"
) -> float:
    """Corpus BLEU (0-100) of generated texts against references.

    Parameters
    ----------
    hypotheses : sequence of str
        Generated texts (e.g. back-translations).
    references : sequence of str or of sequences of str
        One reference, or several, per hypothesis (e.g. the source texts).
    backend : {"auto", "sacrebleu", "nltk"}
        sacrebleu (standard ``13a`` tokenisation, ``zh`` for Chinese and Japanese text) when installed;
        nltk's ``corpus_bleu`` on :func:`tokenize` tokens otherwise (one token per ideograph or kana). The two tokenise differently, so compare scores from
        one backend only.

    Examples
    --------
    >>> round(bleu(["the cat sat on the mat"], ["the cat sat on the mat"]), 6)
    100.0
    """
    refs = _references(hypotheses, references)
    if _backend(backend) == "sacrebleu":
        import sacrebleu

        width = max(len(r) for r in refs)
        # sacrebleu wants one stream per reference position; a missing extra reference is None.
        streams = [[r[i] if i < len(r) else None for r in refs] for i in range(width)]
        return float(sacrebleu.corpus_bleu(list(hypotheses), streams, tokenize=_sacre_tokenizer(hypotheses, refs)).score)
    import warnings

    from nltk.translate.bleu_score import corpus_bleu

    with warnings.catch_warnings():
        # nltk warns when a higher-order n-gram never matches; the score is then 0, which is the answer.
        warnings.simplefilter("ignore", UserWarning)
        score = corpus_bleu([[tokenize(x) for x in r] for r in refs], [tokenize(h) for h in hypotheses])
    return float(score * 100)


def sentence_bleu_scores(
    hypotheses: Sequence[str], references: Sequence[str | Sequence[str]], *, backend: str = "auto"
) -> np.ndarray:
    """Smoothed sentence-level BLEU (0-100) per hypothesis, e.g. to filter back-translations.

    Examples
    --------
    >>> sentence_bleu_scores(["the cat sat on the mat", "bad"], ["the cat sat on the mat", "good"]).round(1).tolist()
    [100.0, 0.0]
    """
    refs = _references(hypotheses, references)
    if _backend(backend) == "sacrebleu":
        import sacrebleu

        tok = _sacre_tokenizer(hypotheses, refs)
        return np.array([sacrebleu.sentence_bleu(h, r, tokenize=tok).score for h, r in zip(hypotheses, refs)],
                        dtype=float)
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smooth = SmoothingFunction().method1
    return np.array(
        [
            100 * sentence_bleu([tokenize(x) for x in r], tokenize(h), smoothing_function=smooth)
            if tokenize(h) else 0.0
            for h, r in zip(hypotheses, refs)
        ],
        dtype=float,
    )
