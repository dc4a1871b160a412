"""The environment, decided in one place.

Every knob the pipeline has is an environment variable read here, so that the Dagster UI,
sensors, `dagster asset materialize` and the `stedi` CLI all see the same configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args
from urllib.parse import urlsplit

from stedi_assets.rules.contract import ZONE_OF_TABLE
from stedi_assets.rules.shrink import (
    ACCEPT_SETTING, DEFAULT_MAX_SHRINK, MAX_SHRINK_SETTING, accepted_tables,
)

CONSENT_MODES = ("any", "as_of_date")
CATALOGS = ("local", "glue")
JAR_SOURCES = ("maven", "provided")
ICEBERG_VERSION_SETTING = "STEDI_ICEBERG_VERSION"
# The pinned Iceberg release (Spark's runtime and the AWS bundle), then 1.11.0: what Glue 6 and
# EMR 8.1 ship, which the pipeline is tested on too (test_cluster.py).
IcebergVersion = Literal["1.12.0", "1.11.0"]
ICEBERG_VERSIONS: tuple[IcebergVersion, ...] = get_args(IcebergVersion)
ICEBERG_VERSION: IcebergVersion = ICEBERG_VERSIONS[0]
# Spark refuses to remove orphan files younger than this: a running write may still add them.
MIN_GRACE_HOURS = 24

# Not a secret: it is printed here on purpose so nobody mistakes it for one. Curated tables
# built with it are pseudonymous only against people who have not read this file.
DEVELOPMENT_PSEUDONYM_KEY = "stedi-development-key-not-secret"

DEFAULT_HOME = Path(".stedi")
# The project's Dagster instance lives in the local state folder unless DAGSTER_HOME names one.
DAGSTER_HOME_FOLDER = "dagster"
SENSOR_RUNNING_SETTING = "STEDI_SENSOR_RUNNING"
SENSOR_INTERVAL_SETTING = "STEDI_SENSOR_INTERVAL_SECONDS"
INCREMENTAL_SETTING = "STEDI_INCREMENTAL"
# Where the project's Dagster instance keeps runs, event logs and the sensor's state and cursor:
# SQLite files in its folder, or a PostgreSQL database whose URL Dagster reads from
# POSTGRES_URL_SETTING when the instance loads (the instance's dagster.yaml names the variable,
# never the URL: it holds a password).
InstanceStorage = Literal["sqlite", "postgres"]
INSTANCE_STORAGES: tuple[InstanceStorage, ...] = get_args(InstanceStorage)
INSTANCE_STORAGE_SETTING = "STEDI_INSTANCE_STORAGE"
POSTGRES_URL_SETTING = "STEDI_DAGSTER_POSTGRES_URL"
POSTGRES_SCHEME = "postgresql+psycopg2"
POSTGRES_URL_FORM = f"{POSTGRES_SCHEME}://user:password@host:port/database"


def default_catalog(lake_uri: str) -> str:
    """The one local-or-AWS decision: a lake on S3 is published in Glue, any other locally."""
    return "glue" if lake_uri.startswith("s3://") else "local"


class SettingsError(ValueError):
    """A configuration value is unusable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    landing_uri: str
    lake_uri: str
    consent_mode: str
    uses_generated_sample: bool
    spark_master: str
    spark_remote: str | None
    pseudonym_key_env: str | None  # name of the variable holding the key, never the key
    catalog: str = "local"
    catalog_database: str = "stedi"
    keep_versions: int = 3
    max_snapshot_age_hours: float = 120.0
    grace_hours: float = 24.0
    athena_output: str | None = None
    athena_workgroup: str | None = None
    jars: str = "maven"  # "maven": resolved once and cached; "provided": already on the classpath
    jar_cache: str = ""
    iceberg_version: IcebergVersion = ICEBERG_VERSION  # the jars `maven` resolves
    max_shrink: float = DEFAULT_MAX_SHRINK
    accept_shrink: frozenset[str] = frozenset()
    dagster_home: str = ""
    owns_dagster_home: bool = True  # False: DAGSTER_HOME is a person's own; used as it is
    sensor_running: bool = False  # the landing sensor starts running, not stopped
    sensor_interval_seconds: int = 60  # the least time between two ticks of the landing sensor
    incremental: bool = True  # False: every run rebuilds every table
    # The instance's storage; "postgres": at the URL in STEDI_DAGSTER_POSTGRES_URL (never here).
    instance_storage: InstanceStorage = "sqlite"
    # The JVMs' class archive's folder (stedi_assets.operations.class_archive); None: off.
    class_archive_dir: str | None = None

    @property
    def uses_development_key(self) -> bool:
        return self.pseudonym_key_env is None


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _absolute(uri: str) -> str:
    if "://" in uri:
        return uri.rstrip("/")
    return str(Path(uri).expanduser().resolve())


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("STEDI_HOME", str(DEFAULT_HOME)))
    consent_mode = env.get("STEDI_CONSENT_MODE", "any").strip().lower() or "any"
    if consent_mode not in CONSENT_MODES:
        raise SettingsError(
            f"STEDI_CONSENT_MODE={consent_mode!r} is not one of {', '.join(CONSENT_MODES)}"
        )
    landing = env.get("STEDI_LANDING_URI", "").strip()
    lake = _absolute(env.get("STEDI_LAKE_URI", "").strip() or str(home / "lake"))
    key = env.get("STEDI_PSEUDONYM_KEY") or ""
    has_key = bool(key) and key != DEVELOPMENT_PSEUDONYM_KEY
    catalog = env.get("STEDI_CATALOG", "").strip().lower() or default_catalog(lake)
    if catalog not in CATALOGS:
        raise SettingsError(f"STEDI_CATALOG={catalog!r} is not one of {', '.join(CATALOGS)}")
    landing_uri = _absolute(landing or str(home / "sample-landing"))
    if not has_key:
        _refuse_development_key_beyond_this_machine(landing_uri, lake, catalog)
    keep = _whole(env, "STEDI_KEEP_VERSIONS", "3", "a whole number of at least 1")
    max_age = _hours(env, "STEDI_MAX_SNAPSHOT_AGE_HOURS", "120", minimum=0)
    grace = _hours(env, "STEDI_GRACE_HOURS", str(MIN_GRACE_HOURS), minimum=MIN_GRACE_HOURS)
    max_shrink = _fraction(env, MAX_SHRINK_SETTING, str(DEFAULT_MAX_SHRINK))
    try:
        accept_shrink = accepted_tables(env.get(ACCEPT_SETTING, ""), frozenset(ZONE_OF_TABLE))
    except ValueError as problem:
        raise SettingsError(str(problem)) from None
    jars = env.get("STEDI_JARS", "").strip().lower() or "maven"
    if jars not in JAR_SOURCES:
        raise SettingsError(f"STEDI_JARS={jars!r} is not one of {', '.join(JAR_SOURCES)}")
    iceberg = env.get(ICEBERG_VERSION_SETTING, "").strip() or ICEBERG_VERSION
    if iceberg not in ICEBERG_VERSIONS:
        raise SettingsError(f"{ICEBERG_VERSION_SETTING}={iceberg!r} is not one of "
                            f"{', '.join(ICEBERG_VERSIONS)}")
    own_home = env.get("DAGSTER_HOME", "").strip()
    interval = _whole(env, SENSOR_INTERVAL_SETTING, "60",
                      "a whole number of seconds of at least 1")
    storage = _instance_storage(env)
    return Settings(
        landing_uri=landing_uri,
        lake_uri=lake,
        consent_mode=consent_mode,
        uses_generated_sample=not landing,
        spark_master=env.get("STEDI_SPARK_MASTER", "local[*]"),
        spark_remote=env.get("STEDI_SPARK_REMOTE") or None,
        pseudonym_key_env="STEDI_PSEUDONYM_KEY" if has_key else None,
        catalog=catalog,
        catalog_database=env.get("STEDI_GLUE_DATABASE", "").strip() or "stedi",
        keep_versions=keep,
        max_snapshot_age_hours=max_age,
        grace_hours=grace,
        athena_output=env.get("STEDI_ATHENA_OUTPUT") or None,
        athena_workgroup=env.get("STEDI_ATHENA_WORKGROUP") or None,
        jars=jars,
        jar_cache=env.get("STEDI_JAR_CACHE") or str(_user_cache() / "stedi" / "ivy"),
        iceberg_version=cast(IcebergVersion, iceberg),
        max_shrink=max_shrink,
        accept_shrink=accept_shrink,
        dagster_home=_absolute(own_home or str(home / DAGSTER_HOME_FOLDER)),
        owns_dagster_home=not own_home,
        sensor_running=_flag(env, SENSOR_RUNNING_SETTING),
        sensor_interval_seconds=interval,
        incremental=_flag(env, INCREMENTAL_SETTING, default=True),
        instance_storage=storage,
        class_archive_dir=_class_archive_dir(env.get("STEDI_CLASS_ARCHIVE", "").strip()),
    )


def _class_archive_dir(value: str) -> str | None:
    if value.lower() == "off":
        return None
    return _absolute(value or str(_user_cache() / "stedi" / "jvm"))


def _instance_storage(env) -> InstanceStorage:
    storage = env.get(INSTANCE_STORAGE_SETTING, "").strip().lower() or "sqlite"
    if storage not in INSTANCE_STORAGES:
        raise SettingsError(f"{INSTANCE_STORAGE_SETTING}={storage!r} is not one of "
                            f"{', '.join(INSTANCE_STORAGES)}")
    if storage == "postgres":
        # Checked here so that a missing or mistyped URL is one clear line, not a Dagster
        # traceback; its value is never repeated (it holds a password).
        url = env.get(POSTGRES_URL_SETTING, "")
        if not url.strip():
            raise SettingsError(f"{INSTANCE_STORAGE_SETTING}=postgres needs "
                                f"{POSTGRES_URL_SETTING} ({POSTGRES_URL_FORM})")
        # Dagster reads the variable as it is: no spaces around it, the driver named.
        if url != url.strip() or _scheme(url) != POSTGRES_SCHEME:
            raise SettingsError(
                f"{POSTGRES_URL_SETTING} is not a {POSTGRES_URL_FORM} URL (its value is not "
                "shown: it may hold a password). Its driver is named: SQLAlchemy 2.1 reads a "
                "plain postgresql:// with psycopg 3, and dagster-postgres brings psycopg2")
    return cast(InstanceStorage, storage)


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # such as "postgresql+psycopg2://[host"
        return ""


def _refuse_development_key_beyond_this_machine(landing: str, lake: str, catalog: str) -> None:
    """The one rule for the public development key: only when nothing is read from or written
    to anything but local paths and the local catalog. Anywhere else it would make
    customer_id reversible by anybody who can read this repository."""
    remote = [f"{name}={uri}" for name, uri in (("STEDI_LANDING_URI", landing),
                                                ("STEDI_LAKE_URI", lake)) if not _is_local(uri)]
    if catalog != "local":
        remote.append(f"STEDI_CATALOG={catalog}")
    if remote:
        raise SettingsError(
            f"STEDI_PSEUDONYM_KEY must be set to a secret key of your own with {', '.join(remote)} "
            "(the development key is public; it is only for local paths and the local catalog)")


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.split("://", 1)[0].lower() == "file"


def _flag(env, name: str, default: bool = False) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={text!r} is not true or false")


def _whole(env, name: str, default: str, what: str) -> int:
    """A whole number of at least 1."""
    text = env.get(name, default).strip()
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(f"{name}={text!r} is not {what}")
    return int(text)


def _number(env, name: str, default: str, valid, what: str) -> float:
    text = env.get(name, default).strip()
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not valid(number):  # false for nan whatever the rule
        raise SettingsError(f"{name}={text!r} is not {what}")
    return number


def _fraction(env, name: str, default: str) -> float:
    return _number(env, name, default, lambda n: 0 <= n <= 1, "a fraction from 0 to 1")


def _hours(env, name: str, default: str, minimum: float) -> float:
    return _number(env, name, default, lambda n: n >= minimum,
                   f"a number of hours of at least {minimum:g}")
