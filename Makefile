# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test soak screenshots lint typecheck check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: the embedded stack (Temporal dev server + Web UI, PostgreSQL) and one worker.
run: $(STAMP)
	$(BIN)/arrears run

## make test: lint, types, then the whole suite on real parts, browser tests included.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

## make soak: the fault suite at full size (a few hundred cases, every fault, ~10 minutes);
## its figures go to soak-report.json (docs/RELIABILITY.md). `make test` runs a short one.
soak: $(STAMP)
	ARREARS_SOAK=full ARREARS_SOAK_REPORT=$(CURDIR)/soak-report.json $(BIN)/pytest -m soak -s tests/soak

## make screenshots: the browser tests, saving the README's pictures to docs/screenshots/.
screenshots: $(STAMP)
	ARREARS_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -m browser tests/browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .arrears .pytest_cache .mypy_cache .ruff_cache
