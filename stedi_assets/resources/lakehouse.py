"""The lakehouse as a Dagster resource: the lake's catalog, retention, and the run's view."""

from datetime import datetime, timezone
from typing import Literal

from dagster import ConfigurableResource, InitResourceContext, ResourceDependency
from dagster_pyspark import LazyPySparkResource
from pydantic import Field, PrivateAttr

from stedi_assets.lake import LakeCatalog, Lakehouse, LakeRun, Retention


class LakehouseResource(ConfigurableResource):
    """Iceberg tables under `lake_uri`, in the `catalog` (`local`: SQLite in the lake; `glue`:
    the AWS Glue Data Catalog). Each run notes, when it starts, what every table's `main` is."""

    lake_uri: str
    landing_uri: str
    catalog: Literal["local", "glue"] = "local"
    database: str = "stedi"
    keep_versions: int = Field(default=3, ge=1)
    max_snapshot_age_hours: float = Field(default=120.0, ge=0)
    grace_hours: float = Field(default=24.0, ge=24)
    pyspark: ResourceDependency[LazyPySparkResource]

    _run: LakeRun | None = PrivateAttr(default=None)

    def lakehouse(self) -> Lakehouse:
        catalog = LakeCatalog(self.catalog, self.lake_uri, self.landing_uri, self.database)
        retention = Retention(self.keep_versions, self.max_snapshot_age_hours, self.grace_hours)
        return Lakehouse(catalog, retention, lambda: self.pyspark.spark_session)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Before any step reads anything: the run's bases are main as the run starts.
        if context.dagster_run is not None:
            self._run = self._start(context.dagster_run.run_id, context)

    def _start(self, run_id: str, context: InitResourceContext | None = None) -> LakeRun:
        record = context.instance.get_run_record_by_id(run_id) if context and context.instance else None
        started = record.create_timestamp if record else datetime.now(timezone.utc)
        return self.lakehouse().start_run(run_id, started)

    def run(self, run_id: str) -> LakeRun:
        """This run's view of the lake (noted when the run started)."""
        if self._run is None or self._run.run_id != run_id:
            self._run = self._start(run_id)
        return self._run
