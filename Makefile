# Reproduce Canziani, Paszke and Culurciello (2016) on your own hardware.
# `make help` lists the targets. Variables: PROFILE=smoke|classroom|quick|modern|full, MODELS, DEVICE, THREADS, RESULTS,
# TAG (replot a recorded device; with record: the device to record), FORCE=1 (record: replace a recorded run).

PYTHON  ?= $(shell command -v python3.11 || command -v python3)
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PROFILE ?= full
MODELS  ?=
DEVICE  ?= auto
THREADS ?=
RESULTS ?=

REPRODUCE_ARGS := --profile $(PROFILE) --device $(DEVICE) $(if $(MODELS),--models $(MODELS)) $(if $(THREADS),--threads $(THREADS)) $(if $(RESULTS),--results-dir $(RESULTS)) $(if $(TAG),--results-tag $(TAG))

.DEFAULT_GOAL := help
.PHONY: help setup setup-system-torch reproduce record test test-slow bench bench-runtimes gallery lab clean distclean

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-18s %s\n", $$1, $$2}'
	@echo "  variables: PROFILE=smoke|classroom|quick|modern|full (default full), MODELS=a,b DEVICE=auto|cpu|cuda THREADS=N RESULTS=dir TAG=device-tag (replot it)"
	@echo "  your runs: data/results/ (git-ignored); committed runs: data/recorded/ (TAG=...; make record adds one)"

setup: $(STAMP) ## create the local environment (.venv) from pyproject.toml's pinned dependencies

# setup-system-torch recreates $(VENV) (--clear: no pinned torch left in it to shadow the system's);
# a venv it made (marked by $(SYSTEM_MARK)) is rebuilt the same way when pyproject.toml changes.
SYSTEM_MARK  := $(VENV)/.system-torch
SYSTEM_TORCH ?= $(if $(wildcard $(SYSTEM_MARK)),1)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found (set PYTHON=/path/to/python3.11)"; exit 1; }
ifeq ($(SYSTEM_TORCH),1)
	$(PYTHON) -m venv --clear --system-site-packages $(VENV)
	$(PY) -m helpers setup-check torch --constraints $(VENV)/system-torch.txt
	$(PY) -m helpers setup-check requirements --extra dev > $(VENV)/requirements-system-torch.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements-system-torch.txt -c $(VENV)/system-torch.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m helpers setup-check torch
	@touch $(SYSTEM_MARK)
else
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
endif
	@touch $(STAMP)

setup-system-torch: ## like setup, but keeps the system's torch/torchvision (Jetson): PYTHON=/usr/bin/python3
	@rm -f $(STAMP)
	@$(MAKE) --no-print-directory $(STAMP) SYSTEM_TORCH=1

reproduce: $(STAMP) ## run every notebook in order into reports/<device>/ (PROFILE=full by default)
	$(PY) -m helpers reproduce $(REPRODUCE_ARGS)

record: $(STAMP) ## copy this machine's run from data/results/ into data/recorded/ to commit it (TAG=, FORCE=1)
	$(PY) -m helpers record $(if $(TAG),--tag $(TAG)) $(if $(FORCE),--force)

test: $(STAMP) ## run the test suite (unit tests and notebook smoke runs)
	$(PY) -m pytest

test-slow: $(STAMP) ## the slow cross-checks too (the whole torchvision zoo against its metadata, library models through the lessons, memory against a fresh process per point)
	$(PY) -m pytest -m "slow or not slow"

bench: $(STAMP) ## the engine's benchmark: full profile vs its floor, repeatability vs Bianco et al., vs a bare Timer
	$(PY) -m helpers bench

bench-runtimes: $(STAMP) ## the runtimes study beside OpenVINO's benchmark_app and ONNX Runtime's test tool (batch 1)
	$(PY) -m helpers bench-runtimes

gallery: $(STAMP) ## copy a recorded run's main figures (reports/<device>/) and claims into docs/gallery/, README
	$(PY) -m helpers gallery

lab: $(STAMP) ## open the notebooks in JupyterLab
	$(PY) -m jupyter lab notebooks/

clean: ## remove run outputs (reports/) and caches; keeps .venv, data/results/ and data/recorded/
	rm -rf reports .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

distclean: clean ## also remove the local environment
	rm -rf $(VENV) *.egg-info
