"""deploy/stedi.yaml, the data plane's one CloudFormation template: cfn-lint finds nothing in
it, and the roles' policies keep the zone boundary as written (what AWS itself would judge;
test_on_s3.py shows what moto enforces of it against the running pipeline)."""

import pytest

from stedi_assets_tests.cloudformation import (
    TEMPLATE, load_template, resolve, role_policies, template_names, trust_policy)

NAMES = template_names("a-bucket", "stedi_db", "123456789012",
                       pipeline="arn:aws:iam::123456789012:role/runner",
                       data_scientist="arn:aws:iam::123456789012:root",
                       steward="arn:aws:iam::123456789012:user/steward")
BUCKET = "arn:aws:s3:::a-bucket"
GLUE = ["arn:aws:glue:us-east-1:123456789012:catalog",
        "arn:aws:glue:us-east-1:123456789012:database/stedi_db",
        "arn:aws:glue:us-east-1:123456789012:table/stedi_db/*"]


def grants(document: dict) -> dict[str, set[str]]:
    """action -> the resources it is allowed on (every statement here is an Allow)."""
    found: dict[str, set[str]] = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            found.setdefault(action, set()).update(
                [resources] if isinstance(resources, str) else resources)
    return found


@pytest.mark.unit
def test_cfn_lint_finds_nothing():
    from cfnlint.api import ManualArgs, lint

    findings = lint(TEMPLATE.read_text(), config=ManualArgs(
        regions=["us-east-1"], include_checks=["I"]))  # informational ones too
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in findings] == []


@pytest.mark.unit
def test_the_policies_are_the_zone_boundary():
    policies = {role: grants(document) for role, document in role_policies(NAMES).items()}

    assert policies["pipeline"] == {
        "s3:ListBucket": {BUCKET},
        "s3:GetObject": {f"{BUCKET}/landing/*", f"{BUCKET}/lake/*"},
        "s3:PutObject": {f"{BUCKET}/lake/*"},
        "s3:DeleteObject": {f"{BUCKET}/lake/*"},
        "s3:AbortMultipartUpload": {f"{BUCKET}/lake/*"},
        **{f"glue:{action}": set(GLUE) for action in (
            "GetDatabase", "GetTable", "GetTables", "CreateTable", "UpdateTable")},
    }
    scientist = policies["data_scientist"]
    assert {a for a in scientist if a.startswith("s3:") and a.endswith("Object")} == {
        "s3:GetObject", "s3:PutObject"}
    assert scientist["s3:GetObject"] == {f"{BUCKET}/lake/curated/*", f"{BUCKET}/athena-results/*"}
    assert scientist["s3:PutObject"] == {f"{BUCKET}/athena-results/*"}
    athena = {a: r for a, r in scientist.items() if a.startswith("athena:")}
    workgroup = {a for a, r in athena.items()
                 if r == {"arn:aws:athena:us-east-1:123456789012:workgroup/stedi"}}
    assert {"athena:StartQueryExecution", "athena:GetQueryResults"} <= workgroup
    catalog = {a for a, r in athena.items()
               if r == {"arn:aws:athena:us-east-1:123456789012:datacatalog/AwsDataCatalog"}}
    assert all(a.split(":")[1].startswith(("Get", "List")) for a in catalog)
    # Only list actions that have no resource-level permissions are on "*".
    assert set(athena) - workgroup - catalog == {"athena:ListWorkGroups",
                                                  "athena:ListEngineVersions"}
    assert all(athena[a] == {"*"} for a in ("athena:ListWorkGroups", "athena:ListEngineVersions"))
    steward = policies["steward"]
    assert steward["s3:GetObject"] == {f"{BUCKET}/lake/curated/*", f"{BUCKET}/lake/trusted/*",
                                       f"{BUCKET}/lake/landing/landing_quarantine/*"}
    # Glue: reads only for people, and only on the one database (and the catalog).
    for role in ("data_scientist", "steward"):
        glue = {a: r for a, r in policies[role].items() if a.startswith("glue:")}
        assert all(a.split(":")[1].startswith("Get") for a in glue), glue
        assert all(r == set(GLUE) for r in glue.values()), glue
    # The steward writes nothing: no action but reads and lists.
    assert all(a.split(":")[1].startswith(("Get", "List")) for a in steward), sorted(steward)


@pytest.mark.unit
def test_each_role_trusts_only_its_principal_parameter():
    for role, principal in (("pipeline", "arn:aws:iam::123456789012:role/runner"),
                            ("data_scientist", "arn:aws:iam::123456789012:root"),
                            ("steward", "arn:aws:iam::123456789012:user/steward")):
        assert trust_policy(role, NAMES)["Statement"] == [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]


@pytest.mark.unit
def test_the_bucket_refuses_requests_without_tls_and_is_private():
    resources = load_template()["Resources"]
    (statement,) = resolve(resources["LakeBucketPolicy"]["Properties"]["PolicyDocument"],
                           NAMES)["Statement"]
    assert statement == {"Sid": "DenyRequestsWithoutTLS", "Effect": "Deny", "Principal": "*",
                         "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"],
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    bucket = resources["LakeBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(rule.get("AbortIncompleteMultipartUpload") for rule in rules)
    workgroup = resources["WorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert workgroup["EnforceWorkGroupConfiguration"] is True
    assert workgroup["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"
    assert workgroup["ResultConfiguration"]["EncryptionConfiguration"]
