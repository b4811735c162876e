# Two commands do all the setup: `make render` and `make test`. Both create .venv from the pinned
# requirements on first use (and again whenever a requirements file changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov pins dependencies that conflict with Pulumi's, so it gets a virtualenv of its own.
SCAN_VENV := .venv-scan
STACK ?= dev
OUT ?= out/$(STACK)
STACKS := dev staging prod

.PHONY: render preview test audit lint typecheck clean engine controlplane cluster cluster-stop e2e e2e-engine e2e-cluster

render: $(VENV)/.runtime-installed  ## Render STACK (default dev) to OUT (default out/STACK), offline
	$(BIN)/python -m stackyard render $(STACK) --out $(OUT)

preview: $(VENV)/.runtime-installed  ## Print STACK's resource tree and a count per kind
	$(BIN)/python -m stackyard preview $(STACK)

test: $(VENV)/.dev-installed $(SCAN_VENV)/.installed  ## Lint, the whole suite, then audit every stack
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	for stack in $(STACKS); do $(BIN)/python -m stackyard audit $$stack || exit 1; done

engine: $(VENV)/.runtime-installed  ## Build (or find in ~/.cache/stackyard) the Pulumi CLI, language host and Kubernetes provider; print the bin folder
	$(BIN)/python -m e2e engine

controlplane: $(VENV)/.runtime-installed  ## Build (or find) etcd, kube-apiserver, -controller-manager, -scheduler and kwok; print the bin folder
	$(BIN)/python -m e2e controlplane

cluster: $(VENV)/.dev-installed  ## Start a local control plane on 127.0.0.1 with fake nodes; print its kubeconfig path
	$(BIN)/python -m e2e cluster start

cluster-stop: $(VENV)/.runtime-installed  ## Stop every process `make cluster` started and remove its data
	$(BIN)/python -m e2e cluster stop

e2e: e2e-engine e2e-cluster  ## The engine tier, then the cluster tier (see README: What was verified)

e2e-engine: $(VENV)/.dev-installed
	$(BIN)/python -m e2e engine
	$(BIN)/python -m pytest --tier engine tests/engine

e2e-cluster: $(VENV)/.dev-installed
	$(BIN)/python -m e2e controlplane
	$(BIN)/python -m pytest --tier cluster tests/cluster

audit: $(VENV)/.runtime-installed  ## Run the policies and strict schemas on STACK (or AUDIT=DIR, an export)
	$(BIN)/python -m stackyard audit $(or $(AUDIT),$(STACK))

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

$(SCAN_VENV)/.installed: requirements-scan.txt
	rm -rf $(SCAN_VENV)
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

clean:
	rm -rf out audit .pytest_cache .mypy_cache .ruff_cache
