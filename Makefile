# Every target installs what it needs into .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install test lint typecheck unit demo bench clean schemas

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -q

test: lint typecheck unit

demo: install
	@echo "== lint the bundled examples (exit 2 is expected: examples/broken has deliberate mistakes)"
	-$(BIN)/calico2cilium lint -R examples/
	@echo
	@echo "== explain one code"
	$(BIN)/calico2cilium explain C2C211

bench: install
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_verify.py

schemas: install
	$(BIN)/python scripts/gen_schemas.py ../shared/crds

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
