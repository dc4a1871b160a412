"""The files of the landing zone, listed as Spark will read them (local folders or S3).

Plain Python and boto3: a run that finds nothing new lists the landing without loading Dagster
or Spark."""

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stedi_assets.operations import aws
from stedi_assets.rules.contract import LANDING_FILE_SUFFIXES, Source


@dataclass(frozen=True, order=True)
class LandingFile:
    """One file under a source's folder, with what tells its versions apart."""

    path: str  # a local path or an s3:// URI
    size: int
    version: str  # the S3 ETag, or the local modification time in nanoseconds
    # A name below the source folder starts with `_` or `.`: Hadoop's mark of temporary and
    # marker files, which Spark never reads (no setting turns it off).
    hidden: bool
    modified_ms: int = 0  # when it was last written, in ms since 1970 (what Spark reads)


def landing_files(landing_uri: str, source: Source) -> list[LandingFile]:
    """Every landing file of `source` under `landing_uri`, by path."""
    if landing_uri.startswith("s3://"):
        return _s3_files(f"{landing_uri.rstrip('/')}/{source.name}/")
    return sorted(_local_files(Path(landing_uri) / source.name))


def readable_files(landing_uri: str, source: Source) -> dict[str, tuple[int, int]]:
    """path -> (size, modified ms) of every landing file of `source` Spark reads."""
    return {(file.path if "://" in file.path else os.path.abspath(file.path)):
            (file.size, file.modified_ms)
            for file in landing_files(landing_uri, source) if not file.hidden}


def _is_hidden(relative_path: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative_path.split("/"))


def _local_files(folder: Path) -> Iterator[LandingFile]:
    for path in folder.rglob("*"):
        if not path.name.endswith(LANDING_FILE_SUFFIXES):
            continue
        try:
            status = path.stat()
        except FileNotFoundError:  # renamed or removed since it was listed
            continue
        if stat.S_ISREG(status.st_mode):
            yield LandingFile(str(path), status.st_size, str(status.st_mtime_ns),
                              _is_hidden(path.relative_to(folder).as_posix()),
                              status.st_mtime_ns // 1_000_000)


def _s3_files(prefix_uri: str) -> list[LandingFile]:
    bucket, prefix = aws.split_s3_uri(prefix_uri)
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                       Prefix=prefix)
    return sorted(
        LandingFile(f"s3://{bucket}/{item['Key']}", item["Size"], item["ETag"].strip('"'),
                    _is_hidden(item["Key"][len(prefix):]),
                    int(item["LastModified"].timestamp() * 1000))
        for page in pages for item in page.get("Contents", ())
        if item["Key"].endswith(LANDING_FILE_SUFFIXES)
    )
