"""The run's one SparkSession, as a Dagster resource."""

from dagster_pyspark import LazyPySparkResource

from stedi_assets.settings import Settings
from stedi_assets.spark_config import spark_conf


def spark_resource(settings: Settings) -> LazyPySparkResource:
    return LazyPySparkResource(spark_config=spark_conf(settings))
