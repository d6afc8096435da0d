# Two commands for a fresh machine (Python 3.11 + package registry):
#   make run   - install pinned deps into .venv, generate the default data, run every pipeline
#   make test  - install pinned deps (+ test extras) into .venv and run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean-data browser

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==26.3
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/statarb generate
	$(VENV)/bin/kedro run

test: $(STAMP) browser
	$(PY) -m ruff check src tests benchmarks
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

# Headless Chromium (Debian package) for the tearsheet rendering test; best effort off Debian/root.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "chromium not installed: browser tests will be skipped (they fail under CI=true)"

bench: $(STAMP)
	$(PY) -m pip install -q -r requirements-bench.lock
	$(PY) benchmarks/run_all.py

# every generated store: data/ holds only generated files (statarb generate, the catalog, the
# SQLite databases, the arch_daily environment) apart from the shipped .gitkeep and README.md
clean-data:
	find data -mindepth 1 -maxdepth 1 ! -name .gitkeep ! -name README.md -exec rm -rf {} +
