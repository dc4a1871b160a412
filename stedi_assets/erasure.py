"""Consent erasure: a customer whose latest record withdraws consent leaves every trusted and
curated table, and every retained snapshot, in the first run that builds customer_trusted,
whatever else fails in that run.

Who withdrew is re-derived from this run's customer_landing (like the consent check), never
from the customer_trusted the run just built, so a bug there cannot erase anybody by mistake.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi_assets import quality
from stedi_assets.contract import (
    ACCELEROMETER_TRUSTED, CUSTOMER_CURATED, CUSTOMER_TRUSTED, MACHINE_LEARNING_CURATED,
    STEP_TRAINER_TRUSTED,
)
from stedi_assets.lake import LakeRun

# How each table names a withdrawn customer's rows.
ERASURE_KEY = {
    CUSTOMER_TRUSTED: "customer_id",
    ACCELEROMETER_TRUSTED: "customer_id",
    CUSTOMER_CURATED: "customer_id",
    STEP_TRAINER_TRUSTED: "serial_number",
    MACHINE_LEARNING_CURATED: "customer_id",
}


def withdrawn_customers(published_customers: DataFrame, consenting: DataFrame) -> DataFrame:
    """(customer_id, serial_number) of published customers who no longer consent. A serial
    number a consenting customer still claims is not theirs alone: it is left out."""
    gone = published_customers.select("customer_id", "serial_number").join(
        consenting.select("customer_id"), on="customer_id", how="left_anti")
    still_claimed = consenting.select("serial_number", F.lit(True).alias("_claimed"))
    return gone.join(still_claimed, on="serial_number", how="left").select(
        "customer_id", F.when(F.col("_claimed").isNull(), F.col("serial_number")).alias("serial_number"))


def erase_withdrawn(run: LakeRun, customer_landing: DataFrame, pseudonym_key: str,
                    customer_trusted_published_here: bool) -> dict[str, int]:
    """Deletes withdrawn customers' rows from the published tables; returns rows per table.
    customer_trusted itself is left to this run's publish when that is about to happen."""
    lake = run.lake
    if lake.published(CUSTOMER_TRUSTED) is None:
        return {}
    published = lake.spark.table(lake.catalog.identifier(CUSTOMER_TRUSTED))
    consenting = quality.consenting_customers(customer_landing, pseudonym_key)
    withdrawn = withdrawn_customers(published, consenting).collect()
    if not withdrawn:
        return {}
    spark = lake.spark
    tables = [t for t in ERASURE_KEY if lake.published(t) is not None
              and not (t == CUSTOMER_TRUSTED and customer_trusted_published_here)]
    keys = {}
    for table in tables:
        column = ERASURE_KEY[table]
        values = sorted({row[column] for row in withdrawn if row[column] is not None})
        if values:
            keys[table] = spark.createDataFrame([(v,) for v in values], f"{column} string")
    return run.erase(keys)
