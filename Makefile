# Nudge: `make demo` runs the whole pipeline on simulated data; `make test` runs the tests.
# Both create .venv and install what they need on a machine with only Python 3.11 and pip.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NUDGE := $(BIN)/nudge
INSTALLED := $(VENV)/.installed

# No library telemetry: this machine, and many deployments, have no route out.
export FEAST_USAGE := False
export BENTOML_DO_NOT_TRACK := True
export MLFLOW_ENABLE_TELEMETRY := false
export DO_NOT_TRACK := 1

.DEFAULT_GOAL := help
.PHONY: help install demo test test-slow lint bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv and install nudge with its dev tools

# Bytecode is compiled once at install: uv does not by default, and where PYTHONDONTWRITEBYTECODE is
# set every process (each CLI call, serve worker and test subprocess) compiled feast, mlflow and
# scipy again, ~10 s apiece.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e ".[dev]"
	touch $@

demo: install ## Simulate, build features, train and register the models, serve scores and decisions, build an audience
	$(NUDGE) simulate
	$(NUDGE) features build
	$(NUDGE) features apply
	$(NUDGE) features materialize
	$(NUDGE) train --task all
	$(NUDGE) score-table
	$(NUDGE) scores
	$(NUDGE) evaluate-policy
	$(NUDGE) audience --action welcome_coupon --size 300 --out data/audiences/welcome_demo.csv

test: install ## Run the default test suite (unit, integration, e2e; not slow)
	scripts/redis.sh start
	scripts/chromium.sh
	$(BIN)/pytest -m "not slow"

test-slow: install ## Run only the slow tests
	scripts/redis.sh start
	$(BIN)/pytest -m slow

lint: install ## ruff lint + format check, mypy on every package and the benchmarks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy events features training decisions serving campaigns cli configs benchmarks

bench: install ## Run the benchmarks; figures land in benchmarks/results/
	scripts/redis.sh start
	$(BIN)/python benchmarks/simulator_throughput.py
	$(BIN)/python benchmarks/model_quality.py
	# Materializing is chunked: 1M customers peak near 4 GB RSS but take 30+ min per online store here.
	$(BIN)/python benchmarks/feature_store.py --customers 100000
	$(BIN)/python benchmarks/offline_store.py --customers 100000
	$(BIN)/python benchmarks/serving_load.py --online-store sqlite redis

clean: ## Remove generated data, MLflow store and the venv
	rm -rf data mlruns/* $(VENV)
