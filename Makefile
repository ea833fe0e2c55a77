# The two commands of the README: `make demo` and `make test`. Both work on a fresh machine:
# they create .venv, install leadscore with its dev tools and the Spark extra (so the Spark
# parity test runs; it needs a Java runtime, which .ci/run installs), then do their job.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LEADS ?= 20000
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: install demo data features train scores show report serve test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed

## demo: generate demo data, build features, train, score in the warehouse, show the result
demo: install data features train scores show
	@echo "Send changed scores to your CRM: $(BIN)/leadscore sync --config examples/crm/crm.yml --dry-run"
	@echo "  (then without --dry-run, with LEADSCORE_CRM_TOKEN set; README: Sending scores to your CRM)"

data: install
	$(BIN)/leadscore generate --leads $(LEADS)

features: install
	$(BIN)/dbt build --exclude tag:scoring

train: install
	$(BIN)/python python/train.py

scores: install
	$(BIN)/dbt build --select tag:scoring

show: install
	$(BIN)/leadscore show

## report: write reports/leadscore_report.html (calibration, lift, tiers, drift, segments, reasons)
report: install
	$(BIN)/leadscore report

## serve: score leads in real time over HTTP on 127.0.0.1:8000 (OpenAPI at /docs)
serve: install
	$(BIN)/leadscore serve $(SERVE_ARGS)

## test: lint, then every test (dbt data and unit tests run inside the pytest suite)
test: install lint
	$(BIN)/python -m pytest

# SQL held to the house style (sqlfluff, .sqlfluff): every model. DuckDB-only syntax (lists,
# structs, lambdas) lives in the dispatch macros of macros/cross_db/. analyses/ is left out: its
# one file renders JSON (what `leadscore serve` reads), not SQL.
SQL_LINTED := models

lint: install
	$(BIN)/ruff check python tests bench
	$(BIN)/sqlfluff lint $(SQL_LINTED)

clean:
	rm -rf target logs data artifacts published reports spark warehouse.duckdb warehouse.duckdb.wal
