# The two set-up commands of README.md: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
BENCH_STAMP := $(VENV)/.bench-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test setup install native lint typecheck pytest bench bench-quick clean

$(STAMP): pyproject.toml scripts/bootstrap.sh api/static/package-lock.json
	bash scripts/bootstrap.sh
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	npm ci --prefix api/static --no-audit --no-fund --ignore-scripts  # static files only: no install scripts (swagger-ui-dist would ping an analytics service)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The geocoder's hot modules compiled with mypyc into .native/<hash of the sources>/ (geocoder/native.py):
# rebuilt whenever a source changes, a no-op otherwise; an edited source runs as pure Python until then.
native: $(STAMP)
	$(BIN)/python scripts/build_native.py

install: $(STAMP) native

setup: install
	$(BIN)/diachiso db start
	$(BIN)/diachiso import-bundled --if-empty

run: setup
	$(BIN)/diachiso serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: setup lint typecheck pytest

# The benchmarks' peers (Addok, vietnamadminunits, tipg): the [bench] extra on top of the dev install.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	rm -f $(VENV)/.bench-*
	touch $(BENCH_STAMP)

# Every benchmark beside its peers; rewrites the tables of BENCHMARKS.md (QUICK=1: under 10 minutes).
bench: setup $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run_all $(if $(QUICK),--quick)

bench-quick: setup $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run_all --quick

clean:
	-$(BIN)/diachiso db stop
	rm -rf .diachiso $(VENV) .native
