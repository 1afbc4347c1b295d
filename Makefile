# The users' verbs. Every target runs inside the project's own virtual environment (.venv), which
# `make install` creates; nothing needs to be installed by hand beyond python3 (>= 3.11).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install generate check-generated check-wheel lint lint-spec typecheck test test-fast mock contract bench demo check lock clean breaking changelog docs

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' -c constraints.txt
	@touch $@

install: $(BIN)/.installed ## Create .venv and install the package with every dev tool (pinned)

generate: install ## Validate openapi/tavus.yaml and rebuild generated/ (byte-identical on every run)
	$(PY) scripts/generate.py

check-generated: install ## Fail if generated/ differs from a fresh generation (compares files, not git)
	$(PY) scripts/generate.py --check

REDOCLY := tools/redocly/node_modules/.bin/redocly

$(REDOCLY): tools/redocly/package.json tools/redocly/package-lock.json
	npm ci --prefix tools/redocly --no-audit --no-fund --loglevel=error
	@touch $@

# Telemetry and the update check off: nothing in the project talks to the internet on its own.
lint-spec: $(REDOCLY) ## Lint openapi/tavus.yaml with Redocly CLI (pinned; rules and reasons in redocly.yaml)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint openapi/tavus.yaml --format=codeframe

check-wheel: install ## Build the wheel; install it in fresh venvs outside the checkout; run tavus-mock, tavus-contract, the fixtures
	$(PY) scripts/check_wheel.py

lint: install lint-spec ## ruff on the hand-written code, and the spec linter
	$(BIN)/ruff check overrides tavus_mock tavus_contract tavus_spec scripts tests bench examples
	$(BIN)/ruff format --check overrides tavus_mock tavus_contract tavus_spec scripts tests bench examples

typecheck: install ## mypy --strict on the hand-written code (overrides as applied, mock, examples)
	$(BIN)/mypy -p tavus_client._overrides -p tavus_client._resources -p tavus_mock -p tavus_contract -p tavus_spec
	$(BIN)/mypy examples bench scripts

test: install ## Everything CI runs: drift check, lint, types, unit, integration, contract and wheel tests
	$(MAKE) check-generated
	$(MAKE) lint
	$(MAKE) typecheck
	$(BIN)/pytest -q
	$(MAKE) check-wheel

test-fast: install ## Unit and integration tests only (no contract suite)
	$(BIN)/pytest -q -m "not contract"

mock: install ## Run the reference server on http://127.0.0.1:8080 (key: any; see README)
	$(BIN)/tavus-mock --port $${PORT:-8080} $(MOCK_ARGS)

contract: install ## Run the contract suite against BASE_URL with TAVUS_API_KEY
	@test -n "$(BASE_URL)" || { echo "usage: make contract BASE_URL=http://host:port TAVUS_API_KEY=..."; exit 2; }
	$(BIN)/tavus-contract --base-url "$(BASE_URL)" $(CONTRACT_ARGS)

bench: install ## Print benchmark figures (medians and ratios; never pass/fail)
	$(PY) bench/bench_mock.py
	$(PY) bench/bench_client.py

demo: install ## Start the reference server on a free port and run the quickstart against it
	$(PY) examples/demo.py

BASE ?=
breaking: install ## What an edit breaks against BASE=<git ref> (default: newest v* tag, else main); exit 1 unless the release says so
	$(PY) scripts/breaking.py $(if $(BASE),--base $(BASE),)

changelog: install ## Print a draft of the next CHANGELOG.md entry from the spec and API diffs against BASE
	$(PY) scripts/breaking.py --changelog $(if $(BASE),--base $(BASE),)

docs: install ## Build the reference site into site/ (offline; open with: python3 -m http.server -d site)
	$(PY) scripts/docs.py

check: test ## Alias of test

lock: install ## Refresh constraints.txt (every installed version) after changing dependencies
	$(PY) -m pip freeze --exclude-editable | grep -v '^tavus' > constraints.txt

clean: ## Remove caches (keeps .venv)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis generated/.scratch site build/docs-src
