"""YouTube comment spam with rule LFs and prompted LFs together in one label model.

Run one of::

    python examples/prompted/run.py --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct  # vLLM
    python examples/prompted/run.py --base-url http://localhost:11434/v1 --model llama3.1:8b              # Ollama
    python examples/prompted/run.py --local path/to/model-folder --chat-template                           # transformers
    python examples/prompted/run.py --demo                     # no model: a loopback server answers by keywords

Add ``--dry-run`` to see the calls and tokens a run would make, ``--max-calls N`` to cap them. The key,
where the endpoint needs one, is read from ``$OPENAI_API_KEY`` (or the variable ``--api-key-env`` names).
Answers are kept in the response cache (``--cache``), so a second run, or a run after an interruption,
asks only what is missing. The rule LFs are those of ``examples/youtube_spam/lfs.py``; the prompted LFs
are in ``prompts.yaml``. Comments of four videos are the unlabelled training rows (``--rows`` of them);
the fifth video's gold labels only score the result.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import numpy as np
import pandas as pd

from labeling import apply_lfs, lf_summary, load_lfs
from models import LabelModel, accuracy, precision_recall_f1
from rules import lf_groups, prompt_report, rules_from_file, run_prompts
from sources import read_csv
from sources.llm import Budget, LoopbackServer, OpenAIBackend, ResponseCache, TransformersBackend

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "youtube_spam" / "data"
LABEL_NAMES = ["HAM", "SPAM"]


def load_comments(files: list[Path]) -> pd.DataFrame:
    frames = [read_csv(path, text_column="CONTENT") for path in files]
    df = pd.concat(frames, ignore_index=True).rename(columns={"CLASS": "gold"})  # read_csv added x.text
    return df[["text", "gold"]]


def demo_answer(messages: list[dict]) -> str:
    """The --demo server's stand-in for a model: keywords, so the pipeline runs end to end without one."""
    comment = messages[-1]["content"].split("\n")[0].split(": ", 1)[-1].lower()  # the row, not the question
    return "spam" if any(w in comment for w in ("check out", "subscribe", "http", "my channel", "visit")) else "ham"


def backend_from(args: argparse.Namespace, server: LoopbackServer | None):
    if args.local:
        return TransformersBackend(args.local, batch_size=args.batch_size, device=args.device,
                                   chat_template=args.chat_template)
    if server is not None:
        return OpenAIBackend("keyword-demo", base_url=server.url, concurrency=args.concurrency)
    return OpenAIBackend(args.model, base_url=args.base_url, api_key_env=args.api_key_env,
                         concurrency=args.concurrency, logprobs=args.logprobs)


def scores(name: str, gold: np.ndarray, pred: np.ndarray) -> str:
    p, r, f1 = precision_recall_f1(gold, pred)
    return f"{name:<28} accuracy {accuracy(gold, pred):.3f}   spam precision {p:.3f} recall {r:.3f} F1 {f1:.3f}"


def fit(L, groups):
    model = LabelModel(cardinality=2)
    if groups is not None and "lf_groups" in inspect.signature(model.fit).parameters:
        return model.fit(L, lf_groups=groups)  # prompts to one model count as correlated evidence
    return model.fit(L)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description="Rule LFs and prompted LFs on YouTube comment spam.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    where.add_argument("--local", metavar="MODEL_DIR", help="a local transformers causal LM folder")
    where.add_argument("--demo", action="store_true", help="no model: a loopback server answers by keywords")
    parser.add_argument("--model", help="model name the endpoint serves (with --base-url)")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the key")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight at once")
    parser.add_argument("--logprobs", type=int, default=5, help="first-token log-probabilities to ask for (0: none)")
    parser.add_argument("--batch-size", type=int, default=16, help="prompts per forward pass (--local)")
    parser.add_argument("--device", default="auto", help="torch device for --local")
    parser.add_argument("--chat-template", action="store_true", help="use the tokenizer's chat template (--local)")
    parser.add_argument("--rows", type=int, default=400, help="training comments to label (default 400)")
    parser.add_argument("--max-calls", type=int, default=None, help="stop cleanly after this many calls")
    parser.add_argument("--cache", default=None, help="response cache file (default: the user cache folder)")
    parser.add_argument("--dry-run", action="store_true", help="count the calls and tokens, call nothing")
    args = parser.parse_args(argv)
    if args.base_url and not args.model:
        parser.error("--base-url needs --model (the name the endpoint serves)")

    files = sorted(DATA.glob("Youtube0*.csv"))
    train = load_comments(files[:4]).sample(frac=1.0, random_state=0).iloc[: args.rows]
    test = load_comments(files[4:])
    server = LoopbackServer(demo_answer).start() if args.demo else None
    try:
        if server is not None:
            print("--demo: the 'model' is a keyword rule behind a local chat-completions server; its votes show "
                  "the machinery, not what a language model would answer.")
        backend = backend_from(args, server)
        options = {"backend": backend, "cache": ResponseCache(args.cache) if args.cache else None,
                   "budget": Budget(max_calls=args.max_calls) if args.max_calls is not None else None}
        prompted = rules_from_file(HERE / "prompts.yaml", class_names=LABEL_NAMES, prompt_options=options)
        rule_lfs = load_lfs(HERE.parent / "youtube_spam" / "lfs.py")
        both = pd.concat([train[["text"]], test[["text"]]], ignore_index=True)
        plan = run_prompts(both, prompted, dry_run=True)
        print(f"\n{len(train)} training and {len(test)} test comments; {len(prompted)} prompted LFs on "
              f"{backend.describe()}:")
        print(plan.drop(columns=["backend"]).to_string())
        if args.dry_run:
            return plan

        lfs = [*rule_lfs, *prompted]
        L_train = apply_lfs(train, lfs, cardinality=2)
        L_test = apply_lfs(test, lfs, cardinality=2, progress=False)
        print("\nLF summary on the test video (gold labels used only here):")
        print(lf_summary(L_test, test["gold"].to_numpy()).round(3).to_string())

        gold = test["gold"].to_numpy()
        n_rules = len(rule_lfs)
        rules_only = fit(L_train.values[:, :n_rules], None).predict(L_test.values[:, :n_rules])
        combined = fit(L_train.values, lf_groups(lfs)).predict(L_test.values)
        print("\nLabel model on the test video:")
        print(scores("rule LFs", gold, rules_only))
        print(scores("rule + prompted LFs", gold, combined))
        report = prompt_report(prompted)
        print("\nPrompted LFs (calls made, answered from the cache, failed, unparseable, tokens in/out):")
        print(report.drop(columns=["backend"]).to_string())
        return report
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
