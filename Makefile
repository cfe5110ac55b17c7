# Two entry points for people: `make run` (the dashboard) and `make test` (the whole suite).
# Each creates .venv and installs what it needs the first time; later runs reuse it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test demo clean load

run: $(VENV)/.run-installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

demo: $(VENV)/.run-installed
	$(BIN)/python -m cloudcore demo --out demo-catalog

# The dashboard under load: browser users on the demo at once (needs Chromium, as the browser
# tests do). Prints p50/p95 click-to-chart, errors and server memory; see tests/load/README.md.
LOAD_SESSIONS ?= 10
LOAD_SECONDS ?= 120
load: $(VENV)/.dev-installed
	$(BIN)/python -m tests.load.run --sessions $(LOAD_SESSIONS) --seconds $(LOAD_SECONDS)

.PHONY: bench
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.run

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version 2>&1)): install python3.11."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "Could not create a virtual environment: on Debian/Ubuntu run 'sudo apt install python3-venv'."; rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# The pinned set first, then cloudcore itself from this checkout (editable, nothing more to fetch):
# that gives the `cloudcore` command and the version cloudcore reports.
$(VENV)/.run-installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(VENV)/.run-installed $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache .import_linter_cache cloudcore.egg-info build
