"""The raw landing feeds as the contract registers them: typed JSON tables in Glue (moto) and
Athena DDL, the course's DDL typed."""

import boto3
import pytest
from moto import mock_aws

from stedi_assets.lake.raw_landing import iceberg_ddl, raw_ddl, register_in_glue


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
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
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
    assert "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'" in ddl
    assert "LOCATION 's3://raw/landing/step_trainer/'" in ddl
    assert "'classification'='json'" in ddl


def test_iceberg_ddl_is_athenas():
    ddl = iceberg_ddl("customer_curated", [("customer_id", "string"), ("x", "double")],
                      "s3://lake/curated/customer_curated", "stedi")
    assert ddl == ("CREATE TABLE IF NOT EXISTS `stedi`.`customer_curated` (\n"
                   "  `customer_id` string,\n  `x` double\n)\n"
                   "LOCATION 's3://lake/curated/customer_curated/'\n"
                   "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet');")
