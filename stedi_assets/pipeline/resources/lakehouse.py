"""The lakehouse as a Dagster resource: the lake's catalog, retention, and the run's view."""

from datetime import datetime, timezone
from typing import Literal

from dagster import ConfigurableResource, InitResourceContext, ResourceDependency
from dagster_pyspark import LazyPySparkResource
from pydantic import Field, field_validator

from stedi_assets.rules.contract import ZONE_OF_TABLE
from stedi_assets.lake import LakeCatalog, Lakehouse, LakeRun, Retention
from stedi_assets.rules.shrink import DEFAULT_MAX_SHRINK, ShrinkPolicy, accepted_tables


# Each run's view of the lake, one per run and lake in this process: Dagster may hand the IO
# manager and the steps separate copies of this resource, and they must share the run's bases.
_RUNS: dict[tuple[str, str], LakeRun] = {}
_REMEMBERED_RUNS = 16


class LakehouseResource(ConfigurableResource):
    """Iceberg tables under `lake_uri`, in the `catalog` (`local`: SQLite in the lake; `glue`:
    the AWS Glue Data Catalog). Each run notes, when it starts, what every table's `main` is.
    `max_shrink` and `accept_shrink`: see `stedi_assets.rules.shrink`."""

    lake_uri: str
    landing_uri: str
    catalog: Literal["local", "glue"] = "local"
    database: str = "stedi"
    keep_versions: int = Field(default=3, ge=1)
    max_snapshot_age_hours: float = Field(default=120.0, ge=0)
    grace_hours: float = Field(default=24.0, ge=24)
    max_shrink: float = Field(default=DEFAULT_MAX_SHRINK, ge=0, le=1)
    accept_shrink: list[str] = []
    # Runs after the first append what new landing files add (see stedi_assets.lake.incremental);
    # False, or a run tagged stedi/full=true, rebuilds every table.
    incremental: bool = True
    pyspark: ResourceDependency[LazyPySparkResource]

    def lakehouse(self) -> Lakehouse:
        catalog = LakeCatalog(self.catalog, self.lake_uri, self.landing_uri, self.database)
        retention = Retention(self.keep_versions, self.max_snapshot_age_hours, self.grace_hours)
        return Lakehouse(catalog, retention, lambda: self.pyspark.spark_session)

    @field_validator("accept_shrink")
    @classmethod
    def _known_tables(cls, names: list[str]) -> list[str]:
        return sorted(accepted_tables(",".join(names), frozenset(ZONE_OF_TABLE)))

    def shrink_policy(self) -> ShrinkPolicy:
        return ShrinkPolicy(self.max_shrink, frozenset(self.accept_shrink))

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Before any step reads anything: the run's bases are main as the run starts.
        if context.run is not None:
            record = context.instance.get_run_record_by_id(context.run.run_id)
            self.run(context.run.run_id, record.create_timestamp if record else None)

    def run(self, run_id: str, started: datetime | None = None) -> LakeRun:
        """This run's view of the lake (noted when the run started)."""
        key = (self.lake_uri, run_id)
        if key not in _RUNS:
            while len(_RUNS) >= _REMEMBERED_RUNS:
                _RUNS.pop(next(iter(_RUNS)))
            _RUNS[key] = self.lakehouse().start_run(run_id, started or datetime.now(timezone.utc))
        return _RUNS[key]
