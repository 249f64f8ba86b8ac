"""A saved model folder is loaded without trusting it: a checkpoint carrying code is refused by name."""

from __future__ import annotations

import pickle

import pytest

transformers = pytest.importorskip("transformers", reason="needs the llm-local extra: pip install 'votewise[llm-local]'")
torch = pytest.importorskip("torch")

from sources.pretrained import load_pretrained  # noqa: E402


class _Payload:
    """Unpickling this would run code: it must never be unpickled."""

    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def _tiny_folder(tmp_path, *, safetensors: bool = True):
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=32, n_positions=16)
    model = transformers.GPT2LMHeadModel(config)
    folder = tmp_path / ("safe" if safetensors else "pickled")
    model.save_pretrained(folder, safe_serialization=safetensors)
    return folder


def test_a_safetensors_folder_loads(tmp_path):
    folder = _tiny_folder(tmp_path, safetensors=True)
    model = load_pretrained(transformers.AutoModelForCausalLM, folder, what="the local model")
    assert model.config.n_embd == 8


def test_a_checkpoint_carrying_code_is_refused_naming_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # A folder as an older transformers or a hostile source leaves it: a pickled checkpoint, no safetensors.
    folder = _tiny_folder(tmp_path, safetensors=True)
    for tensors in folder.glob("*.safetensors"):
        tensors.unlink()
    checkpoint = folder / "pytorch_model.bin"
    with open(checkpoint, "wb") as fh:
        pickle.dump({"transformer.wte.weight": _Payload()}, fh)
    with pytest.raises(ValueError, match=r"the local model .*safe: .*(cannot be loaded|other than tensors)"):
        load_pretrained(transformers.AutoModelForCausalLM, folder, what="the local model")
    assert not (tmp_path / "PWNED").exists()  # the payload never ran
