"""Issue 12, item 8: suspected weaknesses, each shown to be unable to happen."""

import json

from pyspark.sql import functions as F

from stedi_assets.pipeline import checks, metadata
from stedi_assets.rules import quality, tally, validation
from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, CUSTOMER_LANDING
from stedi_assets.lake import catalog
from stedi_assets.rules.masking import MASKED
from stedi_assets_tests import reference
from stedi_assets_tests.helpers import T0, customer, landing, reading

# -- (c) a landing file that is one giant line ------------------------------------------------


def test_a_file_that_is_one_giant_line_is_quarantined_with_its_start_only(spark, tmp_path):
    folder = tmp_path / "accelerometer"
    folder.mkdir()
    one_array = "[" + ",".join(['{"x":1}'] * 10**6) + "]"  # a JSON array of 10^6 objects
    (folder / "array.json").write_text(one_array + "\n" + json.dumps(reading("a@test.com", T0)))

    validated = validation.validate(validation.read_landing_lines(spark, str(folder)), ACCELEROMETER)
    kept = validated.select("source_file", "invalid_reasons",
                            F.octet_length("raw_line").alias("kept"), "raw_line").collect()

    [giant] = [row for row in kept if row["invalid_reasons"]]
    assert giant["source_file"].endswith("/accelerometer/array.json")
    assert giant["invalid_reasons"] == [validation.LINE_TOO_LONG]
    # The quarantine (and so the UI and every reader of it) holds the line's start, not 8 MB.
    assert giant["kept"] < 2 * validation.KEPT_OF_A_LONG_LINE, giant["kept"]
    assert giant["raw_line"].startswith(one_array[:validation.KEPT_OF_A_LONG_LINE])
    assert giant["raw_line"].endswith(f"[{len(one_array)} bytes in all]")
    assert [row["invalid_reasons"] for row in kept].count([]) == 1  # the next line: as usual


def test_a_line_just_within_the_limit_is_judged_as_usual(spark):
    padding = "x" * (validation.MAX_LINE_BYTES - 100)
    line = json.dumps({**reading("a@test.com", T0), "note": padding})
    assert len(line.encode()) <= validation.MAX_LINE_BYTES
    assert landing(spark, ACCELEROMETER, [line, line + " " * 100]).select(
        "invalid_reasons").collect() == [([],), ([validation.LINE_TOO_LONG],)]


def test_the_ui_preview_brings_no_raw_line_to_the_driver(tmp_path):
    """The preview reads its rows through pyiceberg, only the columns it shows."""
    import pyarrow as pa

    from stedi_assets.lake import Lakehouse, LakeCatalog

    sentinel = "raw-line-" + "x" * 10_000
    rows = pa.table({"source_file": ["a.json"], "raw_line": [sentinel],
                     "email": ["a@test.com"], "n": pa.array([3], pa.int32())})
    lake = Lakehouse(LakeCatalog("local", str(tmp_path / "lake"), str(tmp_path / "landing")))
    lake.catalog.pyiceberg.create_namespace(lake.catalog.database)
    created = lake.catalog.pyiceberg.create_table(
        (lake.catalog.database, "customer_trusted"), schema=rows.schema)
    created.append(rows)
    names = rows.column_names
    read = lake.first_rows("customer_trusted", created.current_snapshot().snapshot_id,
                           metadata.shown_columns(names), metadata.PREVIEW_ROWS)
    preview = metadata.markdown_preview(names, read)

    assert "raw-line" not in str(read) and "a@test.com" not in str(read)
    assert MASKED in preview and "a.json" in preview and "3" in preview


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


# -- (a) the S3A connector's credentials -------------------------------------------------------
# (test_on_s3.py runs Spark and boto3 with a named profile, an SSO profile and plain keys.)

def test_s3a_asks_for_a_web_identity_only_when_there_is_a_token_file(monkeypatch):
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    without = catalog.s3a_credential_providers()
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token")
    with_token = catalog.s3a_credential_providers()

    web_identity = "software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider"
    profile = "software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider"
    assert web_identity not in without and profile in without
    assert with_token.index(web_identity) < with_token.index(profile)
