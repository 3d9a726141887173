# The two commands of the README: `make preview` (the main job) and `make test`.
# Both create .venv and install what they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= site,train,demo,dev
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PORT ?= 7860
comma := ,
INSTALLED := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: preview test test-fast test-fastai lint site serve bench clean browser-files

# Reinstall when the project's dependencies change; the stamp file records the extras.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

preview: $(INSTALLED) browser-files
	$(BIN)/python scripts/preview.py --host $(HOST) --blog-port $(PORT) --demo-port $(DEMO_PORT)

# Pinned browser files: ONNX Runtime Web for the in-browser demos, the widget, Altair and Plotly
# scripts the site serves, and MathJax for the browser tests (they run offline; the site itself
# uses a CDN).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --silent --no-audit --no-fund

# The site serves widget and chart scripts from node_modules; without npm (or offline) it names
# the same pinned versions on a CDN instead. The in-browser demos need node_modules: without it
# the build stops and says so.
browser-files:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory node_modules/.package-lock.json || echo "npm ci failed: the in-browser demos need it; widgets and charts will use a CDN"; else echo "npm not found (install Node.js): the in-browser demos need it; widgets and charts will use a CDN"; fi

# The whole suite on a process per core (pytest-xdist; a test file stays on one process, so
# its module fixtures are made once), each computing on one thread (set before numpy or torch
# load), then the 15 slowest tests (where the time goes).
PYTEST_PARALLEL = -n auto --dist loadfile
test: $(INSTALLED) node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) --durations=15

# The fastai import's tests need the bench extra's fastai, which `make test` doesn't install
# (they skip there); REQUIRE_FASTAI=1 turns a skip into a failure. CI runs both.
test-fastai:
	$(MAKE) --no-print-directory EXTRAS=site,train,demo,dev,bench $(VENV)/.installed-site-train-demo-dev-bench
	REQUIRE_FASTAI=1 $(BIN)/python -m pytest -q tests/training/test_import_fastai.py

# The quick loop while editing: everything not marked slow (no training runs, site builds,
# browsers or servers), in about 40 s on 2 cores.
test-fast: $(INSTALLED) node_modules/.package-lock.json
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not slow"

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

site: $(INSTALLED) browser-files
	$(BIN)/mkdocs build --strict

bench:
	$(MAKE) EXTRAS=site,train,demo,dev,bench $(VENV)/.installed-site-train-demo-dev-bench
	$(BIN)/python bench/train.py
	$(BIN)/python bench/site.py
	$(BIN)/python bench/demo.py
	$(BIN)/python bench/report.py

clean:
	rm -rf public .cache
