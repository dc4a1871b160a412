"""A customer who withdraws consent in a new landing file is gone from every trusted and
curated table on the next run, and from every stored version once retention has run."""

import json
from pathlib import Path

from pyspark.sql import functions as F

from stedi_assets.sample_data import SampleSize, generate_landing
from stedi_assets_tests.conftest import open_lakehouse, run_pipeline

TRUSTED_AND_CURATED = ("customer_trusted", "accelerometer_trusted", "step_trainer_trusted",
                       "customer_curated", "machine_learning_curated")


def published(spark, landing, lake, table):
    return spark.read.parquet(open_lakehouse(landing, lake).require_published(table).data_location)


def rows_of(frame, email, customer_id, serial):
    """Rows that belong to the customer, whichever identifier the table carries."""
    belongs = F.lit(False)
    for column, value in (("email", email), ("user", email), ("customer_id", customer_id),
                          ("serial_number", serial)):
        if column in frame.columns:
            belongs = belongs | (F.lower(F.trim(F.col(column))) == value)
    return frame.where(belongs).count()


def customers_without_consent(result) -> int:
    [evaluation] = [e for e in result.get_asset_check_evaluations()
                    if e.check_name == "row_accounting" and e.asset_key.path[-1] == "customer_trusted"]
    return evaluation.metadata["excluded_no_consent"].value


def test_withdrawn_consent_removes_every_row_of_the_customer(spark, tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    generate_landing(landing, SampleSize(customers=40, readings_per_device=6))
    first = run_pipeline(landing, lake)
    assert first.success
    ml = published(spark, landing, lake, "machine_learning_curated")
    customer = (published(spark, landing, lake, "customer_trusted")
                .join(ml.select("customer_id").distinct(), on="customer_id", how="left_semi")
                .orderBy("email").first())
    who = (customer["email"], customer["customer_id"], customer["serial_number"])
    for table in TRUSTED_AND_CURATED:
        assert rows_of(published(spark, landing, lake, table), *who) > 0, table

    # A later record of the same customer, without consent (the latest record wins).
    withdrawal = {"customerName": customer["customer_name"], "email": customer["email"].upper(),
                  "phone": customer["phone"], "birthDay": customer["birth_day"],
                  "serialNumber": customer["serial_number"],
                  "registrationDate": customer["registration_date"],
                  "lastUpdateDate": customer["last_update_date"] + 86_400_000,
                  "shareWithResearchAsOfDate": 0}
    (landing / "customer" / "withdrawal.json").write_text(json.dumps(withdrawal) + "\n")
    second = run_pipeline(landing, lake)

    assert second.success
    for table in TRUSTED_AND_CURATED:
        assert rows_of(published(spark, landing, lake, table), *who) == 0, table
    assert customers_without_consent(second) == customers_without_consent(first) + 1

    # Older versions still hold the customer until retention removes them.
    lakehouse = open_lakehouse(landing, lake)
    lakehouse.vacuum(keep=1)
    for table in TRUSTED_AND_CURATED:
        for folder in Path(lakehouse.require_published(table).data_location).parent.iterdir():
            assert rows_of(spark.read.parquet(str(folder)), *who) == 0, folder
