"""The ``votewise build`` config as typed data, checked as a whole before any work starts.

:func:`parse_config` reads the whole YAML mapping into one :class:`BuildConfig` of frozen per-step
settings (:class:`SourceSettings`, :class:`CleanSettings`, :class:`ExportSettings`, ...). Every problem in
the file is collected, with a "did you mean" suggestion (:func:`difflib.get_close_matches`) for misspelt
keys and values, and reported together in one :class:`ConfigError` before a single row is read: a typo
under ``export:`` fails within milliseconds of parsing, before sources, LFs or cleaning run. A wrong value
is recorded and its default stands in, so checking goes on to the end of the file.

Checks that need no data run here: keys and types, numeric ranges, names (label models, tie rules, export
formats, PII kinds, augmentation methods), label-model parameters against the model's signature, files and
globs that must exist (sources, LF files, review files, back-translation model folders), templates that
must hold ``{text}``, a split ``groups`` column that no source carries. What needs the rows (a column
missing from a file, an LF failing) is reported by the step that reads them.

Dataclasses rather than a schema library: the settings are a dozen flat records whose checks
(paths relative to the file, registry names, model signatures) are this package's own, and the core
install stays free of another dependency.
"""

from __future__ import annotations

import glob
import os
import re
import string
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from labeling.dataset.augment import AUGMENTATIONS
from labeling.dataset.export import DEFAULT_INSTRUCTION, DEFAULT_PROMPT, EXPORT_FORMATS
from labeling.dataset.privacy import PII_ENGINES, PII_KINDS, resolve_engine
from labeling.core.fileio import FORMATS
from labeling.core.problems import did_you_mean as _did_you_mean, format_problems
from labeling.core.safe_yaml import load_yaml
from models import TIE_BREAKS
from models.registry import MODEL_REGISTRY

__all__ = [
    "PipelineError",
    "ConfigError",
    "ConfigProblem",
    "BuildConfig",
    "SourceSettings",
    "LFSettings",
    "LabelModelSettings",
    "ReviewSettings",
    "NearDuplicateSettings",
    "PIISettings",
    "CleanSettings",
    "SplitSettings",
    "BackTranslationSettings",
    "AugmentSettings",
    "ExportSettings",
    "parse_config",
    "read_config",
    "load_config",
    "settings_record",
    "DEFAULT_LABEL_MODEL",
]

# The registry's "default" entry is the recommended label model; majority vote where none is registered.
DEFAULT_LABEL_MODEL = "default"
TOP_KEYS = ("name", "description", "seed", "output", "class_names", "progress",
            "sources", "lfs", "label_model", "review", "clean", "split", "augment", "export")
# Columns every labelled row has, whatever the sources: a split may group by them without keep_columns.
_BUILT_IN_COLUMNS = ("text", "label", "label_source", "reviewer")


class PipelineError(ValueError):
    """A pipeline config or step failed; ``step`` and ``key`` say where."""

    def __init__(self, step: str, key: str | None, message: str):
        self.step, self.key = step, key
        super().__init__(f"pipeline {_where(step, key)}: {message}")


def _where(step: str, key: str | None) -> str:
    return f"step {step!r}" + (f", key {key!r}" if key else "")


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a config: the step, the key (dotted, ``[i].`` for list items) and what is wrong."""

    step: str
    key: str | None
    message: str

    def __str__(self) -> str:
        return f"pipeline {_where(self.step, self.key)}: {self.message}"


class ConfigError(PipelineError):
    """Every problem of a config at once; ``step`` and ``key`` are those of the first, ``problems`` lists all."""

    def __init__(self, problems: list[ConfigProblem], source: str | None = None):
        self.problems = list(problems)
        first = self.problems[0]
        self.step, self.key, self.source = first.step, first.key, source
        message = (f"{source}: " if source else "") + format_problems([str(p) for p in self.problems], "config")
        ValueError.__init__(self, message)


# ------------------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class SourceSettings:
    """One entry of ``sources:``: files matching ``path`` (resolved to ``files``) or a WRENCH folder."""

    path: str | None = None
    files: tuple[Path, ...] = ()
    wrench: Path | None = None
    format: str | None = None
    text_column: str = "text"
    id_column: str | None = None
    keep_columns: tuple[str, ...] = ()
    splits: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LFSettings:
    """``lfs:``: Python LF files, rule files, and whether WRENCH's stored votes may stand in."""

    python: tuple[Path, ...] = ()
    rules: tuple[Path, ...] = ()
    stored: bool = True
    n_jobs: int = 1
    fault_tolerant: bool = False


@dataclass(frozen=True)
class LabelModelSettings:
    """``label_model:``: a name in :data:`models.MODEL_REGISTRY`, its parameters and an optional tie rule.

    ``tie_break`` is one of ``models.TIE_BREAKS``, checked when the config is parsed.
    """

    name: str = DEFAULT_LABEL_MODEL
    params: Mapping[str, Any] = field(default_factory=dict)
    tie_break: str | None = None


@dataclass(frozen=True)
class ReviewSettings:
    """``review:``: human labels from a review store or from a table with id and label columns."""

    store: Path | None = None
    path: Path | None = None
    id_column: str = "id"
    label_column: str = "label"
    reviewer_column: str | None = None


@dataclass(frozen=True)
class NearDuplicateSettings:
    """``clean.near_duplicates:``: MinHash LSH near-duplicate removal."""

    threshold: float = 0.8
    num_perm: int = 128
    shingle_size: int = 5
    unit: str = "char"


@dataclass(frozen=True)
class PIISettings:
    """``clean.pii:``: which kinds of personal data to look for and what to do with them."""

    action: str = "mask"
    kinds: tuple[str, ...] = ()
    template: str = "[{kind}]"
    #: Which recognisers run (``labeling.dataset.PII_ENGINES``): ``auto`` is the merge of Presidio and the
    #: built-in checks where the ``privacy`` extra is installed, else the built-in checks alone (patterns and
    #: validity checks, without Presidio's spaCy pipeline: much faster, the choice for millions of rows).
    engine: str = "auto"


@dataclass(frozen=True)
class CleanSettings:
    """``clean:``: normalisation, PII masking, exact and near dedup (``None`` sub-settings: step off)."""

    normalize: bool = True
    lowercase: bool = False
    strip_markup: bool = True
    unicode_form: str = "NFKC"
    min_chars: int = 1
    exact_duplicates: bool = True
    near_duplicates: NearDuplicateSettings | None = field(default_factory=NearDuplicateSettings)
    pii: PIISettings | None = field(default_factory=PIISettings)


@dataclass(frozen=True)
class SplitSettings:
    """``split:``: fractions, stratification, grouping and the leakage check's threshold."""

    fractions: Mapping[str, float] = field(default_factory=lambda: {"train": 0.8, "valid": 0.1, "test": 0.1})
    stratify: bool = True
    groups: str | None = None
    group_near_duplicates: float | None = 0.7
    leakage_threshold: float = 0.8


@dataclass(frozen=True)
class BackTranslationSettings:
    """``augment.back_translation:``: two local MarianMT model folders and generation options."""

    forward: Path
    backward: Path
    batch_size: int = 16
    max_new_tokens: int = 128
    num_beams: int = 1
    device: str = "cpu"
    min_bleu: float | None = None


@dataclass(frozen=True)
class AugmentSettings:
    """``augment:``: methods (a list or method -> weight), share of words and of rows changed."""

    methods: tuple[str, ...] | Mapping[str, int] = ("synonym", "swap")
    alpha: float = 0.1
    fraction: float = 1.0
    back_translation: BackTranslationSettings | None = None


@dataclass(frozen=True)
class ExportSettings:
    """``export:``: formats, row filters, fine-tuning templates, ids and metadata in records."""

    formats: tuple[str, ...] = ("jsonl",)
    min_confidence: float | None = None
    drop_uncovered: bool = True
    keep_probs: bool = False
    include_reviewed: bool = True
    prompt_template: str = ""
    instruction: str = ""
    system_prompt: str | None = None
    metadata: bool = False
    ids: bool = True


@dataclass(frozen=True)
class BuildConfig:
    """A whole ``votewise build`` config, checked; each step of the runner receives only its own settings.

    ``review`` and ``augment`` are ``None`` when the step is off; ``output`` is ``None`` when nothing is written.
    """

    base: Path
    sources: tuple[SourceSettings, ...]
    name: str = "dataset"
    description: str | None = None
    seed: int = 0
    output: Path | None = None
    class_names: tuple[str, ...] | None = None
    progress: bool = True
    lfs: LFSettings = field(default_factory=LFSettings)
    label_model: LabelModelSettings = field(default_factory=LabelModelSettings)
    review: ReviewSettings | None = None
    clean: CleanSettings = field(default_factory=CleanSettings)
    split: SplitSettings = field(default_factory=SplitSettings)
    augment: AugmentSettings | None = None
    export: ExportSettings = field(default_factory=ExportSettings)

    def input_paths(self) -> dict[str, Path]:
        """Every file or folder the build reads (sources, LF and rule files, reviews, translation models), named
        by its config key, for a check that the output folder is none of them and holds none of them."""
        paths: dict[str, Path] = {}
        for i, src in enumerate(self.sources):
            for j, f in enumerate(src.files):
                paths[f"sources[{i}].path" + (f" (file {j + 1})" if len(src.files) > 1 else "")] = f
            if src.wrench is not None:
                paths[f"sources[{i}].wrench"] = src.wrench
        for key in ("python", "rules"):
            for j, f in enumerate(getattr(self.lfs, key)):
                paths[f"lfs.{key}[{j}]"] = f
        if self.review is not None:
            for key in ("store", "path"):
                if getattr(self.review, key) is not None:
                    paths[f"review.{key}"] = getattr(self.review, key)
        bt = self.augment.back_translation if self.augment is not None else None
        if bt is not None:
            paths["augment.back_translation.forward"] = bt.forward
            paths["augment.back_translation.backward"] = bt.backward
        return paths


def settings_record(settings: Any, base: Path | None = None) -> Any:
    """Plain values (dicts, lists, strings, numbers) of a settings dataclass, for the datasheet and logs.

    Paths under ``base`` are given relative to it, so a datasheet names files as the config does.
    """
    if settings is None:
        return None
    if is_dataclass(settings):
        return {f.name: settings_record(getattr(settings, f.name), base) for f in fields(settings)}
    if isinstance(settings, Mapping):
        return {str(k): settings_record(v, base) for k, v in settings.items()}
    if isinstance(settings, (list, tuple)):
        return [settings_record(v, base) for v in settings]
    if isinstance(settings, Path):
        if base is not None:
            try:
                return str(settings.resolve().relative_to(Path(base).resolve()))
            except ValueError:
                pass
        return str(settings)
    return settings


# ------------------------------------------------------------------------------------------- reading


class _Reader:
    """Typed lookups in one mapping of the config; each problem is recorded, not raised, so all are reported."""

    def __init__(self, problems: list[ConfigProblem], step: str, value: Any, allowed: tuple[str, ...],
                 prefix: str = ""):
        self.problems, self.step, self.prefix = problems, step, prefix
        if value is None or value is True:
            value = {}
        self.value: dict[str, Any] = {}
        if not isinstance(value, Mapping):
            self.fail(None, f"expected a mapping of options; got {value!r}.")
            return
        for key in value:
            if key not in allowed:
                self.fail(str(key), f"unknown key.{_did_you_mean(str(key), allowed)} Allowed keys: {list(allowed)}.")
        self.value = {k: v for k, v in value.items() if k in allowed}

    def fail(self, key: str | None, message: str) -> None:
        full = (self.prefix + key) if key is not None else (self.prefix.rstrip(".") or None)
        self.problems.append(ConfigProblem(self.step, full, message))

    def given(self, key: str) -> bool:
        return self.value.get(key) is not None

    def get(self, key: str, default: Any, check: Callable[[Any], Any], expect: str) -> Any:
        """``check(value)`` returns the value to keep or raises ValueError/TypeError; a problem keeps the default."""
        if key not in self.value or self.value[key] is None:
            return default
        value = self.value[key]
        try:
            return check(value)
        except (TypeError, ValueError) as exc:
            detail = f" {exc}" if str(exc) else ""
            self.fail(key, f"expected {expect}; got {value!r}.{detail}")
            return default

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, default, _is(bool), "true or false")

    def text(self, key: str, default: str | None = None) -> str | None:
        return self.get(key, default, _is(str), "a string")

    def integer(self, key: str, default: int, lo: int | None = None) -> int:
        def check(v: Any) -> int:
            if isinstance(v, bool) or not isinstance(v, int) or (lo is not None and v < lo):
                raise ValueError
            return v
        return self.get(key, default, check, "an integer" + (f" >= {lo}" if lo is not None else ""))

    def number(self, key: str, default: Any, lo: float, hi: float, *, lo_open: bool = False) -> Any:
        def check(v: Any) -> float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError
            if not ((lo < v <= hi) if lo_open else (lo <= v <= hi)):
                raise ValueError
            return v
        span = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi}]"
        return self.get(key, default, check, f"a number in {span}")

    def choice(self, key: str, default: Any, options: tuple[str, ...]) -> Any:
        if key not in self.value or self.value[key] is None:
            return default
        value = self.value[key]
        if not isinstance(value, str) or value not in options:
            self.fail(key, f"{value!r} is not one of {list(options)}.{_did_you_mean(str(value), options)}")
            return default
        return value

    def strings(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        def check(v: Any) -> tuple[str, ...]:
            v = [v] if isinstance(v, str) else v
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ValueError
            return tuple(v)
        return self.get(key, default, check, "a string or a list of strings")

    def sub(self, key: str, allowed: tuple[str, ...], *, default_on: bool = False) -> "_Reader | None":
        """A nested mapping; ``false`` -> None, ``true`` or empty -> all defaults; absent -> defaults if ``default_on``.

        Steps that protect the shipped data (near-duplicate removal, PII masking) are ``default_on``: leaving
        the key out must not silently turn them off.
        """
        if key not in self.value:
            return _Reader(self.problems, self.step, {}, allowed, f"{self.prefix}{key}.") if default_on else None
        value = self.value[key]
        if value is None:
            value = {} if default_on else None  # ``pii:`` with nothing after it is YAML null: the step, defaults
        if value is None or value is False:
            return None
        return _Reader(self.problems, self.step, value, allowed, prefix=f"{self.prefix}{key}.")


def _is(kind: type) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if not isinstance(v, kind) or (kind is not bool and isinstance(v, bool)):
            raise ValueError
        return v
    return check


def _resolve(base: Path, p: str) -> Path:
    path = Path(os.path.expanduser(p))
    return path if path.is_absolute() else base / path


def _template_fields(template: str) -> set[str]:
    """Field names of a ``str.format`` template; ValueError (with the reason) when it is not one."""
    return {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(template) if f}


# ------------------------------------------------------------------------------------------ sections

_SOURCE_KEYS = ("path", "wrench", "format", "text_column", "id_column", "keep_columns", "splits")
_LF_KEYS = ("python", "rules", "stored", "n_jobs", "fault_tolerant")
_MODEL_KEYS = ("name", "params", "tie_break")
_REVIEW_KEYS = ("store", "path", "id_column", "label_column", "reviewer_column")
_CLEAN_KEYS = ("normalize", "lowercase", "strip_markup", "unicode_form", "min_chars",
               "exact_duplicates", "near_duplicates", "pii")
_NEAR_KEYS = ("threshold", "num_perm", "shingle_size", "unit")
_PII_KEYS = ("action", "kinds", "template", "engine")
_SPLIT_KEYS = ("fractions", "stratify", "groups", "group_near_duplicates", "leakage_threshold")
_AUG_KEYS = ("methods", "alpha", "fraction", "back_translation")
_BT_KEYS = ("forward", "backward", "batch_size", "max_new_tokens", "num_beams", "device", "min_bleu")
_EXPORT_KEYS = ("formats", "min_confidence", "drop_uncovered", "keep_probs", "include_reviewed",
                "prompt_template", "instruction", "system_prompt", "metadata", "ids")


def _sources(problems: list[ConfigProblem], value: Any, base: Path) -> tuple[SourceSettings, ...]:
    if not isinstance(value, list) or not value:
        problems.append(ConfigProblem("sources", None,
                                      "expected a non-empty list of sources, e.g. [{path: data/*.csv}]."))
        return ()
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"path": item}
        r = _Reader(problems, "sources", item, _SOURCE_KEYS, prefix=f"[{i}].")
        common = dict(text_column=r.text("text_column", "text"), keep_columns=r.strings("keep_columns", ()) or (),
                      id_column=r.text("id_column"), splits=r.strings("splits"))
        wrench = r.text("wrench")
        if wrench is not None:
            folder = _resolve(base, wrench)
            if not folder.is_dir():
                r.fail("wrench", f"folder {folder} does not exist.")
            out.append(SourceSettings(wrench=folder, **common))
            continue
        pattern = r.text("path")
        fmt = r.choice("format", None, tuple(FORMATS))
        files: tuple[Path, ...] = ()
        if pattern is None:
            if "path" not in r.value:
                r.fail("path", "each source needs `path` (a file or glob) or `wrench` (a WRENCH folder).")
        else:
            files = tuple(Path(f) for f in sorted(glob.glob(str(_resolve(base, pattern)))))
            if not files:
                r.fail("path", f"no file matches {str(_resolve(base, pattern))!r}.")
        out.append(SourceSettings(path=pattern, files=files, format=fmt, **common))
    return tuple(out)


def _lfs(problems: list[ConfigProblem], value: Any, base: Path) -> LFSettings:
    r = _Reader(problems, "lfs", value, _LF_KEYS)
    paths: dict[str, tuple[Path, ...]] = {}
    for key, what in (("python", "LF file"), ("rules", "rule file")):
        found = []
        for p in r.strings(key, ()) or ():
            path = _resolve(base, p)
            if not path.is_file():
                r.fail(key, f"{what} {path} does not exist.")
            found.append(path)
        paths[key] = tuple(found)
    return LFSettings(python=paths["python"], rules=paths["rules"], stored=r.flag("stored", True),
                      n_jobs=r.integer("n_jobs", 1), fault_tolerant=r.flag("fault_tolerant", False))


def _label_model(problems: list[ConfigProblem], value: Any) -> LabelModelSettings:
    r = _Reader(problems, "label_model", value, _MODEL_KEYS)
    fallback = DEFAULT_LABEL_MODEL if DEFAULT_LABEL_MODEL in MODEL_REGISTRY else "mv"
    name = r.text("name", fallback)
    known = name in MODEL_REGISTRY
    if not known:
        r.fail("name", f"unknown label model {name!r}.{_did_you_mean(name, MODEL_REGISTRY)} "
                       f"Known: {sorted(MODEL_REGISTRY)}.")
        name = fallback
    params = dict(r.get("params", {}, _is(Mapping), "a mapping of model parameters"))
    # Checked against the model named, from its source (the registry imports no model for this); for
    # an unknown name there is nothing to check, and a model taking **kwargs accepts anything.
    options = MODEL_REGISTRY.parameter_names(name) if known and params else None
    unknown = [key for key in params if options and key not in options]
    for key in unknown:
        r.fail(f"params.{key}", f"{name} has no parameter {key!r}.{_did_you_mean(str(key), options)} "
                                f"Its parameters: {options}.")
    return LabelModelSettings(name=name, params=params, tie_break=r.choice("tie_break", None, TIE_BREAKS))


def _model_params_problem(name: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(key, message)`` when the model's own parameter constraints refuse a value of ``params``, else None.

    Only a config that sets parameters pays for importing the model (and scikit-learn); the model checks
    its values exactly as its ``fit`` would, so the build stops here instead of after reading every row.
    """
    try:
        model = MODEL_REGISTRY[name](**params)
    except (TypeError, ValueError) as exc:
        return "params", f"{name}({', '.join(map(str, params))}) cannot be built: {exc}"
    validate = getattr(model, "_validate_params", None)
    if validate is None:
        return None
    try:
        validate()
    except ValueError as exc:  # scikit-learn's InvalidParameterError is a ValueError
        key = re.search(r"The '(\w+)' parameter", str(exc))
        return (f"params.{key.group(1)}" if key else "params"), str(exc)
    return None


def _review(problems: list[ConfigProblem], value: Any, base: Path) -> ReviewSettings | None:
    if not value:
        return None
    r = _Reader(problems, "review", value, _REVIEW_KEYS)
    store, path = r.text("store"), r.text("path")
    found: dict[str, Path | None] = {"store": None, "path": None}
    if store is None and path is None:
        r.fail("path", "give `store: reviews.sqlite` (a review store) or `path:` (a CSV/JSONL/Parquet "
                       "file with id and label columns).")
    for key, p, what in (("store", store, "review store"), ("path", path, "review file")):
        if p is not None:
            found[key] = _resolve(base, p)
            if not found[key].is_file():
                r.fail(key, f"{what} {found[key]} does not exist.")
    return ReviewSettings(store=found["store"], path=None if store is not None else found["path"],
                          id_column=r.text("id_column", "id"), label_column=r.text("label_column", "label"),
                          reviewer_column=r.text("reviewer_column"))


def _clean(problems: list[ConfigProblem], value: Any) -> CleanSettings:
    r = _Reader(problems, "clean", value, _CLEAN_KEYS)
    near_r = r.sub("near_duplicates", _NEAR_KEYS, default_on=True)
    near = None if near_r is None else NearDuplicateSettings(
        threshold=near_r.number("threshold", 0.8, 0.0, 1.0, lo_open=True),
        num_perm=near_r.integer("num_perm", 128, lo=16),
        shingle_size=near_r.integer("shingle_size", 5, lo=1),
        unit=near_r.choice("unit", "char", ("char", "word")),
    )
    pii_r = r.sub("pii", _PII_KEYS, default_on=True)
    pii = None
    if pii_r is not None:
        kinds = pii_r.strings("kinds", tuple(PII_KINDS)) or ()
        for k in kinds:
            if k not in PII_KINDS:
                pii_r.fail("kinds", f"unknown kind {k!r}.{_did_you_mean(k, PII_KINDS)} "
                                    f"Expected some of {list(PII_KINDS)}.")
        template = pii_r.text("template", "[{kind}]")
        try:
            bad = _template_fields(template) - {"kind"}
        except ValueError as exc:
            bad = {f"(not a template: {exc})"}
        if bad:
            pii_r.fail("template", f"{template!r} may only use {{kind}}; it uses {sorted(bad)}.")
            template = "[{kind}]"
        engine = pii_r.choice("engine", "auto", tuple(PII_ENGINES))
        try:
            resolve_engine(engine)
        except ImportError as exc:
            pii_r.fail("engine", str(exc))
        pii = PIISettings(action=pii_r.choice("action", "mask", ("mask", "drop", "report")),
                          kinds=tuple(k for k in kinds if k in PII_KINDS), template=template, engine=engine)
    return CleanSettings(
        normalize=r.flag("normalize", True), lowercase=r.flag("lowercase", False),
        strip_markup=r.flag("strip_markup", True),
        unicode_form=r.choice("unicode_form", "NFKC", ("NFC", "NFKC", "NFD", "NFKD")),
        min_chars=r.integer("min_chars", 1, lo=0), exact_duplicates=r.flag("exact_duplicates", True),
        near_duplicates=near, pii=pii,
    )


def _split(problems: list[ConfigProblem], value: Any, sources: tuple[SourceSettings, ...]) -> SplitSettings:
    r = _Reader(problems, "split", value, _SPLIT_KEYS)
    default = SplitSettings()

    def fractions_ok(v: Any) -> dict[str, float]:
        if not isinstance(v, Mapping) or not v:
            raise ValueError
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0 for x in v.values()):
            raise ValueError("Each share must be a number >= 0.")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"They add up to {total:g}; they must add up to 1.")
        return {str(k): float(x) for k, x in v.items()}

    fractions = r.get("fractions", dict(default.fractions), fractions_ok,
                      "a mapping of split name to share, e.g. {train: 0.8, valid: 0.1, test: 0.1}")
    group_at: float | None = 0.7
    if r.value.get("group_near_duplicates") is False:
        group_at = None
    else:
        group_at = r.number("group_near_duplicates", 0.7, 0.0, 1.0, lo_open=True)
    groups = r.text("groups")
    if groups is not None and sources:
        carried = [s for s in sources if groups in s.keep_columns]
        if groups not in _BUILT_IN_COLUMNS and len(carried) < len(sources):
            r.fail("groups", f"no source carries a column {groups!r} to group by; add it to each source's "
                             f"`keep_columns: [{groups}]`.")
    return SplitSettings(fractions=fractions, stratify=r.flag("stratify", True), groups=groups,
                         group_near_duplicates=group_at,
                         leakage_threshold=r.number("leakage_threshold", 0.8, 0.0, 1.0, lo_open=True))


def _augment(problems: list[ConfigProblem], value: Any, base: Path) -> AugmentSettings | None:
    if not value:
        return None
    r = _Reader(problems, "augment", value, _AUG_KEYS)
    methods: Any = r.value.get("methods", ("synonym", "swap"))
    if isinstance(methods, str):
        methods = (methods,)
    if isinstance(methods, list):
        methods = tuple(methods)
    names = list(methods) if isinstance(methods, (tuple, Mapping)) else None
    if names is None:
        r.fail("methods", f"expected a list or mapping of {list(AUGMENTATIONS)}; got {methods!r}.")
        methods, names = (), []
    for m in names:
        if m not in AUGMENTATIONS:
            r.fail("methods", f"unknown method {m!r}.{_did_you_mean(str(m), AUGMENTATIONS)} "
                              f"Expected a list or mapping of {list(AUGMENTATIONS)}.")
    if isinstance(methods, Mapping):
        for m, w in methods.items():
            if isinstance(w, bool) or not isinstance(w, int) or w < 0:
                r.fail(f"methods.{m}", f"expected a number of variants per row (an integer >= 0); got {w!r}.")
    bt_r = r.sub("back_translation", _BT_KEYS)
    bt = None
    if "back_translation" in names and bt_r is None:
        r.fail("back_translation", "method 'back_translation' needs {forward: MODEL_DIR, backward: MODEL_DIR}.")
    if bt_r is not None:
        pair = {}
        for key in ("forward", "backward"):
            p = bt_r.text(key)
            pair[key] = _resolve(base, p) if p is not None else base
            if p is None or not (pair[key] / "config.json").is_file():
                bt_r.fail(key, f"expected a local MarianMT model folder (with config.json); got {p!r}.")
        bt = BackTranslationSettings(
            forward=pair["forward"], backward=pair["backward"],
            batch_size=bt_r.integer("batch_size", 16, lo=1), max_new_tokens=bt_r.integer("max_new_tokens", 128, lo=1),
            num_beams=bt_r.integer("num_beams", 1, lo=1), device=bt_r.text("device", "cpu") or "cpu",
            min_bleu=bt_r.number("min_bleu", None, 0.0, 100.0),
        )
    return AugmentSettings(methods=dict(methods) if isinstance(methods, Mapping) else tuple(methods),
                           alpha=r.number("alpha", 0.1, 0.0, 1.0, lo_open=True),
                           fraction=r.number("fraction", 1.0, 0.0, 1.0), back_translation=bt)


def _export(problems: list[ConfigProblem], value: Any) -> ExportSettings:
    r = _Reader(problems, "export", value, _EXPORT_KEYS)
    formats = r.strings("formats", ("jsonl",)) or ()
    for f in formats:
        if f not in EXPORT_FORMATS:
            r.fail("formats", f"unknown format {f!r}.{_did_you_mean(f, EXPORT_FORMATS)} "
                              f"Expected some of {list(EXPORT_FORMATS)}.")
    templates = {}
    for key, default in (("prompt_template", DEFAULT_PROMPT), ("instruction", DEFAULT_INSTRUCTION),
                         ("system_prompt", None)):
        templates[key] = r.text(key, default)
        if templates[key] is None:
            continue
        try:
            used = _template_fields(templates[key])
        except ValueError as exc:
            r.fail(key, f"{templates[key]!r} is not a template: {exc}. Write a literal brace as {{{{ or }}}}.")
            continue
        if key == "prompt_template" and "chat" in formats and "text" not in used:
            r.fail(key, f"{templates[key]!r} has no {{text}} field; the model would never see the text.")
    return ExportSettings(
        formats=tuple(f for f in formats if f in EXPORT_FORMATS),
        min_confidence=r.number("min_confidence", None, 0.0, 1.0),
        drop_uncovered=r.flag("drop_uncovered", True), keep_probs=r.flag("keep_probs", False),
        include_reviewed=r.flag("include_reviewed", True), metadata=r.flag("metadata", False),
        ids=r.flag("ids", True), **templates,
    )


def parse_config(config: Mapping[str, Any], base: str | os.PathLike, *, source: str | None = None) -> BuildConfig:
    """Check a whole pipeline config and return it as typed per-step settings.

    Parameters
    ----------
    config : mapping
        The config as read from YAML (see ``docs/dataset.md`` for every key).
    base : path-like
        Folder that relative paths are resolved against.
    source : str, optional
        Where the config came from (its file name), put at the head of the error message.

    Returns
    -------
    BuildConfig

    Raises
    ------
    ConfigError
        Every problem found, each naming its step and key, misspellings with their closest valid spelling.

    Examples
    --------
    >>> parse_config({"sources": ["*.csv"], "export": {"formts": ["jsonl"]}}, ".")  # doctest: +SKIP
    ConfigError: pipeline step 'export', key 'formts': unknown key. Did you mean 'formats'? ...
    """
    base = Path(base)
    problems: list[ConfigProblem] = []
    top = _Reader(problems, "config", config, TOP_KEYS)
    seed = top.integer("seed", 0)
    labels = top.strings("class_names")
    if labels is not None and (len(labels) < 2 or len(set(labels)) < len(labels)):
        top.fail("class_names", f"give two or more distinct class names in id order, e.g. [HAM, SPAM]; got {list(labels)}.")
    sources_given = config.get("sources") if isinstance(config, Mapping) else None
    all_wrench = isinstance(sources_given, list) and bool(sources_given) and all(
        isinstance(s, Mapping) and s.get("wrench") for s in sources_given)
    output = top.text("output")
    out_dir = None
    if output is not None:
        out_dir = _resolve(base, output)
        if out_dir.exists() and not out_dir.is_dir():
            top.fail("output", f"{out_dir} is a file; `output` names the folder the dataset is written to.")
    sources = _sources(problems, sources_given, base)
    get = config.get if isinstance(config, Mapping) else (lambda key: None)
    built = BuildConfig(
        base=base, sources=sources, name=top.text("name", "dataset") or "dataset",
        description=top.text("description"), seed=seed, output=out_dir,
        class_names=labels, progress=top.flag("progress", True),
        lfs=_lfs(problems, get("lfs"), base),
        label_model=_label_model(problems, get("label_model")),
        review=_review(problems, get("review"), base),
        clean=_clean(problems, get("clean")),
        split=_split(problems, get("split"), sources),
        augment=_augment(problems, get("augment"), base),
        export=_export(problems, get("export")),
    )
    if not built.lfs.python and not built.lfs.rules and not (all_wrench and built.lfs.stored):
        problems.append(ConfigProblem("lfs", "python", "no labeling functions: give `python: lfs.py` and/or "
                                                       "`rules: [file]` (only WRENCH sources bring stored votes)."))
    if labels is None and "class_names" not in top.value and not all_wrench:
        top.fail("class_names", "give the class names in id order, e.g. class_names: [HAM, SPAM] (only WRENCH sources "
                           "bring their own).")
    if not problems and built.label_model.params:
        # Last, and only when all else is right: checking the values imports the model and scikit-learn.
        problem = _model_params_problem(built.label_model.name, built.label_model.params)
        if problem is not None:
            problems.append(ConfigProblem("label_model", *problem))
    if problems:
        raise ConfigError(problems, source)
    return built


def read_config(
    path_or_dict: str | os.PathLike | Mapping[str, Any],
    *,
    output: str | os.PathLike | None = None,
    base_dir: str | os.PathLike | None = None,
) -> BuildConfig:
    """Read and check a whole pipeline config (its ``base`` is the folder that relative paths start from).

    This is all ``votewise build`` does before the first row is read, and it imports no label model,
    no scikit-learn and no optional extra, so a typo is reported within a second. Only a config that is
    otherwise right and sets ``label_model.params`` imports its model, whose parameter constraints then
    check those values.

    Parameters
    ----------
    path_or_dict : path-like or mapping
        ``pipeline.yaml`` or the same content as a dict.
    output : path-like, optional
        Output folder, overriding the config's ``output`` key.
    base_dir : path-like, optional
        Folder that relative paths are resolved against (default: the YAML file's folder, or the
        current directory for a mapping).

    Raises
    ------
    ConfigError
        Every problem of the config at once, each naming its step and key.
    """
    raw, base = load_config(path_or_dict)
    if base_dir is not None:
        base = Path(base_dir)
    if output is not None:
        raw["output"] = os.fspath(Path(output).resolve())
    source = None if isinstance(path_or_dict, Mapping) else os.fspath(path_or_dict)
    return parse_config(raw, base, source=source)


def load_config(path_or_dict: str | os.PathLike | Mapping[str, Any]) -> tuple[dict[str, Any], Path]:
    """Read a pipeline config: a YAML file (paths relative to it) or a mapping (paths relative to the cwd)."""
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict), Path.cwd()
    path = Path(path_or_dict)
    if not path.is_file():
        raise FileNotFoundError(f"Pipeline config {path} does not exist.")
    try:
        config = load_yaml(path)  # size and alias-expansion limits: a config is data, maybe not ours
    except ValueError as exc:
        raise PipelineError("config", None, str(exc)) from exc
    if not isinstance(config, Mapping):
        raise PipelineError("config", None, f"{path} must hold a mapping of steps; got {type(config).__name__}.")
    return dict(config), path.resolve().parent

