"""The pipeline's work as one plain PySpark script: no Dagster, no asset checks.

The job a user would otherwise write: one SparkSession with the pipeline's Spark settings
(less the Iceberg catalog), each feed read with an explicit schema (`spark.read.schema(...)
.json`, no validation, no quarantine), then the project's own transformation functions in
dependency order. Every table is written as plain Parquet under the lake and read back for
the steps downstream. A comparison with `dagster asset materialize` measures everything the
pipeline adds: validation and quarantine, orchestration, Iceberg commits, write-audit-publish,
checks and metadata.

    python benchmarks/plain_pyspark.py --landing DIR --lake DIR
"""

from __future__ import annotations

import argparse
import os
import sys
import types
from pathlib import Path

# `import stedi_assets.x` would first run stedi_assets/__init__.py, which builds the Dagster
# definitions. A bare package object in its place loads only the plain modules used here.
_package = types.ModuleType("stedi_assets")
_package.__path__ = [str(Path(__file__).resolve().parents[1] / "stedi_assets")]
sys.modules.setdefault("stedi_assets", _package)

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from stedi_assets.rules import contract, transforms  # noqa: E402
from stedi_assets.operations.settings import (  # noqa: E402
    DEVELOPMENT_PSEUDONYM_KEY, Settings, load_settings,
)
from stedi_assets.operations.spark_config import spark_conf  # noqa: E402  (as resources/spark.py)


def settings_for(landing: str, lake: str) -> Settings:
    """The pipeline's settings (absolute URIs, STEDI_CONSENT_MODE, ...) for these folders."""
    return load_settings({**os.environ, "STEDI_LANDING_URI": landing, "STEDI_LAKE_URI": lake})


# What a plain script would not have: the Iceberg catalog and its jars (it writes Parquet).
LAKE_ONLY = ("spark.sql.extensions", "spark.sql.catalog.", "spark.jars.")


def session(settings: Settings) -> SparkSession:
    builder = SparkSession.builder
    for key, value in spark_conf(settings).items():
        if not key.startswith(LAKE_ONLY):
            builder = builder.config(key, value)
    return builder.getOrCreate()


def table_location(lake: str, table: str) -> str:
    return f"{lake}/{contract.ZONE_OF_TABLE[table]}/{table}"


# Each feed as its producer spells it (the course sample writes "timestamp"), typed.
SCHEMAS = {
    contract.CUSTOMER: "customerName string, email string, phone string, birthDay string, "
    "serialNumber string, registrationDate bigint, lastUpdateDate bigint, "
    "shareWithResearchAsOfDate bigint, shareWithPublicAsOfDate bigint, "
    "shareWithFriendsAsOfDate bigint",
    contract.ACCELEROMETER: "user string, timestamp bigint, x double, y double, z double",
    contract.STEP_TRAINER: "sensorReadingTime bigint, serialNumber string, "
    "distanceFromObject bigint",
}


def read_feed(spark: SparkSession, uri: str, source: contract.Source) -> DataFrame:
    """The feed with the pipeline's column names; every record taken as valid."""
    records = spark.read.schema(SCHEMAS[source]).option("recursiveFileLookup", "true").json(uri)
    spelled = {name.lower(): name for name in records.columns}
    return records.select(
        *(F.col(spelled[field.name.lower()]).alias(field.column) for field in source.fields),
        F.array().cast("array<string>").alias("invalid_reasons"),
    )


def run(spark: SparkSession, settings: Settings) -> None:
    def publish(table: str, frame: DataFrame) -> DataFrame:
        """Written, then read back by the steps downstream, as in the pipeline."""
        location = table_location(settings.lake_uri, table)
        frame.write.mode("overwrite").parquet(location)
        return spark.read.parquet(location)

    landing = {}
    for source in contract.SOURCES:
        landing[source] = publish(source.table, read_feed(
            spark, f"{settings.landing_uri}/{source.name}", source))

    mode = settings.consent_mode
    customers = publish(contract.CUSTOMER_TRUSTED, transforms.customer_trusted(
        landing[contract.CUSTOMER], DEVELOPMENT_PSEUDONYM_KEY))
    phone = publish(contract.ACCELEROMETER_TRUSTED, transforms.accelerometer_trusted(
        landing[contract.ACCELEROMETER], customers, mode))
    curated = publish(contract.CUSTOMER_CURATED, transforms.customer_curated(customers, phone))
    steps = publish(contract.STEP_TRAINER_TRUSTED, transforms.step_trainer_trusted(
        landing[contract.STEP_TRAINER], curated, mode))
    publish(contract.MACHINE_LEARNING_CURATED, transforms.machine_learning_curated(
        steps, curated, phone))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", required=True, help="landing root (customer/, ...)")
    parser.add_argument("--lake", required=True, help="lake root to write the tables under")
    args = parser.parse_args()
    settings = settings_for(args.landing, args.lake)
    spark = session(settings)
    run(spark, settings)
    assert "dagster" not in sys.modules, "the plain script must not load Dagster"
    for table in contract.ZONE_OF_TABLE:
        if table == contract.LANDING_QUARANTINE:
            continue  # nothing is validated, so nothing is quarantined
        rows = spark.read.parquet(table_location(settings.lake_uri, table)).count()
        print(f"{table:<26} {rows:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
