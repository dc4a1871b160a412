"""The production path on one machine: landing on S3, Spark through s3a, tables in Glue.

moto serves S3 and Glue over HTTP on 127.0.0.1; `stedi run` runs in its own process (Spark
loads the S3A connector only when its JVM starts) with nothing but the settings a user on
AWS would give it, plus the endpoint.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from stedi_assets_tests.conftest import printed_tables
from stedi_assets_tests.test_course_sample import EXPECTED

BUCKET = "stedi-lakehouse"
ARROW_TO_HIVE = {"int64": "bigint", "int32": "int", "string": "string", "large_string": "string",
                 "double": "double", "bool": "boolean", "list<element: string>": "array<string>",
                 "timestamp[ns]": "timestamp"}  # Spark writes INT96 timestamps, as Athena reads them


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


def stedi_run(env: dict) -> dict:
    stedi = Path(sys.executable).parent / "stedi"
    finished = subprocess.run([str(stedi), "run"], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=1200)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return printed_tables(finished.stdout)


def parquet_columns(s3, location: str) -> list[tuple[str, str]]:
    bucket, _, prefix = location[len("s3://"):].partition("/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")["Contents"]]
    parts = [key for key in keys if key.endswith(".parquet")]
    assert parts, f"no Parquet objects under {location}"
    body = s3.get_object(Bucket=bucket, Key=parts[0])["Body"].read()
    schema = pq.ParquetFile(io.BytesIO(body)).schema_arrow
    return [(f.name, ARROW_TO_HIVE.get(str(f.type), str(f.type))) for f in schema]


def version_folders(s3, table_root: str) -> list[str]:
    bucket, _, prefix = table_root[len("s3://"):].partition("/")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/", Delimiter="/")
    return [entry["Prefix"] for entry in listed.get("CommonPrefixes", [])]


def test_course_sample_on_s3_with_glue(course_sample, aws_env):
    s3, glue = client("s3", aws_env), client("glue", aws_env)
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted(course_sample.rglob("*.json")):
        s3.upload_file(str(path), BUCKET, f"landing/{path.relative_to(course_sample)}")
    env = {**aws_env, "STEDI_LANDING_URI": f"s3://{BUCKET}/landing",
           "STEDI_LAKE_URI": f"s3://{BUCKET}/lake", "STEDI_PSEUDONYM_KEY": "a-test-key",
           "STEDI_KEEP_VERSIONS": "1"}

    first = stedi_run(env)

    assert {table: int(row[2]) for table, row in first.items()} == EXPECTED["any"]
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="stedi")["TableList"]}
    assert set(tables) == set(EXPECTED["any"])
    for name, table in tables.items():
        location = table["StorageDescriptor"]["Location"].rstrip("/")
        columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
        assert location.startswith(f"s3://{BUCKET}/")
        if table["Parameters"]["classification"] == "json":
            assert location == f"s3://{BUCKET}/landing/{name.removesuffix('_landing')}"
            snapshot = table["Parameters"]["stedi.snapshot"]
            assert snapshot.startswith(f"s3://{BUCKET}/lake/landing/{name}/")
            data_columns = dict(parquet_columns(s3, snapshot))
            assert [(c, data_columns[c]) for c, _ in columns] == columns
        else:
            assert location.startswith(f"s3://{BUCKET}/lake/{table['Parameters']['stedi.zone']}/{name}/")
            assert parquet_columns(s3, location) == columns

    second = stedi_run(env)

    assert {t: row[2] for t, row in second.items()} == {t: row[2] for t, row in first.items()}
    for name, row in second.items():
        assert row[1] == "2"  # a new version was published…
        versions = glue.get_table_versions(DatabaseName="stedi", TableName=name)["TableVersions"]
        assert [v["VersionId"] for v in versions] == ["2"]  # …and the old one removed
        table = glue.get_table(DatabaseName="stedi", Name=name)["Table"]
        data = table["Parameters"].get("stedi.snapshot") or table["StorageDescriptor"]["Location"]
        root = data.rstrip("/").rsplit("/", 1)[0]
        assert version_folders(s3, root) == [data.rstrip("/")[len(f"s3://{BUCKET}/"):] + "/"]
