"""Consent erasure: a customer whose latest record withdraws consent leaves every trusted and
curated table, and every retained snapshot, in the first run that builds customer_trusted,
whatever else fails in that run.

Who withdrew is re-derived from this run's customer_landing (like the consent check), never
from the customer_trusted the run just built, so a bug there cannot erase anybody by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Erasure:
    """The rows of customers who withdrew, per table, and how many left each table."""

    run: LakeRun
    keys: dict[str, DataFrame]
    erased: dict[str, int] = field(default_factory=dict)

    @classmethod
    def plan(cls, run: LakeRun, customer_landing: DataFrame, pseudonym_key: str) -> Erasure:
        """Who, among the customers published in customer_trusted, no longer consents."""
        lake = run.lake
        if lake.published(CUSTOMER_TRUSTED) is None:
            return cls(run, {})
        published = lake.spark.table(lake.catalog.identifier(CUSTOMER_TRUSTED))
        consenting = quality.consenting_customers(customer_landing, pseudonym_key)
        withdrawn = withdrawn_customers(published, consenting).collect()
        keys = {}
        for table, column in ERASURE_KEY.items():
            values = sorted({row[column] for row in withdrawn if row[column] is not None})
            if values and lake.published(table) is not None:
                keys[table] = lake.spark.createDataFrame([(v,) for v in values], f"{column} string")
        return cls(run, keys)

    def erase_downstream(self) -> None:
        """Everything but customer_trusted, whose fate its own checks decide."""
        self.erased |= self.run.erase(
            {t: k for t, k in self.keys.items() if t != CUSTOMER_TRUSTED})

    def finish(self, customer_trusted_published: bool) -> None:
        """customer_trusted: the run published it without them (its older snapshots still
        hold them), or it did not (they are deleted from what is published)."""
        if CUSTOMER_TRUSTED not in self.keys:
            return
        if customer_trusted_published:
            self.run.purge_history(CUSTOMER_TRUSTED)
        else:
            self.erased |= self.run.erase({CUSTOMER_TRUSTED: self.keys[CUSTOMER_TRUSTED]})
