"""Every check fails on a violating table, blocks what is built from it, and leaves the
published tables as they were.

The real pipeline runs on a small generated landing zone, first untampered (publishing every
table), then once per check with a tampering IO manager that corrupts one table as it is
written, the way a bug upstream would. All runs share one lake: a failed check must never
change what is published.
"""

from dataclasses import replace

import pytest
from dagster import AssetKey
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi_assets.pipeline.checks import (
    CONSENT, NO_DIRECT_IDENTIFIERS, NO_DUPLICATE_KEYS, NO_SUDDEN_SHRINK, REQUIRED_FIELDS_PRESENT,
    ROW_ACCOUNTING, SAME_CUSTOMER_PAIRS, SCHEMA_DRIFT, VALID_RECORDS_PRESENT,
)
from stedi_assets.rules.check_counts import ACCOUNTED_SOURCE, OWNER_AND_TIME
from stedi_assets.rules.contract import (
    AUDITED_TABLES, CUSTOMER_CURATED, MACHINE_LEARNING_CURATED, SOURCE_BY_TABLE, UNIQUE_KEYS,
)
from stedi_assets.lake.incremental import FULL_TAG, TableUpdate
from stedi_assets.rules.validation import ValidatedLanding, missing_reason
from stedi_assets.pipeline.definitions import build_definitions
from stedi_assets.pipeline.resources import LakeIOManager, build_resources
from stedi_assets.operations.settings import load_settings
from stedi_assets_tests.conftest import check_keys, open_lakehouse, pipeline_settings, run_pipeline


def add_stranger(table: str):
    owner, _ = OWNER_AND_TIME[table]
    return lambda df: df.unionByName(df.limit(1).withColumn(owner, F.lit("stranger@nowhere.test")))


def repeat_a_row(df: DataFrame) -> DataFrame:
    return df.unionByName(df.limit(1))


def add_email(df: DataFrame) -> DataFrame:
    # A table's columns are its Iceberg schema: an e-mail can only sneak in as a value.
    return df.withColumn("serial_number", F.lit("ann.lee@test.com"))


def pair_with_a_reading_the_owner_never_sent(df: DataFrame) -> DataFrame:
    return df.unionByName(df.limit(1).withColumn("x", F.col("x") + 1000))


def lose_a_row(df: DataFrame) -> DataFrame:
    return df.exceptAll(df.limit(1))


def lose_a_required_field(table: str):
    field = next(f for f in SOURCE_BY_TABLE[table].fields if f.required)
    return lambda df: df.withColumn("invalid_reasons", F.array(F.lit(missing_reason(field))))


def make_every_record_unreadable(df: DataFrame) -> DataFrame:
    return df.withColumn("invalid_reasons", F.array(F.lit("not a JSON object")))


# The runs here rebuild every table (tampering with a full version): an incremental run
# would leave them unchanged. test_incremental.py tampers with appended rows.
REBUILD = {FULL_TAG: "true"}
TAMPERS = {}
CASES = []
for table in OWNER_AND_TIME:
    TAMPERS[f"{table}:{CONSENT}"] = add_stranger(table)
    CASES.append((table, CONSENT))
for table in UNIQUE_KEYS:
    TAMPERS[f"{table}:{NO_DUPLICATE_KEYS}"] = repeat_a_row
    CASES.append((table, NO_DUPLICATE_KEYS))
for table in (CUSTOMER_CURATED, MACHINE_LEARNING_CURATED):
    TAMPERS[f"{table}:{NO_DIRECT_IDENTIFIERS}"] = add_email
    CASES.append((table, NO_DIRECT_IDENTIFIERS))
TAMPERS[f"{MACHINE_LEARNING_CURATED}:{SAME_CUSTOMER_PAIRS}"] = pair_with_a_reading_the_owner_never_sent
CASES.append((MACHINE_LEARNING_CURATED, SAME_CUSTOMER_PAIRS))
for table in ACCOUNTED_SOURCE:
    TAMPERS[f"{table}:{ROW_ACCOUNTING}"] = lose_a_row
    CASES.append((table, ROW_ACCOUNTING))
for table in SOURCE_BY_TABLE:
    TAMPERS[f"{table}:{REQUIRED_FIELDS_PRESENT}"] = lose_a_required_field(table)
    CASES.append((table, REQUIRED_FIELDS_PRESENT))
for table in SOURCE_BY_TABLE:
    TAMPERS[f"{table}:{VALID_RECORDS_PRESENT}"] = make_every_record_unreadable
    CASES.append((table, VALID_RECORDS_PRESENT))
WARNING_CASES = [(table, SCHEMA_DRIFT) for table in SOURCE_BY_TABLE]
# Fails for every table in test_shrink (one rule on the snapshots' row counts) and blocks an
# emptied feed there, in a whole run.
SHRINK_CASES = [(table, NO_SUDDEN_SHRINK) for table in AUDITED_TABLES]


def whole(table: DataFrame | ValidatedLanding) -> DataFrame:
    """A landing table, which the pipeline writes in two parts, as one DataFrame."""
    if isinstance(table, ValidatedLanding):
        return table.clean.unionByName(table.rest())
    return table


def tampered(update: TableUpdate, tamper) -> TableUpdate:
    return replace(update, rows=tamper(whole(update.rows)))


class TamperingLakeIOManager(LakeIOManager):
    table: str
    tamper: str

    def handle_output(self, context, obj):
        if context.asset_key.path[-1] == self.table:
            obj = tampered(obj, TAMPERS[self.tamper])
        super().handle_output(context, obj)


def test_every_check_has_a_failing_case():
    assert {(key.asset_key.path[-1], key.name) for key in check_keys()} == set(
        CASES + WARNING_CASES + SHRINK_CASES)


def descendants(table: str) -> set[str]:
    graph = build_definitions(load_settings({})).resolve_asset_graph()
    found, todo = set(), [AssetKey(table)]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child.path[-1] not in found:
                found.add(child.path[-1])
                todo.append(child)
    return found


def test_blocking_is_tested_where_something_is_downstream():
    assert descendants("customer_trusted") == {
        "accelerometer_trusted", "customer_curated", "step_trainer_trusted",
        "machine_learning_curated"}


@pytest.fixture(scope="module")
def published_lake(spark, small_landing, tmp_path_factory):
    lake = tmp_path_factory.mktemp("published") / "lake"
    result = run_pipeline(small_landing, lake)
    assert result.success
    assert {e.check_name for e in result.get_asset_check_evaluations() if not e.passed} == set()
    return lake


def published_state(landing, lake) -> dict:
    return {t.table: (t.snapshot_id, t.rows) for t in open_lakehouse(landing, lake).tables()}


@pytest.mark.pipeline
@pytest.mark.parametrize("table, check", CASES, ids=[f"{t}.{c}" for t, c in CASES])
def test_check_fails_blocks_downstream_and_publishes_nothing(
        small_landing, published_lake, table, check):
    resources = build_resources(pipeline_settings(small_landing, published_lake))
    io_manager = TamperingLakeIOManager(lakehouse=resources["lakehouse"], table=table,
                                        tamper=f"{table}:{check}")
    before = published_state(small_landing, published_lake)
    # Upstream tables are read as published: rebuilding them would only cost time.
    result = run_pipeline(small_landing, published_lake, io_manager=io_manager,
                          tables={table} | descendants(table), tags=REBUILD)

    evaluations = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = evaluations[(table, check)]
    assert failed.passed is False
    assert failed.blocking is True
    assert not result.success
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert table in materialized
    assert descendants(table).isdisjoint(materialized)

    after = published_state(small_landing, published_lake)
    for unchanged in {table} | descendants(table):
        assert after[unchanged] == before[unchanged]
    # The tampered version stays on the run's audit branch, for inspection.
    lake = open_lakehouse(small_landing, published_lake)
    branch = failed.metadata["audit_branch"].value
    checked = int(failed.metadata["checked_snapshot"].value)
    assert checked != before[table][0]
    assert lake.iceberg_table(table).metadata.refs[branch].snapshot_id == checked
    assert failed.metadata["published"].value.startswith("no: a blocking check failed")


class DriftingLakeIOManager(LakeIOManager):
    """A feed that started sending a field the contract does not know."""

    def handle_output(self, context, obj):
        if context.asset_key.path[-1] in SOURCE_BY_TABLE:
            obj = tampered(obj, lambda rows: rows.withColumn(
                "unknown_fields", F.array(F.lit("favouriteColour"))))
        super().handle_output(context, obj)


@pytest.mark.pipeline
def test_schema_drift_warns_without_blocking(small_landing, published_lake):
    resources = build_resources(pipeline_settings(small_landing, published_lake))
    io_manager = DriftingLakeIOManager(lakehouse=resources["lakehouse"])
    before = published_state(small_landing, published_lake)
    result = run_pipeline(small_landing, published_lake, io_manager=io_manager, tags=REBUILD)

    assert result.success
    drift = [e for e in result.get_asset_check_evaluations() if e.check_name == SCHEMA_DRIFT]
    assert {e.asset_key.path[-1] for e in drift} == set(SOURCE_BY_TABLE)
    for evaluation in drift:
        assert evaluation.passed is False
        assert evaluation.severity.value == "WARN"
        assert evaluation.metadata["unknown_fields"].value == {
            "favouriteColour": before[evaluation.asset_key.path[-1]][1]}
    after = published_state(small_landing, published_lake)
    assert all(after[table][0] != before[table][0] for table in SOURCE_BY_TABLE)
