"""What the checks look for, on hand-made good and bad tables."""

from pyspark.sql import functions as F

from stedi_assets.rules import quality, transforms
from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, STEP_TRAINER
from stedi_assets_tests.helpers import KEY, T0, customer, landing, reading, rows, step


def test_duplicate_keys_finds_repeated_keys_only(spark):
    table = spark.createDataFrame([(1, "a"), (1, "a"), (2, "a"), (1, "b")], "k int, v string")
    assert rows(quality.duplicate_keys(table, ("k", "v")), "k", "v", "occurrences") == [(1, "a", 2)]


def test_consent_violations_in_both_modes(spark):
    customers = landing(spark, CUSTOMER, [customer("a@test.com", "S1", consent=T0 + 10),
                                          customer("b@test.com", "S2", consent=None)])
    consenting = quality.consenting_customers(customers, KEY)
    table = spark.createDataFrame(
        [("a@test.com", T0 + 10), ("a@test.com", T0 + 9), ("b@test.com", T0 + 50)],
        "user string, timestamp long")
    any_mode = quality.consent_violations(table, consenting, "user", "timestamp", "any")
    as_of = quality.consent_violations(table, consenting, "user", "timestamp", "as_of_date")
    assert rows(any_mode, "user", "timestamp") == [("b@test.com", T0 + 50)]
    assert rows(as_of, "user", "timestamp") == [("a@test.com", T0 + 9), ("b@test.com", T0 + 50)]


def test_a_join_on_time_alone_is_caught_as_cross_customer_pairs(spark):
    customers = landing(spark, CUSTOMER, [customer("a@test.com", "SA"), customer("b@test.com", "SB")])
    trusted = transforms.customer_trusted(customers, KEY)
    phone = transforms.accelerometer_trusted(landing(spark, ACCELEROMETER, [
        reading("a@test.com", T0, 1, 1, 1), reading("b@test.com", T0, 9, 9, 9)]), trusted, "any")
    owners = transforms.customer_curated(trusted, phone)
    steps = transforms.step_trainer_trusted(landing(spark, STEP_TRAINER, [step("SA", T0)]), owners, "any")
    # The course rubric's join: step-trainer readings to phone readings on time only.
    on_time_only = steps.join(
        phone.select("customer_id", F.col("timestamp").alias("sensor_reading_time"), "x", "y", "z"),
        on="sensor_reading_time", how="inner",
    )
    right = transforms.machine_learning_curated(steps, owners, phone)
    assert quality.cross_customer_pairs(right, owners, phone).count() == 0
    assert rows(quality.cross_customer_pairs(on_time_only, owners, phone), "x") == [(9.0,)]


def test_identifiers_are_found_by_column_name_and_by_value(spark):
    table = spark.createDataFrame([("id1", "Ann.Lee@test.com"), ("id2", "fine")], "customer_id string, note string")
    assert quality.identifier_columns(table) == []
    assert rows(quality.email_like_values(table), "customer_id") == [("id1",)]
    named = table.withColumnRenamed("note", "Email")
    assert quality.identifier_columns(named) == ["Email"]
