# Two commands: `make run` (set up everything, then start) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup catalogs db run test test-quick lint bench clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

catalogs: $(STAMP)
	$(BIN)/wa-onboarding i18n compile

instance/secret_key:
	mkdir -p instance
	$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	chmod 600 $@

setup: $(STAMP) catalogs instance/secret_key

db: setup
	$(BIN)/wa-onboarding init-db
	$(BIN)/wa-onboarding demo

run: db
	@echo "Starting WA Onboarding on http://$(HOST):$(PORT)/"
	$(BIN)/wa-onboarding run --with-worker --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: everything but the tests marked slow (wheel install, soak, gunicorn, schemathesis, browser,
# the PostgreSQL runs and the HTTP path walks), on two worker processes (pytest-xdist).
test-quick: setup
	$(BIN)/python -m pytest -m "not slow" -n 2 $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/wa-onboarding flows check

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis locales/*.pot locales/*/LC_MESSAGES/*.mo
