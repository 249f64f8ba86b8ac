"""The applications built from the other parts: the ``votewise`` CLI, the ``votewise build`` pipeline,
the label-model benchmark and the simulated review loop.

They may import anything in votewise; nothing else imports them.
"""

from .bench import BENCH_MODELS, format_bench_table, run_bench
from .cli import build_parser, main
from .pipeline import BuildResult, PipelineError, build_from_config, load_config
from .simulate import leading_token_leak, plot_learning_curves, simulate, summarize

__all__ = [
    "main",
    "build_parser",
    "build_from_config",
    "load_config",
    "BuildResult",
    "PipelineError",
    "run_bench",
    "format_bench_table",
    "BENCH_MODELS",
    "simulate",
    "summarize",
    "plot_learning_curves",
    "leading_token_leak",
]
