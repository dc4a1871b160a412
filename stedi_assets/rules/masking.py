"""What everybody with the Dagster UI may see of the data: direct identifiers shown as MASKED,
and the quarantine's reasons counted without the landing values some of them quote."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

MASKED = "•••"

# Some quarantine reasons quote the offending value: "x: not a finite number (1e999)".
_QUOTED_VALUE = r"(number|in range) \(.*\)$"


def reason_counts(quarantine: DataFrame) -> list[tuple[str, str, int]]:
    """(source, reason, records): how many quarantined records of each source have each
    reason, without the values some reasons quote: one row per kind of problem, and no
    landing value. By source, then most records first."""
    counted = (quarantine.select("source", F.explode("reasons").alias("reason"))
               .select("source", F.regexp_replace("reason", _QUOTED_VALUE, "$1").alias("reason"))
               .groupBy("source", "reason").count()
               .orderBy("source", F.desc("count"), "reason").collect())
    return [(row["source"], row["reason"], row["count"]) for row in counted]
