# The two commands a newcomer needs: `make demo` runs everything, `make test` runs every test.
# Both install what they need first: Mosquitto from Debian, and a .venv from pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := kernel telecare ingest api accounts alerts anomaly devices homes simulators migrations bench \
	visits notifications console rostering

.PHONY: demo test check bench eval system-deps timescaledb venv clean

demo: system-deps $(STAMP)  ## run the whole system with simulated homes (Ctrl-C stops it)
	$(BIN)/telecare run

test: system-deps timescaledb $(STAMP)  ## the whole test suite against real PostgreSQL (plain and TimescaleDB) and Mosquitto
	$(BIN)/pytest

check: $(STAMP)  ## lint (ruff), type-check (mypy --strict), and the layering (import-linter, pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES) tests
	$(BIN)/lint-imports

bench: system-deps $(STAMP)  ## benchmarks; each writes its JSON under docs/bench/
	@set -e; for b in bench.ingest bench.detector bench.api; do \
	  if $(BIN)/python -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('$$b') is None)"; then \
	    echo "== $$b"; $(BIN)/python -m $$b; \
	  else echo "== $$b: not built yet"; fi; \
	done

eval: $(STAMP)  ## score the detector on simulated homes; writes docs/eval/detection.{json,md}
	$(BIN)/python -m bench.evaluation.evaluate
	$(BIN)/python -m bench.realhomes  # real homes (skips itself without ../shared/dev-data/real-homes)
	$(BIN)/python -m bench.visits.evaluate  # carer visits: a simulated month of 50 homes; docs/eval/visits.{json,md}

system-deps:  ## Mosquitto (with its dynamic-security plugin) and wrk (the API benchmark's client) from Debian, if missing
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  echo "installing mosquitto"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq mosquitto mosquitto-clients; }
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing wrk"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "PostgreSQL server binaries are missing: apt-get install postgresql-15"; exit 1; }

timescaledb:  ## TimescaleDB built into the local PostgreSQL from ../shared/vendor/, once per machine, if the source is there
	@deploy/timescaledb/install-from-source.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

clean:  ## remove the venv and the embedded servers' data
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
