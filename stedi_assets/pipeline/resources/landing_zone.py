"""Where the raw feeds are, and what files they hold (for the sensor)."""


import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dagster import ConfigurableResource

from stedi_assets.operations import aws
from stedi_assets.rules.contract import LANDING_FILE_SUFFIXES, Source
from stedi_assets.rules.sample_data import generate_landing


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


class LandingZone(ConfigurableResource):
    """The landing root: `<uri>/customer/`, `<uri>/accelerometer/`, `<uri>/step_trainer/`.
    With `generated_sample`, a generated landing zone is written there on first use."""

    uri: str
    generated_sample: bool = False

    def source_uri(self, source: Source) -> str:
        if self.generated_sample:
            self._ensure_generated_sample()
        uri = f"{self.uri.rstrip('/')}/{source.name}"
        if "://" not in uri and not os.path.isdir(uri):
            raise FileNotFoundError(f"landing folder for {source.name} not found: {uri}")
        return uri

    def _ensure_generated_sample(self) -> None:
        root = Path(self.uri)
        if root.exists():
            return
        root.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed, so a crash never leaves half a sample.
        staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=root.parent))
        generate_landing(staging)
        try:
            staging.rename(root)
        except OSError:  # another run got there first
            shutil.rmtree(staging, ignore_errors=True)

    def hidden_files(self, source: Source) -> list[str]:
        """Landing files Spark never reads (see `LandingFile.hidden`)."""
        return [file.path for file in self.landing_files(source) if file.hidden]

    def readable_files(self, source: Source) -> dict[str, tuple[int, int]]:
        """path -> (size, modified ms) of every landing file of `source` Spark reads."""
        return {(file.path if "://" in file.path else os.path.abspath(file.path)):
                (file.size, file.modified_ms)
                for file in self.landing_files(source) if not file.hidden}

    def landing_files(self, source: Source) -> list[LandingFile]:
        """Every landing file of `source`, by path."""
        if self.uri.startswith("s3://"):
            return _s3_files(f"{self.uri.rstrip('/')}/{source.name}/")
        return sorted(_local_files(Path(self.uri) / source.name))


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
    from dagster_aws.s3.sensor import get_objects  # imported here: a local landing needs no AWS

    bucket, prefix = aws.split_s3_uri(prefix_uri)
    return sorted(
        LandingFile(f"s3://{bucket}/{item['Key']}", item["Size"], item["ETag"].strip('"'),
                    _is_hidden(item["Key"][len(prefix):]),
                    int(item["LastModified"].timestamp() * 1000))
        for item in get_objects(bucket, prefix, client=aws.client("s3"))
        if item["Key"].endswith(LANDING_FILE_SUFFIXES)
    )
