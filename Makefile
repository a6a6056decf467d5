# The two commands: `make run` and `make test` (see README). Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
EPIGRID := $(VENV)/bin/epigrid
PORT ?= 8000
DEMO_RESIDENTS ?= 20000
DEMO_SEED ?= 1
PYTEST_WORKERS ?= 2

.PHONY: install run test test-postgres test-browser lint bench messages clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "epigrid needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "epigrid needs Node.js with npm for its front-end packages"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "epigrid needs gettext (msgfmt) to compile its translations"; exit 1; }
	cd epigrid && ../$(EPIGRID) compilemessages -v0

install: $(VENV)/.installed node_modules/.installed messages

run: install
	$(EPIGRID) migrate --noinput -v0
	$(EPIGRID) collectstatic --noinput -v0
	$(EPIGRID) demo --residents $(DEMO_RESIDENTS) --seed $(DEMO_SEED) --if-empty
	PORT=$(PORT) scripts/serve.sh

test: install
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -rs tests

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/epigrid} $(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not browser" tests

test-browser: install
	EPIGRID_REQUIRE_BROWSER=1 $(VENV)/bin/pytest -m browser -rs tests

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) node_modules staticfiles
