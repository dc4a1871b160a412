"""The run's one SparkSession, as a Dagster resource."""

from dagster import EnvVar
from dagster_pyspark import LazyPySparkResource

from stedi_assets.operations.settings import Settings
from stedi_assets.operations.spark_config import own_session, spark_conf

REMOTE = "spark.remote"


class RunSparkSession(LazyPySparkResource):
    """Started on first use; the run's SQL settings (its lake's catalog) are its own even in a
    process that has run other pipelines before (tests, a long-lived code server)."""

    # The Spark Connect URL may carry a token: it is given as an EnvVar, so Dagster shows the
    # variable's name, never its value, and it is kept out of `spark_config`, which it shows.
    remote: str | None = None

    def _init_session(self) -> None:
        if self._spark_session is None:
            conf = dict(self.spark_config)
            if self.remote:
                conf[REMOTE] = self.remote
            self._spark_session = own_session(conf)


def spark_resource(settings: Settings) -> RunSparkSession:
    conf = spark_conf(settings)
    remote = EnvVar("STEDI_SPARK_REMOTE") if conf.pop(REMOTE, None) else None
    return RunSparkSession(spark_config=conf, remote=remote)
