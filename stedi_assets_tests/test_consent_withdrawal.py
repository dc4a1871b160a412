"""A customer who withdraws consent in a new landing file is gone from every trusted and
curated table, and from every snapshot any table retains, after the next run: even when an
unrelated blocking check fails in that run and stops the tables downstream of it."""

import json

import pytest
from pyspark.sql import functions as F

from stedi_assets.pipeline.checks import NO_DUPLICATE_KEYS
from stedi_assets.rules.contract import STEP_TRAINER_TRUSTED
from stedi_assets.pipeline.resources import build_resources
from stedi_assets.rules.sample_data import SampleSize, generate_landing
from stedi_assets_tests.conftest import open_lakehouse, pipeline_settings, run_pipeline
from stedi_assets_tests.test_checks_block import TamperingLakeIOManager

pytestmark = pytest.mark.pipeline

TRUSTED_AND_CURATED = ("customer_trusted", "accelerometer_trusted", "step_trainer_trusted",
                       "customer_curated", "machine_learning_curated")


def rows_of(frame, email, customer_id, serial):
    """Rows that belong to the customer, whichever identifier the table carries."""
    belongs = F.lit(False)
    for column, value in (("email", email), ("user", email), ("customer_id", customer_id),
                          ("serial_number", serial)):
        if column in frame.columns:
            belongs = belongs | (F.lower(F.trim(F.col(column))) == value)
    return frame.where(belongs).count()


def withdrawal_of(customer) -> str:
    """A landing line: a later record of a published customer (a row of customer_trusted),
    in the feed's own spelling, without research consent (the latest record wins)."""
    return json.dumps({
        "customerName": customer["customer_name"], "email": customer["email"].upper(),
        "phone": customer["phone"], "birthDay": customer["birth_day"],
        "serialNumber": customer["serial_number"],
        "registrationDate": customer["registration_date"],
        "lastUpdateDate": customer["last_update_date"] + 86_400_000,
        "shareWithResearchAsOfDate": 0}) + "\n"


def every_retained_snapshot(lake, table):
    """The table as of each snapshot it retains (main's history and every branch's head)."""
    loaded = lake.iceberg_table(table)
    identifier = lake.catalog.identifier(table)
    for snapshot in loaded.metadata.snapshots:
        yield lake.spark.read.option("versionAsOf", str(snapshot.snapshot_id)).table(identifier)


def customers_without_consent(result) -> int:
    [evaluation] = [e for e in result.get_asset_check_evaluations()
                    if e.check_name == "row_accounting" and e.asset_key.path[-1] == "customer_trusted"]
    return evaluation.metadata["excluded_no_consent"].value


@pytest.mark.pipeline
def test_withdrawn_consent_is_erased_everywhere_even_when_an_unrelated_check_fails(spark, tmp_path):
    landing, lake_path = tmp_path / "landing", tmp_path / "lake"
    generate_landing(landing, SampleSize(customers=40, readings_per_device=6))
    first = run_pipeline(landing, lake_path)
    assert first.success
    assert run_pipeline(landing, lake_path).success  # history: two snapshots of each table
    lake = open_lakehouse(landing, lake_path)
    published = {t: lake.spark.table(lake.catalog.identifier(t)) for t in TRUSTED_AND_CURATED}
    customer = (published["customer_trusted"]
                .join(published["machine_learning_curated"].select("customer_id").distinct(),
                      on="customer_id", how="left_semi")
                .orderBy("email").first())
    who = (customer["email"], customer["customer_id"], customer["serial_number"])
    for table in TRUSTED_AND_CURATED:
        assert rows_of(published[table], *who) > 0, table

    # A later record of the same customer, without consent (the latest record wins)...
    (landing / "customer" / "withdrawal.json").write_text(withdrawal_of(customer))
    # ...and, in the same run, a bug that duplicates a step_trainer_trusted row: its check
    # fails and blocks step_trainer_trusted and machine_learning_curated from publishing.
    resources = build_resources(pipeline_settings(landing, lake_path))
    tampering = TamperingLakeIOManager(lakehouse=resources["lakehouse"], table=STEP_TRAINER_TRUSTED,
                                       tamper=f"{STEP_TRAINER_TRUSTED}:{NO_DUPLICATE_KEYS}")
    second = run_pipeline(landing, lake_path, io_manager=tampering)

    assert not second.success
    failed = {(e.asset_key.path[-1], e.check_name) for e in second.get_asset_check_evaluations()
              if not e.passed}
    assert (STEP_TRAINER_TRUSTED, NO_DUPLICATE_KEYS) in failed
    assert {table for table, _ in failed} == {STEP_TRAINER_TRUSTED}  # (its row accounting too)
    assert customers_without_consent(second) == customers_without_consent(first) + 1
    [erasure] = [e for e in second.get_asset_check_evaluations()
                 if e.asset_key.path[-1] == "customer_trusted" and e.check_name == "consent"]
    assert set(erasure.metadata["erased_withdrawn_rows"].value) == set(TRUSTED_AND_CURATED) - {
        "customer_trusted"}  # customer_trusted itself was republished without them
    for table in TRUSTED_AND_CURATED:
        assert rows_of(lake.spark.table(lake.catalog.identifier(table)), *who) == 0, table
        for snapshot in every_retained_snapshot(lake, table):
            assert rows_of(snapshot, *who) == 0, table
    # What was not erased is still published: only the customer's rows are gone.
    assert lake.spark.table(lake.catalog.identifier("machine_learning_curated")).count() > 0
