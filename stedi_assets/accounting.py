"""Row accounting: where every landing row of a source went, term by term.

For each source and run (data contract): rows read = valid + quarantined, and
valid = kept + excluded for no consent + excluded as orphans + removed as duplicates.
Each valid row is attributed to the first term that applies, in that order: orphan (no
matching customer or device), no consent, duplicate. `kept` is counted from the trusted
table itself, so a transform that loses or invents rows breaks the balance.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from stedi_assets.transforms import (
    CONSENT_DATE, before_consent, consents_to_research, device_owners, latest_customer_records,
    normalised,
)

TERMS = ("read", "valid", "quarantined", "kept", "excluded_no_consent", "excluded_orphans",
         "removed_duplicates")
ORPHAN, NO_CONSENT, CANDIDATE = "orphan", "no_consent", "candidate"


def balance_problems(terms: dict[str, int]) -> list[str]:
    """What does not add up (empty when everything does)."""
    problems = []
    if terms["read"] != terms["valid"] + terms["quarantined"]:
        problems.append(f"read {terms['read']} != valid {terms['valid']} + quarantined "
                        f"{terms['quarantined']}")
    accounted = sum(terms[t] for t in ("kept", "excluded_no_consent", "excluded_orphans",
                                       "removed_duplicates"))
    if terms["valid"] != accounted:
        problems.append(f"valid {terms['valid']} != kept + excluded + duplicates {accounted}")
    return problems


def customer_terms(customer_landing: DataFrame, quarantine: DataFrame,
                   customer_trusted: DataFrame, pseudonym_key: str) -> dict[str, int]:
    latest = latest_customer_records(customer_landing, pseudonym_key)
    customers = latest.agg(F.count(F.lit(1)).alias("customers"),
                           _count(~consents_to_research()).alias("excluded_no_consent")).first()
    terms = _read_valid_quarantined(customer_landing, quarantine, "customer")
    return {**terms, "kept": customer_trusted.count(),
            "excluded_no_consent": customers["excluded_no_consent"], "excluded_orphans": 0,
            "removed_duplicates": terms["valid"] - customers["customers"]}


def accelerometer_terms(accelerometer_landing: DataFrame, quarantine: DataFrame,
                        customer_landing: DataFrame, accelerometer_trusted: DataFrame,
                        pseudonym_key: str, consent_mode: str) -> dict[str, int]:
    owners = latest_customer_records(customer_landing, pseudonym_key).select(
        F.col("email").alias("user"), F.lit(True).alias("_customer"),
        consents_to_research().alias("_consents"), CONSENT_DATE)
    readings = accelerometer_landing.where(F.size("invalid_reasons") == 0).select(
        normalised("user").alias("user"), "timestamp", "x", "y", "z")
    joined = readings.join(F.broadcast(owners), on="user", how="left")
    outside_consent = ~F.col("_consents") | before_consent("timestamp", consent_mode)
    fate = (F.when(F.col("_customer").isNull(), ORPHAN)
            .when(outside_consent, NO_CONSENT).otherwise(CANDIDATE))
    keys = ["user", "timestamp", "x", "y", "z"]
    return _attributed(joined.withColumn("_fate", fate), keys, accelerometer_landing,
                       quarantine, "accelerometer", accelerometer_trusted)


def step_trainer_terms(step_trainer_landing: DataFrame, quarantine: DataFrame,
                       customer_landing: DataFrame, customer_curated: DataFrame,
                       step_trainer_trusted: DataFrame, pseudonym_key: str,
                       consent_mode: str) -> dict[str, int]:
    claims = latest_customer_records(customer_landing, pseudonym_key).groupBy(
        "serial_number").agg(F.max(consents_to_research()).alias("_any_consents"))
    owner = device_owners(customer_curated).select(
        "serial_number", F.lit(True).alias("_curated_owner"), CONSENT_DATE)
    readings = step_trainer_landing.where(F.size("invalid_reasons") == 0).select(
        normalised("serial_number").alias("serial_number"), "sensor_reading_time",
        "distance_from_object")
    joined = (readings.join(F.broadcast(claims), on="serial_number", how="left")
              .join(F.broadcast(owner), on="serial_number", how="left"))
    # No customer at all, or no consenting one, come first; then a device that cannot be
    # attributed to exactly one curated customer (the contract's "no matching device").
    fate = (F.when(F.col("_any_consents").isNull(), ORPHAN)
            .when(~F.col("_any_consents"), NO_CONSENT)
            .when(F.col("_curated_owner").isNull(), ORPHAN)
            .when(before_consent("sensor_reading_time", consent_mode), NO_CONSENT)
            .otherwise(CANDIDATE))
    classified = joined.withColumn("_fate", fate)
    keys = ["serial_number", "sensor_reading_time"]
    terms = _attributed(classified, keys, step_trainer_landing, quarantine, "step_trainer",
                        step_trainer_trusted)
    conflicts = (classified.where(F.col("_fate") == CANDIDATE).groupBy(*keys)
                 .agg(F.count_distinct("distance_from_object").alias("distances"))
                 .where(F.col("distances") > 1).count())
    return {**terms, "conflicting_distances": conflicts}


def _attributed(classified: DataFrame, keys: list[str], landing: DataFrame,
                quarantine: DataFrame, source: str, trusted: DataFrame) -> dict[str, int]:
    candidate = F.col("_fate") == CANDIDATE
    counts = classified.agg(
        _count(F.col("_fate") == ORPHAN).alias("excluded_orphans"),
        _count(F.col("_fate") == NO_CONSENT).alias("excluded_no_consent"),
        _count(candidate).alias("candidates"),
        # count_distinct skips rows with a null: non-candidates are nulled out of the key.
        F.count_distinct(F.when(candidate, F.col(keys[0])), *keys[1:]).alias("distinct"),
    ).first()
    return {**_read_valid_quarantined(landing, quarantine, source), "kept": trusted.count(),
            "excluded_orphans": counts["excluded_orphans"],
            "excluded_no_consent": counts["excluded_no_consent"],
            "removed_duplicates": counts["candidates"] - counts["distinct"]}


def _read_valid_quarantined(landing: DataFrame, quarantine: DataFrame, source: str) -> dict:
    # Quarantined rows are counted in the quarantine table, not in the landing table: a
    # record that never reached the quarantine breaks the balance.
    read = landing.agg(F.count(F.lit(1)).alias("read"),
                       _count(F.size("invalid_reasons") == 0).alias("valid")).first()
    quarantined = quarantine.where(F.col("source") == source).count()
    return {"read": read["read"], "valid": read["valid"], "quarantined": quarantined}


def _count(condition: Column) -> Column:
    return F.count(F.when(condition, F.lit(1)))
