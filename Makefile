# The two commands a new user needs: `make book` and `make test`.
# Each creates (or reuses) a local virtual environment in .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qbpaper-installed

.PHONY: book test lint clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[book,dask,dev]'
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/qbpaper book --profile quick

test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m ruff check .

clean-venv:
	rm -rf $(VENV)
