"""Both catalogs: complete Glue TableInputs (against moto), versions, retention, concurrency."""

import multiprocessing

import boto3
import pytest
from moto import mock_aws

from stedi_assets.catalog import (
    GlueCatalog, LocalCatalog, StaleVersion, TableVersion, expired_versions, landing_table,
)

ML = TableVersion("machine_learning_curated", "curated", "s3://lake/curated/machine_learning_curated/v1",
                  (("customer_id", "string"), ("sensor_reading_time", "bigint"), ("x", "double")),
                  row_count=40981)


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield GlueCatalog(database="stedi", region="us-east-1")


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


def _publish_many(path: str, times: int) -> int:
    catalog, lost = LocalCatalog(path), 0
    for _ in range(times):
        while True:
            current = catalog.published(ML.name)
            try:
                catalog.publish(ML, current.version if current else None)
                break
            except StaleVersion:
                lost += 1
    return lost


def test_concurrent_local_publishers_lose_no_update(tmp_path):
    path = str(tmp_path / "catalog.db")
    LocalCatalog(path)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.starmap(_publish_many, [(path, 25)] * 4)
    history = LocalCatalog(path).history(ML.name)
    assert [int(v.version) for v in history] == list(range(100, 0, -1))
    assert LocalCatalog(path).published(ML.name).version == "100"
