# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-stress lint install install-dev migrate demo clean bench browser pango dovecot audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Front-end libraries (htmx, SortableJS, Chart.js): exact versions from package.json, no lock file
# (.npmrc); Django serves them from node_modules/ through whitenoise, never from a CDN.
node_modules/.installed: package.json .npmrc
	npm install --no-audit --no-fund
	touch $@

# The browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "/usr/bin/chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; fi; \
	fi

# PDFs: the commission statement (WeasyPrint, crm/quotes/pdf.py html_to_pdf) needs the system's Pango and a
# font; quote PDFs (ReportLab, crm/quotes/pdflayout.py) use the DejaVu font.
pango:
	@libs="$$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null)"; \
	if ! echo "$$libs" | grep -q 'libpango-1.0.so' || ! echo "$$libs" | grep -q 'libpangoft2-1.0.so' \
	    || [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
	  else echo "Pango or the DejaVu fonts are missing: run 'sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core' for quote PDFs."; fi; \
	fi

# The mailbox tests (tests/mailbox) start Debian's Dovecot as a process of their own; production syncs
# with any IMAP server and needs none of it.
dovecot:
	@if [ ! -x /usr/sbin/dovecot ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y dovecot-imapd; \
	  else echo "/usr/sbin/dovecot is missing: run 'sudo apt-get install dovecot-imapd' for the mailbox tests."; fi; \
	fi

install: $(VENV)/.installed node_modules/.installed pango
install-dev: $(VENV)/.installed-dev pango

migrate: install
	$(BIN)/crm migrate --no-input -v 0

demo: migrate
	$(BIN)/crm demo --if-empty

# Serves the demo on http://$(HOST):$(PORT). Cookies are not marked Secure here: this is plain HTTP.
# One background worker (jobs + automation scheduler) runs beside the web server and stops with it.
run: demo
	$(BIN)/crm worker & WORKER=$$!; trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	SECURE_COOKIES=0 $(BIN)/crm runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/crm makemigrations --check --dry-run -v 1

# SQLite always; PostgreSQL too when DATABASE_URL is set (the same tests, on both databases).
# Two pytest-xdist workers (each with its own test database): the serial suite took an hour for both
# databases, most of CI's time limit. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: lint node_modules/.installed browser dovecot
	env -u DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS)
	@if [ -n "$$DATABASE_URL" ]; then echo "== again on $${DATABASE_URL%%://*}"; $(BIN)/pytest -n $(TEST_WORKERS); fi

# The flake hunt (not CI): STRESS_RUNS runs per database in random order while stress-ng keeps
# every core busy; PostgreSQL too when DATABASE_URL is set. Logs and seeds under var/stress/.
STRESS_RUNS ?= 5
test-stress: lint node_modules/.installed browser dovecot
	@command -v stress-ng >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq stress-ng; } \
	  || { echo "stress-ng is missing: run 'sudo apt-get install stress-ng'."; exit 1; }
	bash tests/stress.sh $(STRESS_RUNS)

# Benchmarks (docs/benchmarks.md): seed a separate database, then measure through gunicorn.
# SCALE=small|1m; BENCH_DB=sqlite|postgres. wrk is the load generator (a Python one is the fallback).
SCALE ?= small
BENCH_DB ?= sqlite
# Order lines (and contacts) `crm bench sales` imports; 0 skips its imports.
SALES_IMPORT_ROWS ?= 100000
# Messages in the large mailbox `crm bench mail` syncs from its own Dovecot (`make dovecot` installs it).
MAIL_MESSAGES ?= 10000
bench: install dovecot
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk not installed: using the Python load generator"
	$(BIN)/crm bench seed --scale $(SCALE) --db $(BENCH_DB)
	$(BIN)/crm bench run --scale $(SCALE) --db $(BENCH_DB) --docs
	$(BIN)/crm bench automation --scale $(SCALE) --db $(BENCH_DB)
	$(BIN)/crm bench import --rows 100000 --db $(BENCH_DB)
	$(BIN)/crm bench quotes --docs
	$(BIN)/crm bench forecast --scale $(SCALE) --db $(BENCH_DB) --docs
	$(BIN)/crm bench commissions --scale $(SCALE) --db $(BENCH_DB) --docs
	$(BIN)/crm bench analytics --scale $(SCALE) --db $(BENCH_DB) --docs
	$(BIN)/crm bench sales --db $(BENCH_DB) --rows $(SALES_IMPORT_ROWS) --docs
	$(BIN)/crm bench mail --db $(BENCH_DB) --rows $(MAIL_MESSAGES) --docs

# Vulnerability audit of the pinned Python dependencies (docs/security.md "Dependency updates"): run by
# maintainers, never by `make test` (it needs the advisory database online). pip-audit lives in its own
# venv under var/ so its dependencies never mix with the app's; --strict fails when any pin could not be
# checked (offline: an error, never a false "no known vulnerabilities").
PIP_AUDIT_VERSION := 2.10.1
AUDIT_VENV := var/audit-venv
AUDIT_REQUIREMENTS ?= requirements-dev.txt
audit:
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/pip install --quiet pip-audit==$(PIP_AUDIT_VERSION); }
	$(AUDIT_VENV)/bin/pip-audit --strict --disable-pip --no-deps --progress-spinner off -r $(AUDIT_REQUIREMENTS)

clean:
	rm -rf $(VENV) var/test*.sqlite3
