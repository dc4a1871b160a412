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

from stedi_assets.rules import tally, transforms
from stedi_assets.rules.tally import Tally
from stedi_assets.rules.transforms import (
    CONSENT_DATE, before_consent, consents_to_research, device_owners, latest_customer_records,
    normalised,
)

TERMS = ("read", "valid", "quarantined", "kept", "excluded_no_consent", "excluded_orphans",
         "removed_duplicates")
ORPHAN, NO_CONSENT, CANDIDATE = "orphan", "no_consent", "candidate"
KEPT_BEFORE = "kept_before"  # a candidate the table held before the run: a duplicate


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


def customer_tallies(customer_landing: DataFrame, quarantine: DataFrame,
                     customer_trusted: DataFrame, pseudonym_key: str) -> dict[str, Tally]:
    latest = latest_customer_records(customer_landing, pseudonym_key)
    return {
        **_read_valid_quarantined(customer_landing, quarantine, "customer"),
        "kept": tally.rows(customer_trusted),
        "customers": tally.tally(latest, customers=F.count(F.lit(1)),
                                 excluded_no_consent=_count(~consents_to_research())),
    }


def accelerometer_tallies(accelerometer_landing: DataFrame, quarantine: DataFrame,
                          customer_landing: DataFrame, accelerometer_trusted: DataFrame,
                          pseudonym_key: str, consent_mode: str,
                          kept_before: DataFrame | None = None) -> dict[str, Tally]:
    """With `kept_before` (the table the rows were appended to): the accounting of the rows of
    new landing files, a reading the table held already counting as a duplicate."""
    owners = latest_customer_records(customer_landing, pseudonym_key).select(
        F.col("email").alias("user"), F.lit(True).alias("_customer"),
        consents_to_research().alias("_consents"), CONSENT_DATE)
    readings = accelerometer_landing.where(F.size("invalid_reasons") == 0).select(
        normalised("user").alias("user"), "timestamp", "x", "y", "z")
    joined = readings.join(F.broadcast(owners), on="user", how="left")
    outside_consent = ~F.col("_consents") | before_consent("timestamp", consent_mode)
    fate = (F.when(F.col("_customer").isNull(), ORPHAN)
            .when(outside_consent, NO_CONSENT).otherwise(CANDIDATE))
    return {**_read_valid_quarantined(accelerometer_landing, quarantine, "accelerometer"),
            "kept": tally.rows(accelerometer_trusted),
            **_fates(joined.withColumn("_fate", fate), ["user", "timestamp", "x", "y", "z"],
                     "timestamp", kept_before=kept_before)}


def step_trainer_tallies(step_trainer_landing: DataFrame, quarantine: DataFrame,
                         customer_landing: DataFrame, customer_curated: DataFrame,
                         step_trainer_trusted: DataFrame, pseudonym_key: str,
                         consent_mode: str, kept_before: DataFrame | None = None
                         ) -> dict[str, Tally]:
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
    return {**_read_valid_quarantined(step_trainer_landing, quarantine, "step_trainer"),
            "kept": tally.rows(step_trainer_trusted),
            **_fates(classified, ["serial_number", "sensor_reading_time"], "sensor_reading_time",
                     conflicting="distance_from_object", kept_before=kept_before)}


def terms(counted: dict[str, dict[str, int]]) -> dict[str, int]:
    """The accounting terms from the counts of one source's tallies."""
    landing = counted["landing"]
    found = {"read": landing["read"], "valid": landing["valid"],
             "quarantined": counted["quarantine"]["rows"], "kept": counted["kept"]["rows"]}
    if "customers" in counted:  # customers: the latest record of each, consenting or not
        customers = counted["customers"]
        found.update(excluded_no_consent=customers["excluded_no_consent"], excluded_orphans=0,
                     removed_duplicates=landing["valid"] - customers["customers"])
    else:
        fates = counted["fates"]
        found.update(excluded_orphans=fates["excluded_orphans"],
                     excluded_no_consent=fates["excluded_no_consent"],
                     removed_duplicates=fates["candidates"] - fates["keys"]
                     + fates.get("kept_before", 0))
        if "conflicting" in fates:
            found["conflicting_distances"] = fates["conflicting"]
    return found


def customer_terms(customer_landing: DataFrame, quarantine: DataFrame,
                   customer_trusted: DataFrame, pseudonym_key: str) -> dict[str, int]:
    return terms(tally.count_all(customer_tallies(
        customer_landing, quarantine, customer_trusted, pseudonym_key)))


def accelerometer_terms(accelerometer_landing: DataFrame, quarantine: DataFrame,
                        customer_landing: DataFrame, accelerometer_trusted: DataFrame,
                        pseudonym_key: str, consent_mode: str) -> dict[str, int]:
    return terms(tally.count_all(accelerometer_tallies(
        accelerometer_landing, quarantine, customer_landing, accelerometer_trusted,
        pseudonym_key, consent_mode)))


def step_trainer_terms(step_trainer_landing: DataFrame, quarantine: DataFrame,
                       customer_landing: DataFrame, customer_curated: DataFrame,
                       step_trainer_trusted: DataFrame, pseudonym_key: str,
                       consent_mode: str) -> dict[str, int]:
    return terms(tally.count_all(step_trainer_tallies(
        step_trainer_landing, quarantine, customer_landing, customer_curated,
        step_trainer_trusted, pseudonym_key, consent_mode)))


def _fates(classified: DataFrame, keys: list[str], reading_time: str,
           conflicting: str | None = None,
           kept_before: DataFrame | None = None) -> dict[str, Tally]:
    """How many rows met each fate, how many different keys the candidates have and (with
    `conflicting`) how many of those keys carry more than one value of that column. With
    `kept_before`, a candidate whose key it holds is a duplicate of a kept row."""
    extra = {}
    if kept_before is not None:
        # Only the held rows of the new readings' times can share a key with them.
        held = transforms.readings_within(kept_before, reading_time, classified,
                                          reading_time).select(
            *keys).distinct().withColumn("_held", F.lit(True))
        classified = classified.join(held, on=keys, how="left").withColumn(
            "_fate", F.when((F.col("_fate") == CANDIDATE) & F.col("_held").isNotNull(),
                            F.lit(KEPT_BEFORE)).otherwise(F.col("_fate")))
        extra["kept_before"] = _sum_rows(F.col("_fate") == KEPT_BEFORE)
    candidate = F.col("_fate") == CANDIDATE
    # One grouping answers every count in one pass: each candidate key is a group of its own,
    # the other rows group by their fate alone.
    values = [(F.min(conflicting) != F.max(conflicting)).alias("_conflicting")] if conflicting else []
    grouped = classified.groupBy(
        "_fate", *(F.when(candidate, F.col(key)).alias(key) for key in keys)
    ).agg(F.count(F.lit(1)).alias("_rows"), *values)
    counts = {
        "excluded_orphans": _sum_rows(F.col("_fate") == ORPHAN),
        "excluded_no_consent": _sum_rows(F.col("_fate") == NO_CONSENT),
        "candidates": _sum_rows(candidate),
        "keys": _count(candidate),
        **extra,
    }
    if conflicting:
        counts["conflicting"] = _count(candidate & F.col("_conflicting"))
    return {"fates": tally.tally(grouped, **counts)}


def _sum_rows(condition: Column) -> Column:
    return F.coalesce(F.sum(F.when(condition, F.col("_rows"))), F.lit(0))


def _read_valid_quarantined(landing: DataFrame, quarantine: DataFrame,
                            source: str) -> dict[str, Tally]:
    # Quarantined rows are counted in the quarantine table, not in the landing table: a
    # record that never reached the quarantine breaks the balance.
    return {"landing": tally.tally(landing, read=F.count(F.lit(1)),
                                   valid=_count(F.size("invalid_reasons") == 0)),
            "quarantine": tally.rows(quarantine.where(F.col("source") == source))}


def _count(condition: Column) -> Column:
    return F.count(F.when(condition, F.lit(1)))
