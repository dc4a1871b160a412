"""Where the raw feeds are, and what files they hold (for the sensor)."""


import os
import shutil
import tempfile
from pathlib import Path

from dagster import ConfigurableResource

from stedi_assets import aws
from stedi_assets.contract import LANDING_FILE_SUFFIXES, Source
from stedi_assets.sample_data import generate_landing


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
        """Landing files Spark never reads: a name on their path starts with `_` or `.`
        (Hadoop's mark of temporary and marker files; no setting turns it off)."""
        on_s3 = self.uri.startswith("s3://")
        root = f"{self.uri.rstrip('/') if on_s3 else Path(self.uri)}/{source.name}/"
        return [path for path, _ in self.landing_files(source)
                if any(part.startswith(("_", ".")) for part in path[len(root):].split("/"))]

    def landing_files(self, source: Source) -> list[tuple[str, float]]:
        """(path, modification time) of every landing file of `source`."""
        if self.uri.startswith("s3://"):
            return _s3_files(f"{self.uri.rstrip('/')}/{source.name}/")
        folder = Path(self.uri) / source.name
        return sorted(
            (str(path), path.stat().st_mtime)
            for path in folder.rglob("*")
            if path.is_file() and path.name.endswith(LANDING_FILE_SUFFIXES)
        )


def _s3_files(prefix_uri: str) -> list[tuple[str, float]]:
    bucket, prefix = aws.split_s3_uri(prefix_uri)
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(
        (f"s3://{bucket}/{item['Key']}", item["LastModified"].timestamp())
        for page in pages
        for item in page.get("Contents", [])
        if item["Key"].endswith(LANDING_FILE_SUFFIXES)
    )
