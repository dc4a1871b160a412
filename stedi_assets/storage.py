"""The few file operations the lake needs beyond Spark, for a local folder and s3:// alike:
small text files (version manifests), listing version folders, deleting them."""

from __future__ import annotations

import shutil
from pathlib import Path

from stedi_assets import aws


def _on_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def write_text(uri: str, text: str) -> None:
    if _on_s3(uri):
        bucket, key = aws.split_s3_uri(uri)
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())
        return
    path = Path(uri)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)  # atomic: readers see all of it or none


def read_text(uri: str) -> str | None:
    """The file's text, or None when there is no such file."""
    if _on_s3(uri):
        bucket, key = aws.split_s3_uri(uri)
        s3 = aws.client("s3")
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except s3.exceptions.NoSuchKey:
            return None
    path = Path(uri)
    return path.read_text() if path.is_file() else None


def folders(uri: str) -> list[str]:
    """Names of the folders directly under `uri` (none if it does not exist)."""
    if _on_s3(uri):
        bucket, prefix = aws.split_s3_uri(uri.rstrip("/") + "/")
        pages = aws.client("s3").get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/")
        return sorted(entry["Prefix"][len(prefix):].rstrip("/")
                      for page in pages for entry in page.get("CommonPrefixes", []))
    path = Path(uri)
    return sorted(child.name for child in path.iterdir() if child.is_dir()) if path.is_dir() else []


def delete_tree(uri: str) -> None:
    if _on_s3(uri):
        bucket, prefix = aws.split_s3_uri(uri.rstrip("/") + "/")
        s3 = aws.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        return
    shutil.rmtree(uri, ignore_errors=True)
