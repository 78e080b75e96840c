# sora-mock: `make serve` and `make test` work on a fresh clone (they set up .venv first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# More options for `make serve`, e.g. make serve PORT=9000 ARGS="--seed 3 --config my.yaml".
ARGS ?=
PYTEST_ARGS ?=
BENCH_ARGS ?=
CHECKER_BENCH_ARGS ?= --repeat 1

.PHONY: install serve test fuzz test-fast lint format typecheck check bench bench-checker docs-examples clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# make serve PORT=9000 ARGS="--config my.yaml": HOST, PORT and ARGS (any serve option).
serve: install
	$(BIN)/sora-mock serve --host $(HOST) --port $(PORT) $(ARGS)

test: install
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The mutation fuzz of raw requests at length: FUZZ_CASES per parser (make test runs 1,500).
FUZZ_CASES ?= 50000
FUZZ_SEED ?= 23
fuzz: install
	SORA_MOCK_FUZZ_CASES=$(FUZZ_CASES) SORA_MOCK_FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/python -m pytest -n 2 tests/server/test_fuzz.py $(PYTEST_ARGS)

# The quick loop: everything but the tests marked slow.
test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

# ruff, then the import contracts of pyproject.toml (layers, no I/O below the doors, no cycles).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

# Benchmarks: installs wrk (Debian) and a .venv-bench with the fast extra when missing;
# writes bench/results/*.json and the results section of bench/README.md. Then the checker
# against Schemathesis (installed only into bench/.venv-schemathesis) on the mutant servers.
bench: install
	bash bench/run.sh $(BENCH_ARGS)
	$(MAKE) bench-checker

bench-checker: install
	bash bench/setup_schemathesis.sh
	$(BIN)/python bench/checker_vs_schemathesis.py $(CHECKER_BENCH_ARGS)

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info

# Run the code behind every marked example output of README.md and docs/*.md and write it in.
docs-examples: install
	$(BIN)/python -m tests.docs_examples --write
