"""What each asset check counts: the rows that break it (and which of their columns a failure
shows), or the tallies its result is judged from. pipeline/checks.py counts every check of a
table in one Spark job (tally.count_all) and turns the counts into check results."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi_assets.rules import accounting, quality, tally, transforms
from stedi_assets.rules.contract import (
    ACCELEROMETER_LANDING, ACCELEROMETER_TRUSTED, CUSTOMER_CURATED, CUSTOMER_LANDING,
    CUSTOMER_TRUSTED, DIRECT_IDENTIFIERS, LANDING_QUARANTINE, MACHINE_LEARNING_CURATED,
    SOURCE_BY_TABLE, STEP_TRAINER_LANDING, STEP_TRAINER_TRUSTED, TABLE_BY_NAME, TABLES,
    UNIQUE_KEYS,
)
from stedi_assets.rules.masking import MASKED
from stedi_assets.rules.tally import Tally

SAMPLE_SIZE = 5

# How each table names the customer a row belongs to, and when the reading was taken.
OWNER_AND_TIME = {table.name: (table.owner, table.reading_time) for table in TABLES
                  if table.owner is not None}

# Which source's row accounting each trusted table closes.
ACCOUNTED_SOURCE = {
    CUSTOMER_TRUSTED: CUSTOMER_LANDING,
    ACCELEROMETER_TRUSTED: ACCELEROMETER_LANDING,
    STEP_TRAINER_TRUSTED: STEP_TRAINER_LANDING,
}


@dataclass(frozen=True)
class Violations:
    """The rows that break a check (none: it passes), and the columns a failure shows."""

    rows: DataFrame
    shown: list[str]

    def tallies(self) -> dict[str, Tally]:
        """"violations": how many rows."""
        return {"violations": tally.rows(self.rows)}

    def sample(self) -> list[dict]:
        """A few of the rows (a Spark job of its own), direct identifiers masked: check
        metadata is visible to everybody with the UI."""
        columns = [name for name in self.shown if name in self.rows.columns]
        return [{name: (MASKED if name.lower() in DIRECT_IDENTIFIERS else value)
                 for name, value in row.asDict().items()}
                for row in self.rows.select(*columns).limit(SAMPLE_SIZE).collect()]


def consent(table: str, rows: DataFrame, customer_landing: DataFrame, pseudonym_key: str,
            consent_mode: str) -> Violations:
    """Rows of customers who do not consent, as worked out again from the raw customer
    records (with consent mode as_of_date: also readings taken before they agreed)."""
    owner, reading_time = OWNER_AND_TIME[table]
    consenting = quality.consenting_customers(customer_landing, pseudonym_key)
    violations = quality.consent_violations(rows, consenting, owner, reading_time, consent_mode)
    shown = dict.fromkeys(["customer_id", owner] + ([reading_time] if reading_time else []))
    return Violations(violations, list(shown))


def duplicate_keys(table: str, rows: DataFrame, whole: DataFrame | None = None) -> Violations:
    """Each key of `table` that more than one row has. With `whole` (the new version when
    `rows` are what a run appended): a new row may repeat an old one, so every row of `whole`
    with a key of `rows` (of a table of readings: taken within the times of `rows`)."""
    keys, reading_time = UNIQUE_KEYS[table], TABLE_BY_NAME[table].reading_time
    if whole is not None:
        if reading_time is not None:
            whole = transforms.readings_within(whole, reading_time, rows, reading_time)
        rows = whole.join(rows.select(*keys), on=list(keys), how="left_semi")
    return Violations(quality.duplicate_keys(rows, keys), [*keys, "occurrences"])


def email_like(rows: DataFrame) -> dict[str, Tally]:
    """"email_like": the rows holding something that looks like an e-mail address."""
    return {"email_like": tally.rows(quality.email_like_values(rows))}


def cross_customer_pairs(rows: DataFrame, customer_curated: DataFrame,
                         accelerometer_trusted: DataFrame) -> Violations:
    """Pairs of a Step Trainer reading with a phone reading of somebody else."""
    violations = quality.cross_customer_pairs(rows, customer_curated, accelerometer_trusted)
    return Violations(
        violations, ["customer_id", "serial_number", "sensor_reading_time", "_device_owner"]
    )


def accounting_tallies(table: str, rows: DataFrame, inputs: dict[str, DataFrame],
                       pseudonym_key: str, consent_mode: str,
                       before: DataFrame | None) -> dict[str, Tally]:
    """The row accounting of the source `table` closes (ACCOUNTED_SOURCE), from the tables
    `inputs` names; `before`: the version `rows` were appended to, if they were."""
    quarantine = inputs[LANDING_QUARANTINE]
    if table == CUSTOMER_TRUSTED:
        return accounting.customer_tallies(inputs[CUSTOMER_LANDING], quarantine, rows,
                                           pseudonym_key)
    if table == ACCELEROMETER_TRUSTED:
        return accounting.accelerometer_tallies(
            inputs[ACCELEROMETER_LANDING], quarantine, inputs[CUSTOMER_LANDING], rows,
            pseudonym_key, consent_mode, kept_before=before)
    return accounting.step_trainer_tallies(
        inputs[STEP_TRAINER_LANDING], quarantine, inputs[CUSTOMER_LANDING],
        inputs[CUSTOMER_CURATED], rows, pseudonym_key, consent_mode, kept_before=before)


def fields_missing(table: str, rows: DataFrame) -> Violations:
    """The landing files from whose records a required field is missing altogether."""
    return Violations(quality.fields_missing_from_whole_files(rows, SOURCE_BY_TABLE[table]),
                      ["source_file", "field", "records"])


def unknown_fields(rows: DataFrame) -> dict[str, Tally]:
    """"unknown_fields": per field nobody expected (by the name the UI may show), how many
    records carry it."""
    return {"unknown_fields": tally.per_key(quality.unknown_field_counts(rows),
                                            "field", "records")}


def valid_records(rows: DataFrame, before: DataFrame | None = None,
                  clean_before: bool = False) -> dict[str, Tally]:
    """"records": the landing's records and valid ones. When `rows` were appended to
    `before`, not known to hold a valid record (`clean_before`), "earlier": whether it does
    (its "valid" is 0 or 1)."""
    is_valid = F.size(F.col("invalid_reasons")) == 0
    valid = F.sum(F.when(is_valid, 1).otherwise(0))
    tallies = {"records": tally.tally(rows, records=F.count(F.lit(1)), valid=valid)}
    if before is not None and not clean_before:
        # Appended rows: valid ones published before count too.
        tallies["earlier"] = tally.tally(before.where(is_valid).limit(1),
                                         valid=F.count(F.lit(1)))
    return tallies


def appended_inputs(table: str, inputs: dict[str, DataFrame], added_rows: DataFrame,
                    added_source: DataFrame | None = None) -> dict[str, DataFrame]:
    """The tables the checks of what a run appended to `table` (`added_rows`) compare it
    with: for machine_learning_curated, the phone readings of the new pairs' times; for an
    accounted table, its source as the rows the run appended to it (`added_source`) and
    their quarantined records: the accounting of what this run added."""
    if table == MACHINE_LEARNING_CURATED:
        return {**inputs, ACCELEROMETER_TRUSTED: transforms.readings_within(
            inputs[ACCELEROMETER_TRUSTED], "timestamp", added_rows, "sensor_reading_time")}
    if table not in ACCOUNTED_SOURCE:
        return inputs
    files = added_source.select("source_file").distinct()
    return {**inputs, ACCOUNTED_SOURCE[table]: added_source,
            LANDING_QUARANTINE: inputs[LANDING_QUARANTINE].join(
                files, on="source_file", how="left_semi")}
