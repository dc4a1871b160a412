"""Both catalogs: complete Glue TableInputs and DDL (against moto), versions, retention."""

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from stedi_assets.catalog import (
    GlueCatalog, LocalCatalog, StaleVersion, TableVersion, athena_ddl, expired_versions,
    landing_table,
)
from stedi_assets.lakehouse import Lakehouse
from stedi_assets_tests.helpers import write_version

ML = TableVersion("machine_learning_curated", "curated", "s3://lake/curated/machine_learning_curated/v1",
                  (("customer_id", "string"), ("sensor_reading_time", "bigint"), ("x", "double")),
                  row_count=40981)


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield GlueCatalog(database="stedi")


def test_glue_table_input_has_everything_athena_needs(glue):
    glue.publish(ML, expected_version=None)
    raw = boto3.client("glue", region_name="us-east-1").get_table(
        DatabaseName="stedi", Name="machine_learning_curated")["Table"]
    storage = raw["StorageDescriptor"]
    assert raw["TableType"] == "EXTERNAL_TABLE"
    assert raw["Parameters"]["classification"] == "parquet"
    assert raw["Parameters"]["stedi.row_count"] == "40981"
    assert storage["Location"] == "s3://lake/curated/machine_learning_curated/v1/"
    assert storage["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert storage["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert storage["SerdeInfo"]["SerializationLibrary"] == (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(ML.columns)
    assert raw["PartitionKeys"] == []


def test_glue_landing_tables_are_typed_json_over_the_landing_location(glue):
    glue.publish(landing_table("customer_landing", "s3://raw/landing"), expected_version=None)
    table = glue.published("customer_landing")
    raw = boto3.client("glue", region_name="us-east-1").get_table(
        DatabaseName="stedi", Name="customer_landing")["Table"]
    serde = raw["StorageDescriptor"]["SerdeInfo"]
    assert table.location == "s3://raw/landing/customer"
    assert table.format == "json"
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert serde["Parameters"]["mapping.share_with_research_as_of_date"] == "shareWithResearchAsOfDate"
    assert ("registration_date", "bigint") in table.columns


def test_glue_updates_carry_the_version_they_replace_and_keep_history(glue):
    first = glue.publish(ML, expected_version=None)
    sent = []
    glue.glue.meta.events.register("provide-client-params.glue.UpdateTable",
                                   lambda params, **_: sent.append(params.get("VersionId")))
    moved = TableVersion(**{**ML.__dict__, "location": "s3://lake/curated/machine_learning_curated/v2"})
    second = glue.publish(moved, expected_version=first.version)
    assert sent == [first.version]
    assert glue.published(ML.name).location.endswith("/v2")
    assert [v.version for v in glue.history(ML.name)] == [second.version, first.version]
    glue.forget(ML.name, [v.version for v in expired_versions(glue.history(ML.name), keep=1)])
    assert [v.version for v in glue.history(ML.name)] == [second.version]
    with pytest.raises(StaleVersion):
        glue.publish(ML, expected_version=None)  # created meanwhile by somebody else


def test_local_catalog_versions_and_retention(tmp_path):
    catalog = LocalCatalog(str(tmp_path / "catalog.db"))
    assert catalog.published(ML.name) is None
    versions = []
    for _ in range(4):
        current = catalog.published(ML.name)
        versions.append(catalog.publish(ML, current.version if current else None).version)
    assert versions == ["1", "2", "3", "4"]
    assert catalog.published(ML.name).version == "4"
    with pytest.raises(StaleVersion):
        catalog.publish(ML, expected_version="3")
    catalog.forget(ML.name, [v.version for v in expired_versions(catalog.history(ML.name), keep=2)])
    assert [v.version for v in catalog.history(ML.name)] == ["4", "3"]
    assert [t.name for t in catalog.tables()] == [ML.name]


def test_glue_landing_table_ddl_is_the_course_ddl_typed(glue):
    glue.publish(landing_table("step_trainer_landing", "s3://raw/landing"), expected_version=None)
    ddl = athena_ddl(glue.published("step_trainer_landing"), "stedi")
    assert ddl.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS `stedi`.`step_trainer_landing` (")
    assert "  `sensor_reading_time` bigint,\n" in ddl
    assert "  `distance_from_object` bigint\n" in ddl
    assert "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'" in ddl
    assert "'mapping.sensor_reading_time'='sensorReadingTime'" in ddl
    assert "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'" in ddl
    assert "LOCATION 's3://raw/landing/step_trainer/'" in ddl
    assert "'classification'='json'" in ddl


def test_glue_retention_removes_old_versions_and_their_data(glue, tmp_path):
    lake = Lakehouse(str(tmp_path / "lake"), "s3://raw/landing", glue, keep_versions=2)
    published = [lake.publish(write_version(lake, "customer_curated", f"run-{i}", rows=i))
                 for i in range(4)]
    assert [v.version for v in glue.history("customer_curated")] == [
        published[3].version, published[2].version]
    assert glue.published("customer_curated").location == published[3].location
    assert glue.published("customer_curated").row_count == 3
    assert [Path(v.location).exists() for v in published] == [False, False, True, True]
