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
# The complete export expands every chart with stackyard-expand (built from the pinned provider with
# Go; `make expander`). Offline, the charts come from folders: the reference charts beside this
# checkout when present, else whatever CHART_DIRS names. CHARTS=auto records (and warns about) any
# chart that cannot be expanded; CHARTS=expand refuses to render without it.
REFERENCE := ../shared/reference
CHART_DIRS ?= $(wildcard $(REFERENCE)/charts $(REFERENCE)/crds)
CHARTS ?= auto
CHART_ARGS = --charts $(CHARTS) --offline $(foreach dir,$(CHART_DIRS),--chart-dir $(dir))
# Builds (or finds in ~/.cache/stackyard) the expander when Go is here; without Go, CHARTS=auto
# records the charts and the render says so.
WITH_EXPANDER = if command -v go >/dev/null; then $(BIN)/python -m e2e expander $(BIN) >/dev/null; \
	else echo "note: go is not on PATH, so charts cannot be expanded (README: The complete export)" >&2; fi

.PHONY: render preview test audit lint typecheck clean expander api-types engine controlplane cluster cluster-stop e2e e2e-engine e2e-cluster

render: $(VENV)/.runtime-installed  ## Render STACK (default dev) to OUT (default out/STACK), offline, charts expanded
	@$(WITH_EXPANDER)
	$(BIN)/python -m stackyard render $(STACK) --out $(OUT) $(CHART_ARGS)

preview: $(VENV)/.runtime-installed  ## Print STACK's resource tree and a count per kind, the charts' objects included
	@$(WITH_EXPANDER)
	$(BIN)/python -m stackyard preview $(STACK) $(CHART_ARGS)

test: $(VENV)/.dev-installed $(SCAN_VENV)/.installed  ## Lint, the whole suite, then audit every stack's complete export
	@$(WITH_EXPANDER)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	for stack in $(STACKS); do $(BIN)/python -m stackyard audit $$stack $(CHART_ARGS) || exit 1; done

expander: $(VENV)/.runtime-installed  ## Build (or find in ~/.cache/stackyard) stackyard-expand and link it into .venv/bin
	$(BIN)/python -m e2e expander $(BIN)

api-types: $(VENV)/.runtime-installed  ## Regenerate stackyard/apitypes.json from the expander's Go types
	$(BIN)/python -m e2e api-types

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
	$(BIN)/python -m e2e expander $(BIN)
	$(BIN)/python -m e2e engine
	$(BIN)/python -m pytest --tier engine tests/engine

e2e-cluster: $(VENV)/.dev-installed
	$(BIN)/python -m e2e expander $(BIN)
	$(BIN)/python -m e2e controlplane
	$(BIN)/python -m pytest --tier cluster tests/cluster

audit: $(VENV)/.runtime-installed  ## Run the policies and strict schemas on STACK's complete export (or AUDIT=DIR, an export)
	@$(WITH_EXPANDER)
	$(BIN)/python -m stackyard audit $(or $(AUDIT),$(STACK)) $(if $(AUDIT),,$(CHART_ARGS))

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
