# cocreate: `make run` serves the app on SQLite with demo data; `make test` runs lint and the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres test-e2e lint format messages serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalled only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

## run: set up, migrate, load demo data into an empty database, serve on http://$(HOST):$(PORT)
run: $(VENV)/.installed
	$(BIN)/cocreate migrate
	$(BIN)/cocreate seed-demo --if-empty
	COCREATE_ASSETS=$${COCREATE_ASSETS:-local} $(BIN)/cocreate serve --host $(HOST) --port $(PORT)

# The suite runs over the cores (pytest-xdist, a database per worker), the browser tests after it in
# one process. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

## test: lint, then the whole suite (SQLite; browser tests run when Chromium is present)
test: $(VENV)/.installed-dev lint
	$(BIN)/pytest -n $(TEST_WORKERS) --ignore=tests/e2e
	$(BIN)/pytest tests/e2e

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test-postgres: the suite on PostgreSQL (COCREATE_TEST_DATABASE_URL, default a local server)
test-postgres: $(VENV)/.installed-dev
	COCREATE_TEST_DATABASE_URL=$${COCREATE_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/cocreate_test} \
		$(BIN)/pytest -n $(TEST_WORKERS) --ignore=tests/e2e

test-e2e: $(VENV)/.installed-dev
	$(BIN)/pytest tests/e2e -v

## messages: extract UI strings and merge them into the catalogs (then translate the new ones)
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project cocreate \
		-o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching \
		--ignore-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
