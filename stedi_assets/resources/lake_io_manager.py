"""The one place that writes and reads tables."""


from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from stedi_assets.catalog import hive_columns
from stedi_assets.contract import AUDITED_TABLES
from stedi_assets.lake import spark_uri
from stedi_assets.metadata import table_metadata
from stedi_assets.resources.lakehouse import LakehouseResource


class LakeIOManager(ConfigurableIOManager):
    """Writes every output as a new Parquet version of its table; hands downstream the
    published version. Tables with blocking checks are published by their check step once
    all checks pass; the others as soon as they are written."""

    pyspark: ResourceDependency[LazyPySparkResource]
    lakehouse: ResourceDependency[LakehouseResource]

    def handle_output(self, context: OutputContext, obj: DataFrame) -> None:
        table = context.asset_key.path[-1]
        lake = self.lakehouse.open()
        location = lake.new_version_location(table, context.run_id)
        # Counted while it is written: a separate count() would be another Spark job.
        rows = Observation(f"{table}_rows")
        counted = obj.observe(rows, F.count(F.lit(1)).alias("rows"))
        # "error": a version folder is written once (and Spark Connect knows no "errorifexists").
        counted.write.mode("error").parquet(spark_uri(location))
        written = self.pyspark.spark_session.read.parquet(spark_uri(location))
        staged = lake.record_staged(table, location, hive_columns(written.schema),
                                    rows.get["rows"], context.run_id)
        metadata = table_metadata(written, location, staged.row_count)
        if table in AUDITED_TABLES:
            metadata["published_version"] = "pending: published when its blocking checks pass"
        else:
            metadata["published_version"] = lake.publish(staged).version
        context.add_output_metadata(metadata)

    def load_input(self, context: InputContext) -> DataFrame:
        table = context.asset_key.path[-1]
        published = self.lakehouse.open().require_published(table)
        return self.pyspark.spark_session.read.parquet(spark_uri(published.data_location))
