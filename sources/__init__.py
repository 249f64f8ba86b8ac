"""Reading data and knowledge into votewise."""

from __future__ import annotations

from labeling.core.lazy import lazy_exports

# Names that are also their module's name are bound now: importing the submodule would otherwise
# put the module under that name.
from .collect import collect

# Where each public name lives: importing the package loads none of them until used.
_WHERE = {
    "read_csv": "files",
    "read_jsonl": "files",
    "read_parquet": "files",
    "read_table": "files",
    "from_pandas": "files",
    "from_hf_dataset": "files",
    "read_wrench": "wrench",
    "read_wrench_split": "wrench",
    "WrenchDataset": "wrench",
    "WrenchSplit": "wrench",
    "KnowledgeBase": "kb",
    "KBEntry": "kb",
    "KBMatch": "kb",
    "normalize_text": "kb",
    "CollectError": "collect",
    "CollectStats": "collect",
    "html_to_text": "collect",
    "TextEncoder": "encoder",
    "DocCache": "spacy_docs",
    "doc_cache": "spacy_docs",
    "load_pipeline": "spacy_docs",
}

__all__ = ["collect", *_WHERE]
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
