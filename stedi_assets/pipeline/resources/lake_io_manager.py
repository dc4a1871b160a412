"""The one place that writes and reads tables."""

import time

from dagster import (
    ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency,
)
from pyspark.sql import DataFrame

from stedi_assets.rules.contract import AUDITED_TABLES, MACHINE_LEARNING_CURATED
from stedi_assets.lake.incremental import APPEND, UNCHANGED, TableUpdate
from stedi_assets.pipeline.metadata import (
    PREVIEW_ROWS, published_note, shown_columns, table_metadata,
)
from stedi_assets.operations.run_report import picture_markdown
from stedi_assets.pipeline.resources.lakehouse import LakehouseResource
from stedi_assets.rules.validation import ValidatedLanding


class LakeIOManager(ConfigurableIOManager):
    """Writes every output to its Iceberg table's audit branch for this run (all of it, or
    the rows it appends); hands downstream what this run published. Tables with blocking
    checks are published by their check step once all checks pass; the others as soon as
    they are written. A table its plan leaves unchanged is not written."""

    lakehouse: ResourceDependency[LakehouseResource]

    def handle_output(self, context: OutputContext, obj: TableUpdate) -> None:
        table = context.asset_key.path[-1]
        run = self.lakehouse.run(context.run_id)
        plan = run.plans[table] = obj.plan
        change = {"change": plan.mode, "change_reason": plan.why}
        if plan.mode == UNCHANGED:
            published = run.lake.require_published(table)
            context.add_output_metadata({
                **change, "dagster/row_count": MetadataValue.int(published.rows),
                "snapshot_id": str(published.snapshot_id),
                "published": f"unchanged: snapshot {published.snapshot_id}"})
            return
        rows = obj.rows
        started = time.perf_counter()
        staged = run.stage(table, rows.parts() if isinstance(rows, ValidatedLanding) else rows,
                           append=plan.mode == APPEND, stamp=plan.stamp)
        # Spark computes the table as it writes it: this is the table's cost in this run.
        seconds = round(time.perf_counter() - started, 2)
        added = run.read_appended(table, run.bases[table], staged.snapshot_id) \
            if plan.mode == APPEND else None
        written = run.read(table)
        preview = run.lake.first_rows(table, staged.snapshot_id, shown_columns(written.columns),
                                      PREVIEW_ROWS)
        metadata = {**change, **table_metadata(written, staged, preview, added)}
        metadata["write_seconds"] = MetadataValue.float(seconds)
        if plan.new_files:
            metadata["new_files"] = MetadataValue.int(len(plan.new_files))
        if table == MACHINE_LEARNING_CURATED:  # the last table: the run's accounting, drawn
            metadata["row_accounting"] = MetadataValue.md(picture_markdown(
                context.step_context.instance, context.run_id, staged.rows))
        if table in AUDITED_TABLES:
            metadata["published"] = "pending: published when its blocking checks pass"
        else:
            metadata["published"] = published_note(run.publish(table), run.run_id)
        context.add_output_metadata(metadata)

    def load_input(self, context: InputContext) -> DataFrame:
        run = self.lakehouse.run(context.step_context.run_id)
        return run.read(context.asset_key.path[-1])
