"""Where the raw feeds are, and what files they hold (for the sensor)."""


import os
import shutil
import tempfile
from pathlib import Path

from dagster import ConfigurableResource

from stedi_assets.lake import landing_files
from stedi_assets.lake.landing_files import LandingFile
from stedi_assets.rules.contract import Source
from stedi_assets.rules.sample_data import generate_landing


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
        return landing_files.readable_files(self.uri, source)

    def landing_files(self, source: Source) -> list[LandingFile]:
        """Every landing file of `source`, by path."""
        return landing_files.landing_files(self.uri, source)
