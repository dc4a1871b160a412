from stedi_assets.pipeline.metadata import markdown_preview, shown_columns
from stedi_assets.rules.masking import MASKED


def test_preview_masks_direct_identifiers_and_raw_lines():
    names = ["email", "customer_name", "customer_id", "raw_line"]
    assert shown_columns(names) == ["customer_id"]  # the others are never read
    row = {"email": "Ann.Lee@test.com", "customer_name": "Ann Lee", "customer_id": "id1",
           "raw_line": '{"email": "x@y.z"}'}
    preview = markdown_preview(names, [row])
    assert "Ann" not in preview and "@" not in preview
    assert preview.splitlines()[2] == f"| {MASKED} | {MASKED} | id1 | {MASKED} |"


def test_quarantine_counts_records_per_reason_without_the_values(spark):
    from stedi_assets.pipeline.metadata import quarantine_reasons

    quarantine = spark.createDataFrame([
        ("accelerometer", ["timeStamp: not a whole number in range (1655564376361.5)",
                           "x: not a finite number (1e999)"]),
        ("accelerometer", ["timeStamp: not a whole number in range (17.25)"]),
        ("customer", ["email: not an e-mail address (no @)"]),
        ("customer", ["line is not a JSON object"]),
    ], "source string, reasons array<string>")
    counted = {(r.data["source"], r.data["reason"]): r.data["records"]
               for r in quarantine_reasons(quarantine).value.records}
    assert counted == {
        ("accelerometer", "timeStamp: not a whole number in range"): 2,
        ("accelerometer", "x: not a finite number"): 1,
        ("customer", "email: not an e-mail address (no @)"): 1,
        ("customer", "line is not a JSON object"): 1,
    }


def test_a_written_tables_schema_carries_the_contracts_descriptions(spark):
    from stedi_assets.rules.contract import TABLE_BY_NAME
    from stedi_assets.pipeline.metadata import column_schema

    table = spark.createDataFrame([("id", 1, 2, 0.1, 0.2, 0.3, "sn")],
                                  "customer_id string, sensor_reading_time bigint, "
                                  "distance_from_object bigint, x double, y double, z double, "
                                  "serial_number string")
    about = {c.name: c.about for c in TABLE_BY_NAME["machine_learning_curated"].columns}
    schema = column_schema(table, "machine_learning_curated")
    assert [(c.name, c.type, c.description) for c in schema.columns] == [
        (name, kind, about[name]) for name, kind in table.dtypes]
