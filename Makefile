# Two commands: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-unit test-integration test-e2e install lint format check services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Embedded default: SQLite (WAL), no Redis, demo data, the web server with the browser
## simulator (provider emulators in-process; it prints http://127.0.0.1:8000/simulator last).
run: install
	$(BIN)/boutik db upgrade
	$(BIN)/boutik seed demo --if-empty
	$(BIN)/boutik serve --simulator

## The whole suite against real PostgreSQL and Redis (started when down; never skipped).
test: install services
	$(BIN)/python -m pytest -q

## One layer at a time; together they are exactly `make test`.
## Unit: SQLite files, no sockets, no services.
test-unit: install
	$(BIN)/python -m pytest -q tests/unit

## Integration: real PostgreSQL and Redis, RQ workers, the emulators, the chaos run.
test-integration: install services
	$(BIN)/python -m pytest -q tests/integration

## End to end: the app through its webhooks (PostgreSQL, emulators, `boutik serve`, gunicorn,
## Chromium), and the fuzzers, which post generated payloads through the same webhooks.
test-e2e: install services
	$(BIN)/python -m pytest -q tests/e2e tests/fuzz

services:
	scripts/ensure_services.sh
	scripts/ensure_browser.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Models and migrations agree on both databases.
check: install services
	DATABASE_URL=sqlite:///var/alembic-check.db $(BIN)/boutik db upgrade
	DATABASE_URL=sqlite:///var/alembic-check.db $(BIN)/boutik db check
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/boutik db upgrade
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/boutik db check

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
