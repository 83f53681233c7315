# Two entry points for a fresh machine with only Python >= 3.12 and the package
# registries: `make demo` and `make test`. Each bootstraps uv and the locked
# environment (.venv) on first use.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
RUN := $(UV) run --frozen --no-sync
DEMO_OUTPUT ?= demo_output
# Further demo options, e.g. DEMO_ARGS='--weights my_encoder.pt --seed 1'.
DEMO_ARGS ?=

.PHONY: env demo test lint typecheck docs pytest test-slow test-data clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev
	touch $@

env: .venv/.synced

demo: env
	$(RUN) torchgeo-spectral demo --output $(DEMO_OUTPUT) $(DEMO_ARGS)

lint: env
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: env
	$(RUN) mypy

docs: env
	$(RUN) sphinx-build -W --keep-going -q -b html docs docs/_build/html

pytest: env
	$(RUN) pytest

test: lint typecheck docs pytest

test-slow: env
	$(RUN) pytest -m slow

test-data: env
	$(RUN) pytest -m data

clean:
	rm -rf .venv .tools docs/_build $(DEMO_OUTPUT)
