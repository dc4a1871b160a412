"""AWS clients from the standard credential chain, plus the two settings S3-compatible
servers need. Endpoints come from boto3's own variables (AWS_ENDPOINT_URL,
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_GLUE…); credentials are never read or logged here."""

from __future__ import annotations

import os
from functools import lru_cache

PATH_STYLE_ENV = "STEDI_S3_PATH_STYLE"

# How every client the pipeline talks to AWS with retries, in one place: boto3 (the landing's
# listing, the raw tables in Glue, Athena), pyiceberg (Glue and pyarrow's S3), and in the JVM
# Iceberg's Glue catalog and S3FileIO (the AWS SDK for Java v2) and Hadoop's S3A. A throttled
# request (503 SlowDown, ThrottlingException), a server error or a cut connection is tried
# again with exponential backoff and jitter ("standard" mode in both SDKs). A catalog commit
# whose answer was lost is not repeated blindly: its retry fails on the table's version, and
# the commit is then judged against the table as it is (`Lakehouse.change_refs`, Iceberg's
# own commit-status check in the JVM).
MAX_ATTEMPTS = 10
RETRY_MODE = "standard"


def retry_config():
    """botocore's retries, for every boto3 client made here."""
    from botocore.config import Config

    return Config(retries={"max_attempts": MAX_ATTEMPTS, "mode": RETRY_MODE})


def pyiceberg_retries() -> dict:
    """pyiceberg's catalog properties for the same retries (Glue, and pyarrow's S3)."""
    return {"glue.max-retries": MAX_ATTEMPTS, "glue.retry-mode": RETRY_MODE,
            "s3.retry-strategy-impl": f"{__name__}.StandardS3Retries"}


def jvm_retries() -> dict[str, str]:
    """Spark settings for the same retries in the JVM: the AWS SDK v2 reads its system
    properties (Iceberg's Glue client and S3FileIO), S3A its own settings."""
    sdk = f"-Daws.maxAttempts={MAX_ATTEMPTS} -Daws.retryMode={RETRY_MODE}"
    return {"spark.driver.extraJavaOptions": sdk, "spark.executor.extraJavaOptions": sdk,
            "spark.hadoop.fs.s3a.attempts.maximum": str(MAX_ATTEMPTS),
            "spark.hadoop.fs.s3a.retry.limit": str(MAX_ATTEMPTS),
            "spark.hadoop.fs.s3a.retry.throttle.limit": str(MAX_ATTEMPTS)}


@lru_cache(maxsize=1)
def _standard_s3_retries():
    from pyarrow.fs import AwsStandardS3RetryStrategy

    class StandardS3Retries(AwsStandardS3RetryStrategy):
        """pyarrow's standard retries with MAX_ATTEMPTS (pyiceberg builds it by its name,
        without arguments)."""

        def __init__(self):
            super().__init__(max_attempts=MAX_ATTEMPTS)

    return StandardS3Retries


def __getattr__(name: str):
    if name == "StandardS3Retries":  # pyarrow is imported only when pyiceberg asks for it
        return _standard_s3_retries()
    raise AttributeError(name)


def path_style_access() -> bool:
    return os.environ.get(PATH_STYLE_ENV, "").strip().lower() in ("1", "true", "yes")


def endpoint(service: str) -> str | None:
    """A server's URL that replaces AWS for `service`, if any (boto3 reads the same variables)."""
    return (os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
            or os.environ.get("AWS_ENDPOINT_URL") or None)


def web_identity() -> bool:
    """Whether the environment names a web identity token file (EKS): its path, not a secret."""
    return bool(os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"))


def s3_endpoint() -> str | None:
    return endpoint("s3")


def region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def client(service: str):
    """A client for `service`, configured by the environment as it is now (tests and tools
    may point the same process at different endpoints)."""
    endpoint_variables = ("AWS_ENDPOINT_URL", f"AWS_ENDPOINT_URL_{service.upper()}",
                          "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")
    environment = tuple(os.environ.get(name) for name in endpoint_variables)
    return _client(service, environment, path_style_access())


@lru_cache(maxsize=16)
def _client(service: str, _environment: tuple, path_style: bool):
    import boto3
    from botocore.config import Config

    config = retry_config()
    if path_style:
        config = config.merge(Config(s3={"addressing_style": "path"}))
    return boto3.client(service, config=config)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> (bucket, "some/prefix")."""
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key
