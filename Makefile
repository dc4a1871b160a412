# The two commands of the README: `make run` and `make test`. Both build what they need.
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: run test java ui benchmark

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

java:
	@scripts/ensure-java

run: $(INSTALLED) java
	$(VENV)/bin/stedi run

test: $(INSTALLED) java
	$(VENV)/bin/pytest

ui: $(INSTALLED) java
	$(VENV)/bin/dagster dev

benchmark: $(INSTALLED) java
	$(VENV)/bin/python benchmarks/pipeline_vs_plain_pyspark.py
