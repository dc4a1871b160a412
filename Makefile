# The two commands of the README, `make run` and `make test`, and a few more. Each builds what it
# needs.
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: run test test-unit java class-archive ui benchmark

# At the versions the suite last passed with (.ci/constraints.txt), not whatever is newest.
CONSTRAINTS := .ci/constraints.txt
$(INSTALLED): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $(INSTALLED)

java:
	@scripts/ensure-java

# Once per Java and Spark: the JVMs' classes, archived so that each JVM starts seconds sooner
# (stedi_assets/operations/class_archive_writer.py). Without it JVMs start as before.
class-archive: $(INSTALLED) java
	@$(VENV)/bin/python -m stedi_assets.operations.class_archive_writer || true

run: $(INSTALLED) java class-archive
	$(VENV)/bin/stedi run

# Two workers, a file at a time (conftest.py puts the longest files first).
TEST_WORKERS ?= 2
test: $(INSTALLED) java class-archive
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The tests that need no JVM, pipeline or server (seconds): see docs/testing.md.
test-unit: $(INSTALLED)
	$(VENV)/bin/pytest -m unit

# The project's Dagster instance (.stedi/dagster unless DAGSTER_HOME is set): run history and the
# sensor's state outlive the webserver.
ui: $(INSTALLED) java
	home="$$($(VENV)/bin/python -m stedi_assets.operations.instance)" && DAGSTER_HOME="$$home" $(VENV)/bin/dagster dev

benchmark: $(INSTALLED) java
	$(VENV)/bin/python benchmarks/pipeline_vs_plain_pyspark.py
