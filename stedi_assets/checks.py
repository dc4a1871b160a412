"""Blocking asset checks on every trusted and curated table.

A failing check stops the run before any downstream table is built from bad data.
"""


from dagster import (
    AssetCheckResult, AssetChecksDefinition, AssetIn, MetadataValue, asset_check,
)
from pyspark.sql import DataFrame

from stedi_assets import quality
from stedi_assets.contract import (
    ACCELEROMETER_TRUSTED, CURATED, CUSTOMER_CURATED, CUSTOMER_LANDING, CUSTOMER_TRUSTED,
    DIRECT_IDENTIFIERS, MACHINE_LEARNING_CURATED, STEP_TRAINER_TRUSTED, UNIQUE_KEYS, ZONE_OF_TABLE,
)
from stedi_assets.metadata import MASKED
from stedi_assets.resources import PrivacyPolicy

CONSENT = "consent"
NO_DUPLICATE_KEYS = "no_duplicate_keys"
SAME_CUSTOMER_PAIRS = "same_customer_pairs"
NO_DIRECT_IDENTIFIERS = "no_direct_identifiers"

SAMPLE_SIZE = 5

# How each table names the customer a row belongs to, and when the reading was taken.
OWNER_AND_TIME = {
    CUSTOMER_TRUSTED: ("email", None),
    ACCELEROMETER_TRUSTED: ("user", "timestamp"),
    CUSTOMER_CURATED: ("customer_id", None),
    STEP_TRAINER_TRUSTED: ("serial_number", "sensor_reading_time"),
    MACHINE_LEARNING_CURATED: ("customer_id", "sensor_reading_time"),
}


def violation_result(violations: DataFrame, shown: list[str], **metadata) -> AssetCheckResult:
    """Passed when `violations` is empty; otherwise its count and a few offending keys, with
    direct identifiers masked (check metadata is visible to everybody with the UI)."""
    count = violations.count()
    sample = []
    if count:
        columns = [name for name in shown if name in violations.columns]
        for row in violations.select(*columns).limit(SAMPLE_SIZE).collect():
            sample.append({
                name: (MASKED if name.lower() in DIRECT_IDENTIFIERS else value)
                for name, value in row.asDict().items()
            })
    return AssetCheckResult(
        passed=count == 0,
        metadata={"violations": count, "sample": MetadataValue.json(sample), **metadata},
    )


def consent_check(table: str) -> AssetChecksDefinition:
    owner, reading_time = OWNER_AND_TIME[table]
    shown = ["customer_id", owner] + ([reading_time] if reading_time else [])

    @asset_check(
        asset=table,
        name=CONSENT,
        blocking=True,
        additional_ins={"customer_landing": AssetIn(CUSTOMER_LANDING)},
        description="No row belongs to a customer who does not consent under the consent mode "
        "(consent re-derived from customer_landing).",
    )
    def _consent(rows: DataFrame, customer_landing: DataFrame, privacy: PrivacyPolicy):
        consenting = quality.consenting_customers(customer_landing, privacy.pseudonym_key)
        violations = quality.consent_violations(
            rows, consenting, owner, reading_time, privacy.consent_mode
        )
        return violation_result(violations, list(dict.fromkeys(shown)),
                                consent_mode=privacy.consent_mode)

    return _consent


def dedup_check(table: str) -> AssetChecksDefinition:
    keys = UNIQUE_KEYS[table]

    @asset_check(asset=table, name=NO_DUPLICATE_KEYS, blocking=True,
                 description=f"No two rows share the key ({', '.join(keys)}).")
    def _dedup(rows: DataFrame):
        return violation_result(quality.duplicate_keys(rows, keys), [*keys, "occurrences"],
                                key=", ".join(keys))

    return _dedup


def identifier_check(table: str) -> AssetChecksDefinition:
    @asset_check(asset=table, name=NO_DIRECT_IDENTIFIERS, blocking=True,
                 description="No direct-identifier column and no e-mail-like value in any "
                 "string column.")
    def _identifiers(rows: DataFrame):
        columns = quality.identifier_columns(rows)
        email_like = quality.email_like_values(rows).count()
        return AssetCheckResult(
            passed=not columns and email_like == 0,
            metadata={"identifier_columns": MetadataValue.json(columns),
                      "rows_with_email_like_values": email_like},
        )

    return _identifiers


@asset_check(
    asset=MACHINE_LEARNING_CURATED,
    name=SAME_CUSTOMER_PAIRS,
    blocking=True,
    additional_ins={
        "customer_curated": AssetIn(CUSTOMER_CURATED),
        "accelerometer_trusted": AssetIn(ACCELEROMETER_TRUSTED),
    },
    description="Every row pairs a Step Trainer reading with a phone reading of the device's "
    "owner, never of somebody else.",
)
def same_customer_pairs(
    rows: DataFrame, customer_curated: DataFrame, accelerometer_trusted: DataFrame
):
    violations = quality.cross_customer_pairs(rows, customer_curated, accelerometer_trusted)
    return violation_result(
        violations, ["customer_id", "serial_number", "sensor_reading_time", "_device_owner"]
    )


all_checks = [
    *(consent_check(table) for table in OWNER_AND_TIME),
    *(dedup_check(table) for table in UNIQUE_KEYS),
    *(identifier_check(table) for table, zone in ZONE_OF_TABLE.items() if zone == CURATED),
    same_customer_pairs,
]
