"""The production path on one machine: landing on S3, Spark through S3A, Iceberg tables in Glue.

moto serves S3 and Glue over HTTP on 127.0.0.1; `stedi run` runs in its own process (Spark
loads the S3A connector only when its JVM starts) with nothing but the settings a user on
AWS would give it, plus the endpoint. The tables are then read back by name, without Spark,
the way `stedi tables` and any other Iceberg reader would.

The course sample runs on a moto server that enforces IAM, as the pipeline role of
deploy/stedi.yaml and nothing else (`lake_stack`): the zone boundary is tested on that lake.
Every request of its runs goes through a proxy that can make the cloud fail
(stedi_assets_tests/faulty_cloud.py): the first run is the control round, with no fault, and
the last runs are made under faults (`test_runs_through_a_cloud_that_fails_…`).
What moto (5.x) enforces, as measured here (`lake_stack` asserts each point on its server):

- S3: every request against the object's or the bucket's ARN, so the roles' zone prefixes
  hold as written. Policy conditions are not evaluated (moto passes no request context to
  them): a ListBucket allowed only for some s3:prefix values is allowed for any prefix.
- Glue: every request is judged against resource "*", never the catalog, database or table
  ARN, so a statement scoped to ARNs (as the template's are) never matches: moto refuses the
  pipeline its own database. The roles therefore get the template's policies with only the
  Glue statements' Resource widened to "*" (`widened_for_moto`): Glue is enforced by action
  only, and the scoping to one database is checked on the parsed template
  (test_deploy_template.py), not here.
- STS: AssumeRole needs the caller's sts:AssumeRole and the role's trust policy (its
  principal); keys moto does not know are refused (InvalidAccessKeyId).
- A Glue refusal comes back as an XML body to a JSON client: botocore reads code "403" with
  <Code>AccessDenied</Code> in the message; S3 says AccessDenied (`denied` accepts only these).

The bucket policy (TLS only) is not put on the moto bucket: moto serves plain HTTP.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from stedi_assets.rules.contract import LANDING_QUARANTINE, SOURCE_BY_TABLE, ZONE_OF_TABLE
from stedi_assets.lake.catalog import LakeCatalog, iceberg_name
from stedi_assets_tests.cloudformation import role_policies, template_names, trust_policy
from stedi_assets_tests.conftest import printed_tables
from stedi_assets_tests.test_consent_withdrawal import withdrawal_of
from stedi_assets_tests.faulty_cloud import CUT, FAILED, NONE, THROTTLED, Faults, FaultyCloud
from stedi_assets_tests.dagster_dev import free_port, tail
from stedi_assets_tests.test_course_sample import EXPECTED

BUCKET = "stedi-lakehouse"
LANDING, LAKE = f"s3://{BUCKET}/landing", f"s3://{BUCKET}/lake"
NOT_RECORDS = ("landing/customer/README.md", "landing/accelerometer/landing/notes.csv")


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
    assert finished.returncode == 0, finished.stderr[-3000:] + run_log_tail(finished.stdout)
    return printed_tables(finished.stdout)


def run_log_tail(stdout: str) -> str:
    """The end of the log a failed `stedi run` names (what Spark and the JVM said last)."""
    named = re.search(r"^log \(Spark, JVM, Dagster\): (.+)$", stdout, re.MULTILINE)
    if not named or not Path(named.group(1)).is_file():
        return ""
    return f"\n--- the end of {named.group(1)}:\n{tail(Path(named.group(1)), 80)}"


def counts(printed: dict[str, list[str]]) -> dict[str, int]:
    return {table: int(row[2]) for table, row in printed.items()}  # zone snapshot ROWS …


def snapshots(printed: dict[str, list[str]]) -> dict[str, int]:
    return {table: int(row[1]) for table, row in printed.items()}


# --- The stack on a moto server that enforces IAM (see the module's docstring) ------------
ACCOUNT = "123456789012"  # moto's default account
ADMIN_POLICY = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def widened_for_moto(document: dict) -> dict:
    """The policy as moto can judge it: Glue statements on resource "*" (see above)."""
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if all(action.startswith("glue:") for action in actions):
            statement = {**statement, "Resource": "*"}
        statements.append(statement)
    return {**document, "Statement": statements}


def denied(call) -> ClientError:
    """Runs `call`, which must be refused as an access denial (not any other error)."""
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    assert (error["Code"] in ("AccessDenied", "AccessDeniedException")
            or (error["Code"] == "403" and "<Code>AccessDenied</Code>" in error["Message"])), error
    return raised.value


def keys(credentials: dict) -> dict:
    return {"aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
            **({"aws_session_token": credentials["AWS_SESSION_TOKEN"]}
               if "AWS_SESSION_TOKEN" in credentials else {})}


class Stack:
    """The data plane of deploy/stedi.yaml on an IAM-enforcing moto: the bucket with the course
    sample under landing/, the Glue database, the three roles with the template's policies."""

    def __init__(self, url: str, admin: dict, roles: dict[str, str],
                 proxy: FaultyCloud | None = None):
        self.url, self.admin, self.roles, self.proxy = url, admin, roles, proxy
        self.base = {"AWS_ENDPOINT_URL": proxy.url if proxy else url,
                     "AWS_DEFAULT_REGION": "us-east-1", "STEDI_S3_PATH_STYLE": "true"}

    def client(self, service: str, credentials: dict):
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            **keys(credentials))

    def assume(self, role: str) -> dict:
        """The role's session credentials, from STS as a person or a runner gets them."""
        given = self.client("sts", self.admin).assume_role(
            RoleArn=self.roles[role], RoleSessionName=f"test-{role}")["Credentials"]
        return {"AWS_ACCESS_KEY_ID": given["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": given["SecretAccessKey"],
                "AWS_SESSION_TOKEN": given["SessionToken"]}

    def env(self, role: str) -> dict:
        """Everything a process running as `role` is given: the endpoint (the proxy's) and the
        role's session, no other key. The test's own clients (`client`) go straight to moto."""
        return {**self.base, **self.assume(role)}

    def keys_under(self, prefix: str) -> list[str]:
        pages = self.client("s3", self.admin).get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@pytest.fixture(scope="module")
def lake_stack(course_sample):
    """A moto server in a process of its own (moto's IAM switch is global to the process that
    serves, and the other tests here use plain keys), set up as the stack would be, then
    switched to enforcing IAM for every request."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                               "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        anyone = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        setup = Stack(url, anyone, {})
        iam = setup.client("iam", anyone)
        admin_arn = iam.create_user(UserName="stack-admin")["User"]["Arn"]
        iam.put_user_policy(UserName="stack-admin", PolicyName="admin",
                            PolicyDocument=json.dumps(ADMIN_POLICY))
        key = iam.create_access_key(UserName="stack-admin")["AccessKey"]
        admin = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                 "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        names = template_names(BUCKET, "stedi", ACCOUNT, pipeline=admin_arn,
                               data_scientist=admin_arn, steward=admin_arn)
        roles = {}
        for role, document in {**role_policies(names),
                               "pipeline_as_written": role_policies(names)["pipeline"]}.items():
            trust = trust_policy(role.removesuffix("_as_written"), names)
            roles[role] = iam.create_role(RoleName=role,
                                          AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            policy = document if role.endswith("_as_written") else widened_for_moto(document)
            iam.put_role_policy(RoleName=role, PolicyName=role, PolicyDocument=json.dumps(policy))
        s3 = setup.client("s3", anyone)
        s3.create_bucket(Bucket=BUCKET)
        for path in sorted(course_sample.rglob("*.json")):
            s3.upload_file(str(path), BUCKET, f"landing/{path.relative_to(course_sample)}")
        for key in NOT_RECORDS:  # files beside the feeds that the pipeline does not read
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"not a record\n")
        glue = setup.client("glue", anyone)
        glue.create_database(DatabaseInput={"Name": "stedi"})  # the stack's GlueDatabase
        glue.create_database(DatabaseInput={"Name": "somebody_elses"})

        assert requests.post(f"{url}/moto-api/reset-auth", data=b"0", timeout=10).ok
        proxy = FaultyCloud(url)
        stack = Stack(url, admin, roles, proxy)
        # What moto enforces (the module's docstring): keys it does not know are refused;
        # Glue is judged against "*" only; conditions are not evaluated; trust policies are.
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            s3.list_objects_v2(Bucket=BUCKET)
        as_written = stack.client("glue", stack.env("pipeline_as_written"))
        denied(lambda: as_written.get_database(Name="stedi"))
        pipeline = stack.env("pipeline")
        stack.client("glue", pipeline).get_database(Name="stedi")
        # A listing is judged as s3:ListBucket (moto 5.2.6 asks for "s3:ListObjectsV2", which
        # is no IAM action, and refuses it: pyproject.toml excludes it). On AWS the s3:prefix
        # condition would refuse this listing of the whole bucket.
        stack.client("s3", pipeline).list_objects_v2(Bucket=BUCKET, MaxKeys=1)
        denied(lambda: stack.client("sts", pipeline).assume_role(
            RoleArn=roles["data_scientist"], RoleSessionName="not-trusted"))
        yield stack
        proxy.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def first_run_on_s3(lake_stack):
    """The course sample's first `stedi run`, as the pipeline role only, through the proxy
    with no fault (the control round): its printed tables, the settings it ran with, and the
    requests the proxy saw."""
    env = {**lake_stack.env("pipeline"), "STEDI_LANDING_URI": LANDING, "STEDI_LAKE_URI": LAKE,
           "STEDI_PSEUDONYM_KEY": "a-test-key", "STEDI_KEEP_VERSIONS": "1"}
    lake_stack.proxy.reset(0, NONE)
    return stedi_run(env), env, dict(lake_stack.proxy.counts)


@pytest.mark.aws
@pytest.mark.pipeline
def test_course_sample_on_s3_with_glue(course_sample, lake_stack, first_run_on_s3,
                                       monkeypatch):
    s3 = lake_stack.client("s3", lake_stack.admin)
    glue = lake_stack.client("glue", lake_stack.admin)
    first, env, asked = first_run_on_s3

    assert counts(first) == EXPECTED["any"]
    assert asked["requests"] > 100 and not asked.keys() & {THROTTLED, FAILED, CUT}
    for table, (zone, _, _, _, location) in first.items():
        assert (zone, location) == (ZONE_OF_TABLE[table], f"{LAKE}/{zone}/{iceberg_name(table)}")

    # Glue: every pipeline table an Iceberg table under its zone's prefix; beside each
    # validated landing snapshot, the raw feed as the contract's JSON table of the files read.
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
        assert storage["Location"] == f"{LAKE}/landing/{table}/"
        assert storage["InputFormat"] == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
        assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert storage["Columns"]
        listed = hive_style_files(s3, storage["Location"])
        assert all(f"{LANDING}/{source.name}/" in uri for uri in listed), table
        assert hive_style_records(s3, listed) == EXPECTED["any"][table], table

    # Read back by name from Glue with pyiceberg, as the project's own catalog opens it (as
    # the pipeline).
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    catalog = LakeCatalog(kind="glue", lake_uri=LAKE, landing_uri=LANDING).pyiceberg

    def load(table: str):
        return catalog.load_table(("stedi", iceberg_name(table)))

    assert {t: load(t).scan().to_arrow().num_rows for t in ZONE_OF_TABLE} == EXPECTED["any"]
    assert load("machine_learning_curated").scan().to_arrow().num_rows == 40_981

    # Nothing new on S3: an incremental run changes nothing (the S3 listing and the paths
    # Spark read are the same files). A full rebuild is seed 1 of the fault test below.
    assert snapshots(stedi_run(env)) == snapshots(first)

    # A new file on S3 is appended: a copy of a landing file, whose readings all repeat.
    copied = sorted((course_sample / "accelerometer").rglob("*.json"))[0]
    s3.upload_file(str(copied), BUCKET, "landing/accelerometer/copy of a file.json")
    third = stedi_run(env)
    lines = sum(1 for line in copied.read_text().splitlines() if line.strip())
    assert counts(third) == {**counts(first), "accelerometer_landing":
                             counts(first)["accelerometer_landing"] + lines}
    assert snapshots(third)["customer_landing"] == snapshots(first)["customer_landing"]
    raw = glue.get_table(DatabaseName="stedi", Name="accelerometer_landing")["Table"]
    listed = hive_style_files(s3, raw["StorageDescriptor"]["Location"])
    assert f"{LANDING}/accelerometer/copy of a file.json" in listed
    assert hive_style_records(s3, listed) == counts(third)["accelerometer_landing"]


def hive_style_files(s3, location: str) -> list[str]:
    """The files a Hive-style reader of a symlink table reads: those listed by every manifest
    directly in the table's folder (no sub-folder, no name starting `_` or `.`)."""
    bucket, prefix = location.removeprefix("s3://").split("/", 1)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    manifests = [item["Key"] for item in listing.get("Contents", [])
                 if not item["Key"].rsplit("/", 1)[-1].startswith(("_", "."))]
    assert manifests, location
    return [uri for key in manifests for uri in
            s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]


def hive_style_records(s3, files: list[str]) -> int:
    """The non-blank lines of `files` (the records a JSON SerDe makes rows of)."""
    lines = 0
    for uri in files:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        lines += sum(1 for line in body.decode().splitlines() if line.strip())
    return lines


CURATED = [t for t, zone in ZONE_OF_TABLE.items() if zone == "curated"]
TRUSTED = [t for t, zone in ZONE_OF_TABLE.items() if zone == "trusted"]


@pytest.mark.aws
@pytest.mark.pipeline
def test_data_scientists_read_the_curated_zone_only(lake_stack, first_run_on_s3, monkeypatch):
    """On the lake the pipeline role published: a data scientist (AssumeRole) reads every
    curated table by name through Glue, and is refused the trusted zone's files (PII), the
    quarantine's and the landing files, and every write."""
    scientist = lake_stack.env("data_scientist")
    for key, value in scientist.items():
        monkeypatch.setenv(key, value)
    catalog = LakeCatalog(kind="glue", lake_uri=LAKE, landing_uri=LANDING).pyiceberg
    assert CURATED and {t: catalog.load_table(("stedi", iceberg_name(t))).scan().to_arrow().num_rows
                        for t in CURATED} == {t: EXPECTED["any"][t] for t in CURATED}

    s3 = lake_stack.client("s3", scientist)
    refused = {f"lake/trusted/{iceberg_name(t)}/" for t in TRUSTED} | {
        f"lake/landing/{iceberg_name(LANDING_QUARANTINE)}/", "landing/"}
    for prefix in sorted(refused):
        files = lake_stack.keys_under(prefix)
        data = [key for key in files if "/data/" in key] or files  # landing/: every file
        assert data, prefix
        for key in data:
            denied(lambda: s3.get_object(Bucket=BUCKET, Key=key))
        denied(lambda: s3.put_object(Bucket=BUCKET, Key=prefix + "x.json", Body=b"{}"))
    # The metadata of a trusted table is refused too: pyiceberg cannot even open it.
    with pytest.raises(OSError, match="ACCESS_DENIED|AccessDenied"):
        catalog.load_table(("stedi", iceberg_name(TRUSTED[0])))
    curated_file = lake_stack.keys_under(f"lake/curated/{iceberg_name(CURATED[0])}/data/")[0]
    s3.get_object(Bucket=BUCKET, Key=curated_file)
    denied(lambda: s3.delete_object(Bucket=BUCKET, Key=curated_file))
    denied(lambda: s3.put_object(Bucket=BUCKET, Key=curated_file, Body=b"x"))
    glue = lake_stack.client("glue", scientist)
    denied(lambda: glue.delete_table(DatabaseName="stedi", Name=iceberg_name(CURATED[0])))
    denied(lambda: glue.create_table(DatabaseName="stedi", TableInput={"Name": "mine"}))

    # The steward reads the trusted zone and the quarantine, and writes nothing.
    steward = lake_stack.client("s3", lake_stack.env("steward"))
    for prefix in (f"lake/trusted/{iceberg_name(TRUSTED[0])}/",
                   f"lake/landing/{iceberg_name(LANDING_QUARANTINE)}/"):
        files = lake_stack.keys_under(prefix)
        key = ([key for key in files if "/data/" in key] or files)[0]  # the quarantine may be empty
        steward.get_object(Bucket=BUCKET, Key=key)
        denied(lambda: steward.put_object(Bucket=BUCKET, Key=key, Body=b"x"))
        denied(lambda: steward.delete_object(Bucket=BUCKET, Key=key))
    denied(lambda: steward.get_object(Bucket=BUCKET, Key=lake_stack.keys_under("landing/")[0]))


@pytest.mark.aws
@pytest.mark.pipeline
def test_the_pipeline_role_cannot_touch_the_landing_the_bucket_or_another_database(
        lake_stack, first_run_on_s3):
    pipeline = lake_stack.env("pipeline")
    s3, glue = lake_stack.client("s3", pipeline), lake_stack.client("glue", pipeline)
    landing_file = lake_stack.keys_under("landing/customer/")[0]
    s3.get_object(Bucket=BUCKET, Key=landing_file)  # it reads the landing…
    denied(lambda: s3.put_object(Bucket=BUCKET, Key="landing/customer/new.json", Body=b"{}"))
    denied(lambda: s3.put_object(Bucket=BUCKET, Key=landing_file, Body=b"{}"))
    denied(lambda: s3.delete_object(Bucket=BUCKET, Key=landing_file))
    denied(lambda: s3.put_object(Bucket=BUCKET, Key="elsewhere/x.json", Body=b"{}"))
    denied(lambda: s3.delete_bucket(Bucket=BUCKET))
    denied(lambda: s3.delete_bucket_policy(Bucket=BUCKET))
    # Another database: moto judges Glue by action only, so what it can show is that the
    # pipeline has no action that changes or removes a database or drops a table; that its
    # CreateTable/UpdateTable reach its own database only is test_deploy_template.py's.
    denied(lambda: glue.delete_database(Name="somebody_elses"))
    denied(lambda: glue.update_database(Name="somebody_elses",
                                        DatabaseInput={"Name": "somebody_elses"}))
    denied(lambda: glue.create_database(DatabaseInput={"Name": "a_new_one"}))
    denied(lambda: glue.delete_table(DatabaseName="stedi", Name="customer_curated"))
    assert lake_stack.keys_under("landing/customer/new.json") == []


TRUSTED_AND_CURATED = [t for t, zone in ZONE_OF_TABLE.items() if zone in ("trusted", "curated")]
UNTOUCHED = ["accelerometer_landing", "step_trainer_landing", "landing_quarantine"]


@pytest.mark.aws
@pytest.mark.pipeline
def test_runs_through_a_cloud_that_fails_publish_the_same_whole_tables(lake_stack, first_run_on_s3,
                                                                       monkeypatch):
    """About 3% of the requests throttled, 1% failed, 1% cut after moto applied them: the
    clients' retries (stedi_assets/operations/aws.py, in one place) and the lost-commit
    handling carry every run to the same whole tables, and a consent withdrawal erased before
    the faults stays erased. As the pipeline role, on this module's lake, which it changes (so
    it runs last)."""
    proxy, (_, env, _) = lake_stack.proxy, first_run_on_s3
    published = read_back(env, monkeypatch)
    before = {table: rows.num_rows for table, (rows, _) in published.items()}
    email, customer_id = withdraw(lake_stack.client("s3", lake_stack.admin), published)
    proxy.reset(0, NONE)
    erasure = stedi_run(env)
    erased = counts(erasure)
    assert erased["customer_landing"] == before["customer_landing"] + 1
    assert erased["customer_trusted"] == before["customer_trusted"] - 1
    assert erased["machine_learning_curated"] < before["machine_learning_curated"]
    assert {t: erased[t] for t in UNTOUCHED} == {t: before[t] for t in UNTOUCHED}

    # Three seeds, three runs at once (their retries' waits overlap), each through a proxy of
    # its own: a full rebuild of this lake, and the first builds of two new lakes.
    lakes = {1: (LAKE, "stedi", ("--full",)), 2: (f"{LAKE}/seed-2", "stedi_seed_2", ()),
             3: (f"{LAKE}/seed-3", "stedi_seed_3", ())}
    glue = lake_stack.client("glue", lake_stack.admin)
    for _, database, _ in list(lakes.values())[1:]:
        glue.create_database(DatabaseInput={"Name": database})  # the stack's part
    proxies = {1: proxy, 2: FaultyCloud(lake_stack.url), 3: FaultyCloud(lake_stack.url)}
    try:
        with ThreadPoolExecutor(len(lakes)) as pool:
            runs = {}
            for seed, (lake, database, options) in lakes.items():
                proxies[seed].reset(seed, Faults())
                runs[seed] = pool.submit(stedi_run, {
                    **env, "AWS_ENDPOINT_URL": proxies[seed].url, "STEDI_LAKE_URI": lake,
                    "STEDI_GLUE_DATABASE": database}, *options)
            printed = {seed: run.result() for seed, run in runs.items()}
        faults = {seed: dict(proxies[seed].counts) for seed in lakes}
    finally:
        proxy.reset(0, NONE)
        for extra in list(proxies.values())[1:]:
            extra.close()
    for seed, (lake, database, _) in lakes.items():
        done = faults[seed]
        print(f"seed {seed}: {done['requests']} requests, {done.get(THROTTLED, 0)} throttled, "
              f"{done.get(FAILED, 0)} failed, {done.get(CUT, 0)} cut")
        assert all(done.get(fault) for fault in (THROTTLED, FAILED, CUT)), (seed, done)
        assert counts(printed[seed]) == erased, seed
        for table, (rows, refs) in read_back(env, monkeypatch, lake, database).items():
            assert rows.num_rows == erased[table], (seed, table)
            assert refs == {"main"}, (seed, table)  # no audit branch left behind
            if table in TRUSTED_AND_CURATED:
                assert rows_of(rows, email, customer_id) == 0, (seed, table)

    # Seed 1 was a rebuild: a new snapshot of every table, and the one before it still
    # readable by time travel. With STEDI_KEEP_VERSIONS=1 retention expires only snapshots
    # older than the maximum age (120 h by default).
    catalog = LakeCatalog(kind="glue", lake_uri=LAKE, landing_uri=LANDING).pyiceberg
    for table, old in snapshots(erasure).items():
        loaded = catalog.load_table(("stedi", iceberg_name(table)))
        assert loaded.metadata.current_snapshot_id == snapshots(printed[1])[table] != old
        assert loaded.metadata.properties["history.expire.min-snapshots-to-keep"] == "1"
        assert loaded.scan(snapshot_id=old).to_arrow().num_rows == erased[table], table


def read_back(env: dict, monkeypatch, lake: str = LAKE, database: str = "stedi") -> dict:
    """Every pipeline table of a lake read by name from Glue with pyiceberg, as `env`'s role:
    table -> (pyarrow table, the names of its refs)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    catalog = LakeCatalog(kind="glue", lake_uri=lake, landing_uri=LANDING,
                          database=database).pyiceberg
    tables = {}
    for table in ZONE_OF_TABLE:
        loaded = catalog.load_table((database, iceberg_name(table)))
        tables[table] = (loaded.scan().to_arrow(), set(loaded.metadata.refs))
    return tables


def rows_of(table, email: str, customer_id: str) -> int:
    """A customer's rows in a table, whichever identifier it carries."""
    found = 0
    for column, value in (("email", email), ("user", email), ("customer_id", customer_id)):
        if column in table.column_names:
            found += sum(1 for v in table.column(column).to_pylist()
                         if v is not None and v.strip().lower() == value)
    return found


def withdraw(s3, published: dict) -> tuple[str, str]:
    """Lands a later record of a customer with readings in machine_learning_curated, without
    consent; returns the customer's e-mail and pseudonym."""
    curated = set(published["machine_learning_curated"][0].column("customer_id").to_pylist())
    customer = min((row for row in published["customer_trusted"][0].to_pylist()
                    if row["customer_id"] in curated), key=lambda row: row["email"])
    s3.put_object(Bucket=BUCKET, Key="landing/customer/withdrawal.json",
                  Body=withdrawal_of(customer).encode())
    return customer["email"].strip().lower(), customer["customer_id"]


# What a process on a developer's machine does with the AWS settings it has: boto3 (Glue,
# pyiceberg) and the Spark session `stedi` starts (S3A for the landing files).
READ_THE_LANDING = """
from stedi_assets.operations import aws
from stedi_assets.rules import validation
from stedi_assets.operations.settings import load_settings
from stedi_assets.operations.spark_config import spark_session

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
