# TraceGraph: `make run` serves the service, `make test` runs the whole suite. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
THREADS ?= 3

.PHONY: run test test-fast golden mutate setup system neo4j neo4j-stop neo4j-status bench lint clean

## Run the service on http://127.0.0.1:$(PORT): Neo4j (unless NEO4J_URI), migrations, demo data if empty, gunicorn,
## and the recall notification worker beside it.
run: setup neo4j
	$(BIN)/flask --app wsgi graph migrate
	$(BIN)/flask --app wsgi demo load --if-empty
	@# the recall notification worker (docs/notifications.md) runs beside the app and stops with it
	$(BIN)/flask --app wsgi notify worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	MIGRATE_ON_START=0 $(BIN)/gunicorn --workers $(WORKERS) --threads $(THREADS) --worker-class gthread \
		--bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

## Run the whole test suite, both tiers: the unit tier and the tests against a real Neo4j (they start their own on
## port 7697), in two phases of one run: first every test that isolates by data, a file at a time on each of
## TEST_WORKERS pytest-xdist workers (0: in this process); then the `serial` ones (tests/conftest.py SERIAL: they
## restart Neo4j, read or copy the whole store, load the demo province) alone. The run that started the test server
## stops it at the end (KEEP_TEST_NEO4J=1 keeps it). PYTEST_ARGS go to both phases (e.g. --durations=30).
TEST_WORKERS ?= 2
test: setup
	$(BIN)/ruff check .
	@export TG_TEST_RUN=make-$$$$-$$(date +%s%N); rc=0; \
	set -x; TG_TEST_PHASE=first $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial" $(PYTEST_ARGS) || rc=$$?; \
	$(BIN)/pytest $$($(BIN)/python -c 'from tests.conftest import serial_paths; print(*serial_paths())') $(PYTEST_ARGS) \
		|| rc=$$?; \
	exit $$rc

## The unit tier, for the inner loop: pure tests (gs1/, labels/, rules) in seconds, no Neo4j, no Chromium. A test
## is in the neo4j tier when it uses the neo4j_uri fixture (tests/conftest.py marks it); TG_UNIT_TIER makes that
## fixture fail instead of starting a server. `slow` pure tests (whole label sheets) run in `make test` only.
UNIT_TESTS ?= tests/gs1 tests/labels tests/graph tests/app tests/scripts
test-fast: $(VENV)/.installed node_modules/.installed
	TG_UNIT_TIER=1 $(BIN)/pytest -q -m "not neo4j and not browser and not slow" $(UNIT_TESTS)

## Rewrite the golden files (tests/golden/files) from the demo province; then read `git diff tests/golden/files`
## before committing: a person checks what changed (docs/testing.md, "Golden files").
golden: $(VENV)/.installed
	UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/golden
	git --no-pager diff --stat -- tests/golden/files

## Mutation testing (mutmut 3, [tool.mutmut] in pyproject.toml): mutants of gs1/ and the pure rule modules of graph/
## against their fast-tier tests (TG_UNIT_TIER: no Neo4j), then the score per module. GS1's schema is named by its
## absolute path: mutmut runs the tests from a copy of the tree in mutants/.
mutate: $(VENV)/.installed
	TG_UNIT_TIER=1 EPCIS_SCHEMA_PATH=$${EPCIS_SCHEMA_PATH:-$(abspath ..)/shared/epcis/EPCIS-JSON-Schema.json} \
		$(BIN)/mutmut run
	$(BIN)/python scripts/mutation_score.py

## Install what the project needs: system packages (fonts, Chromium), the virtualenv, the npm validator.
setup: system $(VENV)/.installed node_modules/.installed

system:
	@bash scripts/setup-system.sh

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

neo4j:
	$(PYTHON) scripts/neo4jctl.py start

neo4j-stop:
	$(PYTHON) scripts/neo4jctl.py stop

neo4j-status:
	$(PYTHON) scripts/neo4jctl.py status

## Benchmarks at scale M (prints figures and appends them to docs/benchmarks.md).
bench: setup neo4j
	$(BIN)/python scripts/bench.py --scale $${SCALE:-M}

lint:
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules scripts/neo4j/target .pytest_cache
