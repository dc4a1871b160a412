"""The one place that writes and reads tables."""

import time

from dagster import (
    ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency,
)
from pyspark.sql import DataFrame

from stedi_assets.contract import AUDITED_TABLES
from stedi_assets.metadata import table_metadata
from stedi_assets.resources.lakehouse import LakehouseResource
from stedi_assets.validation import ValidatedLanding


class LakeIOManager(ConfigurableIOManager):
    """Writes every output to its Iceberg table's audit branch for this run; hands downstream
    what this run published. Tables with blocking checks are published by their check step once
    all checks pass; the others as soon as they are written."""

    lakehouse: ResourceDependency[LakehouseResource]

    def handle_output(self, context: OutputContext, obj: DataFrame | ValidatedLanding) -> None:
        table = context.asset_key.path[-1]
        run = self.lakehouse.run(context.run_id)
        started = time.perf_counter()
        staged = run.stage(table, obj.parts() if isinstance(obj, ValidatedLanding) else obj)
        # Spark computes the table as it writes it: this is the table's cost in this run.
        seconds = round(time.perf_counter() - started, 2)
        metadata = table_metadata(run.read(table), staged)
        metadata["write_seconds"] = MetadataValue.float(seconds)
        if table in AUDITED_TABLES:
            metadata["published"] = "pending: published when its blocking checks pass"
        else:
            metadata["published"] = f"snapshot {run.publish(table).snapshot_id}"
        context.add_output_metadata(metadata)

    def load_input(self, context: InputContext) -> DataFrame:
        run = self.lakehouse.run(context.step_context.run_id)
        return run.read(context.asset_key.path[-1])
