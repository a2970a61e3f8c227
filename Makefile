# The kit's two front doors are `make demo` and `make test`; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Every apt-get of the set-up holds this lock (see `setup`).
APT_LOCKED := flock /tmp/ai-migration-kit-apt.lock

# Keep every tool off the network (there is none; look-ups only cost time).
export PACT_DO_NOT_TRACK := true
export K6_NO_USAGE_REPORT := true
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-docs setup venv services lint typecheck contracts lock clean help

help:
	@echo "make demo   - set everything up and run the end-to-end demo"
	@echo "make test   - set everything up and run lint, type checks and the whole test suite"
	@echo "make test-docs - the playbook's commands against a real stack (the whole migration, ~10 min)"
	@echo "make setup  - the venv and the services (RabbitMQ, PostgreSQL, chromium), side by side"
	@echo "make lint   - ruff (lint + format check) and import-linter"
	@echo "make lock   - re-resolve requirements.in into requirements.lock"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || $(APT_LOCKED) sh -c 'apt-get update -qq && apt-get install -y -qq python3-venv'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP)

# The virtual environment (pip) and the services (apt) side by side: on a fresh machine
# each takes minutes, mostly waiting on a different resource. apt runs under one lock
# (APT_LOCKED, also taken by scripts/ensure_services.sh), so the two never collide on dpkg.
setup:
	@$(MAKE) --no-print-directory -j2 venv services KIT_CONTAINER_TOOLS=$(KIT_CONTAINER_TOOLS)

# `make test` also installs podman, runc and debootstrap (the container tests); `make
# services` alone does when KIT_CONTAINER_TOOLS=1.
KIT_CONTAINER_TOOLS ?= 0
services:
	@KIT_CONTAINER_TOOLS=$(KIT_CONTAINER_TOOLS) bash scripts/ensure_services.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy contracts eventbus riskmodel datagen service_runtime legacy_monolith strangler_proxy extracted_services migration_playbook examples

# The tests' PostgreSQL: TEST_POSTGRES_URL if set, else the one `services` wrote to the
# per-user credentials file (the kit's own role; see scripts/ensure_services.sh). Read in the
# recipe, after `services` has run.
PG_ENV_FILE = $${XDG_CONFIG_HOME:-$$HOME/.config}/ai-migration-kit/postgres.env
TEST_PG_ENV = export TEST_POSTGRES_URL="$${TEST_POSTGRES_URL:-$$(sed -n 's/^TEST_POSTGRES_URL=//p' "$(PG_ENV_FILE)" 2>/dev/null)}"

test: KIT_CONTAINER_TOOLS = 1
test: setup lint typecheck
	@$(TEST_PG_ENV); set -x; $(BIN)/python -m pytest tests

# The playbook's runnable:e2e blocks against a stack of their own: the whole migration
# again, about 10 minutes, so `make test` skips it (see tests/README.md).
test-docs: setup
	@$(TEST_PG_ENV); KIT_DOCS_E2E=1 $(BIN)/python -m pytest -m e2e tests/e2e/docs

# Regenerate the contract documents (OpenAPI v1, event schemas) from the models and
# re-record the HTTP pact from the consumer tests; then `kit contracts compat` says whether
# the change is allowed within v1. Commit what changed.
contracts: venv
	$(BIN)/python -m contracts.generate
	CONTRACTS_UPDATE_PACTS=1 $(BIN)/python -m pytest -q -p no:randomly tests/contract/test_api_client_pact.py
	$(BIN)/kit contracts compat

demo: setup
	$(BIN)/kit demo

lock:
	rm -rf var/lockvenv && $(PYTHON) -m venv var/lockvenv
	var/lockvenv/bin/pip install -q -r requirements.in
	var/lockvenv/bin/pip freeze | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/' > requirements.lock
	rm -rf var/lockvenv

clean:
	rm -rf $(VENV) var reports .mypy_cache .ruff_cache
