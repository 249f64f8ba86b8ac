"""Reading data and knowledge into votewise."""

from .collect import CollectError, CollectStats, collect, html_to_text
from .encoder import TextEncoder
from .kb import KBEntry, KBMatch, KnowledgeBase, normalize_text
from .files import from_hf_dataset, from_pandas, read_csv, read_jsonl, read_parquet, read_table
from .spacy_docs import DocCache, doc_cache, load_pipeline
from .wrench import WrenchDataset, WrenchSplit, read_wrench, read_wrench_split

__all__ = [
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_table",
    "from_pandas",
    "from_hf_dataset",
    "read_wrench",
    "read_wrench_split",
    "WrenchDataset",
    "WrenchSplit",
    "KnowledgeBase",
    "KBEntry",
    "KBMatch",
    "normalize_text",
    "collect",
    "CollectError",
    "CollectStats",
    "html_to_text",
    "TextEncoder",
    "DocCache",
    "doc_cache",
    "load_pipeline",
]
