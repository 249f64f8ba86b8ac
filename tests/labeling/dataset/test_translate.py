"""Back-translation through the real MarianMT loading and generation code, on a tiny random model.

No model can be downloaded, so the fixture trains a small SentencePiece vocabulary on the youtube
comments, builds a randomly initialised two-layer Marian model, and saves both with
``save_pretrained``: exactly the folder layout of a real ``opus-mt`` checkpoint.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tests.conftest import DATA
from labeling.dataset import MarianTranslator, Translator, as_translator, augment, back_translate
from labeling.dataset import sentence_bleu_scores

transformers = pytest.importorskip("transformers", reason="needs the translate extra: pip install 'votewise[translate]'")
spm = pytest.importorskip("sentencepiece")
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")


def _sentencepiece(texts):
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=proto, vocab_size=200, model_type="unigram",
        character_coverage=0.98, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2,
    )
    return proto


def _tiny_marian(folder, proto, seed):
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True)
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(proto.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    MarianTokenizer(
        vocab=str(folder / "vocab.json"), source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"),
    ).save_pretrained(folder)
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=128,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1,
    )
    MarianMTModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def comments(youtube):
    df = youtube.test.data.iloc[:24].copy()
    df["label"] = youtube.test.y[:24]
    return df


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # A model this small gains nothing from threads, and spinning threads crawl on a busy machine.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def marian_pair(tmp_path_factory, youtube):
    proto = _sentencepiece(youtube.train.data["text"].tolist()[:600])
    root = tmp_path_factory.mktemp("marian")
    return _tiny_marian(root / "en-xx", proto, 0), _tiny_marian(root / "xx-en", proto, 1)


def test_marian_translator_loads_and_generates(marian_pair, comments):
    fwd = MarianTranslator(marian_pair[0], batch_size=8, max_new_tokens=12)
    assert isinstance(fwd, Translator)
    out = fwd(comments["text"].tolist())
    assert len(out) == len(comments) and all(isinstance(t, str) for t in out)
    assert fwd.model_.config.d_model == 16  # the saved model, not a download
    assert fwd(comments["text"].tolist()) == out  # greedy decoding is deterministic
    # Batching changes nothing either.
    assert MarianTranslator(marian_pair[0], batch_size=5, max_new_tokens=12)(comments["text"].tolist()) == out
    # A folder path is a translator too.
    assert len(as_translator(marian_pair[0])(["check out my channel"])) == 1


def test_back_translation_augments_and_is_scored_by_bleu(marian_pair, comments):
    fwd = MarianTranslator(marian_pair[0], max_new_tokens=12)
    bwd = MarianTranslator(marian_pair[1], max_new_tokens=12)
    back = back_translate(comments["text"].tolist(), fwd, bwd)
    assert len(back) == len(comments)
    out = augment(comments, methods=["back_translation"], translator=(fwd, bwd))
    assert set(out["augmentation"]) <= {"back_translation"}
    assert out["source_id"].isin(comments.index).all()
    assert (out["label"].to_numpy() == comments.loc[out["source_id"], "label"].to_numpy()).all()
    # A random model paraphrases nothing: BLEU against the sources is near zero.
    scores = sentence_bleu_scores(back, comments["text"].tolist())
    assert scores.shape == (len(comments),) and np.all((scores >= 0) & (scores < 20))


def test_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a saved MarianMT model folder"):
        MarianTranslator(tmp_path)(["hello"])


def test_any_callable_is_a_translator(comments):
    upper = as_translator(lambda texts: [t.upper() for t in texts])
    assert upper(["ab"]) == ["AB"]
    assert back_translate(["Nice Song"], lambda ts: [t.lower() for t in ts], lambda ts: ts) == ["nice song"]
    with pytest.raises(ValueError, match="returned 0 items for 1 texts"):
        as_translator(lambda texts: [])(["x"])
    with pytest.raises(TypeError, match="Expected a translator"):
        as_translator(42)


def test_min_bleu_filters_back_translations(comments):
    # A "translator" pair that loses the last word of long texts and the first of short ones.
    fwd = lambda texts: texts  # noqa: E731
    bwd = lambda texts: [" ".join(t.split()[:-1]) if len(t.split()) > 6 else " ".join(t.split()[1:]) for t in texts]  # noqa: E731
    every = augment(comments, methods=["back_translation"], translator=(fwd, bwd))
    assert every["bleu"].between(0, 100).all()
    kept = augment(comments, methods=["back_translation"], translator=(fwd, bwd), min_bleu=50)
    assert 0 < len(kept) < len(every)
    assert (kept["bleu"] >= 50).all()
    assert set(kept.index) <= set(every.index)


def test_pipeline_back_translation_with_marian_folders(tmp_path, marian_pair, youtube):
    from labeling.app import build_from_config

    config = {
        "seed": 1, "progress": False, "output": str(tmp_path / "out"),
        "sources": [{"wrench": str(DATA / "youtube"), "splits": ["test"]}],
        "split": {"fractions": {"train": 0.5, "test": 0.5}},
        "augment": {"methods": ["back_translation"],
                    "back_translation": {"forward": str(marian_pair[0]), "backward": str(marian_pair[1]),
                                         "max_new_tokens": 8, "batch_size": 32}},
        "export": {"formats": ["jsonl"], "drop_uncovered": False},
    }
    result = build_from_config(config)
    info = result.counts["augment"]
    assert info["back_translation"] == info["added"] > 0
    assert 0 <= info["back_translation_mean_bleu"] < 20
    train = result.splits["train"]
    assert set(train.loc[train["augmentation"].notna(), "augmentation"]) == {"back_translation"}
