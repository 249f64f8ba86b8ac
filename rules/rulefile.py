"""Rule files: LFs written as data (TSV or YAML), never as code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from labeling.core.fileio import decode_utf8
from labeling.core.problems import Problems, did_you_mean
from labeling.core.safe_yaml import MAX_YAML_BYTES, load_yaml, short_repr

from ._regex_engine import ENGINES
from .base import RuleLF
from .length import length_lf
from .regex import keyword_lf, regex_lf

__all__ = ["rules_from_file", "match_label"]

MAX_RULE_FILE_BYTES = MAX_YAML_BYTES
"""Largest rule file read (TSV or YAML): rule files are a few kilobytes."""

_FLAG_NAMES = {"IGNORECASE": re.IGNORECASE, "I": re.IGNORECASE, "MULTILINE": re.M, "M": re.M,
               "DOTALL": re.S, "S": re.S, "ASCII": re.A, "A": re.A, "VERBOSE": re.X, "X": re.X}


def _is_abbreviation(short: str, word: str) -> bool:
    """``ENTY`` abbreviates ``ENTITY``: same first letter, the rest in order."""
    if not short or not word or short[0] != word[0]:
        return False
    it = iter(word)
    return all(ch in it for ch in short)


def match_label(word: str, classes: Sequence[str]) -> int | None:
    """Map a label word to a class id: exact name, then unique prefix, then unique abbreviation (case-insensitive).

    Examples
    --------
    >>> match_label("ENTITY", ["DESC", "ENTY", "HUM"])
    1
    """
    w = word.strip().upper()
    names = [c.upper() for c in classes]
    for test in (
        lambda c: c == w,
        lambda c: w.startswith(c) or c.startswith(w),
        lambda c: _is_abbreviation(c, w) or _is_abbreviation(w, c),
    ):
        hits = [i for i, c in enumerate(names) if test(c)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return None
    return None


def _classes(path: Path, labels: Sequence[str] | Mapping[Any, str] | None) -> list[str] | None:
    source = "class_names="
    if labels is None:
        found = path.with_name("label.json")
        if not found.exists():
            return None
        source = str(found)
        try:
            labels = json.loads(found.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{found}: not a JSON mapping of class id to name ({exc}).") from None
    if isinstance(labels, Mapping):
        try:
            by_id = {int(k): v for k, v in labels.items()}
            return [str(by_id[i]) for i in range(len(by_id))]
        except (ValueError, TypeError, KeyError):
            raise ValueError(
                f"{source}: class ids must be 0..{len(labels) - 1}; got keys {short_repr(sorted(map(str, labels)))}."
            ) from None
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise ValueError(f"{source}: expected class names in id order (a list) or an id -> name mapping; "
                         f"got {short_repr(labels)}.")
    return [str(c) for c in labels]


class _Labels:
    def __init__(self, path: Path, labels, label_map: Mapping[str, int] | None) -> None:
        self.path = path
        self.classes = _classes(path, labels)
        self.label_map = {str(k).upper(): int(v) for k, v in (label_map or {}).items()}

    def __call__(self, value: Any, where: str) -> int:
        if value is None or isinstance(value, (bool, float, list, dict)):
            raise ValueError(
                f"{self.path}, {where}: label {short_repr(value)} is not a class name or a class id."
            )
        if isinstance(value, int):
            return self._in_range(value, value, where)
        word = str(value).strip()
        if word.upper() in self.label_map:
            return self.label_map[word.upper()]
        if word.isdigit():
            return self._in_range(int(word), word, where)
        found = match_label(word, self.classes) if self.classes else None
        if found is None:
            known = f"classes {self.classes}" if self.classes else "no class names (no label.json beside the file)"
            raise ValueError(
                f"{self.path}, {where}: label {short_repr(word)} does not name exactly one of {known}; pass "
                f"label_map={{{short_repr(word)}: <class id>}} (or class_names=[...]) to rules_from_file."
            )
        return found

    def _in_range(self, label: int, written: Any, where: str) -> int:
        # A class id past the class list would make a column of votes no label model can use.
        if label < 0 or (self.classes and label >= len(self.classes)):
            known = f"0..{len(self.classes) - 1} ({self.classes})" if self.classes else "an id >= 0"
            raise ValueError(f"{self.path}, {where}: label {short_repr(written)} is not a class id; expected {known}.")
        return label


def _tsv_rules(path: Path, text: str, to_label: _Labels, *, prefix: str, column: str, flags: int,
               engine: str) -> list[RuleLF]:
    lfs, problems, n_rules = [], Problems("rule file"), 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if "\t" not in line or line.lstrip().startswith("#"):
            continue  # prose, headings and comments around the rules
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1]:
            problems.add(f"{path}, line {lineno}: expected LABEL<TAB>regex[<TAB>example]; got {short_repr(line)}.")
            continue
        label_word, pattern = fields[0], fields[1]
        # Numbered by position among the rules, whether or not an earlier one had a problem.
        name = f"{prefix}{n_rules:02d}_{label_word.strip().lower()}"
        n_rules += 1
        try:
            label = to_label(label_word, f"line {lineno}")
            lf = regex_lf(name, pattern, label, flags=flags, column=column, engine=engine)
        except (ValueError, TypeError) as exc:
            problems.add(_at(path, f"line {lineno}", exc))
            continue
        lf.source = f"{path.name}:{lineno}"
        lf.example = fields[2] if len(fields) > 2 and fields[2] else None
        lfs.append(lf)
    problems.check()
    return lfs


def _at(path: Path, where: str, exc: BaseException) -> str:
    """``exc``'s message, prefixed with the file and place unless it names them already."""
    return str(exc) if str(exc).startswith(str(path)) else f"{path}, {where}: {exc}"


def _flags(value: Any, where: str) -> int:
    if value in (None, 0):
        return 0
    if not isinstance(value, (str, list)):
        raise ValueError(f"{where}: flags takes a flag name or a list of names; got {short_repr(value)}.")
    names = [value] if isinstance(value, str) else list(value)
    out = 0
    for n in names:
        if not isinstance(n, str) or n.upper() not in _FLAG_NAMES:
            raise ValueError(f"{where}: unknown regex flag {short_repr(n)}; expected some of {sorted(_FLAG_NAMES)}.")
        out |= _FLAG_NAMES[n.upper()]
    return out


# The keys a YAML rule may have, by the kind of rule: anything else is a typo, refused before any work.
_COMMON_KEYS = ("name", "label", "column", "example")
_KIND_KEYS = {
    "regex": ("regex", "flags", "engine", "timeout"),
    "keywords": ("keywords", "case", "whole_word"),
    "length": ("length",),
}
_ALL_KEYS = sorted({*_COMMON_KEYS, *(k for keys in _KIND_KEYS.values() for k in keys)})
_LENGTH_KEYS = ("min", "max", "unit")


def _suggest(word: Any, choices: Sequence[str]) -> str:
    """The closest known spelling, if any, then every allowed one."""
    return f".{did_you_mean(word, choices)} Allowed: {sorted(choices)}."


def _key_lines(path: Path, text: str, problems: Problems) -> list[dict[str, int]]:
    """Line of each key of each rule; a key given twice in one mapping (YAML keeps the last) is a problem.

    Composes the node graph only (aliases stay shared nodes, so nothing is expanded); the document
    was already loaded within limits by :func:`~labeling.core.safe_yaml.load_yaml`.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    seen: set[int] = set()

    def check(node: yaml.Node) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[Any, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in lines:
                    problems.add(
                        f"{path}, line {key.start_mark.line + 1}: the key {name!r} is given twice in one mapping "
                        f"(first on line {lines[name]}); keep one."
                    )
                elif name is not None:
                    lines[name] = key.start_mark.line + 1
                check(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                check(item)

    if root is None:
        return []
    check(root)
    rules = root
    if isinstance(root, yaml.MappingNode):
        rules = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "rules"), root)
    if not isinstance(rules, yaml.SequenceNode):
        return []
    return [{k.value: k.start_mark.line + 1 for k, _ in item.value if isinstance(k, yaml.ScalarNode)}
            if isinstance(item, yaml.MappingNode) else {} for item in rules.value]


def _bool(rule: Mapping, key: str) -> bool:
    value = rule.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} is {short_repr(value)}; expected true or false.")
    return value


def _length(bounds: Any) -> dict[str, Any]:
    if not isinstance(bounds, Mapping):
        raise ValueError("length takes a mapping such as {max: 5, unit: words}.")
    for key in bounds:
        if key not in _LENGTH_KEYS:
            raise ValueError(f"unknown field length.{key}{_suggest(key, _LENGTH_KEYS)}")
    for key in ("min", "max"):
        value = bounds.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"length.{key} is {short_repr(value)}; expected a whole number >= 0.")
    unit = bounds.get("unit", "words")
    if unit not in ("words", "chars"):
        raise ValueError(f"length.unit is {short_repr(unit)}; expected words or chars.")
    return {"min_len": bounds.get("min"), "max_len": bounds.get("max"), "unit": unit}


def _engine(rule: Mapping, default: str) -> dict[str, Any]:
    engine = rule.get("engine", default)
    if engine not in ENGINES:
        raise ValueError(f"engine is {short_repr(engine)}; expected one of {sorted(ENGINES)}.")
    timeout = rule.get("timeout")
    if timeout is not None:
        if engine != "python":
            raise ValueError("timeout applies to `engine: python` only (RE2 runs in linear time).")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout is {short_repr(timeout)}; expected a number of seconds > 0.")
    return {"engine": engine, "timeout": timeout}


def _yaml_rules(path: Path, text: str, to_label: _Labels, *, prefix: str, column: str, flags: int,
                engine: str, prompt_options: Mapping[str, Any] | None = None) -> list[RuleLF]:
    # Safe (a rule file never constructs Python objects) and bounded (aliases cannot expand it past limits).
    data = load_yaml(path, text=text)
    problems = Problems("rule file")
    key_lines = _key_lines(path, text, problems)
    if isinstance(data, Mapping) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a YAML list of rules (or a mapping with a 'rules' list).")
    lfs = []
    for i, rule in enumerate(data):
        where = f"rule {i}"
        try:
            if isinstance(rule, Mapping) and "prompt" in rule:
                lf = _prompt_rule(path, rule, where, to_label, f"{prefix}{i:02d}_prompt", prompt_options)
            else:
                lines = key_lines[i] if i < len(key_lines) else {}
                lf = _yaml_rule(path, rule, where, lines, problems, to_label, name=f"{prefix}{i:02d}",
                                column=column, flags=flags, engine=engine)
        except (ValueError, TypeError) as exc:
            # A problem stops this rule only: the rules after it are still checked, and all are reported together.
            problems.add(_at(path, where, exc))
            continue
        if lf is not None:
            lfs.append(lf)
    problems.check()
    return lfs


def _yaml_rule(path: Path, rule: Any, where: str, lines: Mapping[str, int], problems: Problems,
               to_label: _Labels, *, name: str, column: str, flags: int, engine: str) -> RuleLF | None:
    """The LF of one YAML rule; None when its keys had problems (each recorded in ``problems``)."""
    if not isinstance(rule, Mapping) or rule.get("label") is None:
        raise ValueError(f"{path}, {where}: each rule is a mapping with a 'label' and one of regex/keywords/length.")
    unknown = [key for key in rule if key not in _ALL_KEYS]
    for key in unknown:
        line = f" (line {lines[key]})" if key in lines else ""
        problems.add(f"{path}, {where}{line}: unknown key {short_repr(key)}{_suggest(key, _ALL_KEYS)}")
    if unknown:
        return None  # a misspelt key may be the rule's kind: the rest of it cannot be checked
    kinds = [k for k in ("regex", "keywords", "length") if k in rule]
    if len(kinds) != 1:
        raise ValueError(f"{path}, {where}: give exactly one of regex, keywords, length; got {kinds or 'none'}.")
    takes = sorted(_COMMON_KEYS + _KIND_KEYS[kinds[0]])
    misplaced = [key for key in rule if key not in takes]
    for key in misplaced:
        line = f" (line {lines[key]})" if key in lines else ""
        problems.add(f"{path}, {where}{line}: the key {key!r} does not apply to a {kinds[0]} rule; it takes {takes}.")
    if misplaced:
        return None
    label = to_label(rule["label"], where)
    name = str(rule.get("name") or f"{name}_{str(rule['label']).strip().lower()}")
    col = rule.get("column", column)
    if not isinstance(col, str) or not col:
        raise ValueError(f"column is {short_repr(col)}; expected a column name.")
    if "regex" in rule:
        if not isinstance(rule["regex"], str) or not rule["regex"]:
            raise ValueError(f"regex must be a non-empty string; got {short_repr(rule['regex'])}.")
        lf = regex_lf(name, rule["regex"], label, flags=flags | _flags(rule.get("flags"), f"{path}, {where}"),
                      column=col, **_engine(rule, engine))
    elif "keywords" in rule:
        lf = keyword_lf(name, rule["keywords"], label, case=_bool(rule, "case"),
                        whole_word=_bool(rule, "whole_word"), column=col)
    else:
        lf = length_lf(name, label, column=col, **_length(rule["length"] or {}))
    lf.source = f"{path.name}:{where}"
    lf.example = rule.get("example")
    return lf


def _prompt_rule(path: Path, rule: Mapping[str, Any], where: str, to_label: _Labels, name: str,
                 options: Mapping[str, Any] | None) -> RuleLF:
    from .prompt import prompt_from_rule  # a prompted LF: see rules.prompt

    lf = prompt_from_rule(rule, where=f"{path}, {where}", to_label=to_label, name=name, options=options)
    lf.source = f"{path.name}:{where}"
    lf.example = None
    return lf


def rules_from_file(
    path: str | Path,
    *,
    class_names: Sequence[str] | Mapping[Any, str] | None = None,
    label_map: Mapping[str, int] | None = None,
    column: str = "text",
    prefix: str = "rule_",
    flags: int = 0,
    engine: str = "re2",
    prompt_options: Mapping[str, Any] | None = None,
) -> list[RuleLF]:
    """Read labeling rules from a TSV or YAML file into batch LFs. Nothing in the file is executed.

    **TSV** (any file not ending in ``.yaml``/``.yml``): every line with a tab is a rule
    ``LABEL<TAB>regex[<TAB>example]`` (WRENCH's rule listings, e.g. TREC's ``readme.txt``); other lines
    (prose, headings, ``#`` comments) are skipped. **YAML**: a list of mappings with ``label`` and one of
    ``regex`` (with optional ``flags: [IGNORECASE]``, ``engine``, ``timeout``), ``keywords`` (with ``case``,
    ``whole_word``) or ``length`` (``{min, max, unit}``), plus optional ``name``, ``column`` and ``example``.
    The whole file is checked before any LF is built: an unknown key (with the closest known one), a
    key given twice, a field of the wrong type or a pattern RE2 cannot run is a problem naming the file
    and the rule (or line), and every problem of the file is reported together in one ``ValueError``
    (:class:`labeling.core.problems.ProblemsError`, its ``problems`` listing them).

    Label words are mapped to class ids by ``label_map`` first, then by name against ``class_names`` (class
    names in id order, or a ``{id: name}`` mapping; default: a WRENCH ``label.json`` beside the file):
    exact, unique prefix (``LOCATION`` -> ``LOC``) or unique abbreviation (``ENTITY`` -> ``ENTY``).
    Integer labels are used as they are.

    A YAML rule with ``prompt`` is a prompted LF (:func:`rules.prompt_lf`): ``prompt`` (the template over
    row fields), ``classes`` (class name -> verbalisers), optional ``name``, ``threshold``, ``few_shot``
    (``[{text, label}]``), ``system``, ``group``, ``abstain_words`` and ``backend``
    (``{kind: openai, model, base_url, ...}``; never a key); see docs/prompted.md.

    Parameters
    ----------
    path : str or Path
        The rule file.
    class_names : sequence or mapping of class names, optional
        Class names by id.
    label_map : mapping, optional
        Label word -> class id, overriding name matching.
    column : str
        Text column the rules read.
    prefix : str
        LF names are ``{prefix}{index:02d}_{label word}`` unless a YAML rule has a ``name``.
    flags : int
        ``re`` flags added to every regex rule (TSV rules are otherwise case-sensitive, as written).
    engine : {"re2", "python"}
        Regex engine of every regex rule (a YAML rule's ``engine`` key overrides it). RE2 runs in linear
        time; a pattern it cannot run is an error naming the rule, unless the engine is ``"python"``
        (backtracking, each search under a time limit).
    prompt_options : mapping, optional
        ``prompt_lf`` arguments for the file's prompt rules: ``backend`` (used where a rule names none),
        ``cache``, ``budget``, ``progress``.

    Returns
    -------
    list of RuleLF
        In file order; each has ``.source`` (file and line) and ``.example``.

    Examples
    --------
    >>> lfs = rules_from_file("tests/data/trec/readme.txt")  # doctest: +SKIP
    >>> len(lfs), lfs[0].name, lfs[0].label  # doctest: +SKIP
    (68, 'rule_00_entity', 1)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Rule file {path} does not exist.")
    if not path.is_file():  # a folder, a pipe or a device (/dev/zero would be read forever)
        raise ValueError(f"Rule file {path} is not a regular file.")
    if path.stat().st_size > MAX_RULE_FILE_BYTES:
        raise ValueError(
            f"{path}: {path.stat().st_size:,} bytes is more than the {MAX_RULE_FILE_BYTES:,} a rule file may have."
        )
    raw = path.read_bytes()
    text = decode_utf8(raw, str(path), what="rule file")
    to_label = _Labels(path, class_names, label_map)
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not one of {set(ENGINES)}.")
    if path.suffix.lower() in (".yaml", ".yml"):
        lfs = _yaml_rules(path, text, to_label, prefix=prefix, column=column, flags=flags, engine=engine,
                          prompt_options=prompt_options)
    else:
        lfs = _tsv_rules(path, text, to_label, prefix=prefix, column=column, flags=flags, engine=engine)
    if not lfs:
        raise ValueError(f"{path}: no rules found (TSV rules are LABEL<TAB>regex lines; YAML a list of rules).")
    return lfs
