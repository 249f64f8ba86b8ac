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


def _label_distribution(splits: Mapping[str, pd.DataFrame], label_column: str, class_names: Sequence[str]) -> pd.DataFrame:
    rows = {}
    for name, frame in splits.items():
        counts = frame[label_column].value_counts() if label_column in frame else pd.Series(dtype=int)
        rows[name] = {class_names[i] if 0 <= i < len(class_names) else str(i): int(counts.get(i, 0))
                      for i in range(len(class_names))}
    table = pd.DataFrame(rows).T
    table.index.name = "split"
    return table


def render_datasheet(
    splits: Mapping[str, pd.DataFrame],
    *,
    class_names: Sequence[str],
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
    steps: Sequence[tuple[str, Any, Mapping[str, Any]]] | None = None,
    pii: Mapping[str, Any] | None = None,
    lf_files: Mapping[str, str] | None = None,
    templates: Mapping[str, str] | None = None,
    augmentation: Mapping[str, Any] | None = None,
    split_settings: Mapping[str, Any] | None = None,
    leakage: Mapping[str, Any] | None = None,
) -> str:
    """The datasheet of an exported dataset, as Markdown.

    Parameters
    ----------
    splits : mapping of str to DataFrame
        The exported rows per split (``label``, optional ``label_source``, ``augmentation``).
    class_names : sequence of str
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
    steps : sequence of (str, settings, counts), optional
        Every step that ran, in order, with its settings (plain values) and its counts.
    pii : mapping, optional
        ``looked_for`` (kinds), ``found`` (kind -> items), ``not_looked_for`` (kinds), ``action``, and
        ``needs_privacy_extra`` (kinds only the ``privacy`` extra's recognisers find).
    lf_files : mapping, optional
        LF and rule file -> SHA-256 of its content, so the labelling can be tied to one version of the LFs.
    templates : mapping, optional
        Fine-tuning templates used (``prompt_template``, ``system_prompt``, ``instruction``).
    augmentation : mapping, optional
        Methods and their parameters (``methods``, ``alpha``, ``fraction``, back-translation) and ``counts``.
    split_settings : mapping, optional
        ``fractions``, ``stratify``, ``groups``, ``group_near_duplicates``, ``leakage_threshold``.
    leakage : mapping, optional
        The leakage check's result: ``threshold``, ``cross_split_pairs``, ``dropped_augmented``.

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
    out += ["## Label distribution", "", _table(_label_distribution(splits, label_column, class_names)), ""]
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
    if split_settings:
        # Shares are of the source rows: augmented variants are added to train after splitting.
        sizes = {s: int(f["augmentation"].isna().sum()) if "augmentation" in f else len(f) for s, f in splits.items()}
        out += _split_section(split_settings, sizes)
    if leakage:
        pairs = int(leakage.get("cross_split_pairs", 0))
        verdict = ("no near-duplicate pair spans two splits" if pairs == 0
                   else f"{pairs} near-duplicate pairs span two splits (listed in `leakage.csv`)")
        out += ["## Leakage check", "",
                f"Near-duplicates at Jaccard >= {leakage.get('threshold')} across splits: {verdict}; "
                f"{int(leakage.get('dropped_augmented', 0))} augmented rows that came that close to another "
                "split were dropped.", ""]
    if augmentation:
        out += _augmentation_section(augmentation)
    if pii is not None:
        out += _pii_section(pii)
    if lf_files:
        out += ["## Labeling function files", "", "| file | SHA-256 |", "|---|---|"]
        out += [f"| `{path}` | `{digest}` |" for path, digest in lf_files.items()] + [""]
    if templates:
        out += ["## Templates", ""]
        for key, template in templates.items():
            out += [f"**{key}**:", "", "```text", str(template), "```", ""]
    if steps:
        out += ["## Build steps", "", "Every step in the order it ran, with its settings and counts:", "",
                "| step | settings | counts |", "|---|---|---|"]
        for step, settings, counts in steps:
            out.append(f"| {step} | {_cell(settings)} | {_cell(counts)} |")
        out.append("")
    if formats:
        out += ["## Files", "", ", ".join(f"`{f}`" for f in formats), ""]
    if random_state is not None:
        out += [f"Built with random_state={random_state}; the same inputs and seed give the same dataset.", ""]
    return "\n".join(out)


def _cell(value: Any) -> str:
    """A settings or counts value as one Markdown table cell: ``key=value`` pairs, pipes escaped."""
    if value is None:
        return "off"
    if isinstance(value, Mapping):
        text = ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) or "-"
    elif isinstance(value, (list, tuple)):
        text = "; ".join(_cell(v) for v in value) or "-"
    else:
        text = _plain(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _plain(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


def _split_section(settings: Mapping[str, Any], sizes: Mapping[str, int]) -> list[str]:
    fractions = settings.get("fractions") or {}
    total = sum(sizes.values()) or 1
    lines = ["## Splits", "", "Exported source rows per split (augmented rows not counted):", "",
             "| split | fraction asked | rows | share |", "|---|---|---|---|"]
    for name, share in fractions.items():
        n = sizes.get(name, 0)
        lines.append(f"| {name} | {share:g} | {n} | {n / total:.3f} |")
    group = settings.get("group_near_duplicates")
    grouping = [f"stratified by label: {'yes' if settings.get('stratify') else 'no'}",
                f"rows grouped by column: {settings['groups']!r}" if settings.get("groups") else
                "rows grouped by column: none",
                f"near-duplicates (Jaccard >= {group}) kept in one split" if group is not None else
                "near-duplicates not grouped", "augmented rows stay in the split of their source row"]
    return lines + [""] + [f"- {g}" for g in grouping] + [""]


def _augmentation_section(aug: Mapping[str, Any]) -> list[str]:
    methods = aug.get("methods")
    if isinstance(methods, Mapping):
        listed = ", ".join(f"{m} ({n} per row)" for m, n in methods.items())
    else:
        listed = ", ".join(f"{m} (1 per row)" for m in methods or [])
    lines = ["## Augmentation", "", "Training split only.", "",
             f"- methods: {listed}", f"- alpha (share of words changed): {aug.get('alpha')}",
             f"- fraction (share of training rows augmented): {aug.get('fraction')}"]
    bt = aug.get("back_translation")
    if bt:
        lines.append(f"- back-translation: {_plain(bt)}")
    counts = aug.get("counts") or {}
    if counts:
        lines.append(f"- rows: {_plain(counts)}")
    return lines + [""]


def _pii_section(pii: Mapping[str, Any]) -> list[str]:
    lines = ["## Personal data", ""]
    if not pii.get("ran"):
        lines += [f"Not looked for ({pii.get('why_not', 'off')}): the text is shipped as it came.", ""]
        return lines
    found = pii.get("found") or {}
    lines += [f"Action: {pii.get('action')}, before deduplication, on every row (removed rows included).", "",
              "| kind | looked for | items found |", "|---|---|---|"]
    for kind in pii.get("looked_for", []):
        lines.append(f"| {kind} | yes | {int(found.get(kind, 0))} |")
    not_asked = list(pii.get("not_asked", []))
    extra = list(pii.get("needs_privacy_extra", []))
    for kind in not_asked:
        lines.append(f"| {kind} | no (not in clean.pii.kinds) | - |")
    for kind in extra:
        lines.append(f"| {kind} | no (needs `pip install 'votewise[privacy]'`) | - |")
    lines += ["", f"Rows with personal data: {int(pii.get('rows_with_pii', 0))}."]
    if not_asked or extra:
        lines.append("Kinds not looked for may remain in the text: " + ", ".join(not_asked + extra) + ".")
    return lines + [""]
