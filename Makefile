# Every target sets up .venv on first use: a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo demo-distributed test check docs docs-serve bench clean transitions-suite

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "statesignals needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

demo: $(INSTALLED)
	$(BIN)/python -m examples.orders

# The same shop on PostgreSQL with Celery workers on Redis and a relay, started and
# stopped by the demo itself (docs/orders.md); both servers must be running.
demo-distributed: $(INSTALLED)
	$(BIN)/python -m examples.orders.distributed

test: $(INSTALLED)
	$(BIN)/python -m pytest
	$(MAKE) transitions-suite
	$(MAKE) check
	$(MAKE) docs

# transitions' own test suite, with the plain classes and with their signaling twins:
# a test that passes with the first must pass with the second. The sdist of the
# installed transitions is fetched with pip into .cache/ on first use.
transitions-suite: $(INSTALLED)
	$(BIN)/python -m tests.transitions_suite

check: $(INSTALLED)
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/lint-imports

# The documentation site, into site/; --strict turns every warning (a broken link or
# reference, a page missing from the nav) into a failure. No --quiet: it drops the
# warnings before --strict counts them, and the build passes.
docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

docs-serve: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve

# Benchmark-only dependencies go into the same .venv, installed on first `make bench`.
$(VENV)/.bench-installed: $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	@touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis site .cache
