"""The one place that writes and reads tables."""


from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from stedi_assets.lake import spark_uri, table_location
from stedi_assets.metadata import table_metadata


class LakeIOManager(ConfigurableIOManager):
    """Parquet tables under `<lake_uri>/<zone>/<table>/`, handed downstream as Spark
    DataFrames. The same class serves a local folder and an s3:// lake."""

    lake_uri: str
    pyspark: ResourceDependency[LazyPySparkResource]

    def location(self, table: str) -> str:
        return table_location(self.lake_uri, table)

    def handle_output(self, context: OutputContext, obj: DataFrame) -> None:
        table = context.asset_key.path[-1]
        location = self.location(table)
        # Counted while it is written: a separate count() would be another Spark job.
        rows = Observation(f"{table}_rows")
        counted = obj.observe(rows, F.count(F.lit(1)).alias("rows"))
        counted.write.mode("overwrite").parquet(spark_uri(location))
        written = self.pyspark.spark_session.read.parquet(spark_uri(location))
        context.add_output_metadata(table_metadata(written, location, rows.get["rows"]))

    def load_input(self, context: InputContext) -> DataFrame:
        table = context.asset_key.path[-1]
        return self.pyspark.spark_session.read.parquet(spark_uri(self.location(table)))
