"""One YAML loader for every YAML input (rule files, the pipeline config, guidelines), with limits.

YAML files are data written by people, sometimes by other people: ``yaml.safe_load`` already refuses
to build Python objects, but a 400-byte file of nested aliases (``&a [*b, *b, ...]``) stands for
billions of values. Parsing it is cheap (aliases are shared), yet anything that walks the value
(a ``repr`` in an error message, a copy, a validation loop) runs out of memory. :func:`load_yaml`
counts the value's size with aliases expanded *before* building it and refuses files past a size or
expansion limit; :func:`short_repr` is what error messages quote, never the whole value.
"""

from __future__ import annotations

import os
import reprlib
from pathlib import Path
from typing import Any

import yaml

from .fileio import decode_utf8

__all__ = ["YAMLLimitError", "load_yaml", "short_repr", "MAX_YAML_BYTES", "MAX_YAML_NODES"]

MAX_YAML_BYTES = 10 * 1024 * 1024
"""Largest YAML file read (10 MiB): rule files and configs are a few kilobytes."""

MAX_YAML_NODES = 1_000_000
"""Most values (scalars, lists, mappings) a document may hold once its aliases are expanded."""

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxdict = 6
_SHORT.maxlevel = 3


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, without walking the whole value.

    Error messages quote values from input files; a value may be huge (or, from YAML aliases,
    stand for billions of items), so only a prefix of it is ever formatted.

    Examples
    --------
    >>> short_repr(list(range(1000)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class YAMLLimitError(ValueError):
    """A YAML input is larger than the limits (file size, values after alias expansion)."""


def _expanded_size(root: yaml.Node, source: str, max_nodes: int) -> int:
    # Memoised by node identity: an alias is the same node object, so the graph is walked once
    # while the count is that of the fully expanded value.
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise YAMLLimitError(f"{source}: an alias refers to a value that contains it (a recursive alias).")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
                if total > max_nodes:
                    break
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > max_nodes:
                    break
        active.discard(key)
        if total > max_nodes:
            raise YAMLLimitError(
                f"{source}: the YAML document expands to more than {max_nodes:,} values (aliases such as "
                "*name repeat a value; nested ones multiply); refusing to load it."
            )
        sizes[key] = total
        return total

    return size(root)


def load_yaml(
    source: str | os.PathLike,
    *,
    text: str | None = None,
    max_bytes: int = MAX_YAML_BYTES,
    max_nodes: int = MAX_YAML_NODES,
) -> Any:
    """Parse a YAML file (or ``text``, named ``source`` in messages) safely and within limits.

    Parameters
    ----------
    source : path-like or str
        The file to read; with ``text`` given, only the name used in error messages.
    text : str, optional
        The YAML text, when it is already read.
    max_bytes : int
        Largest input accepted.
    max_nodes : int
        Most values the document may hold with its aliases expanded.

    Returns
    -------
    Any
        What ``yaml.safe_load`` returns (None for an empty document).

    Raises
    ------
    YAMLLimitError
        When the input is larger than ``max_bytes`` or expands past ``max_nodes`` values.
    ValueError
        When the input is not valid YAML or not UTF-8; the message names the source (and line).
    FileNotFoundError
        When the file does not exist.

    Examples
    --------
    >>> load_yaml("inline", text="rules: [{label: 1, keywords: [free]}]")
    {'rules': [{'label': 1, 'keywords': ['free']}]}
    """
    name = str(source)
    if text is None:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"YAML file {path} does not exist.")
        size = path.stat().st_size
        if size > max_bytes:
            raise YAMLLimitError(f"{name}: {size:,} bytes is more than the {max_bytes:,} a YAML input may have.")
        raw = path.read_bytes()
        text = decode_utf8(raw, name)
    elif len(text) > max_bytes:
        raise YAMLLimitError(f"{name}: {len(text):,} characters is more than the {max_bytes:,} a YAML input may have.")
    loader = yaml.SafeLoader(text)  # safe: a YAML input never constructs Python objects
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ValueError(_yaml_error(name, exc)) from None
        if node is None:
            return None
        _expanded_size(node, name, max_nodes)
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise ValueError(_yaml_error(name, exc)) from None
    finally:
        loader.dispose()


def _yaml_error(name: str, exc: yaml.YAMLError) -> str:
    """One line: the file, the line and column of the problem, what it is."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = " ".join(str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p)
    return f"{name}{where}: not valid YAML ({what or exc})."
