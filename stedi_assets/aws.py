"""AWS clients from the standard credential chain, plus the two settings S3-compatible
servers need. Endpoints come from boto3's own variables (AWS_ENDPOINT_URL,
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_GLUE…); credentials are never read or logged here."""

from __future__ import annotations

import os
from functools import lru_cache

PATH_STYLE_ENV = "STEDI_S3_PATH_STYLE"


def path_style_access() -> bool:
    return os.environ.get(PATH_STYLE_ENV, "").strip().lower() in ("1", "true", "yes")


@lru_cache(maxsize=None)
def client(service: str):
    import boto3
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path"}) if path_style_access() else None
    return boto3.client(service, config=config)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> (bucket, "some/prefix")."""
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key
