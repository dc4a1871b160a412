"""The run's one SparkSession, as a Dagster resource."""

from dagster_pyspark import LazyPySparkResource

from stedi_assets.settings import Settings
from stedi_assets.spark_config import own_session, spark_conf


class RunSparkSession(LazyPySparkResource):
    """Started on first use; the run's SQL settings (its lake's catalog) are its own even in a
    process that has run other pipelines before (tests, a long-lived code server)."""

    def _init_session(self) -> None:
        if self._spark_session is None:
            self._spark_session = own_session(self.spark_config)


def spark_resource(settings: Settings) -> RunSparkSession:
    return RunSparkSession(spark_config=spark_conf(settings))
