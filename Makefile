# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install install-dev migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . || $(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/crm migrate --no-input -v 0

demo: migrate
	$(BIN)/crm demo --if-empty

# Serves the demo on http://$(HOST):$(PORT). Cookies are not marked Secure here: this is plain HTTP.
run: demo
	SECURE_COOKIES=0 $(BIN)/crm runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/crm makemigrations --check --dry-run -v 1

# SQLite always; PostgreSQL too when DATABASE_URL is set.
test: lint
	env -u DATABASE_URL $(BIN)/pytest
	@if [ -n "$$DATABASE_URL" ]; then echo "== again on $${DATABASE_URL%%://*}"; $(BIN)/pytest; fi

clean:
	rm -rf $(VENV) var/test*.sqlite3
