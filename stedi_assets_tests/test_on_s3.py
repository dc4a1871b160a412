"""The production path on one machine: landing on S3, Spark through S3A, Iceberg tables in Glue.

moto serves S3 and Glue over HTTP on 127.0.0.1; `stedi run` runs in its own process (Spark
loads the S3A connector only when its JVM starts) with nothing but the settings a user on
AWS would give it, plus the endpoint. The tables are then read back by name, without Spark,
the way `stedi tables` and any other Iceberg reader would.
"""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def stedi_run(env: dict, *options: str) -> dict[str, list[str]]:
    stedi = Path(sys.executable).parent / "stedi"
    finished = subprocess.run([str(stedi), "run", *options], env={**os.environ, **env},
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

    # Nothing new on S3: an incremental run changes nothing (the S3 listing and the paths
    # Spark read are the same files).
    assert snapshots(stedi_run(env)) == snapshots(first)
    second = stedi_run(env, "--full")

    # A rebuild: a new snapshot of every table, with the same rows…
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

    # A new file on S3 is appended: a copy of a landing file, whose readings all repeat.
    copied = sorted((course_sample / "accelerometer").rglob("*.json"))[0]
    s3.upload_file(str(copied), BUCKET, "landing/accelerometer/copy of a file.json")
    third = stedi_run(env)
    lines = sum(1 for line in copied.read_text().splitlines() if line.strip())
    assert counts(third) == {**counts(second), "accelerometer_landing":
                             counts(second)["accelerometer_landing"] + lines}
    assert snapshots(third)["customer_landing"] == snapshots(second)["customer_landing"]


# What a process on a developer's machine does with the AWS settings it has: boto3 (Glue,
# pyiceberg) and the Spark session `stedi` starts (S3A for the landing files).
READ_THE_LANDING = """
from stedi_assets import aws, validation
from stedi_assets.settings import load_settings
from stedi_assets.spark_config import spark_session

settings = load_settings()
aws.client("glue").get_databases()
print("boto3: ok", flush=True)
lines = validation.read_landing_lines(spark_session(settings), settings.landing_uri + "/customer")
print("spark lines:", lines.count(), flush=True)
"""
SSO_START_URL = "https://stedi.awsapps.com/start"
KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


class FakeSsoPortal(BaseHTTPRequestHandler):
    """AWS IAM Identity Center's GetRoleCredentials: moto's fake keys for a cached token."""

    def do_GET(self):
        self.server.asked.append(self.path)
        if (not self.path.startswith("/federation/credentials")
                or self.headers.get("x-amz-sso_bearer_token") != "a-cached-sso-token"):
            self.send_response(403)
            self.end_headers()
            return
        body = json.dumps({"roleCredentials": {
            "accessKeyId": "testing", "secretAccessKey": "testing", "sessionToken": "testing",
            "expiration": int((time.time() + 3600) * 1000)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


@pytest.fixture
def sso_portal():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSsoPortal)
    server.asked = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def keys_profile(home: Path, _) -> dict:
    """A named profile with keys in the shared credentials file."""
    (home / "credentials").write_text(
        "[stedi-dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    (home / "config").write_text("[profile stedi-dev]\nregion = us-east-1\n")
    return {"AWS_PROFILE": "stedi-dev", "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}


def sso_profile(home: Path, portal: ThreadingHTTPServer) -> dict:
    """An SSO profile after `aws sso login`: its token in the cache, keys from the portal."""
    (home / ".aws" / "sso" / "cache").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        f"[profile stedi-sso]\nsso_start_url = {SSO_START_URL}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = StediDeveloper\nregion = us-east-1\n")
    cached = home / ".aws" / "sso" / "cache" / (hashlib.sha1(SSO_START_URL.encode()).hexdigest() + ".json")
    cached.write_text(json.dumps({"startUrl": SSO_START_URL, "region": "us-east-1",
                                  "accessToken": "a-cached-sso-token",
                                  "expiresAt": "2099-01-01T00:00:00Z"}))
    return {"AWS_PROFILE": "stedi-sso",
            "AWS_ENDPOINT_URL_SSO": f"http://127.0.0.1:{portal.server_address[1]}"}


def environment_keys(_: Path, __) -> dict:
    """No profile at all (the other providers must not get in the way)."""
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.mark.aws
@pytest.mark.pipeline  # a subprocess: Spark loads S3A only when its JVM starts
@pytest.mark.parametrize("credentials", [keys_profile, sso_profile, environment_keys])
def test_spark_finds_the_credentials_boto3_finds(aws_env, sso_portal, tmp_path, credentials):
    bucket = f"stedi-{credentials.__name__.replace('_', '-')}"
    client("s3", aws_env).create_bucket(Bucket=bucket)
    client("s3", aws_env).put_object(Bucket=bucket, Key="landing/customer/a.json",
                                     Body=b'{"email": "a@test.com"}\n{"email": "b@test.com"}\n')
    env = {name: value for name, value in {**os.environ, **aws_env}.items() if name not in KEYS}
    env |= {"HOME": str(tmp_path),  # nobody's real ~/.aws
            "XDG_CACHE_HOME": str(Path.home() / ".cache"),  # the jars already fetched
            "AWS_EC2_METADATA_DISABLED": "true",  # no instance role to fall back on
            "STEDI_LANDING_URI": f"s3://{bucket}/landing", "STEDI_LAKE_URI": str(tmp_path / "lake"),
            "STEDI_PSEUDONYM_KEY": "a-test-key", **credentials(tmp_path, sso_portal)}

    finished = subprocess.run([sys.executable, "-c", READ_THE_LANDING], env=env,
                              capture_output=True, text=True, timeout=600)

    problems = [line for line in finished.stderr.splitlines()
                if "Exception:" in line or "Error:" in line][:5]
    assert "boto3: ok" in finished.stdout, problems
    assert "spark lines: 2" in finished.stdout, problems
    # The SSO profile's keys came from the portal, once for boto3 and once for Spark.
    assert (len(sso_portal.asked) >= 2) if credentials is sso_profile else not sso_portal.asked


# Tables in the Glue database that the pipeline did not create: an Athena view, a table a
# tool left without a storage descriptor, the course's own (non-Iceberg) tables under the
# pipeline's names, and a table that says it is Iceberg but has no metadata location.
FOREIGN_TABLES = [
    {"Name": "recent_readings", "TableType": "VIRTUAL_VIEW",
     "Parameters": {"presto_view": "true", "comment": "Presto View"},
     "ViewOriginalText": "/* Presto View: e30= */", "ViewExpandedText": "/* Presto View */",
     "StorageDescriptor": {"Columns": [{"Name": "user", "Type": "string"}],
                           "SerdeInfo": {}, "Location": ""}},
    {"Name": "half_made"},
    {"Name": "customer_trusted", "TableType": "EXTERNAL_TABLE",
     "Parameters": {"classification": "json"},
     "StorageDescriptor": {"Columns": [{"Name": "email", "Type": "string"}],
                           "Location": "s3://somebody-else/customer/trusted/"}},
    {"Name": "accelerometer_trusted", "TableType": "EXTERNAL_TABLE",
     "Parameters": {"table_type": "ICEBERG"}, "StorageDescriptor": {"Columns": []}},
]


@pytest.mark.aws
def test_tables_and_ddl_show_only_the_pipelines_tables_among_foreign_ones(aws_env, monkeypatch,
                                                                          capsys, caplog):
    import pyarrow as pa

    from stedi_assets.cli import main

    bucket = "stedi-foreign"
    database = "stedi_foreign"  # other tests in this module create the database stedi
    lake = f"s3://{bucket}/lake"
    for key, value in {**aws_env, "STEDI_CATALOG": "glue", "STEDI_LAKE_URI": lake,
                       "STEDI_GLUE_DATABASE": database,
                       "STEDI_LANDING_URI": f"s3://{bucket}/landing",
                       "STEDI_PSEUDONYM_KEY": "a-test-key"}.items():
        monkeypatch.setenv(key, value)
    client("s3", aws_env).create_bucket(Bucket=bucket)
    glue = client("glue", aws_env)
    glue.create_database(DatabaseInput={"Name": database})
    # One table of the pipeline's, published.
    catalog = LakeCatalog(kind="glue", lake_uri=lake, landing_uri=f"s3://{bucket}/landing",
                          database=database)
    rows = pa.table({"customer_id": ["c1"], "serial_number": ["s1"]})
    published = catalog.pyiceberg.create_table((database, "customer_curated"), rows.schema,
                                               location=catalog.location("customer_curated"))
    published.append(rows)
    for table in FOREIGN_TABLES:
        glue.create_table(DatabaseName=database, TableInput=table)

    assert main(["tables", "--format", "csv"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in listed[1:]] == ["customer_curated"]

    assert main(["ddl"]) == 0
    ddl = capsys.readouterr().out
    assert "customer_curated" in ddl
    assert not [t["Name"] for t in FOREIGN_TABLES if f"{database}.{t['Name']}" in ddl]
    # The half-made Iceberg entry under a pipeline name is named, in one line, not hidden.
    assert {record.getMessage() for record in caplog.records
            if record.name == "stedi_assets.lake.lakehouse"} == {
        f"{database}.accelerometer_trusted in Glue database {database} is not a table of this "
        "pipeline, left out: Table property metadata_location is missing, cannot find metadata "
        f"for: {database}.accelerometer_trusted"}
