# The whole set-up on a fresh machine: `make run` (the demo) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=
# Test processes: the scenario tests mostly wait on sockets, so more processes than cores pay off.
TEST_WORKERS ?= 4
# The wheels of requirements.lock, for the clean-install test (tests/scenario/test_packaging.py)
# to install offline.
WHEELHOUSE ?= $(VENV)/wheelhouse
# mypy reads the package through links under its import names (pyproject.toml [tool.mypy]).
TYPECHECK := build/typecheck
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release the bounds allow.
LOCK_ARGS ?=
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --quiet $(LOCK_ARGS)

.PHONY: run test lint venv test-venv node-deps wheelhouse lock dist bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The dependencies from the lock files (hash-checked), then om-bridge itself without dependencies;
# `pip check` fails when the lock misses one of them.
$(VENV)/.run-installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml requirements-test.lock
	$(BIN)/pip install -q --require-hashes -r requirements-test.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	touch $@ $(VENV)/.run-installed

venv: $(VENV)/.run-installed
test-venv: $(VENV)/.test-installed

# requirements.lock: the run-time dependencies with the redis extra (the Dockerfile, the clean-install
# test); requirements-test.lock: the test extra, pinned to the same versions. Both from pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install -q 'uv>=0.9'
	$(BIN)/uv pip compile pyproject.toml --extra redis $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test -c requirements.lock $(LOCK_FLAGS) \
	  -o requirements-test.lock

$(WHEELHOUSE)/.downloaded: requirements.lock | $(BIN)/python
	$(BIN)/pip download -q --require-hashes --only-binary :all: -d $(WHEELHOUSE) -r requirements.lock
	touch $@

wheelhouse: $(WHEELHOUSE)/.downloaded

# The wheel and the sdist of om-bridge into dist/.
dist: test-venv
	rm -f dist/om_bridge-*
	$(BIN)/python -m build --no-isolation --outdir dist .

# npm packages used only by tests (the extension's shape is checked against @cognigy/extension-tools).
node-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  for p in @cognigy/extension-tools @cognigy/rest-api-client @cognigy/socket-client purecloud-platform-client-v2 typescript; do \
	    [ -d tests/js/node_modules/$$p ] || { npm install --silent --no-audit --no-fund --no-package-lock --prefix tests/js; break; }; \
	  done; \
	else echo "npm not found: the Node.js extension test will be skipped"; fi

run: venv
	$(BIN)/om-bridge demo $(ARGS)

# mypy (and grimp, import-linter's graph builder) do not follow the editable install's import hook
# (om_bridge.bridge is the folder bridge/): they read a tree that has every folder under its import
# name, as real directories of links to the files (tools that do not descend into linked
# directories see everything too), rebuilt on each run. import-linter puts its working directory
# first on sys.path, so it runs inside that tree.
$(TYPECHECK)/om_bridge: FORCE
	rm -rf $(TYPECHECK) && mkdir -p $@
	for f in om_bridge/*; do ln -s $(CURDIR)/$$f $@/; done
	for d in bridge sandbox extension schemas flows; do cp -rs $(CURDIR)/$$d $@/$$d; done
	find $@ -name __pycache__ -prune -exec rm -rf {} +

.PHONY: FORCE
FORCE:

# The lint and type gate: ruff (lint and format) on everything, mypy on the package code
# (pyproject.toml [tool.mypy] names it: the om_bridge package, each folder once under its import name),
# and the import-layer contract (.importlinter: layers, no package cycle, descriptors apart).
lint: test-venv $(TYPECHECK)/om_bridge
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(TYPECHECK) && PYTHONPATH=. $(CURDIR)/$(BIN)/lint-imports --config $(CURDIR)/.importlinter

test: test-venv node-deps wheelhouse lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(ARGS)

bench: venv
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .mypy_cache .ruff_cache tests/js/node_modules
