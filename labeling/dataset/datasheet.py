"""The datasheet (``DATASET.md``) written beside every export."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["render_datasheet", "label_model_estimates"]


def label_model_estimates(model: Any) -> dict[str, Any]:
    """The learned attributes of a fitted label model worth reporting (small arrays and numbers).

    Picks every public attribute ending in ``_`` that is a number or an array of at most 1,000
    values, as plain Python values; per-LF arrays are reported with the LF names.
    """
    out: dict[str, Any] = {"model": type(model).__name__}
    for name in sorted(vars(model)):
        if not name.endswith("_") or name.startswith("_"):
            continue
        value = getattr(model, name)
        if isinstance(value, (bool, int, float, str, np.integer, np.floating)):
            out[name] = value.item() if hasattr(value, "item") else value
        elif isinstance(value, np.ndarray) and value.size <= 1000 and value.dtype.kind in "biuf":
            out[name] = (value if value.dtype.kind == "b" else np.round(value, 4)).tolist()
        elif isinstance(value, (list, tuple)) and len(value) <= 1000:
            out[name] = list(value)
    return out


def _table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join([df.index.name or ""] + cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for idx, row in df.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(idx)] + cells) + " |")
    return "\n".join(lines)


def _label_distribution(splits: Mapping[str, pd.DataFrame], label_column: str, label_names: Sequence[str]) -> pd.DataFrame:
    rows = {}
    for name, frame in splits.items():
        counts = frame[label_column].value_counts() if label_column in frame else pd.Series(dtype=int)
        rows[name] = {label_names[i] if 0 <= i < len(label_names) else str(i): int(counts.get(i, 0))
                      for i in range(len(label_names))}
    table = pd.DataFrame(rows).T
    table.index.name = "split"
    return table


def render_datasheet(
    splits: Mapping[str, pd.DataFrame],
    *,
    label_names: Sequence[str],
    label_column: str = "label",
    name: str = "dataset",
    description: str | None = None,
    sources: Sequence[str] | None = None,
    lf_summary: pd.DataFrame | None = None,
    label_model: Mapping[str, Any] | None = None,
    cleaning: Mapping[str, Mapping[str, int]] | None = None,
    processing: Mapping[str, str] | None = None,
    filtered: Mapping[str, int] | None = None,
    formats: Sequence[str] | None = None,
    random_state: int | None = None,
) -> str:
    """The datasheet of an exported dataset, as Markdown.

    Parameters
    ----------
    splits : mapping of str to DataFrame
        The exported rows per split (``label``, optional ``label_source``, ``augmentation``).
    label_names : sequence of str
        Class names by id.
    lf_summary : DataFrame, optional
        :func:`labeling.lf_summary` of the LFs on the labelled rows.
    label_model : mapping, optional
        Estimates of the label model, e.g. from :func:`label_model_estimates`.
    cleaning : mapping, optional
        Step name -> {reason: rows removed (or items masked)}.
    processing : mapping, optional
        Step name -> what ran (``"on (...settings...)"`` or ``"off (...)"``), so a reader of the
        datasheet knows whether, e.g., personal data was masked.
    filtered : mapping, optional
        Export filter reason -> rows left out.

    Returns
    -------
    str
    """
    out = [f"# Datasheet: {name}", ""]
    if description:
        out += [description.strip(), ""]
    out += ["## Composition", ""]
    counts = pd.DataFrame(
        {
            "rows": {s: len(f) for s, f in splits.items()},
            "augmented": {s: int(f["augmentation"].notna().sum()) if "augmentation" in f else 0 for s, f in splits.items()},
            "human_reviewed": {
                s: int((f["label_source"] == "human").sum()) if "label_source" in f else 0 for s, f in splits.items()
            },
        }
    )
    counts.index.name = "split"
    counts.loc["total"] = counts.sum()
    out += [_table(counts), ""]
    out += ["## Label distribution", "", _table(_label_distribution(splits, label_column, label_names)), ""]
    if sources:
        out += ["## Sources", ""] + [f"- `{s}`" for s in sources] + [""]
    if lf_summary is not None and len(lf_summary):
        out += ["## Labeling functions", "", _table(lf_summary.round(3)), ""]
    if label_model:
        out += ["## Label model", ""]
        lf_names = list(label_model.get("lf_names_") or [])
        per_lf = {k: v for k, v in label_model.items()
                  if lf_names and k != "lf_names_" and isinstance(v, list) and len(v) == len(lf_names)}
        out += [f"- **{k}**: {v}" for k, v in label_model.items() if k not in per_lf and k != "lf_names_"]
        if per_lf:
            table = pd.DataFrame({k: [str(x) if isinstance(x, list) else x for x in v] for k, v in per_lf.items()},
                                 index=pd.Index(lf_names, name="lf"))
            out += ["", "Per-LF estimates:", "", _table(table)]
        out.append("")
    if processing:
        out += ["## Processing", "", "Which cleaning steps ran, with their settings:", ""]
        out += [f"- **{step}**: {what}" for step, what in processing.items()] + [""]
    if cleaning:
        out += ["## Cleaning", "", "Rows removed (or, for masking, items changed) by each step:", ""]
        for step, reasons in cleaning.items():
            detail = ", ".join(f"{r}: {n}" for r, n in reasons.items()) or "nothing"
            out.append(f"- **{step}**: {detail}")
        out.append("")
    if filtered:
        out += ["## Export filters", "", "Rows left out of the export:", ""]
        out += [f"- {reason}: {n}" for reason, n in filtered.items()] + [""]
    if formats:
        out += ["## Files", "", ", ".join(f"`{f}`" for f in formats), ""]
    if random_state is not None:
        out += [f"Built with random_state={random_state}; the same inputs and seed give the same dataset.", ""]
    return "\n".join(out)
