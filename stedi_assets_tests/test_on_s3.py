"""The production path on one machine: landing on S3, Spark through S3A, Iceberg tables in Glue.

moto serves S3 and Glue over HTTP on 127.0.0.1; `stedi run` runs in its own process (Spark
loads the S3A connector only when its JVM starts) with nothing but the settings a user on
AWS would give it, plus the endpoint. The tables are then read back by name, without Spark,
the way `stedi tables` and any other Iceberg reader would.
"""

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from stedi_assets.contract import SOURCE_BY_TABLE, ZONE_OF_TABLE
from stedi_assets.lake.catalog import LakeCatalog, iceberg_name
from stedi_assets_tests.conftest import printed_tables
from stedi_assets_tests.test_course_sample import EXPECTED

BUCKET = "stedi-lakehouse"
LANDING, LAKE = f"s3://{BUCKET}/landing", f"s3://{BUCKET}/lake"


@pytest.fixture(scope="module")
def aws_env():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "STEDI_S3_PATH_STYLE": "true"}
    yield env
    server.stop()


def client(service: str, env: dict):
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def stedi_run(env: dict) -> dict[str, list[str]]:
    stedi = Path(sys.executable).parent / "stedi"
    finished = subprocess.run([str(stedi), "run"], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=1200)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return printed_tables(finished.stdout)


def counts(printed: dict[str, list[str]]) -> dict[str, int]:
    return {table: int(row[2]) for table, row in printed.items()}  # zone snapshot ROWS …


def snapshots(printed: dict[str, list[str]]) -> dict[str, int]:
    return {table: int(row[1]) for table, row in printed.items()}


@pytest.mark.aws
@pytest.mark.pipeline
def test_course_sample_on_s3_with_glue(course_sample, aws_env, monkeypatch):
    s3, glue = client("s3", aws_env), client("glue", aws_env)
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted(course_sample.rglob("*.json")):
        s3.upload_file(str(path), BUCKET, f"landing/{path.relative_to(course_sample)}")
    env = {**aws_env, "STEDI_LANDING_URI": LANDING, "STEDI_LAKE_URI": LAKE,
           "STEDI_PSEUDONYM_KEY": "a-test-key", "STEDI_KEEP_VERSIONS": "1"}

    first = stedi_run(env)

    assert counts(first) == EXPECTED["any"]
    for table, (zone, _, _, _, location) in first.items():
        assert (zone, location) == (ZONE_OF_TABLE[table], f"{LAKE}/{zone}/{iceberg_name(table)}")

    # Glue: every pipeline table an Iceberg table under its zone's prefix; beside each
    # validated landing snapshot, the raw feed as the contract's JSON table over the landing.
    pages = glue.get_paginator("get_tables").paginate(DatabaseName="stedi")
    glue_tables = {t["Name"]: t for page in pages for t in page["TableList"]}
    assert set(glue_tables) == {iceberg_name(t) for t in ZONE_OF_TABLE} | set(SOURCE_BY_TABLE)
    assert {iceberg_name(t) for t in SOURCE_BY_TABLE} == {
        "customer_landing_validated", "accelerometer_landing_validated",
        "step_trainer_landing_validated"}
    for table, zone in ZONE_OF_TABLE.items():
        name = iceberg_name(table)
        parameters = glue_tables[name]["Parameters"]
        assert parameters["table_type"].upper() == "ICEBERG", name
        assert parameters["metadata_location"].startswith(f"{LAKE}/{zone}/{name}/metadata/"), name
    for table, source in SOURCE_BY_TABLE.items():
        raw = glue_tables[table]
        assert raw["TableType"] == "EXTERNAL_TABLE"
        assert raw["Parameters"]["classification"] == "json"
        storage = raw["StorageDescriptor"]
        assert storage["Location"] == f"{LANDING}/{source.name}/"
        assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert storage["Columns"]

    # Read back by name from Glue with pyiceberg, as the project's own catalog opens it.
    for key, value in aws_env.items():
        monkeypatch.setenv(key, value)
    catalog = LakeCatalog(kind="glue", lake_uri=LAKE, landing_uri=LANDING).pyiceberg

    def load(table: str):
        return catalog.load_table(("stedi", iceberg_name(table)))

    assert {t: load(t).scan().to_arrow().num_rows for t in ZONE_OF_TABLE} == EXPECTED["any"]
    assert load("machine_learning_curated").scan().to_arrow().num_rows == 40_981

    second = stedi_run(env)

    # A new snapshot of every table, with the same rows…
    assert counts(second) == counts(first)
    assert all(snapshots(second)[t] != snapshots(first)[t] for t in first)
    for table in ZONE_OF_TABLE:
        loaded = load(table)
        assert loaded.metadata.current_snapshot_id == snapshots(second)[table]
        assert loaded.scan().to_arrow().num_rows == EXPECTED["any"][table]
        # …and the first one still readable by time travel. Retention keeps it: with
        # STEDI_KEEP_VERSIONS=1 only snapshots older than the maximum age (120 h by default)
        # are expired.
        assert loaded.metadata.properties["history.expire.min-snapshots-to-keep"] == "1"
        old = snapshots(first)[table]
        assert loaded.snapshot_by_id(old) is not None, table
        assert loaded.scan(snapshot_id=old).to_arrow().num_rows == EXPECTED["any"][table]
