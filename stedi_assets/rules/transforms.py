"""Landing -> trusted -> curated, as pure DataFrame -> DataFrame functions.

Only the DataFrame API is used (no RDDs, no SparkContext), so the same code runs locally,
on a cluster and through Spark Connect. Each function selects its inputs first and its
published columns last: those two selects are the schema contract.
"""

from __future__ import annotations

import hashlib
import weakref

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from stedi_assets.rules.contract import (
    ACCELEROMETER_TRUSTED, CUSTOMER_CURATED, CUSTOMER_TRUSTED, MACHINE_LEARNING_CURATED,
    STEP_TRAINER_TRUSTED, TABLE_BY_NAME,
)
from stedi_assets.rules.pseudonym import pseudonyms
from stedi_assets.rules.validation import stripped, valid_records

CONSENT_DATE = "share_with_research_as_of_date"

# The published columns, in order: the contract's (each transform's last select).
CUSTOMER_TRUSTED_COLUMNS = TABLE_BY_NAME[CUSTOMER_TRUSTED].column_names
CUSTOMER_CURATED_COLUMNS = TABLE_BY_NAME[CUSTOMER_CURATED].column_names
ACCELEROMETER_TRUSTED_COLUMNS = TABLE_BY_NAME[ACCELEROMETER_TRUSTED].column_names
STEP_TRAINER_TRUSTED_COLUMNS = TABLE_BY_NAME[STEP_TRAINER_TRUSTED].column_names
MACHINE_LEARNING_CURATED_COLUMNS = TABLE_BY_NAME[MACHINE_LEARNING_CURATED].column_names


def normalised(column: str) -> Column:
    """Emails and serial numbers compare trimmed and lower-cased (contract)."""
    return F.lower(stripped(F.col(column)))


def consents_to_research() -> Column:
    return F.coalesce(F.col(CONSENT_DATE), F.lit(0)) > 0


def before_consent(reading_time: str, consent_mode: str, consented_at: str = CONSENT_DATE) -> Column:
    """The consent mode's rule, the one place it is written: `any` takes every reading of a
    consenting customer; `as_of_date` leaves out readings taken before the consent date."""
    if consent_mode == "as_of_date":
        return F.col(reading_time) < F.col(consented_at)
    return F.lit(False)


def within_consent(reading_time: str, consent_mode: str) -> Column:
    return ~before_consent(reading_time, consent_mode)


# customer_landing -> {key digest: its latest records}: the asset and several checks of a
# run ask for them, each time from the same customer_landing (see LakeRun.read).
_LATEST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def latest_customer_records(customer_landing: DataFrame, pseudonym_key: str) -> DataFrame:
    """One record per normalised email: the latest one, whatever its consent says. Computed
    once per customer_landing DataFrame and key (the pseudonyms are collected and hashed on
    the driver), and cached: the same rows each time."""
    digest = hashlib.sha256(pseudonym_key.encode()).digest()
    known = _LATEST.setdefault(customer_landing, {})
    if digest not in known:
        known[digest] = _latest_customer_records(customer_landing, pseudonym_key).cache()
    return known[digest]


def _latest_customer_records(customer_landing: DataFrame, pseudonym_key: str) -> DataFrame:
    """Deduplication comes before the consent filter so that a later record withdrawing
    consent wins over an earlier one granting it."""
    customers = valid_records(customer_landing).select(
        F.col("customer_name"),
        normalised("email").alias("email"),
        F.col("phone"),
        F.col("birth_day"),
        normalised("serial_number").alias("serial_number"),
        F.col("registration_date"),
        F.coalesce(F.col("last_update_date"), F.col("registration_date")).alias("last_update_date"),
        F.col(CONSENT_DATE),
        F.col("share_with_public_as_of_date"),
        F.col("share_with_friends_as_of_date"),
    )
    # A full tie on both dates is resolved towards the record that does NOT consent (privacy
    # first), then by every other published column, so that reruns always choose the same
    # record.
    latest_first = Window.partitionBy("email").orderBy(
        F.col("last_update_date").desc(),
        F.col("registration_date").desc(),
        consents_to_research().asc(),
        F.col(CONSENT_DATE).asc_nulls_first(),
        F.col("serial_number").asc(),
        F.col("customer_name").asc_nulls_first(),
        F.col("phone").asc_nulls_first(),
        F.col("birth_day").asc_nulls_first(),
        F.col("share_with_public_as_of_date").asc_nulls_first(),
        F.col("share_with_friends_as_of_date").asc_nulls_first(),
    )
    latest = customers.withColumn("_rank", F.row_number().over(latest_first)).where(
        F.col("_rank") == 1
    )
    # The pseudonyms come as data joined on the email, so that the key is in no Spark plan.
    with_ids = latest.join(pseudonyms(customers, pseudonym_key), on="email", how="left")
    return with_ids.select(*CUSTOMER_TRUSTED_COLUMNS)


def customer_trusted(customer_landing: DataFrame, pseudonym_key: str) -> DataFrame:
    latest = latest_customer_records(customer_landing, pseudonym_key)
    return latest.where(consents_to_research()).select(*CUSTOMER_TRUSTED_COLUMNS)


def accelerometer_trusted(
    accelerometer_landing: DataFrame, customer_trusted: DataFrame, consent_mode: str
) -> DataFrame:
    readings = valid_records(accelerometer_landing).select(
        normalised("user").alias("user"), "timestamp", "x", "y", "z"
    )
    # Exact repeats are one reading; different readings in the same millisecond all stay.
    distinct_readings = readings.dropDuplicates(["user", "timestamp", "x", "y", "z"])
    owners = customer_trusted.select(F.col("email").alias("user"), "customer_id", CONSENT_DATE)
    owned = distinct_readings.join(F.broadcast(owners), on="user", how="inner")
    return owned.where(within_consent("timestamp", consent_mode)).select(
        *ACCELEROMETER_TRUSTED_COLUMNS
    )


def customer_curated(customer_trusted: DataFrame, accelerometer_trusted: DataFrame) -> DataFrame:
    with_readings = customer_trusted.join(
        accelerometer_trusted.select("customer_id"), on="customer_id", how="left_semi"
    )
    return with_readings.select(*CUSTOMER_CURATED_COLUMNS)


def device_owners(customer_curated: DataFrame) -> DataFrame:
    """serial_number -> its one owner. A serial number claimed by several customers cannot be
    attributed to anyone, so its readings are left out rather than paired with a guess."""
    claims = customer_curated.groupBy("serial_number").agg(
        F.count(F.lit(1)).alias("owners"),
        F.min("customer_id").alias("customer_id"),
        F.min(CONSENT_DATE).alias(CONSENT_DATE),
    )
    return claims.where(F.col("owners") == 1).select("serial_number", "customer_id", CONSENT_DATE)


def distinct_step_readings(step_trainer_landing: DataFrame) -> DataFrame:
    """One reading per (serial number, time). Conflicting distances for one key resolve to the
    smallest (deterministic); `distances` counts the different values seen."""
    readings = valid_records(step_trainer_landing).select(
        normalised("serial_number").alias("serial_number"),
        "sensor_reading_time",
        "distance_from_object",
    )
    return readings.groupBy("serial_number", "sensor_reading_time").agg(
        F.min("distance_from_object").alias("distance_from_object"),
        F.count_distinct("distance_from_object").alias("distances"),
    )


def step_trainer_trusted(
    step_trainer_landing: DataFrame, customer_curated: DataFrame, consent_mode: str
) -> DataFrame:
    readings = distinct_step_readings(step_trainer_landing)
    owners = device_owners(customer_curated).select("serial_number", CONSENT_DATE)
    owned = readings.join(F.broadcast(owners), on="serial_number", how="inner")
    return owned.where(within_consent("sensor_reading_time", consent_mode)).select(
        *STEP_TRAINER_TRUSTED_COLUMNS
    )


def machine_learning_curated(
    step_trainer_trusted: DataFrame, customer_curated: DataFrame, accelerometer_trusted: DataFrame
) -> DataFrame:
    """Each step-trainer reading paired with its OWNER's phone readings of the same
    millisecond. Joining on time alone would pair one person's device with another's phone."""
    owners = device_owners(customer_curated).select("serial_number", "customer_id")
    owned_steps = step_trainer_trusted.join(F.broadcast(owners), on="serial_number", how="inner")
    phone_readings = accelerometer_trusted.select(
        "customer_id", F.col("timestamp").alias("sensor_reading_time"), "x", "y", "z"
    )
    paired = owned_steps.join(
        phone_readings, on=["customer_id", "sensor_reading_time"], how="inner"
    )
    return paired.select(*MACHINE_LEARNING_CURATED_COLUMNS)


# -- what new rows add, when the customers did not change (incremental runs) -----------------
# Each is the full transform applied to the new rows only, less what the table holds already:
# with the same customers, an old row's fate cannot change, so these are exactly the rows a
# full rebuild would add. A stored table is only read within the times of the new readings.

def readings_within(stored: DataFrame, stored_time: str, new: DataFrame, new_time: str
                    ) -> DataFrame:
    """The rows of `stored` taken between the first and the last time of `new`: all that a
    join of the two on the reading time can match. The bounds are collected (one small job
    over the new rows) and filter as literals, so Iceberg skips every data file of `stored`
    outside them (readings tables are written in time order): what a new file costs does not
    grow with the history."""
    first, last = new.agg(F.min(new_time), F.max(new_time)).first()
    if first is None:
        return stored.where(F.lit(False))
    return stored.where(F.col(stored_time).between(first, last))


def new_accelerometer_readings(new_landing: DataFrame, customer_trusted: DataFrame,
                               accelerometer_trusted_now: DataFrame, consent_mode: str) -> DataFrame:
    added = accelerometer_trusted(new_landing, customer_trusted, consent_mode)
    key = list(TABLE_BY_NAME[ACCELEROMETER_TRUSTED].unique_key)
    stored = readings_within(accelerometer_trusted_now, "timestamp", added, "timestamp")
    return added.join(stored.select(*key), on=key, how="left_anti").select(
        *ACCELEROMETER_TRUSTED_COLUMNS)


def new_curated_customers(customer_trusted: DataFrame, new_readings: DataFrame,
                          customer_curated_now: DataFrame) -> DataFrame:
    added = customer_curated(customer_trusted, new_readings)
    return added.join(customer_curated_now.select("customer_id"), on="customer_id",
                      how="left_anti").select(*CUSTOMER_CURATED_COLUMNS)


def _new_step_candidates(new_landing: DataFrame, customer_curated: DataFrame,
                         step_trainer_trusted_now: DataFrame, consent_mode: str) -> DataFrame:
    added = step_trainer_trusted(new_landing, customer_curated, consent_mode)
    stored = readings_within(step_trainer_trusted_now, "sensor_reading_time",
                             added, "sensor_reading_time").select(
        "serial_number", "sensor_reading_time", F.col("distance_from_object").alias("_stored"))
    return added.join(stored, on=["serial_number", "sensor_reading_time"], how="left")


def lowered_distances(new_landing: DataFrame, customer_curated: DataFrame,
                      step_trainer_trusted_now: DataFrame, consent_mode: str) -> DataFrame:
    """Stored readings a new one gives a smaller distance: the stored row would change."""
    candidates = _new_step_candidates(new_landing, customer_curated, step_trainer_trusted_now,
                                      consent_mode)
    return candidates.where(F.col("distance_from_object") < F.col("_stored")).select(
        *STEP_TRAINER_TRUSTED_COLUMNS)


def new_step_readings(new_landing: DataFrame, customer_curated: DataFrame,
                      step_trainer_trusted_now: DataFrame, consent_mode: str) -> DataFrame:
    candidates = _new_step_candidates(new_landing, customer_curated, step_trainer_trusted_now,
                                      consent_mode)
    return candidates.where(F.col("_stored").isNull()).select(*STEP_TRAINER_TRUSTED_COLUMNS)


def new_machine_learning_pairs(step_trainer_before: DataFrame, new_steps: DataFrame,
                               customer_curated: DataFrame, accelerometer_trusted_now: DataFrame,
                               new_readings: DataFrame) -> DataFrame:
    """Pairs of a new Step Trainer reading with any phone reading, and of an earlier Step
    Trainer reading with a new phone reading: the pairs the table lacks, each once."""
    phone_then = readings_within(accelerometer_trusted_now, "timestamp",
                                 new_steps, "sensor_reading_time")
    steps_then = readings_within(step_trainer_before, "sensor_reading_time",
                                 new_readings, "timestamp")
    with_new_steps = machine_learning_curated(new_steps, customer_curated, phone_then)
    with_new_readings = machine_learning_curated(steps_then, customer_curated, new_readings)
    return with_new_steps.unionByName(with_new_readings).select(*MACHINE_LEARNING_CURATED_COLUMNS)
