"""Spark settings for the run's one session, sized for a small machine by default."""

from __future__ import annotations

from stedi_assets.lake.catalog import LakeCatalog
from stedi_assets.settings import Settings

# Every table here is small next to a Spark partition; 200 shuffle partitions (Spark's default)
# would mostly schedule empty tasks on a 2-core machine.
SHUFFLE_PARTITIONS = 4
# The customer tables (thousands of rows) are broadcast to every join; readings never are.
BROADCAST_THRESHOLD = 64 * 1024 * 1024
# The driver's heap, in a run of its own and in the engine (`stedi engine`).
DRIVER_MEMORY = "2g"


def lake_catalog(settings: Settings) -> LakeCatalog:
    return LakeCatalog(kind=settings.catalog, lake_uri=settings.lake_uri,
                       landing_uri=settings.landing_uri, database=settings.catalog_database,
                       jars=settings.jars, jar_cache=settings.jar_cache)


def spark_conf(settings: Settings) -> dict[str, str]:
    """Session settings. A Spark Connect server owns everything but SQL settings (the Iceberg
    catalog among them); a local one (`local`) is started with all of them."""
    conf = {
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.sql.autoBroadcastJoinThreshold": str(BROADCAST_THRESHOLD),
        "spark.sql.session.timeZone": "UTC",
    }
    lake = lake_catalog(settings).spark_conf()
    remote = settings.spark_remote
    if remote and not remote.startswith("local"):
        catalog = {key: value for key, value in lake.items() if key.startswith("spark.sql.catalog.")}
        return {"spark.remote": remote, **conf, **catalog}
    session = {"spark.remote": remote} if remote else {
        "spark.master": settings.spark_master, "spark.app.name": "stedi_assets"}
    return {
        **session,
        "spark.driver.memory": DRIVER_MEMORY,
        "spark.ui.showConsoleProgress": "false",
        **conf,
        **lake,
    }


def spark_session(settings: Settings):
    """The session `settings` describe, for the `stedi` commands that need Spark."""
    return own_session(spark_conf(settings))


_SESSIONS: dict[tuple, object] = {}


def own_session(conf: dict[str, str]):
    """The process's session for `conf`. The JVM is shared with any session the process already
    has (the expensive part), but SQL settings, the Iceberg catalog among them, are this
    session's own: Spark builds a catalog once per session, so a second lake needs a second
    session. Every resource of a run asks for the same `conf` and gets the same session."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    shared = builder.getOrCreate()
    if type(shared).__module__.startswith("pyspark.sql.connect"):
        return shared  # a Connect client's session is its own already
    key = tuple(sorted(conf.items()))
    known = _SESSIONS.get(key)
    if known is not None and known.sparkContext is shared.sparkContext:
        return known
    session = shared.newSession()
    for name, value in conf.items():
        if name.startswith("spark.sql.") and name != "spark.sql.extensions":
            session.conf.set(name, value)
    _SESSIONS[key] = session
    return session
