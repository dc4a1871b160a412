"""Issue 12, item 8: suspected weaknesses, each shown to be unable to happen."""

import json

from pyspark.sql import functions as F

from stedi_assets import checks, quality, tally
from stedi_assets.contract import CUSTOMER, CUSTOMER_LANDING
from stedi_assets.metadata import MASKED
from stedi_assets_tests import reference
from stedi_assets_tests.helpers import customer, landing

# -- (d) unknown field names in the schema drift report ---------------------------------------

# Field names that are personal data: a producer that keys records by e-mail, phone number,
# name or birthday.
PERSONAL_NAMES = ["alice@example.com", "+1 801 555 1212", "8015551212", "Alice Smith",
                  "1990-01-01", "alice19900101"]


def schema_drift_metadata(rows) -> dict:
    evaluation = checks.schema_drift(CUSTOMER_LANDING, rows)
    return evaluation.result(tally.count_all(evaluation.tallies)).metadata


def test_schema_drift_shows_no_field_name_that_may_be_personal_data(spark):
    rows = landing(spark, CUSTOMER, [
        customer("a@test.com", "S1", loyaltyTier="gold",
                 **{name: {"visits": 3} for name in PERSONAL_NAMES}),
        customer("b@test.com", "S2", **{"bob@example.com": 1, "favourite_colour": "red"}),
    ])

    metadata = schema_drift_metadata(rows)

    shown = json.dumps({key: value.value if hasattr(value, "value") else value
                        for key, value in metadata.items()})
    leaked = [name for name in [*PERSONAL_NAMES, "bob@example.com", "example.com", "555"]
              if name.lower() in shown.lower()]
    assert leaked == [], f"schema_drift metadata shows {leaked}: {shown}"
    # Plain names are still counted by name; the others together, once per record.
    counts = metadata["unknown_fields"].value
    assert counts["loyaltyTier"] == 1 and counts["favourite_colour"] == 1
    assert [count for name, count in counts.items() if name.startswith(MASKED)] == [2]


def test_the_reference_masks_the_same_field_names(spark):
    # The messy landing test compares the report with the reference: both must mask alike.
    names = [*PERSONAL_NAMES, "loyaltyTier", "favourite_colour", "x-1", "_a", "-a", "a1234",
             "a12345", "a" * 64, "a" * 65, "caf\u00e9", "a b", "a.b", "line\n", "", "\uff11" * 5]
    frame = spark.createDataFrame([(name,) for name in names], "name string")
    shown = [row[0] for row in frame.select(quality.shown_field_name(F.col("name"))).collect()]
    assert shown == [reference.shown_field_name(name) for name in names]
