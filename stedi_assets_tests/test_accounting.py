"""Row accounting and schema drift on tiny hand-made landing tables."""

import json

import pytest
from pyspark.sql import functions as F

from stedi_assets.rules import accounting, quality, transforms
from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, STEP_TRAINER
from stedi_assets.rules.validation import landing_quarantine, validate
from stedi_assets_tests.helpers import KEY, T0, customer, landing, reading, step

A, B = "ann@test.com", "bob@test.com"


@pytest.fixture(scope="module")
def tables(spark):
    customers = landing(spark, CUSTOMER, [
        customer(A, "S1", registered=T0 - 5, consent=None),  # older record: superseded
        customer(A, "S1", registered=T0, consent=T0 + 10),
        customer(B, "S2", consent=None),
        '{"email": "broken',
    ])
    readings = landing(spark, ACCELEROMETER, [
        reading(A, T0 + 20), reading(" Ann@Test.com ", T0 + 20),  # the same reading twice
        reading(A, T0 + 20, x=1.0),  # another reading in the same millisecond
        reading(A, T0 + 5),  # before A's consent date
        reading(B, T0 + 20),  # B does not consent
        reading("zoe@test.com", T0 + 20),  # not a customer
        '{"user": "ann@test.com"}',
    ])
    steps = landing(spark, STEP_TRAINER, [
        step("S1", T0 + 20, 200), step("s1", T0 + 20, 200),  # exact repeat
        step("S1", T0 + 30, 200), step("S1", T0 + 30, 210),  # conflicting distances
        step("S1", T0 + 5),  # before A's consent date
        step("S2", T0 + 20),  # B's device: no consent
        step("S9", T0 + 20),  # nobody's device
    ])
    quarantine = landing_quarantine([(CUSTOMER, customers), (ACCELEROMETER, readings),
                                     (STEP_TRAINER, steps)])
    return customers, readings, steps, quarantine


@pytest.mark.parametrize("mode, no_consent, kept", [("any", 1, 3), ("as_of_date", 2, 2)])
def test_accelerometer_rows_all_accounted_for(tables, mode, no_consent, kept):
    customers, readings, _, quarantine = tables
    trusted = transforms.accelerometer_trusted(
        readings, transforms.customer_trusted(customers, KEY), mode)
    terms = accounting.accelerometer_terms(readings, quarantine, customers, trusted, KEY, mode)
    assert terms == {"read": 7, "valid": 6, "quarantined": 1, "kept": kept,
                     "excluded_no_consent": no_consent, "excluded_orphans": 1,
                     "removed_duplicates": 1}
    assert accounting.balance_problems(terms) == []


@pytest.mark.parametrize("mode, no_consent, kept", [("any", 1, 3), ("as_of_date", 2, 2)])
def test_step_trainer_rows_all_accounted_for(tables, mode, no_consent, kept):
    customers, readings, steps, quarantine = tables
    customer_trusted = transforms.customer_trusted(customers, KEY)
    curated = transforms.customer_curated(
        customer_trusted, transforms.accelerometer_trusted(readings, customer_trusted, "any"))
    trusted = transforms.step_trainer_trusted(steps, curated, mode)
    terms = accounting.step_trainer_terms(steps, quarantine, customers, curated, trusted, KEY, mode)
    assert terms == {"read": 7, "valid": 7, "quarantined": 0, "kept": kept,
                     "excluded_no_consent": no_consent, "excluded_orphans": 1,
                     "removed_duplicates": 2, "conflicting_distances": 1}
    assert accounting.balance_problems(terms) == []


def test_customer_rows_all_accounted_for_and_a_lost_row_is_caught(tables):
    customers, _, _, quarantine = tables
    trusted = transforms.customer_trusted(customers, KEY)
    terms = accounting.customer_terms(customers, quarantine, trusted, KEY)
    assert terms == {"read": 4, "valid": 3, "quarantined": 1, "kept": 1,
                     "excluded_no_consent": 1, "excluded_orphans": 0, "removed_duplicates": 1}
    lossy = accounting.customer_terms(customers, quarantine.limit(0), trusted.limit(0), KEY)
    assert accounting.balance_problems(lossy) == [
        "read 4 != valid 3 + quarantined 0", "valid 3 != kept + excluded + duplicates 2"]


def validated_files(spark, files: dict[str, list[dict]], source):
    rows = [(name, json.dumps(record)) for name, records in files.items() for record in records]
    validated = validate(spark.createDataFrame(rows, "source_file string, raw_line string"), source)
    # Cut the lineage as the pipeline does by reading landing tables back from Parquet.
    return spark.createDataFrame(validated.collect(), validated.schema)


def test_a_required_field_missing_from_a_whole_file_is_found(spark):
    without_time = [{"user": A, "x": 1, "y": 2, "z": 3}] * quality.DRIFT_MIN_RECORDS
    few_without_time = without_time[:3]
    mixed = without_time + [reading(A, T0)]
    validated = validated_files(spark, {"changed.json": without_time, "few.json": few_without_time,
                                        "mixed.json": mixed}, ACCELEROMETER)
    found = quality.fields_missing_from_whole_files(validated, ACCELEROMETER).collect()
    assert [tuple(row) for row in found] == [("changed.json", "timeStamp", 10)]


def test_unknown_fields_are_counted_per_name(spark):
    records = [{**reading(A, T0), "colour": "red"}, {**reading(A, T0), "colour": "blue",
                                                     "Mood": 1}, reading(B, T0)]
    validated = validated_files(spark, {"a.json": records}, ACCELEROMETER)
    counts = quality.unknown_field_counts(validated).orderBy("field")
    assert [tuple(row) for row in counts.collect()] == [("Mood", 1), ("colour", 2)]
    assert validated.where(F.size("invalid_reasons") > 0).count() == 0
