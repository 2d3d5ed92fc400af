# The two entry points a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-web lint typecheck bench conformance services clean

$(STAMP): pyproject.toml setup.py
	bash scripts/setup.sh
	touch $(STAMP)

## Set up, then run the whole stack on embedded defaults (SQLite, a private Mosquitto).
demo: $(STAMP)
	$(BIN)/whs demo $(ARGS)

## Set up (Python packages, Mosquitto, PostgreSQL when missing), then run the whole suite.
test: $(STAMP)
	bash scripts/ensure_services.sh
	set -a; [ ! -f .pg-env ] || . ./.pg-env; set +a; $(BIN)/python -m pytest $(PYTEST_ARGS)

## The handheld and dashboard screens in Chromium (screenshots in test-artifacts/screenshots/).
test-web: $(STAMP)
	bash scripts/ensure_services.sh
	set -a; [ ! -f .pg-env ] || . ./.pg-env; set +a; $(BIN)/python -m pytest tests/e2e/test_web_pick.py tests/e2e/test_web_pack_putaway.py tests/e2e/test_web_dash.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot map the folder firmware-interfaces/ to its package name: give it a symlink.
typecheck: $(STAMP)
	mkdir -p build/typing && ln -sfn ../../firmware-interfaces build/typing/firmware_interfaces
	MYPYPATH=build/typing $(BIN)/mypy -p firmware_interfaces -p central -p edge -p simulators -p optimization -p whs

## Benchmarks: results as JSON under benchmarks/results/, summarised in docs/benchmarks.md.
bench: $(STAMP)
	bash scripts/ensure_services.sh
	set -a; [ ! -f .pg-env ] || . ./.pg-env; set +a; $(BIN)/python -m benchmarks

## Every SPRP benchmark instance against its proven optimum (prints the mismatches).
conformance: $(STAMP)
	$(BIN)/python -m benchmarks.conformance_sprp

clean:
	rm -rf $(VENV) var build *.egg-info
