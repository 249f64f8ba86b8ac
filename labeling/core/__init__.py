"""The labeling core: LFs, rows, the label matrix, applying LFs (in memory, cached, streamed, on Dask),
vote patterns, LF analysis and file I/O.

It imports no other votewise package; everything else builds on it. :mod:`labeling` re-exports its public names.
"""


from .analysis import label_conflict, label_coverage, label_overlap, lf_summary, plot_lf_summary, wilson_interval
from .apply import apply_lfs
from .errors import LFError, LFFailure
from .cache import LFCache, StaleCacheWarning
from .fingerprint import data_fingerprint, lf_fingerprint
from .patterns import PatternCounts, VotePatterns, distinct_rows, fit_from_patterns, vote_patterns
from .stream import StreamResult, apply_lfs_to_file, iter_chunks, read_votes
from .distributed import apply_lfs_dask, fit_label_model_dask, vote_patterns_dask
from .lf import LabelingFunction, Preprocessor, check_unique_names, labeling_function, preprocessor
from .loading import load_lfs
from .matrix import ABSTAIN, LabelMatrix, check_label_matrix, covered_rows
from .outputs import OutputError, atomic_write, check_outputs, output_lock, replace_folder
from .row import Row

__all__ = [
    "ABSTAIN",
    "LabelingFunction",
    "labeling_function",
    "Preprocessor",
    "preprocessor",
    "Row",
    "check_unique_names",
    "apply_lfs",
    "LFError",
    "LFFailure",
    "distinct_rows",
    "LFCache",
    "StaleCacheWarning",
    "lf_fingerprint",
    "data_fingerprint",
    "PatternCounts",
    "vote_patterns",
    "VotePatterns",
    "fit_from_patterns",
    "apply_lfs_to_file",
    "iter_chunks",
    "read_votes",
    "StreamResult",
    "apply_lfs_dask",
    "vote_patterns_dask",
    "fit_label_model_dask",
    "load_lfs",
    "LabelMatrix",
    "check_label_matrix",
    "covered_rows",
    "lf_summary",
    "plot_lf_summary",
    "wilson_interval",
    "label_coverage",
    "label_overlap",
    "label_conflict",
    "check_outputs",
    "OutputError",
    "atomic_write",
    "output_lock",
    "replace_folder",
]
