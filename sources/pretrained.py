"""Loading a saved ``transformers`` model folder without trusting it: safetensors, or only the tensors of a
pickled checkpoint, never code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["load_pretrained"]


def load_pretrained(cls: Any, path: str | Path, *, what: str) -> Any:
    """``cls.from_pretrained(path)`` from local files only, with an error naming the folder when it fails.

    A folder with ``model.safetensors`` is loaded from it and a pickled ``pytorch_model.bin`` is never
    unpickled then. A pickled checkpoint alone goes through torch's ``weights_only`` loader, which refuses
    anything but tensors: a checkpoint that carries code (a hostile file, or one saved with custom
    objects) is refused with a message that names the folder and says how to save it safely, rather than
    with torch's own trace.

    Parameters
    ----------
    cls : class with ``from_pretrained``
        E.g. ``transformers.AutoModelForCausalLM``.
    path : str or Path
        The saved folder (or, for a tokenizer, a model name already in the local cache).
    what : str
        What the folder holds, for the message (``"the back-translation model"``).

    Returns
    -------
    object
        What ``from_pretrained`` returns.
    """
    folder = Path(path)
    kwargs: dict[str, Any] = {"local_files_only": True}
    if folder.is_dir() and any(folder.glob("*.safetensors")):
        kwargs["use_safetensors"] = True
    try:
        return cls.from_pretrained(str(path), **kwargs)
    except (OSError, ValueError, RuntimeError, EnvironmentError) as exc:
        # transformers wraps torch's refusal of a pickled object (UnpicklingError) in OSError or RuntimeError.
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{what} {path}: cannot be loaded ({detail}). votewise loads only safetensors files or checkpoints "
            "of plain tensors: save the model with model.save_pretrained(path) (safetensors is the default)."
        ) from exc
    except Exception as exc:  # noqa: BLE001 - pickle.UnpicklingError and torch's own errors, named once
        if type(exc).__name__ in ("UnpicklingError", "WeightsUnpickler"):
            raise ValueError(
                f"{what} {path}: its checkpoint holds objects other than tensors, which votewise does not "
                "unpickle. Save the model with model.save_pretrained(path) (safetensors)."
            ) from exc
        raise
