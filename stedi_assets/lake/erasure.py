"""Consent erasure: a customer whose latest record withdraws consent leaves every trusted and
curated table, and every retained snapshot, in the first run that builds customer_trusted,
whatever else fails in that run.

Who withdrew is re-derived from this run's customer_landing (like the consent check), never
from the customer_trusted the run just built, so a bug there cannot erase anybody by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame

from stedi_assets.rules import quality
from stedi_assets.rules.contract import (
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


def withdrawn_keys(published_customers: DataFrame, consenting: DataFrame) -> dict[str, DataFrame]:
    """Per erasure key column, the values that belong to published customers who no longer
    consent."""
    gone = published_customers.join(consenting.select("customer_id"), on="customer_id",
                                    how="left_anti")
    return {
        "customer_id": gone.select("customer_id"),
        # A serial number a consenting customer still claims is not the leaver's alone: it stays.
        "serial_number": gone.select("serial_number").join(
            consenting.select("serial_number"), on="serial_number", how="left_anti"),
    }


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
        values = {column: sorted({row[0] for row in frame.collect() if row[0] is not None})
                  for column, frame in withdrawn_keys(published, consenting).items()}
        keys = {}
        for table, column in ERASURE_KEY.items():
            if values[column] and lake.published(table) is not None:
                keys[table] = lake.spark.createDataFrame([(v,) for v in values[column]],
                                                         f"{column} string")
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
