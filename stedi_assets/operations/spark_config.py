"""Spark settings for the run's one session, sized for a small machine by default."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from filelock import FileLock

from stedi_assets.lake.catalog import LakeCatalog
from stedi_assets.operations import class_archive
from stedi_assets.operations.settings import Settings

# Every table here is small next to a Spark partition; 200 shuffle partitions (Spark's default)
# would mostly schedule empty tasks on a 2-core machine.
SHUFFLE_PARTITIONS = 4
# The customer tables (thousands of rows) are broadcast to every join; readings never are.
BROADCAST_THRESHOLD = 64 * 1024 * 1024
# The driver's heap, in a run of its own and in the engine (`stedi engine`).
DRIVER_MEMORY = "2g"
# Settings a JVM takes when it starts (a session cannot change them). Spark keeps the classes it
# generates for a query's code in a cache of 100 by default; one run of the pipeline makes more,
# so in a JVM that serves many runs (the engine, a test session) each run compiled them all
# again, and the JIT compiled those classes again too. With room for all of them, runs 2 to 5 of
# a small landing on one JVM used a quarter less JVM CPU (24.9 s against 33.3 s) and took
# 18.0 s against 21.0 s (medians; docs/performance.md).
#
# PySpark records the Python line behind every column expression it builds, for error messages
# (on by default, a static setting): in a local session that is about ten calls into the JVM per
# function call: building the exhaustive validation plan of one source made 13,867 of them,
# 4,687 without (4.3 s, 1.8 s). Errors still name the failing expression, not the Python line.
JVM_SETTINGS = {"spark.sql.codegen.cache.maxEntries": "2000",
                "spark.python.sql.dataFrameDebugging.enabled": "false"}


def lake_catalog(settings: Settings) -> LakeCatalog:
    return LakeCatalog(kind=settings.catalog, lake_uri=settings.lake_uri,
                       landing_uri=settings.landing_uri, database=settings.catalog_database,
                       jars=settings.jars, jar_cache=settings.jar_cache,
                       iceberg_version=settings.iceberg_version)


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
    return with_class_archive({
        **session,
        "spark.driver.memory": DRIVER_MEMORY,
        **JVM_SETTINGS,
        "spark.ui.showConsoleProgress": "false",
        **conf,
        **lake,
    }, settings)


DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"


def with_class_archive(conf: dict[str, str], settings: Settings) -> dict[str, str]:
    """`conf` whose driver JVM maps the class archive, when there is one (class_archive.py)."""
    options = class_archive.java_options(settings.class_archive_dir)
    if not options:
        return conf
    joined = " ".join(filter(None, [conf.get(DRIVER_JAVA_OPTIONS), options]))
    return {**conf, DRIVER_JAVA_OPTIONS: joined}


def spark_session(settings: Settings):
    """The session `settings` describe, for the `stedi` commands that need Spark."""
    return own_session(spark_conf(settings))


_SESSIONS: dict[tuple, object] = {}
_STARTING = threading.Lock()  # a second caller waits for the session the first one starts


def start_in_background(settings: Settings) -> None:
    """Starts the session of `settings` in a thread, so that the JVM starts (seconds) while
    the run's Python work before its first Spark step goes on; the first step's call waits
    for it. A failed start is said again, in one line, by that call."""
    conf = spark_conf(settings)
    threading.Thread(target=_quietly, args=(conf,), name="spark-start", daemon=True).start()


def _quietly(conf: dict[str, str]) -> None:
    try:
        own_session(conf)
    except Exception:  # noqa: BLE001 - the step's own call raises it where it is reported
        pass


def own_session(conf: dict[str, str]):
    """The process's session for `conf`. The JVM is shared with any session the process already
    has (the expensive part), but SQL settings, the Iceberg catalog among them, are this
    session's own: Spark builds a catalog once per session, so a second lake needs a second
    session. Every resource of a run asks for the same `conf` and gets the same session."""
    with _STARTING:
        return _own_session(conf)


def _own_session(conf: dict[str, str]):
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    starts_the_jvm = SparkContext._active_spark_context is None  # and resolves its jars
    with jars_resolved_alone(conf) if starts_the_jvm else nullcontext():
        shared = builder.getOrCreate()
    if type(shared).__module__.startswith("pyspark.sql.connect"):
        return shared  # a Connect client's session is its own already
    key = tuple(sorted(conf.items()))
    known = _SESSIONS.get(key)
    if known is not None and known.sparkContext is shared.sparkContext:
        return known
    session = shared.newSession()
    for name, value in conf.items():
        if name.startswith("spark.sql.") and name != "spark.sql.extensions" \
                and name not in JVM_SETTINGS:
            session.conf.set(name, value)
    _SESSIONS[key] = session
    return session


RESOLVING_LOCK = ".resolving.lock"


def missing_packages(conf: dict[str, str]) -> list[str]:
    """The Maven packages of `conf` whose jar is not yet in its jar cache (Spark's Ivy copies
    each package it resolved to `<cache>/jars/<group>_<artifact>-<version>.jar`, last)."""
    packages, cache = conf.get("spark.jars.packages"), conf.get("spark.jars.ivy")
    if not packages or not cache:
        return []
    jars = Path(cache) / "jars"
    return [package for package in packages.split(",")
            if not (jars / "{}_{}-{}.jar".format(*package.split(":"))).is_file()]


@contextmanager
def jars_resolved_alone(conf: dict[str, str]) -> Iterator[None]:
    """Around the start of a JVM with `conf`: while its jar cache lacks a package, one process
    at a time starts. Ivy cannot fill one cache from two processes at once (two first runs on a
    fresh machine would both download, and one can read the other's half-written files); once
    the jars are there, JVMs start side by side."""
    if not missing_packages(conf):
        yield
        return
    cache = Path(conf["spark.jars.ivy"])
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(cache / RESOLVING_LOCK):
        yield
