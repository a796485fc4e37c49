# Tillkey — one entry point for running, testing and checking the platform.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install -q -c requirements/constraints.txt
LIBS := libs/contracts libs/messaging libs/platform libs/testing libs/devtools
SERVICES := orders payments fulfillment notifications webhooks dashboard
STAMP := $(VENV)/.installed
# Packages mypy finds clean: `make lint` keeps them so. `make typecheck` checks every lib (issue 15).
TYPED := contracts devtools messaging platform testing orders payments fulfillment notifications webhooks dashboard
DEPLOY_STAMP := $(VENV)/.deploy-tools

.PHONY: install run test test-unit test-integration test-e2e chaos bench lint typecheck migrate clean package-check deploy-check

$(STAMP): requirements/constraints.txt requirements/dev.txt $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	$(PIP) $(foreach p,$(LIBS),-e ./$(p)) $(foreach s,$(SERVICES),$(if $(wildcard services/$(s)/pyproject.toml),-e ./services/$(s))) -r requirements/dev.txt
	@touch $(STAMP)

install: $(STAMP) ## venv + every package, editable

run: install ## the whole platform with a demo merchant; prints the checkout link
	@$(BIN)/python -m tillkey.devtools.run

migrate: install
	@for s in $(SERVICES); do $(BIN)/tillkey-$$s migrate || exit 1; done

test: install ## every test CI runs
	@$(BIN)/python -m pytest

test-unit: install
	@$(BIN)/python -m pytest -m "not integration and not e2e"

test-integration: install ## the tests that need the real broker or a real database (marked integration)
	@$(BIN)/python -m pytest -m integration

test-e2e: install
	@$(BIN)/python -m pytest tests

chaos: install ## faults injected mid-flow into the real processes, then a tally that must read 0 (not part of make test; docs/operations.md)
	@$(BIN)/python -m pytest tests/chaos -p no:cacheprovider $(CHAOS_ARGS)

bench: install ## what a merchant feels, on SQLite and PostgreSQL (not part of make test; docs/benchmark.md)
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	@$(BIN)/python tests/performance/bench.py $(BENCH_ARGS)

package-check: install ## wheels installed non-editable in a fresh venv: migrate on PostgreSQL, every process /readyz, the proxy (~2 min)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null)
	@$(BIN)/python tests/deploy/package_check.py

$(DEPLOY_STAMP): $(STAMP) requirements/deploy.txt requirements/constraints.txt
	$(PIP) -r requirements/deploy.txt
	@touch $(DEPLOY_STAMP)

deploy-check: $(DEPLOY_STAMP) ## deploy/ offline: compose spec, every kustomize overlay vs the Kubernetes schemas, our rules
	@$(BIN)/python tests/deploy/deploy_check.py

lint: install ## ruff + the layering contracts + mypy where it is clean + hadolint on the Dockerfile
	@$(BIN)/ruff check libs services tests
	@$(BIN)/lint-imports
	@$(BIN)/mypy $(foreach p,$(TYPED),-p tillkey.$(p))
	@$(BIN)/hadolint deploy/Dockerfile

typecheck: install ## mypy over libs/ (not the services yet); errors per package at the end
	@mkdir -p var
	@$(BIN)/mypy $(foreach l,$(LIBS),-p tillkey.$(notdir $(l))) > var/mypy.txt 2>&1; rc=$$?; \
	  grep -v '^Found\|^Success' var/mypy.txt; tail -1 var/mypy.txt; \
	  for l in $(LIBS); do printf '%-16s %s errors\n' $$l "$$(grep -c "^$$l/.*: error:" var/mypy.txt)"; done; exit $$rc

clean:
	rm -rf $(VENV) var
