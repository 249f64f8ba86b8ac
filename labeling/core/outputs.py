"""The output guard: every writer of votewise (API and CLI) checks its outputs here before any work.

One check, :func:`check_outputs`, refuses an output path that *is* an input (or the review store),
*contains* one (an output folder holding the data it reads) or *sits inside* one (a file written
into an input folder), and an output given twice, naming both paths. Three writers finish the job:

- :func:`atomic_write` writes a file under a unique temporary name beside it and renames it into
  place only when complete (``os.replace``), so a killed run never leaves a half-written file under
  the real name;
- :func:`output_lock` holds a lock file beside an output for as long as a run writes it (with the
  ``filelock`` package), so two runs into the same file are refused instead of mixing their rows;
- :func:`replace_folder` builds an output folder under a temporary name and swaps it for the old one
  as a whole, so nothing of a previous build survives into the new one, and a failed build leaves the
  previous one untouched.

Paths are compared after resolving ``~``, ``..`` and symbolic links, and existing files also by
device and inode (a hard link is the same file under another name).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

__all__ = [
    "OutputError", "check_outputs", "atomic_write", "output_lock", "replace_folder", "BUILD_MARKER",
]

#: The file :func:`replace_folder` writes into every folder it builds: a folder holding it may be replaced.
BUILD_MARKER = ".votewise-output"
# A folder written before the marker existed is recognised by its datasheet.
_OLD_BUILD_FILES = ("DATASET.md",)
# SQLite keeps a store's recent writes in files beside it: writing over one of them loses labels too.
_STORE_SIDE_FILES = ("-wal", "-shm", "-journal")


class OutputError(ValueError):
    """An output path that would overwrite an input, the review store or another output."""


def _named(paths: Any, default: str) -> list[tuple[str, Path]]:
    """``[(what, path)]`` from a mapping ``{what: path or list of paths}``, an iterable of paths, or one path; None
    entries dropped."""
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    items = paths.items() if isinstance(paths, Mapping) else ((default, p) for p in paths)
    out = []
    for what, p in items:
        # One name may stand for several paths (a repeated flag such as --data a.csv b.csv).
        for q in p if isinstance(p, (list, tuple)) else [p]:
            if q is not None:
                out.append((what, Path(os.path.expanduser(os.fspath(q)))))
    return out


def _real(path: Path) -> Path:
    # realpath resolves symbolic links in every existing part and leaves the missing tail as written.
    return Path(os.path.realpath(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _relation(out: Path, inp: Path) -> str | None:
    """How ``out`` meets ``inp``: "is", "contains", "is inside", or None when they are apart."""
    ro, ri = _real(out), _real(inp)
    if ro == ri or _same_file(out, inp):
        return "is"
    if ro in ri.parents:
        return "contains"
    if ri in ro.parents:
        return "is inside"
    return None


def _describe(what: str, path: Path) -> str:
    return f"{what} {os.fspath(path)!r}" if what else repr(os.fspath(path))


def check_outputs(
    outputs: Any,
    inputs: Any = (),
    *,
    store: str | os.PathLike | None = None,
    folders: Any = (),
) -> None:
    """Refuse outputs that would overwrite an input, the review store or each other, before any work starts.

    Parameters
    ----------
    outputs : path, iterable of paths, or mapping of str to path
        Files a run will write; a mapping names each one for the message (``{"--labels-out": path}``).
    inputs : path, iterable of paths, or mapping of str to path
        Files and folders the run reads. An output may be none of them, may not contain one (an output
        folder replaced as a whole would delete it) and may not sit inside an input folder.
    store : path, optional
        The review store (SQLite) the run reads or writes: treated as an input, together with the
        ``-wal``/``-shm``/``-journal`` files SQLite keeps beside it.
    folders : path, iterable of paths, or mapping of str to path
        Output folders that the run replaces as a whole (``votewise build``): checked like ``outputs``, and
        also refused when the path is an existing file, or an existing folder with other content than a
        previous output of votewise (it would be deleted).

    Raises
    ------
    OutputError
        Naming the output, the input it meets and what to do instead.

    Examples
    --------
    >>> check_outputs({"--labels-out": "d.csv"}, {"--data": "d.csv"})
    Traceback (most recent call last):
    ...
    labeling.core.outputs.OutputError: --labels-out 'd.csv' is the input --data 'd.csv': writing it would destroy the input. Write to another path.
    """
    files = _named(outputs, "output")
    dirs = _named(folders, "output folder")
    reads = _named(inputs, "input")
    if store is not None:
        s = Path(os.path.expanduser(os.fspath(store)))
        reads.append(("the review store", s))
        reads.extend(("the review store's journal", s.with_name(s.name + side)) for side in _STORE_SIDE_FILES)
    writes = dirs + files
    for what, out in writes:
        for in_what, inp in reads:
            rel = _relation(out, inp)
            if rel is None:
                continue
            if rel == "is":
                detail = "writing it would destroy the input"
            elif rel == "contains":
                if (what, out) in files:
                    continue  # a file cannot hold an input; an output path that is a folder is refused by its writer
                detail = "the folder holds the input, and it is replaced as a whole"
            else:
                detail = "an output must not be written into an input folder"
            raise OutputError(
                f"{_describe(what, out)} {rel} the input {_describe(in_what, inp)}: {detail}. Write to another path."
            )
    for what, path in dirs:
        if path.is_file() or (path.exists() and not path.is_dir()):
            raise OutputError(
                f"{_describe(what, path)} exists and is a file, not a folder: the output is a folder of files. "
                "Give a folder path (a new one, or one written by an earlier build)."
            )
        if path.is_dir() and any(path.iterdir()) and not any((path / m).exists() for m in (BUILD_MARKER, *_OLD_BUILD_FILES)):
            raise OutputError(
                f"{_describe(what, path)} exists and holds files that no votewise build wrote; it is replaced as a "
                "whole, so they would be deleted. Give a new or empty folder (or delete this one yourself)."
            )
    for i, (what, out) in enumerate(writes):
        for other_what, other in writes[i + 1:]:
            if _relation(out, other) == "is":
                raise OutputError(
                    f"{_describe(what, out)} and {_describe(other_what, other)} are the same file; one would "
                    "overwrite the other. Give each output its own path."
                )


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_args: Any) -> Iterator[Any]:
    """Open a temporary file beside ``path`` for writing; rename it to ``path`` only if the block succeeds.

    The temporary name is unique per call (process id and a random part), so two writers never share
    one, and a killed run leaves at worst a hidden ``.name.*.tmp`` file, never a half-written ``path``.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "labels.csv"
    >>> with atomic_write(target) as fh:
    ...     _ = fh.write("id,label\\n")
    >>> target.read_text()
    'id,label\\n'
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        with open(tmp, mode, **open_args) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def temp_name(path: str | os.PathLike, tag: str = "tmp") -> Path:
    """A unique hidden name beside ``path`` for one run's temporary file or folder."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.{tag}")


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, *, what: str = "output") -> Iterator[None]:
    """Hold ``path + ".lock"`` while the block writes ``path``; refuse at once if another run holds it.

    The lock is an operating-system file lock (``filelock``): it is released when the process ends,
    even by SIGKILL, so a killed run never leaves a stale lock behind. The empty lock file itself stays
    beside the output.

    Raises
    ------
    OutputError
        When another run is writing ``path``.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    lock = FileLock(os.fspath(path.with_name(path.name + ".lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise OutputError(
            f"{what} {os.fspath(path)!r} is being written by another run right now (it holds "
            f"{path.name}.lock); wait for it to finish or write to another path."
        ) from None
    try:
        yield
    finally:
        # The lock file stays: deleting it on release would let a run waiting on the old file and a run
        # creating a new one both hold "the" lock.
        lock.release()


@contextlib.contextmanager
def replace_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Build an output folder under a temporary name; swap it for ``path`` as a whole when the block succeeds.

    Yields the folder to write into. On success the previous folder at ``path`` (if any) is moved aside,
    the new one renamed into place and the old one deleted: no file of an earlier output survives into
    the new one. If the block raises, the temporary folder is deleted and ``path`` is left as it was.
    Call :func:`check_outputs` with ``folders=`` first: it refuses a path that is a file or a folder
    holding anything but an earlier output.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = temp_name(final, "partial")
    staging.mkdir()
    try:
        (staging / BUILD_MARKER).write_text("written by votewise; this folder is replaced as a whole on the next run\n")
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = temp_name(final, "old") if final.exists() else None
    if old is not None:
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def relocated(value: Any, old: Path, new: Path) -> Any:
    """``value`` with every path under ``old`` moved under ``new`` (in dataclass fields, dicts and lists)."""
    import dataclasses

    if isinstance(value, Path):
        try:
            return new / value.relative_to(old)
        except ValueError:
            return value
    if isinstance(value, list):
        return [relocated(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: relocated(v, old, new) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            setattr(value, f.name, relocated(getattr(value, f.name), old, new))
    return value


