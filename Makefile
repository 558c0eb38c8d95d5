# The whole set-up on a fresh machine: `make run` (the demo) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=
# Test processes: the scenario tests mostly wait on sockets, so more processes than cores pay off.
TEST_WORKERS ?= 4

.PHONY: run test lint venv test-venv node-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.run-installed

venv: $(VENV)/.run-installed
test-venv: $(VENV)/.test-installed

# npm packages used only by tests (the extension's shape is checked against @cognigy/extension-tools).
node-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  [ -d tests/js/node_modules/@cognigy/extension-tools ] || npm install --silent --no-audit --no-fund --no-package-lock --prefix tests/js; \
	else echo "npm not found: the Node.js extension test will be skipped"; fi

run: venv
	$(BIN)/om-bridge demo $(ARGS)

# The lint and type gate: ruff (lint and format) on everything, mypy on the package code
# (pyproject.toml [tool.mypy] names it: the om_bridge package, each folder once under its import name),
# and the import-layer contract (.importlinter: layers, no package cycle, descriptors apart).
lint: test-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: test-venv node-deps lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(ARGS)

bench: venv
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .mypy_cache .ruff_cache tests/js/node_modules
