"""Loading labeling functions from a user's Python file."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path

from .lf import LabelingFunction, check_unique_names

__all__ = ["load_lfs", "LFFileError"]


class LFFileError(TypeError, ValueError):
    """An LF file that defines something other than labeling functions; names the file.

    Both a ``TypeError`` (what it is) and a ``ValueError`` (what callers that check their inputs catch).
    """


def load_lfs(path: str | os.PathLike) -> list[LabelingFunction]:
    """Import a Python file and return its labeling functions.

    The file's ``lfs`` list is used when it defines one; otherwise every
    :class:`LabelingFunction` defined at its top level, in definition order.
    The file's folder is put on ``sys.path`` while importing, so it can import
    its neighbours (e.g. a shared ``resources.py``).

    Parameters
    ----------
    path : path-like
        A ``.py`` file.

    Returns
    -------
    list of LabelingFunction
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"LF file {path} does not exist.")
    if path.suffix != ".py":
        raise LFFileError(f"LF file {path} is not a Python file (.py); labeling functions are Python code.")
    # A name unique per file, so two projects' lfs.py files never shadow each other in sys.modules.
    mod_name = f"_votewise_lfs_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot import {path} as a Python module.")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    # Neighbours imported by an earlier load (helpers.py, cfg.py) are imported afresh: a long-lived
    # process (a notebook, a watch loop) must see their edits, and so must the cache fingerprint.
    for name, mod in list(sys.modules.items()):
        mod_file = getattr(mod, "__file__", None)
        if mod_file and name not in (mod_name, "__main__") and os.path.dirname(os.path.abspath(mod_file)) == folder:
            del sys.modules[name]
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(mod_name, None)
        raise ValueError(f"{exc.filename or path}, line {exc.lineno}: syntax error in the LF file: {exc.msg}.") from None
    except (Exception, SystemExit) as exc:
        # The LF file's own code raised (or called sys.exit, which would end the command with no
        # message) while it was imported: say which file and line, keep the cause.
        sys.modules.pop(mod_name, None)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path]
        where = f", line {frames[-1].lineno}" if frames else ""
        raise LFFileError(f"{path}{where}: importing the LF file raised {type(exc).__name__}: {exc}") from exc
    finally:
        if added:
            sys.path.remove(folder)
    if hasattr(module, "lfs"):
        try:
            lfs = list(module.lfs)
        except TypeError:
            raise LFFileError(
                f"{path}: `lfs` is a {type(module.lfs).__name__}, not a list of labeling functions."
            ) from None
        for i, lf in enumerate(lfs):
            if not isinstance(lf, LabelingFunction):
                raise LFFileError(
                    f"{path}: lfs[{i}] is a {type(lf).__name__}, not a LabelingFunction; decorate it with "
                    "@labeling_function()."
                )
    else:
        lfs = [v for v in vars(module).values() if isinstance(v, LabelingFunction)]
    if not lfs:
        raise ValueError(
            f"{path} defines no labeling functions; decorate functions with @labeling_function() "
            "or define a list named `lfs`."
        )
    check_unique_names(lfs)
    return lfs
