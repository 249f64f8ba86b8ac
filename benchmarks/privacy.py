"""Benchmark: personal-data recall and false positives per kind, votewise's recognisers against Presidio.

Run: ``python benchmarks/privacy.py`` (``--cases FILE`` for another case file in the same format;
``--markdown`` prints the table as Markdown, as in ``docs/dataset.md``; ``--sms``: also the digit runs left in
the WRENCH sms messages after masking).

Three engines over ``tests/data/pii/suite.tsv`` (SMS, e-mail, chat and code texts; items of 12 kinds and
look-alikes that hold no personal data), in one run:

* ``builtin``: votewise's own recognisers (``find_pii(engine="builtin")``);
* ``presidio``: Presidio's analyzer alone, default settings and threshold (every result it returns is
  masked), spaCy's ``en_core_web_sm``;
* ``merged``: both, Presidio's findings kept where votewise's checks agree (``engine="merged"``).

Per kind: items masked (at least 80% of their characters covered by a mask of any kind) of items, and
look-alike texts with any mask of look-alike texts; then masks on texts with personal data that touch no
labelled item ("extra spans"), and texts per CPU-second of ``scrub_pii`` over ``--repeat`` copies of the suite
(after loading; one process, one core). Needs the ``privacy`` extra: ``pip install 'votewise[privacy]'``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path and its rules.py would shadow the rules package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from labeling.dataset._pii_eval import read_pii_cases, score_pii  # noqa: E402
import pandas as pd  # noqa: E402

from labeling.dataset.privacy import PII_KINDS, find_pii, scrub_pii  # noqa: E402

ENGINES = ("builtin", "presidio", "merged")
SMS = ROOT.parent / "shared" / "data" / "sms"
# A run of at least 8 digits, with single separators: what a phone number that got through looks like.
_DIGITS_LEFT = re.compile(r"\+?\d(?:[ ()./-]?\d){7,}")


def sms_leftovers(examples: int, folder: Path = SMS) -> None:
    """Digit runs of 8+ digits left in the WRENCH sms messages (all splits) after each engine's masking."""
    from sources.wrench import read_wrench

    ds = read_wrench(folder)
    texts = [t for split in ("train", "valid", "test") for t in ds[split].data["text"]]
    print(f"\nWRENCH sms, {len(texts)} messages: digit runs of 8+ digits left after masking")
    for engine in ENGINES:
        masked = scrub_pii(pd.DataFrame({"text": texts}), engine=engine).data["text"]
        left = [(m.group(), t) for t in masked for m in _DIGITS_LEFT.finditer(t)]
        before = sum(len(_DIGITS_LEFT.findall(t)) for t in texts)
        print(f"{engine:9s} {len(left):4d} of {before}")
        for run, text in left[:examples] if engine == "builtin" else []:
            i = text.find(run)
            print(f"          {run!r:24s} in ...{text[max(0, i - 30):i + len(run) + 15]!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "tests" / "data" / "pii" / "suite.tsv")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--repeat", type=int, default=5, help="copies of the suite timed through scrub_pii")
    parser.add_argument("--sms", type=int, nargs="?", const=10, default=None, metavar="EXAMPLES",
                        help="also count the digit runs left in WRENCH sms after masking (and show EXAMPLES)")
    parser.add_argument("--sms-folder", type=Path, default=SMS, help="the WRENCH sms folder (default: %(default)s)")
    args = parser.parse_args(argv)
    cases = read_pii_cases(args.cases)
    texts = [c.text for c in cases]
    print(f"{len(cases)} texts from {args.cases.name}; engines {', '.join(ENGINES)}. Loading Presidio and spaCy "
          "takes 10-30 s, then each engine reads the suite in a few seconds.", file=sys.stderr)
    find_pii("warm up John Smith", engine="merged")  # loads spaCy once, outside the timings
    tables, speed = {}, {}
    frame = pd.DataFrame({"text": texts * args.repeat})
    for engine in ENGINES:
        tables[engine] = score_pii(cases, lambda batch, engine=engine: [find_pii(t, engine=engine) for t in batch])
        # CPU time of this process, not wall time: the figure holds on a machine other jobs share.
        t0 = time.process_time()
        scrub_pii(frame, engine=engine, action="report")  # the batch path a dataset build takes
        speed[engine] = len(frame) / (time.process_time() - t0)

    def cell(engine: str, kind: str) -> tuple[str, str]:
        t = tables[engine]
        if kind not in t.index:
            return "-", "-"
        r = t.loc[kind]
        recall = f"{int(r['masked'])}/{int(r['items'])}" if r["items"] else "-"
        fp = f"{int(r['lookalikes_masked'])}/{int(r['lookalikes'])}" if r["lookalikes"] else "-"
        return recall, fp

    header = ["kind"] + [f"{e} {what}" for e in ENGINES for what in ("recall", "look-alikes masked")]
    rows = []
    for kind in (*PII_KINDS, "all"):
        rows.append([f"**{kind}**" if kind == "all" and args.markdown else kind]
                    + [c for e in ENGINES for c in cell(e, kind)])
    rows.append(["extra spans"] + [c for e in ENGINES for c in (str(tables[e].loc["all", "extra_spans"]), "")])
    rows.append(["texts / CPU-second (scrub_pii)"] + [c for e in ENGINES for c in (f"{speed[e]:,.0f}", "")])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    if args.sms is not None:
        sms_leftovers(args.sms, args.sms_folder)


if __name__ == "__main__":
    main()
