"""Annotation guidelines: a definition and examples per class, from Markdown or YAML."""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from labeling.core.fileio import decode_utf8
from labeling.core.problems import Problems, did_you_mean
from labeling.core.safe_yaml import load_yaml

__all__ = ["Guidelines", "ClassGuideline"]

# The keys a YAML guidelines file may have; anything else is a typo that would otherwise load as nothing.
_TOP_KEYS = ("classes", "intro")
_CLASS_KEYS = ("definition", "examples")


@dataclass
class ClassGuideline:
    name: str
    definition: str = ""
    examples: list[str] = field(default_factory=list)


@dataclass
class Guidelines:
    """Per-class guidelines shown beside each sample in the widget and the terminal review.

    YAML layout::

        classes:
          SPAM:
            definition: Promotes a channel, product or link.
            examples: ["check out my channel", "free gift cards"]

    Markdown layout: one ``## CLASS`` heading per class, its paragraph is the
    definition and its ``- `` bullets are the examples.

    Examples
    --------
    >>> g = Guidelines.from_markdown("## SPAM\\nAds.\\n- buy now\\n## HAM\\nReal comments.")
    >>> g["SPAM"].examples
    ['buy now']
    """

    classes: dict[str, ClassGuideline] = field(default_factory=dict)
    intro: str = ""

    def __getitem__(self, name: str) -> ClassGuideline:
        return self.classes[name]

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Guidelines":
        """Read a ``.md`` or ``.yaml``/``.yml`` file (UTF-8; a line that is not is named)."""
        p = Path(path)
        text = decode_utf8(p.read_bytes(), str(p), what="guidelines file")
        if p.suffix.lower() in (".yaml", ".yml"):
            return cls.from_yaml(text, source=str(p))
        return cls.from_markdown(text)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<yaml>") -> "Guidelines":
        """Guidelines from YAML text (the layout in the class docstring).

        Every unknown key, at the top or under a class, is reported in one ``ValueError`` naming ``source``,
        each with the closest known key: a misspelt ``defintion:`` would otherwise load as an empty guideline.
        """
        doc = load_yaml(source, text=text) or {}
        if not isinstance(doc, dict) or not isinstance(doc.get("classes", {}), dict):
            raise ValueError(f"{source}: expected a mapping with a 'classes' mapping (class name -> definition).")
        problems = Problems("guidelines file")
        for key in doc:
            if key not in _TOP_KEYS:
                problems.add(f"{source}: unknown key {key!r}.{did_you_mean(key, _TOP_KEYS)} "
                             f"Allowed: {list(_TOP_KEYS)}.")
        out = cls(intro=str(doc.get("intro", "") or ""))
        for name, spec in (doc.get("classes") or {}).items():
            if spec is None or isinstance(spec, str):
                spec = {"definition": spec}
            if not isinstance(spec, dict):
                problems.add(f"{source}, class {name!r}: expected a definition or a mapping of {list(_CLASS_KEYS)}; "
                             f"got {type(spec).__name__}.")
                continue
            for key in spec:
                if key not in _CLASS_KEYS:
                    problems.add(f"{source}, class {name!r}: unknown key {key!r}.{did_you_mean(key, _CLASS_KEYS)} "
                                 f"Allowed: {list(_CLASS_KEYS)}.")
            examples = spec.get("examples", []) or []
            if isinstance(examples, str):
                examples = [examples]
            out.classes[str(name)] = ClassGuideline(
                str(name), str(spec.get("definition", "") or ""), [str(e) for e in examples]
            )
        problems.check()
        return out

    @classmethod
    def from_markdown(cls, text: str) -> "Guidelines":
        out = cls()
        current: ClassGuideline | None = None
        intro: list[str] = []
        for line in text.splitlines():
            m = re.match(r"^#{2,3}\s+(.+?)\s*$", line)
            if m:
                current = ClassGuideline(m.group(1))
                out.classes[current.name] = current
            elif current is None:
                intro.append(line)
            elif re.match(r"^\s*[-*]\s+", line):
                current.examples.append(re.sub(r"^\s*[-*]\s+", "", line).strip())
            elif line.strip():
                current.definition = (current.definition + " " + line.strip()).strip()
        out.intro = "\n".join(intro).strip().lstrip("#").strip()
        return out

    def to_text(self, class_names: Sequence[str] | None = None) -> str:
        """Plain text for the terminal."""
        lines = []
        for name in class_names or list(self.classes):
            g = self.classes.get(name)
            if g is None:
                continue
            lines.append(f"{name}: {g.definition}")
            lines += [f"    e.g. {e}" for e in g.examples[:3]]
        return "\n".join(lines)

    def to_html(self, class_names: Sequence[str] | None = None) -> str:
        """Escaped HTML for the widget."""
        parts = []
        for name in class_names or list(self.classes):
            g = self.classes.get(name)
            if g is None:
                continue
            ex = "".join(f"<li>{html.escape(e)}</li>" for e in g.examples[:3])
            parts.append(f"<p><b>{html.escape(name)}</b>: {html.escape(g.definition)}</p>"
                         + (f"<ul>{ex}</ul>" if ex else ""))
        return "<div class='vw-guidelines'>" + "".join(parts) + "</div>"
