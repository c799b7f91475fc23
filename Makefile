# The two commands a newcomer needs: `make demo` runs everything, `make test` runs every test.
# Both install what they need first: Mosquitto from Debian, and a .venv from pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := kernel telecare ingest api accounts alerts anomaly devices homes simulators migrations bench \
	visits notifications console rostering

.PHONY: demo test check bench eval system-deps timescaledb venv clean console-assets browser screenshots

demo: system-deps console-assets $(STAMP)  ## run the whole system with simulated homes (Ctrl-C stops it)
	$(BIN)/telecare run

test: system-deps timescaledb console-assets browser $(STAMP)  ## the whole test suite against real PostgreSQL (plain and TimescaleDB) and Mosquitto
	$(BIN)/pytest

check: $(STAMP)  ## lint (ruff), type-check (mypy --strict), and the layering (import-linter, pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES) tests
	$(BIN)/lint-imports

bench: system-deps console-assets $(STAMP)  ## benchmarks; each writes its JSON under docs/bench/
	@set -e; for b in bench.ingest bench.detector bench.api bench.fleet bench.rostering bench.console bench.notifications bench.visits; do \
	  if $(BIN)/python -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('$$b') is None)"; then \
	    echo "== $$b"; $(BIN)/python -m $$b; \
	  else echo "== $$b: not built yet"; fi; \
	done

eval: $(STAMP)  ## score the detector on simulated homes; writes docs/eval/detection.{json,md}
	$(BIN)/python -m bench.evaluation.evaluate
	$(BIN)/python -m bench.visits.evaluate  # carer visits: a simulated month, labelled outcomes; writes docs/eval/visits.json
	$(BIN)/python -m bench.realhomes  # real homes, clean logs also through broker+ingest+DB (skips itself without ../shared/dev-data/real-homes)

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

# The web console's browser libraries (console/package.json, exact versions in package-lock.json), from the
# npm registry into console/node_modules (git-ignored), served by the console itself: no CDN, no build step.
CONSOLE_ASSETS := console/node_modules/.package-lock.json
console-assets: $(CONSOLE_ASSETS)  ## htmx and uPlot for the web console (Debian's nodejs and npm, if missing)

$(CONSOLE_ASSETS): console/package.json console/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing nodejs and npm"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; }
	cd console && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(CONSOLE_ASSETS)

screenshots: system-deps console-assets browser $(STAMP)  ## the console's screenshots in docs/console/, from 28 simulated days
	TELECARE_SCREENSHOTS=docs $(BIN)/pytest tests/console/test_screenshots.py -q

browser:  ## Debian's chromium for the console's browser tests (Playwright drives it; never a downloaded browser)
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

clean:  ## remove the venv and the embedded servers' data
	rm -rf $(VENV) var console/node_modules .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
