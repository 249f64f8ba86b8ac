"""The local path: a tiny randomly initialised causal LM and tokenizer built here (nothing downloaded)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from labeling import ABSTAIN, apply_lfs  # noqa: E402
from rules import prompt_lf, run_prompts  # noqa: E402
from sources.llm import Prompt, TransformersBackend  # noqa: E402

TEMPLATE = "Comment: {text}\nIs this comment spam or ham?"
CLASSES = {0: ["ham", "not spam"], 1: ["spam"]}
# Loading transformers and building the model take longer than a unit test should.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(youtube):
    return youtube["test"].data.iloc[:60]


def build_tiny_lm(folder, texts) -> None:
    """Save a 2-layer GPT-2 with a word-level tokenizer over ``texts`` in ``folder``, like a real model folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = {"[UNK]": 0, "[PAD]": 1}
    splitter = pre_tokenizers.Whitespace()
    for text in list(texts) + [TEMPLATE, "Answer with exactly one of: ham, spam. not"]:
        for word, _ in splitter.pre_tokenize_str(text):
            words.setdefault(word, len(words))
    tok = Tokenizer(models.WordLevel(words, unk_token="[UNK]"))
    tok.pre_tokenizer = splitter
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(words), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                        pad_token_id=1, bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, youtube):
    folder = tmp_path_factory.mktemp("tiny-lm")
    build_tiny_lm(folder, youtube["test"].data["text"])
    return folder


def manual_logprob(backend, prompt: Prompt, word: str) -> float:
    """log p(word | prompt) from one unpadded forward pass over prompt + word."""
    model, tokenizer = backend._load()
    text = prompt.as_text()
    head = tokenizer(text)["input_ids"]
    full = tokenizer(text + " " + word)["input_ids"][-128:]
    n = len(full) - len(head)
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([full])).logits[0].float(), dim=-1)
    return float(sum(logp[t - 1, full[t]] for t in range(len(full) - n, len(full))))


def test_scores_are_verbaliser_log_probabilities(tiny_model, rows):
    backend = TransformersBackend(str(tiny_model), batch_size=8)
    lf = prompt_lf("local", TEMPLATE, CLASSES, backend=backend, cache=False, progress=False)
    prompts = [lf.prompt({"text": t}) for t in rows["text"].iloc[:5]]
    answers = backend.ask_batch(prompts)
    for prompt, answer in zip(prompts, answers):
        assert answer.score_kind == "verbaliser" and set(answer.scores) == {"ham", "not spam", "spam"}
        for word in ("ham", "not spam", "spam"):  # "not spam" is two tokens: their log-probabilities add up
            assert answer.scores[word] == pytest.approx(manual_logprob(backend, prompt, word), abs=1e-4)
        assert answer.text == max(answer.scores, key=answer.scores.get)


def test_batches_score_like_single_prompts(tiny_model, rows):
    prompts = [Prompt((("user", TEMPLATE.format(text=t)),), ("ham", "not spam", "spam")) for t in rows["text"]]
    one = TransformersBackend(str(tiny_model), batch_size=1).ask_batch(prompts[:12])
    many = TransformersBackend(str(tiny_model), batch_size=7).ask_batch(prompts[:12])
    for a, b in zip(one, many):
        assert a.text == b.text
        assert np.allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-4)


def test_thresholds_turn_scores_into_votes(tiny_model, rows, tmp_path):
    backend = TransformersBackend(str(tiny_model), batch_size=16)
    probe = prompt_lf("probe", TEMPLATE, CLASSES, backend=backend, cache=tmp_path / "a.sqlite", progress=False)
    p = probe.scores(rows)
    assert np.allclose(p.sum(axis=1), 1.0)
    # Class 0's probability gathers both of its verbalisers.
    answer = backend.ask_batch([probe.prompt({"text": rows["text"].iloc[0]})])[0]
    ham = np.logaddexp(answer.scores["ham"], answer.scores["not spam"])
    assert p[0, 0] == pytest.approx(1 / (1 + np.exp(answer.scores["spam"] - ham)), abs=1e-6)
    cut = float(np.median(p.max(axis=1)))
    lf = prompt_lf("local", TEMPLATE, CLASSES, backend=backend, threshold=cut, cache=tmp_path / "a.sqlite",
                   progress=False)
    L = apply_lfs(rows, [lf], progress=False)
    want = np.where(p.max(axis=1) >= cut, p.argmax(axis=1), ABSTAIN)
    assert np.array_equal(L.values[:, 0], want)
    assert 0 < (want == ABSTAIN).sum() < len(want)
    assert lf.stats.calls == 0 and lf.stats.cached == rows["text"].nunique()  # all from the response cache


def test_dry_run_counts_tokens_with_the_model_tokenizer(tiny_model, rows):
    backend = TransformersBackend(str(tiny_model))
    lf = prompt_lf("local", TEMPLATE, CLASSES, backend=backend, cache=False, progress=False,
                   few_shot=[("subscribe to my channel", 1), ("great song", 0)])
    plan = run_prompts(rows, [lf], dry_run=True)
    _, tokenizer = backend._load()
    prompts = [lf.prompt({"text": t}) for t in rows["text"].unique()]
    # Few-shot answers follow their question.
    assert "Comment: great song\nIs this comment spam or ham? ham\n\nComment: " in prompts[0].as_text()
    exact = sum(len(tokenizer(p.as_text())["input_ids"]) + 4 for p in prompts)  # ham, not spam (2), spam
    assert plan.loc["local", "tokens_in"] == exact and plan.loc["local", "calls"] == len(prompts)
    assert plan.loc["local", "tokens_out_max"] == 0


def test_long_prompts_keep_their_end(tiny_model):
    backend = TransformersBackend(str(tiny_model))
    long = Prompt((("user", "song " * 400 + "Is this comment spam or ham?"),), ("ham", "spam"))
    (answer,) = backend.ask_batch([long])
    assert all(np.isfinite(v) for v in answer.scores.values())


def test_a_missing_model_folder_names_it(tmp_path):
    backend = TransformersBackend(str(tmp_path / "no-such-model"))
    with pytest.raises(Exception, match="no-such-model"):
        backend.ask_batch([Prompt((("user", "x"),), ("a", "b"))])


def test_a_pickled_backend_reloads_from_its_folder(tiny_model, rows):
    import pickle

    backend = TransformersBackend(str(tiny_model))
    prompt = Prompt((("user", TEMPLATE.format(text=rows["text"].iloc[0])),), ("ham", "spam"))
    (before,) = backend.ask_batch([prompt])
    clone = pickle.loads(pickle.dumps(backend))
    assert clone._model is None and clone._tokenizer is None
    (after,) = clone.ask_batch([prompt])
    assert after.scores == pytest.approx(before.scores, abs=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_gpu_scores_match_cpu_scores(tiny_model, rows):
    prompts = [Prompt((("user", TEMPLATE.format(text=t)),), ("ham", "not spam", "spam")) for t in rows["text"][:16]]
    cpu = TransformersBackend(str(tiny_model), batch_size=8).ask_batch(prompts)
    gpu = TransformersBackend(str(tiny_model), batch_size=8, device="cuda").ask_batch(prompts)
    for a, b in zip(cpu, gpu):
        assert np.allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-3)
