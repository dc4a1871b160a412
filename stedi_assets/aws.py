"""AWS clients from the standard credential chain, plus the two settings S3-compatible
servers need. Endpoints come from boto3's own variables (AWS_ENDPOINT_URL,
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_GLUE…); credentials are never read or logged here."""

from __future__ import annotations

import os
from functools import lru_cache

PATH_STYLE_ENV = "STEDI_S3_PATH_STYLE"


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

    config = Config(s3={"addressing_style": "path"}) if path_style else None
    return boto3.client(service, config=config)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> (bucket, "some/prefix")."""
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key
