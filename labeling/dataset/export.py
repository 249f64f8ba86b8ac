"""Writing splits as JSONL, CSV, Parquet, a Hugging Face DatasetDict, or LLM fine-tuning layouts.

Rows follow the labelled-frame convention: index = row id, ``text``, ``label`` (class id, ``-1``
for none), optional ``prob_<class name>`` columns, ``confidence``, ``covered`` (some LF voted),
``label_source`` (``"label_model"`` or ``"human"``), and for augmented rows ``source_id`` and
``augmentation``.

Rows no LF voted on are left out by default (``drop_uncovered=True``): the label model can only give
them its class prior, which is no label. Human-reviewed rows are always kept.
"""

from __future__ import annotations

import json
import logging
import math
import os
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ._progress import progress_bar
from .datasheet import render_datasheet

__all__ = ["EXPORT_FORMATS", "ExportResult", "select_rows", "to_instruction", "to_chat", "export_dataset"]

logger = logging.getLogger("votewise.build")

# "alpaca" is the usual name of the instruction layout; both write the same records, each to its own folder.
EXPORT_FORMATS = ("jsonl", "csv", "parquet", "hf", "instruction", "alpaca", "chat")
_RECORD_FORMATS = ("instruction", "alpaca", "chat")
DEFAULT_INSTRUCTION = "Classify the text as one of: {labels}. Answer with the label only."
DEFAULT_PROMPT = "Classify the text as one of: {labels}. Answer with the label only.\n\nText: {text}"


@dataclass
class ExportResult:
    """What :func:`export_dataset` wrote.

    Attributes
    ----------
    paths : dict of str to list of Path
        Format -> files (or folders) written.
    counts : dict of str to int
        Rows exported per split.
    filtered : dict of str to int
        Rows left out per reason (``no_label``, ``uncovered``, ``low_confidence``, ``human_reviewed``),
        summed over splits; ``uncovered`` counts the rows no LF voted on (left out by default).
    datasheet : Path
        The ``DATASET.md`` file.
    """

    paths: dict[str, list[Path]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    filtered: dict[str, int] = field(default_factory=dict)
    datasheet: Path | None = None


def select_rows(
    df: pd.DataFrame,
    *,
    label_column: str = "label",
    min_confidence: float | None = None,
    drop_uncovered: bool = True,
    include_reviewed: bool = True,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep the rows fit for training: labelled, covered by some LF and, optionally, confident enough.

    Human-reviewed rows (``label_source == "human"``) pass the coverage and confidence filters:
    a person's label needs no LF vote. With ``include_reviewed=False`` they are left out.

    Parameters
    ----------
    df : DataFrame
        Labelled rows (see the module docstring for the columns).
    label_column : str
        Class ids; ``-1`` (or missing) is no label.
    min_confidence : float, optional
        Leave out label-model rows whose ``confidence`` is below this.
    drop_uncovered : bool
        Leave out label-model rows no LF voted on (``covered`` is false), default true: their label
        is only the class prior. ``False`` keeps them. Needs a boolean ``covered`` column.
    include_reviewed : bool
        Keep human-reviewed rows.

    Returns
    -------
    (DataFrame, dict)
        The kept rows and the number left out per reason.
    """
    if label_column not in df.columns:
        raise KeyError(f"No label column {label_column!r}; the columns are {list(map(str, df.columns))}.")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence={min_confidence!r} must be in [0, 1].")
    human = (df["label_source"] == "human").to_numpy() if "label_source" in df else np.zeros(len(df), bool)
    keep = np.ones(len(df), dtype=bool)
    filtered: dict[str, int] = {}

    def apply(mask: np.ndarray, reason: str) -> None:
        nonlocal keep
        hit = keep & mask
        filtered[reason] = int(hit.sum())
        keep &= ~mask

    apply(pd.to_numeric(df[label_column], errors="coerce").fillna(-1).to_numpy() < 0, "no_label")
    if not include_reviewed:
        apply(human, "human_reviewed")
    if drop_uncovered:
        if "covered" not in df:
            raise KeyError(
                "drop_uncovered=True (the default) needs a boolean 'covered' column telling the rows some LF "
                "voted on; add it with df['covered'] = labeling.covered_rows(L), or pass drop_uncovered=False "
                "to keep every labelled row."
            )
        apply(~df["covered"].astype(bool).to_numpy() & ~human, "uncovered")
    if min_confidence is not None:
        if "confidence" not in df:
            raise KeyError("min_confidence needs a 'confidence' column (the label model's top probability).")
        apply((df["confidence"].to_numpy(dtype=float) < min_confidence) & ~human, "low_confidence")
    return df.loc[keep], filtered


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _render(template: str, row: Mapping[str, Any], where: str) -> str:
    try:
        return template.format_map(row)
    except KeyError as exc:
        raise KeyError(
            f"{where} template {template!r} uses {{{exc.args[0]}}}, which is not a column; "
            f"available: {sorted(map(str, row))}."
        ) from None


def _metadata(rid: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    meta = {"id": str(rid)}
    for key in ("label_source", "confidence", "source_id", "augmentation", "reviewer"):
        value = row.get(key)
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            meta[key] = value.item() if hasattr(value, "item") else value
    return meta


def _records(df: pd.DataFrame, class_names: Sequence[str], text_column: str, label_column: str):
    labels = ", ".join(class_names)
    for rid, row in zip(df.index, df.to_dict(orient="records")):
        row = {**row, "labels": labels, "text": row[text_column], "id": rid}
        yield rid, row, class_names[int(row[label_column])]


def to_instruction(
    df: pd.DataFrame,
    *,
    class_names: Sequence[str],
    instruction: str = DEFAULT_INSTRUCTION,
    text_column: str = "text",
    label_column: str = "label",
    metadata: bool = False,
    ids: bool = True,
) -> list[dict[str, Any]]:
    """Instruction-tuning records ``{"id", "instruction", "input", "output"}`` (the Alpaca layout).

    ``instruction`` is a template: ``{labels}`` is the comma-separated class names and any column
    name (``{text}``, ...) is the row's value. ``output`` is the class name. ``id`` is the row id, so every
    record can be traced to its source row (``ids=False`` leaves it out).

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["win a prize"], "label": [1]}, index=["r1"])
    >>> to_instruction(df, class_names=["HAM", "SPAM"], instruction="Spam? ({labels})")
    [{'id': 'r1', 'instruction': 'Spam? (HAM, SPAM)', 'input': 'win a prize', 'output': 'SPAM'}]
    """
    out = []
    for rid, row, answer in _records(df, class_names, text_column, label_column):
        rec: dict[str, Any] = {"id": str(rid)} if ids else {}
        rec.update(instruction=_render(instruction, row, "instruction"), input=row["text"], output=answer)
        if metadata:
            rec["metadata"] = _metadata(rid, row)
        out.append(rec)
    return out


def to_chat(
    df: pd.DataFrame,
    *,
    class_names: Sequence[str],
    prompt_template: str = DEFAULT_PROMPT,
    system_prompt: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
    metadata: bool = False,
    ids: bool = True,
) -> list[dict[str, Any]]:
    """Chat fine-tuning records ``{"id", "messages": [system?, user, assistant]}``.

    The user message is ``prompt_template`` filled with ``{text}``, ``{labels}`` and any column;
    the assistant message is the class name; ``id`` is the row id (``ids=False`` leaves it out).

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["win a prize"], "label": [1]}, index=["r1"])
    >>> to_chat(df, class_names=["HAM", "SPAM"], prompt_template="{text}")[0]["messages"][1]
    {'role': 'assistant', 'content': 'SPAM'}
    """
    out = []
    for rid, row, answer in _records(df, class_names, text_column, label_column):
        messages = [] if system_prompt is None else [{"role": "system", "content": _render(system_prompt, row, "system")}]
        messages += [
            {"role": "user", "content": _render(prompt_template, row, "prompt")},
            {"role": "assistant", "content": answer},
        ]
        rec: dict[str, Any] = {"id": str(rid)} if ids else {}
        rec["messages"] = messages
        if metadata:
            rec["metadata"] = _metadata(rid, row)
        out.append(rec)
    return out


def _append_jsonl(records: Iterable[dict[str, Any]], fh: Any) -> None:
    # One encoder for every line: json.dumps with options builds a new encoder per call.
    # allow_nan=False: NaN and Infinity are not JSON; _json_safe has turned them into null.
    encode = json.JSONEncoder(ensure_ascii=False, default=_json_default, allow_nan=False).encode
    fh.write("".join(encode(_json_safe(rec)) + "\n" for rec in records))


# Rows turned into records at a time when writing JSONL: a whole split as dicts would take about a
# kilobyte a row (a gigabyte at a million rows) for a file written line by line anyway.
_CHUNK = 20_000


def _write_jsonl_chunks(df: pd.DataFrame, path: Path, records: Callable[[pd.DataFrame], list[dict[str, Any]]],
                        bar: Any) -> None:
    """Write ``records(part)`` for consecutive row chunks of ``df``: the same file as one call, in bounded memory."""
    with open(path, "w", encoding="utf-8") as fh:
        # Arrow-backed columns (text read from Parquet) yield their values one Python call each when a
        # chunk becomes records; as object columns they convert in one call.
        arrow = {c: object for c, t in df.dtypes.items() if isinstance(t, (pd.ArrowDtype, pd.StringDtype))}
        for lo in range(0, len(df), _CHUNK):
            part = df.iloc[lo:lo + _CHUNK]
            _append_jsonl(records(part.astype(arrow) if arrow else part), fh)
            bar.update(len(part))


_PLAIN = frozenset({str, int, bool, type(None)})


def _json_safe(value: Any) -> Any:
    """The value with missing numbers (NaN, None, pd.NA, NaT) and infinities as None, recursively."""
    kind = type(value)
    if kind in _PLAIN:  # nearly every value of a record: returned before any other check
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {k: v if type(v) in _PLAIN else _json_safe(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return "nested"
    return type(value).__name__


def _unify(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One schema for every split: the same columns in the same order, and one type per column.

    A column only some splits have (``source_id`` and ``augmentation`` exist in train only) is added, empty,
    to the others. An object column holding scalars of different kinds (numbers and strings) is turned
    into strings with a warning naming it; nested values mixed with scalars are refused, naming the
    column and a row, since no reader can type such a column.
    """
    columns: list[str] = []
    for frame in tables.values():
        columns += [c for c in frame.columns if c not in columns]
    out = {name: frame.reindex(columns=columns) for name, frame in tables.items()}
    for col in columns:
        kinds: dict[str, tuple[str, Any]] = {}
        for name, frame in out.items():
            series = frame[col]
            if series.dtype != object:
                # reindex gives an all-missing column to splits without it; that takes no part in the type.
                if not series.isna().all():
                    kinds.setdefault("number" if series.dtype.kind in "iuf" else series.dtype.kind, (name, None))
                continue
            inferred = pd.api.types.infer_dtype(series, skipna=True)
            fast = {"string": "str", "integer": "number", "floating": "number", "mixed-integer-float": "number",
                    "decimal": "number", "boolean": "bool"}
            if inferred == "empty":
                continue
            if inferred in fast:
                kinds.setdefault(fast[inferred], (name, None))
                continue
            # A mixed column: look at the values (only here, so a million plain strings cost one C call).
            for rid, value in zip(frame["id"] if "id" in frame else frame.index, series):
                if value is None or (isinstance(value, float) and np.isnan(value)):
                    continue
                kinds.setdefault(_kind(value), (name, rid))
        if len(kinds) <= 1:
            continue
        if "nested" in kinds:
            name, rid = kinds["nested"]
            raise ValueError(
                f"Column {col!r} mixes lists or mappings with other values (e.g. row {rid!r} of split {name!r}); "
                "Parquet, Hugging Face datasets and pyarrow need one type per column. Convert or drop the column."
            )
        logger.warning("export: column %r mixes %s values; written as strings so every format can read it.",
                       col, " and ".join(sorted(kinds)))
        for frame in out.values():
            frame[col] = frame[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                        else str(v)).astype(object)
    return out


def _arrow_schema(tables: Mapping[str, pd.DataFrame]):
    """The pyarrow schema of all splits together, so an empty split gets the same typed columns."""
    import pyarrow as pa

    both = pd.concat([t for t in tables.values() if len(t)] or list(tables.values())[:1], ignore_index=True)
    return pa.Table.from_pandas(both, preserve_index=False).schema


def _arrow_table(df: pd.DataFrame, schema):
    import pyarrow as pa

    return pa.Table.from_pandas(df.reset_index(drop=True), schema=schema, preserve_index=False)


def _tabular(df: pd.DataFrame, class_names: Sequence[str], label_column: str, keep_probs: bool) -> pd.DataFrame:
    out = df.copy()
    if not keep_probs:
        out = out.drop(columns=[c for c in out.columns if str(c).startswith("prob_")])
    if "label_name" not in out:
        out.insert(
            out.columns.get_loc(label_column) + 1, "label_name",
            [class_names[int(i)] for i in out[label_column]],
        )
    out.index = out.index.astype(str)
    out.index.name = "id"
    return out.reset_index()


def export_dataset(
    splits: Mapping[str, pd.DataFrame],
    out_dir: str | os.PathLike,
    *,
    class_names: Sequence[str],
    formats: Sequence[str] = ("jsonl",),
    text_column: str = "text",
    label_column: str = "label",
    min_confidence: float | None = None,
    drop_uncovered: bool = True,
    keep_probs: bool = False,
    include_reviewed: bool = True,
    prompt_template: str = DEFAULT_PROMPT,
    instruction: str = DEFAULT_INSTRUCTION,
    system_prompt: str | None = None,
    metadata: bool = False,
    ids: bool = True,
    datasheet: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> ExportResult:
    """Filter the labelled splits and write them in one or more formats, plus ``DATASET.md``.

    Parameters
    ----------
    splits : mapping of str to DataFrame
        Split name -> labelled rows (see the module docstring for the columns).
    out_dir : path-like
        Output folder; each format gets a sub-folder (``jsonl/train.jsonl``, ``chat/train.jsonl``,
        ``hf/`` for ``DatasetDict.save_to_disk``).
    class_names : sequence of str
        Class names by id; the outputs of the fine-tuning layouts.
    formats : sequence of str
        Some of :data:`EXPORT_FORMATS`.
    min_confidence : float, optional
        Leave out label-model rows whose ``confidence`` is below this.
    drop_uncovered : bool
        Leave out label-model rows no LF voted on (default): their label is only the label model's
        class prior. ``False`` keeps them. Human-reviewed rows are kept either way. How many were left
        out is ``ExportResult.filtered["uncovered"]``.
    keep_probs : bool
        Keep the ``prob_*`` columns in the tabular formats.
    include_reviewed : bool
        Include human-reviewed rows (with ``label_source`` as provenance).
    prompt_template, system_prompt : str
        Chat layout templates (``{text}``, ``{labels}``, any column).
    instruction : str
        Instruction (``alpaca``) layout template.
    metadata : bool
        Add a ``metadata`` object (id, provenance, confidence) to instruction/chat records.
    ids : bool
        Give every instruction/chat record its row ``id`` (default); the tabular formats always have an
        ``id`` column.
    datasheet : mapping, optional
        Extra keyword arguments of :func:`render_datasheet` (``name``, ``lf_summary``, ``label_model``, ``cleaning``...).
    progress : bool
        A progress bar per format over the rows written (shown from 200,000 rows, on a terminal or notebook).

    Returns
    -------
    ExportResult
    """
    bad = [f for f in formats if f not in EXPORT_FORMATS]
    if bad:
        raise ValueError(f"Unknown export format(s) {bad}; expected some of {list(EXPORT_FORMATS)}.")
    if not class_names:
        raise ValueError("class_names is empty; give the class names by id, e.g. ['HAM', 'SPAM'].")
    if "chat" in formats and "text" not in _fields(prompt_template):
        raise ValueError(f"prompt_template={prompt_template!r} has no {{text}} field; the model would never see the text.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ExportResult()
    kept: dict[str, pd.DataFrame] = {}
    for name, frame in splits.items():
        if text_column not in frame.columns:
            raise KeyError(f"Split {name!r} has no text column {text_column!r}; columns: {list(map(str, frame.columns))}.")
        rows, filtered = select_rows(
            frame, label_column=label_column, min_confidence=min_confidence,
            drop_uncovered=drop_uncovered, include_reviewed=include_reviewed,
        )
        bad_labels = rows[label_column].astype(int) >= len(class_names)
        if bad_labels.any():
            rid = rows.index[bad_labels.to_numpy().argmax()]
            raise ValueError(
                f"Row {rid!r} of split {name!r} has label {int(rows.loc[rid, label_column])}, "
                f"but class_names has only {len(class_names)} classes."
            )
        kept[name] = rows
        result.counts[name] = len(rows)
        for reason, n in filtered.items():
            result.filtered[reason] = result.filtered.get(reason, 0) + n

    tables: dict[str, pd.DataFrame] = {}
    schema = None
    if {"jsonl", "csv", "parquet", "hf"} & set(formats):
        tables = _unify({n: _tabular(f, class_names, label_column, keep_probs) for n, f in kept.items()})
        if {"parquet", "hf"} & set(formats):
            schema = _arrow_schema(tables)
    for fmt in formats:
        folder = out_dir / fmt
        folder.mkdir(exist_ok=True)
        paths = []
        if fmt == "hf":
            try:
                from datasets import Dataset, DatasetDict
            except ImportError as exc:
                raise ImportError("The 'hf' export needs the datasets package: pip install 'votewise[hf]'") from exc
            dd = DatasetDict({n: Dataset(_arrow_table(t, schema)) for n, t in tables.items()})
            # One shard per split at least: datasets writes an empty split as zero shards, which
            # load_from_disk then cannot read (IndexError).
            dd.save_to_disk(str(folder), num_shards={n: 1 for n in tables if len(tables[n]) == 0} or None)
            result.paths[fmt] = [folder]
            continue
        bar = progress_bar(total=sum(result.counts.values()), desc=f"export {fmt}", enabled=progress,
                           min_total=200_000)
        for name, rows in kept.items():
            if fmt in _RECORD_FORMATS:
                path = folder / f"{name}.jsonl"
                if fmt != "chat":
                    def recs(part: pd.DataFrame) -> list[dict[str, Any]]:
                        return to_instruction(part, class_names=class_names, instruction=instruction,
                                              text_column=text_column, label_column=label_column, metadata=metadata,
                                              ids=ids)
                else:
                    def recs(part: pd.DataFrame) -> list[dict[str, Any]]:
                        return to_chat(part, class_names=class_names, prompt_template=prompt_template,
                                       system_prompt=system_prompt, text_column=text_column,
                                       label_column=label_column, metadata=metadata, ids=ids)
                _write_jsonl_chunks(rows, path, recs, bar)
            else:
                table = tables[name]
                path = folder / f"{name}.{fmt}"
                if fmt == "jsonl":
                    _write_jsonl_chunks(table, path, lambda part: part.to_dict(orient="records"), bar)
                else:
                    if fmt == "csv":
                        table.to_csv(path, index=False)
                    else:
                        import pyarrow.parquet as pq

                        pq.write_table(_arrow_table(table, schema), path)
                    bar.update(len(table))
            paths.append(path)
        bar.close()
        result.paths[fmt] = paths

    sheet = render_datasheet(
        kept, class_names=class_names, label_column=label_column, filtered=result.filtered,
        formats=list(formats), **dict(datasheet or {}),
    )
    result.datasheet = out_dir / "DATASET.md"
    result.datasheet.write_text(sheet, encoding="utf-8")
    return result
