"""The applications built from the other parts: the ``votewise`` CLI, the ``votewise build`` pipeline,
the label-model benchmark and the simulated review loop.

They may import anything in votewise; nothing else imports them.

Names are imported on first use (PEP 562): the ``votewise`` entry point lives in
:mod:`labeling.app.cli`, and loading this package for it must not load the pipeline, the
label models and the review stack before argparse has even read the command. For the same
reason each subcommand of :mod:`labeling.app.cli` imports what it needs when it runs.
"""

from __future__ import annotations

from labeling.core.lazy import lazy_exports

_WHERE = {
    "main": "cli",
    "build_parser": "cli",
    "build_from_config": "pipeline",
    "run_build": "pipeline",
    "load_config": "pipeline",
    "BuildResult": "pipeline",
    "PipelineError": "pipeline",
    "ConfigError": "build_config",
    "ConfigProblem": "build_config",
    "BuildConfig": "build_config",
    "parse_config": "build_config",
    "read_config": "build_config",
    "run_bench": "bench",
    "format_bench_table": "bench",
    "BENCH_MODELS": "bench",
    "simulate": "simulation",
    "summarize": "simulation",
    "plot_learning_curves": "simulation",
    "leading_token_leak": "simulation",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
