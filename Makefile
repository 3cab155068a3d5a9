# The two commands a new user needs: `make run` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test faults lint typecheck system-deps bench clean dist screenshots

# Debian packages the tests drive, as command:package (the package when it has another name):
# chromium (browser tests), promtool from prometheus (checks deploy/prometheus), systemd-analyze
# from systemd (verifies deploy/systemd). Installed when missing and root; otherwise the tests
# that need them skip on a laptop and fail in CI.
SYSTEM_PACKAGES := chromium promtool:prometheus systemd-analyze:systemd
system-deps:
	@missing=""; for entry in $(SYSTEM_PACKAGES); do cmd=$${entry%%:*}; pkg=$${entry#*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing$$missing: the tests that need them will skip (and fail in CI)"; fi; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

$(VENV)/.bench-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.run-deps

# `make run PORT=8081` (or HOST=0.0.0.0) passes them on to `controlplane up`.
run: $(VENV)/.run-deps
	$(BIN)/controlplane up$(if $(HOST), --host $(HOST))$(if $(PORT), --port $(PORT))

# A wheel in dist/ (deploy/README.md installs it); no build dependency beyond pip.
dist: | $(BIN)/python
	rm -rf dist build
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/*.whl

# The README's screenshots: the dashboard in trouble and all clear, made by a real browser
# against real workers (tests/browser/screenshots.py, which `make test` does not collect).
screenshots: $(VENV)/.test-deps system-deps
	CONTROLPLANE_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/browser/screenshots.py

lint: $(VENV)/.test-deps
	$(BIN)/ruff check controlplane worker_tasks tests bench
	$(BIN)/ruff format --check controlplane worker_tasks tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.test-deps
	$(BIN)/mypy

# The fault matrix (tests/faults, FAULTS.md) runs on its own: `make faults`, after `make test`
# in CI (.ci/run), so `make test` stays well under 15 minutes on this machine.
test: lint typecheck system-deps
	$(BIN)/python -m pytest -m "not faults and not long" $(PYTEST_ARGS)

# The fault matrix and the other multi-process tests of a minute or more (marked `long`, such
# as three serve replicas, two ingesters and two schedulers on one database).
faults: $(VENV)/.test-deps system-deps
	$(BIN)/python -m pytest -m "faults or long" -rA $(PYTEST_ARGS)

# Every benchmark at its default size, one JSON object per figure on stdout (bench/README.md
# lists them with their targets); progress and notes go to stderr. They start their own
# redis-servers; PostgreSQL is CONTROLPLANE_TEST_POSTGRES_URL (default the local server),
# RabbitMQ the local one. audit_accuracy.py needs the labelled checkouts: AUDIT_SOURCES=DIR.
BENCHES := ingest scrape pages failure_pages dispatch depth autoscale_sim audit
bench: $(VENV)/.bench-deps
	@for name in $(BENCHES); do echo "# bench/$$name.py" >&2; \
	  $(BIN)/python bench/$$name.py || exit 1; done
	@if [ -n "$(AUDIT_SOURCES)" ]; then echo "# bench/audit_accuracy.py" >&2; \
	  $(BIN)/python bench/audit_accuracy.py --sources "$(AUDIT_SOURCES)"; \
	else echo "# bench/audit_accuracy.py skipped: set AUDIT_SOURCES=DIR (tests/audit/real_projects/README.md)" >&2; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output dist build
