"""What the asset checks look for, as pure functions returning the offending rows.

An empty result means the check passes. Consent is re-derived here from the landing data,
not read from customer_trusted, so a bug in the trusted zone cannot vouch for itself.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from stedi_assets.rules.contract import DIRECT_IDENTIFIERS, Source
from stedi_assets.rules.masking import MASKED
from stedi_assets.rules.transforms import (
    CONSENT_DATE,
    before_consent,
    consents_to_research,
    device_owners,
    latest_customer_records,
)
from stedi_assets.rules.validation import LINE_TOO_LONG, NOT_AN_OBJECT, missing_reason

EMAIL_LIKE = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def duplicate_keys(table: DataFrame, keys: tuple[str, ...]) -> DataFrame:
    """Each key that occurs more than once, with how often."""
    return (
        table.groupBy(*keys)
        .agg(F.count(F.lit(1)).alias("occurrences"))
        .where(F.col("occurrences") > 1)
    )


def consenting_customers(customer_landing: DataFrame, pseudonym_key: str) -> DataFrame:
    latest = latest_customer_records(customer_landing, pseudonym_key)
    return latest.where(consents_to_research()).select(
        "email", "customer_id", "serial_number", CONSENT_DATE
    )


def consent_violations(
    table: DataFrame,
    consenting: DataFrame,
    owner_column: str,
    reading_time: str | None,
    consent_mode: str,
) -> DataFrame:
    """Rows whose owner does not consent, or (mode `as_of_date`) that were taken before the
    owner consented. `owner_column` is how the table names its customer: email, user,
    customer_id or serial_number."""
    consent_key = "email" if owner_column == "user" else owner_column
    consent = consenting.select(
        F.col(consent_key).alias(owner_column), F.col(CONSENT_DATE).alias("_consented_at")
    )
    if owner_column == "serial_number":
        # Several customers may claim one serial number; any consenting claim is enough here
        # (step_trainer_trusted leaves shared serial numbers out anyway).
        consent = consent.groupBy(owner_column).agg(F.min("_consented_at").alias("_consented_at"))
    checked = table.join(F.broadcast(consent), on=owner_column, how="left")
    no_consent = F.col("_consented_at").isNull()
    too_early = (before_consent(reading_time, consent_mode, "_consented_at")
                 if reading_time is not None else F.lit(False))
    return checked.where(no_consent | too_early).drop("_consented_at")


def cross_customer_pairs(
    machine_learning_curated: DataFrame,
    customer_curated: DataFrame,
    accelerometer_trusted: DataFrame,
) -> DataFrame:
    """Rows that pair a step-trainer reading with a phone reading of somebody else: the
    device's owner is not the row's customer, or that customer has no such phone reading."""
    owners = device_owners(customer_curated).select(
        "serial_number", F.col("customer_id").alias("_device_owner")
    )
    phone_readings = accelerometer_trusted.select(
        "customer_id", F.col("timestamp").alias("sensor_reading_time"), "x", "y", "z",
        F.lit(True).alias("_phone_reading"),
    )
    rows = machine_learning_curated.join(owners, on="serial_number", how="left").join(
        phone_readings, on=["customer_id", "sensor_reading_time", "x", "y", "z"], how="left"
    )
    wrong_owner = F.col("_device_owner").isNull() | (F.col("_device_owner") != F.col("customer_id"))
    no_phone_reading = F.col("_phone_reading").isNull()
    return rows.where(wrong_owner | no_phone_reading).drop("_phone_reading")


def identifier_columns(table: DataFrame) -> list[str]:
    return [name for name in table.columns if name.lower() in DIRECT_IDENTIFIERS]


def email_like_values(table: DataFrame) -> DataFrame:
    """Rows holding something that looks like an e-mail address in any string column."""
    text_columns = [f.name for f in table.schema.fields if f.dataType.simpleString() == "string"]
    if not text_columns:
        return table.limit(0)
    looks_like_email = F.lit(False)
    for name in text_columns:
        # The cheap test first: the regex alone backtracks through every long hex id.
        has_at = F.col(name).contains("@")
        looks_like_email = looks_like_email | F.coalesce(has_at & F.col(name).rlike(EMAIL_LIKE), F.lit(False))
    return table.where(looks_like_email)


# Below this many records, a file without some field is a few bad records, not a changed feed.
DRIFT_MIN_RECORDS = 10


# An unknown field name is shown (in the schema drift report, which everybody with the UI
# sees) only when it looks like a field name: a plain identifier without a run of digits. Any
# other name may be personal data (a producer keying records by e-mail, phone number, name or
# birthday); such names are counted together, masked, which also keeps the report small.
PLAIN_FIELD_NAME = r"\A[A-Za-z_][A-Za-z0-9_-]{0,63}\z"
DIGIT_RUN = r"[0-9]{5}"
MASKED_FIELD_NAME = f"{MASKED} (field names that may be personal data)"


def shown_field_name(name: Column) -> Column:
    plain = name.rlike(PLAIN_FIELD_NAME) & ~name.rlike(DIGIT_RUN)
    return F.when(plain, name).otherwise(F.lit(MASKED_FIELD_NAME))


def unknown_field_counts(landing: DataFrame) -> DataFrame:
    """(field, records): how many records carry each field the contract does not know, by
    the name the UI may show (a record counts once under the masked name)."""
    shown = F.array_distinct(F.transform("unknown_fields", shown_field_name))
    return (landing.select(F.explode(shown).alias("field"))
            .groupBy("field").agg(F.count(F.lit(1)).alias("records")))


def fields_missing_from_whole_files(landing: DataFrame, source: Source) -> DataFrame:
    """(source_file, field, records): a required field missing from every JSON record of a
    file with at least DRIFT_MIN_RECORDS of them: the feed changed, not a few records."""
    not_records = F.array_contains("invalid_reasons", NOT_AN_OBJECT) | F.array_contains(
        "invalid_reasons", LINE_TOO_LONG)
    objects = landing.where(~not_records)
    required = [field for field in source.fields if field.required]
    per_file = objects.groupBy("source_file").agg(
        F.count(F.lit(1)).alias("records"),
        *(F.count(F.when(F.array_contains("invalid_reasons", missing_reason(field)), 1))
          .alias(field.name) for field in required),
    )
    per_field = per_file.unpivot(["source_file", "records"], [f.name for f in required],
                                 "field", "missing")
    whole_file = (F.col("records") >= DRIFT_MIN_RECORDS) & (F.col("missing") == F.col("records"))
    return per_field.where(whole_file).select("source_file", "field", "records")
