"""A role's session credentials (STS AssumeRole: key, secret and AWS_SESSION_TOKEN) reach every
AWS client of a run: boto3 and pyiceberg read them from the environment, and Spark's two
clients are left to chains that read the token too. test_on_s3.py runs the whole pipeline on
nothing but such a session."""

import pytest

from stedi_assets.lake.catalog import LakeCatalog, s3a_credential_providers

SESSION = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_SESSION_TOKEN": "a-session-token", "AWS_REGION": "us-east-1"}
# The AWS SDK v2's provider that reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_SESSION_TOKEN together (session credentials when the token is there).
SDK_ENVIRONMENT = "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider"
# Hadoop's providers that read only keys in its own configuration, which the project never sets.
HADOOP_CONFIGURATION = ("org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
                        "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")


@pytest.mark.unit
def test_spark_is_given_no_keys_so_its_chains_find_the_session(monkeypatch):
    for key, value in SESSION.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    conf = LakeCatalog(kind="glue", lake_uri="s3://b/lake", landing_uri="s3://b/landing").spark_conf()

    # No credential in Spark's settings: neither S3A's nor the Iceberg catalog's (Glue and
    # S3FileIO then use the SDK's default chain, whose environment step reads the token).
    assert not [key for key in conf if any(word in key.lower() for word in (
        "access.key", "secret.key", "session.token", "access-key", "secret-access-key",
        "session-token", "credentials-provider"))]
    assert not [value for value in conf.values() if any(v in value for v in SESSION.values()
                                                       if v != "us-east-1")]
    # S3A: before any provider that could find other credentials (a profile, the instance
    # role), the SDK's environment provider, which takes the session token with the keys.
    chain = conf["spark.hadoop.fs.s3a.aws.credentials.provider"].split(",")
    assert chain == s3a_credential_providers()
    first_that_finds = next(p for p in chain if p not in HADOOP_CONFIGURATION)
    assert first_that_finds == SDK_ENVIRONMENT
