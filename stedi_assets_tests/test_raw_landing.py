"""The raw landing feeds as the contract registers them: typed JSON tables in Glue (moto) of
exactly the files the pipeline read, as a Hive-style reader sees them, and Athena DDL, the
course's DDL typed."""

import gzip
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from pyiceberg.io.pyarrow import PyArrowFileIO

from stedi_assets.lake.catalog import LakeCatalog
from stedi_assets.lake.raw_landing import (
    SYMLINK_INPUT_FORMAT, iceberg_ddl, manifest, raw_ddl, register_in_glue,
)


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": "stedi"})
        yield client


def test_glue_landing_tables_are_typed_json_over_the_landing_location(glue):
    register_in_glue(glue, "stedi", "customer_landing", "s3://raw/landing/customer")
    register_in_glue(glue, "stedi", "customer_landing", "s3://raw/landing/customer")  # idempotent
    raw = glue.get_table(DatabaseName="stedi", Name="customer_landing")["Table"]
    storage = raw["StorageDescriptor"]
    serde = storage["SerdeInfo"]
    assert raw["TableType"] == "EXTERNAL_TABLE"
    assert raw["Parameters"]["classification"] == "json"
    assert storage["Location"] == "s3://raw/landing/customer/"
    assert storage["InputFormat"] == SYMLINK_INPUT_FORMAT
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert serde["Parameters"]["case.insensitive"] == "TRUE"
    assert serde["Parameters"]["mapping.share_with_research_as_of_date"] == "shareWithResearchAsOfDate"
    columns = [(c["Name"], c["Type"]) for c in storage["Columns"]]
    assert ("registration_date", "bigint") in columns and ("email", "string") in columns


def test_landing_table_ddl_is_the_course_ddl_typed():
    ddl = raw_ddl("step_trainer_landing", "s3://raw/landing/step_trainer", "stedi")
    assert ddl.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS `stedi`.`step_trainer_landing` (")
    assert "  `sensor_reading_time` bigint,\n" in ddl
    assert "  `distance_from_object` bigint\n" in ddl
    assert "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'" in ddl
    assert "'mapping.sensor_reading_time'='sensorReadingTime'" in ddl
    assert "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'" in ddl
    assert "LOCATION 's3://raw/landing/step_trainer/'" in ddl
    assert "'classification'='json'" in ddl


def test_iceberg_ddl_is_athenas():
    ddl = iceberg_ddl("customer_curated", [("customer_id", "string"), ("x", "double")],
                      "s3://lake/curated/customer_curated", "stedi")
    assert ddl == ("CREATE TABLE IF NOT EXISTS `stedi`.`customer_curated` (\n"
                   "  `customer_id` string,\n  `x` double\n)\n"
                   "LOCATION 's3://lake/curated/customer_curated/'\n"
                   "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet');")


def hive_style_lines(location: str) -> list[str]:
    """The lines a Hive-style reader of a symlink table reads: every manifest directly in
    the table's folder (no sub-folder, no name starting `_` or `.`), every file it lists,
    gzip by its suffix."""
    lines = []
    for listed in sorted(Path(location).iterdir()):
        if listed.is_dir() or listed.name.startswith(("_", ".")):
            continue
        for uri in listed.read_text().splitlines():
            raw = Path(uri).read_bytes()
            text = gzip.decompress(raw) if uri.endswith(".gz") else raw
            lines += [line for line in text.decode().splitlines() if line.strip()]
    return lines


def test_the_raw_feed_lists_exactly_the_files_read_wherever_they_lie(glue, tmp_path):
    landing = tmp_path / "landing" / "customer"
    (landing / "2026" / "12").mkdir(parents=True)
    read = {landing / "a b.json": b'{"email": "a@x"}\n\n{"email": "b@x"}\n',
            landing / "2026" / "12" / "c.json.gz": gzip.compress(b'{"email": "c@x"}\n')}
    for path, data in read.items():
        path.write_bytes(data)
    (landing / "README.md").write_text("not a record\n")  # lies there, is not read
    catalog = LakeCatalog(kind="glue", lake_uri=str(tmp_path / "lake"),
                          landing_uri=str(tmp_path / "landing"))

    for files in ([str(landing / "a b.json")], [str(path) for path in read]):  # then updated
        catalog.register_raw_landing("customer_landing", files, PyArrowFileIO())
    raw = glue.get_table(DatabaseName="stedi", Name="customer_landing")["Table"]
    location = raw["StorageDescriptor"]["Location"]
    assert location == f"{tmp_path}/lake/landing/customer_landing/"
    assert sorted(hive_style_lines(location)) == [
        '{"email": "a@x"}', '{"email": "b@x"}', '{"email": "c@x"}']
    assert manifest(["s3://b/z.json", "s3://b/a b.json"]) == b"s3://b/a b.json\ns3://b/z.json\n"
