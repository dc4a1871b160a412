"""Asset checks on every landing, trusted and curated table, one step per table.

The audit of write-audit-publish: a table's check step checks the version its run wrote and
publishes it only when every blocking check passes. A failing blocking check leaves the
published snapshot as it was and stops the run before any downstream table is built from
bad data. Schema drift (unknown fields) only warns.
"""


from concurrent.futures import ThreadPoolExecutor

from dagster import (
    AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetCheckSpec,
    AssetChecksDefinition, AssetIn, AssetKey, MetadataValue, multi_asset_check,
)
from pyspark.sql import DataFrame

from stedi_assets import accounting, quality
from stedi_assets.contract import (
    ACCELEROMETER_LANDING, ACCELEROMETER_TRUSTED, AUDITED_TABLES, CURATED, CUSTOMER_CURATED,
    CUSTOMER_LANDING, CUSTOMER_TRUSTED, DIRECT_IDENTIFIERS, LANDING, LANDING_QUARANTINE,
    MACHINE_LEARNING_CURATED, SOURCE_BY_TABLE, STEP_TRAINER_LANDING, STEP_TRAINER_TRUSTED,
    UNIQUE_KEYS, ZONE_OF_TABLE,
)
from stedi_assets.erasure import Erasure
from stedi_assets.lake import StalePublish
from stedi_assets.metadata import MASKED
from stedi_assets.resources import LakehouseResource, PrivacyPolicy

CONSENT = "consent"
NO_DUPLICATE_KEYS = "no_duplicate_keys"
SAME_CUSTOMER_PAIRS = "same_customer_pairs"
NO_DIRECT_IDENTIFIERS = "no_direct_identifiers"
ROW_ACCOUNTING = "row_accounting"
REQUIRED_FIELDS_PRESENT = "required_fields_present"
SCHEMA_DRIFT = "schema_drift"
WARNINGS = frozenset({SCHEMA_DRIFT})  # reported, never blocking

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


DESCRIPTIONS = {
    CONSENT: "No row belongs to a customer who does not consent under the consent mode "
    "(consent re-derived from customer_landing, not taken from customer_trusted).",
    NO_DUPLICATE_KEYS: "No two rows share the table's key.",
    NO_DIRECT_IDENTIFIERS: "No direct-identifier column and no e-mail-like value in any "
    "string column.",
    SAME_CUSTOMER_PAIRS: "Every row pairs a Step Trainer reading with a phone reading of the "
    "device's owner, never of somebody else.",
    ROW_ACCOUNTING: "Every landing row of the source is accounted for: read = valid + "
    "quarantined, valid = kept + excluded for no consent + orphans + duplicates.",
    REQUIRED_FIELDS_PRESENT: "No landing file lost a required field in all of its records "
    f"(files of at least {quality.DRIFT_MIN_RECORDS} records).",
    SCHEMA_DRIFT: "Fields the contract does not know, counted per name (a warning).",
}

# Which source's row accounting each trusted table closes.
ACCOUNTED_SOURCE = {
    CUSTOMER_TRUSTED: CUSTOMER_LANDING,
    ACCELEROMETER_TRUSTED: ACCELEROMETER_LANDING,
    STEP_TRAINER_TRUSTED: STEP_TRAINER_LANDING,
}


def check_names(table: str) -> list[str]:
    if ZONE_OF_TABLE[table] == LANDING:
        return [REQUIRED_FIELDS_PRESENT, SCHEMA_DRIFT]
    names = [CONSENT, NO_DUPLICATE_KEYS]
    if table in ACCOUNTED_SOURCE:
        names.append(ROW_ACCOUNTING)
    if ZONE_OF_TABLE[table] == CURATED:
        names.append(NO_DIRECT_IDENTIFIERS)
    if table == MACHINE_LEARNING_CURATED:
        names.append(SAME_CUSTOMER_PAIRS)
    return names


def check_inputs(table: str) -> list[str]:
    """The tables a table's checks compare it with (as this run published them)."""
    if ZONE_OF_TABLE[table] == LANDING:
        return []
    inputs = [CUSTOMER_LANDING]
    if table in ACCOUNTED_SOURCE:
        inputs += [ACCOUNTED_SOURCE[table], LANDING_QUARANTINE]
    if table in (STEP_TRAINER_TRUSTED, MACHINE_LEARNING_CURATED):
        inputs.append(CUSTOMER_CURATED)
    if table == MACHINE_LEARNING_CURATED:
        inputs.append(ACCELEROMETER_TRUSTED)
    return list(dict.fromkeys(inputs))


def consent(table: str, rows: DataFrame, inputs: dict, privacy: PrivacyPolicy) -> AssetCheckResult:
    owner, reading_time = OWNER_AND_TIME[table]
    consenting = quality.consenting_customers(inputs[CUSTOMER_LANDING], privacy.pseudonym_key)
    violations = quality.consent_violations(
        rows, consenting, owner, reading_time, privacy.consent_mode
    )
    shown = dict.fromkeys(["customer_id", owner] + ([reading_time] if reading_time else []))
    return violation_result(violations, list(shown), consent_mode=privacy.consent_mode)


def no_duplicate_keys(table: str, rows: DataFrame, *_) -> AssetCheckResult:
    keys = UNIQUE_KEYS[table]
    return violation_result(
        quality.duplicate_keys(rows, keys), [*keys, "occurrences"], key=", ".join(keys)
    )


def no_direct_identifiers(_: str, rows: DataFrame, *__) -> AssetCheckResult:
    columns = quality.identifier_columns(rows)
    email_like = quality.email_like_values(rows).count()
    return AssetCheckResult(
        passed=not columns and email_like == 0,
        metadata={"identifier_columns": MetadataValue.json(columns),
                  "rows_with_email_like_values": email_like},
    )


def same_customer_pairs(_: str, rows: DataFrame, inputs: dict, __) -> AssetCheckResult:
    violations = quality.cross_customer_pairs(
        rows, inputs[CUSTOMER_CURATED], inputs[ACCELEROMETER_TRUSTED]
    )
    return violation_result(
        violations, ["customer_id", "serial_number", "sensor_reading_time", "_device_owner"]
    )


def row_accounting(table: str, rows: DataFrame, inputs: dict,
                   privacy: PrivacyPolicy) -> AssetCheckResult:
    key, mode = privacy.pseudonym_key, privacy.consent_mode
    quarantine = inputs[LANDING_QUARANTINE]
    if table == CUSTOMER_TRUSTED:
        terms = accounting.customer_terms(inputs[CUSTOMER_LANDING], quarantine, rows, key)
    elif table == ACCELEROMETER_TRUSTED:
        terms = accounting.accelerometer_terms(inputs[ACCELEROMETER_LANDING], quarantine,
                                               inputs[CUSTOMER_LANDING], rows, key, mode)
    else:
        terms = accounting.step_trainer_terms(inputs[STEP_TRAINER_LANDING], quarantine,
                                              inputs[CUSTOMER_LANDING], inputs[CUSTOMER_CURATED],
                                              rows, key, mode)
    problems = accounting.balance_problems(terms)
    return AssetCheckResult(passed=not problems, metadata={
        "source": SOURCE_BY_TABLE[ACCOUNTED_SOURCE[table]].name, **terms,
        "problems": MetadataValue.json(problems), "consent_mode": mode})


def required_fields_present(table: str, rows: DataFrame, *_) -> AssetCheckResult:
    source = SOURCE_BY_TABLE[table]
    return violation_result(quality.fields_missing_from_whole_files(rows, source),
                            ["source_file", "field", "records"])


def schema_drift(_: str, rows: DataFrame, *__) -> AssetCheckResult:
    counts = {row["field"]: row["records"] for row in quality.unknown_field_counts(rows).collect()}
    return AssetCheckResult(passed=not counts, severity=AssetCheckSeverity.WARN,
                            metadata={"unknown_fields": MetadataValue.json(counts),
                                      "records_with_unknown_fields": sum(counts.values())})


EVALUATE = {
    CONSENT: consent,
    NO_DUPLICATE_KEYS: no_duplicate_keys,
    NO_DIRECT_IDENTIFIERS: no_direct_identifiers,
    SAME_CUSTOMER_PAIRS: same_customer_pairs,
    ROW_ACCOUNTING: row_accounting,
    REQUIRED_FIELDS_PRESENT: required_fields_present,
    SCHEMA_DRIFT: schema_drift,
}


def evaluate(table: str, rows: DataFrame, inputs: dict, privacy: PrivacyPolicy):
    """(name, result) of every check of one table. Their Spark jobs run side by side: each
    is small, and a lone small job leaves most of the machine waiting on scheduling."""
    names = check_names(table)
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = [pool.submit(EVALUATE[name], table, rows, inputs, privacy) for name in names]
        return [(name, future.result()) for name, future in zip(names, futures)]


def audit(context: AssetCheckExecutionContext, table: str, inputs: dict,
          privacy: PrivacyPolicy, lakehouse: LakehouseResource):
    """Checks what this run wrote of `table` (its audit branch) and publishes it when every
    blocking check passes. Without it (checks run on their own) it checks what is published."""
    run = lakehouse.run(context.run.run_id)
    staged = run.staged(table)
    results = evaluate(table, run.read(table), inputs, privacy)
    passed = all(result.passed for name, result in results if name not in WARNINGS)
    outcome = {"audit_branch": run.branch}
    erasure = None
    if table == CUSTOMER_TRUSTED and staged is not None:
        # Erasure does not wait for a green run: whatever the checks say.
        erasure = Erasure.plan(run, inputs[CUSTOMER_LANDING], privacy.pseudonym_key)
        erasure.erase_downstream()
    stale = None
    if staged is None:
        outcome["published"] = "already published: checked the published snapshot"
    elif passed:
        try:
            outcome["published"] = f"snapshot {run.publish(table).snapshot_id}"
        except StalePublish as problem:
            stale, outcome["published"] = problem, f"no: {problem}"
    else:
        outcome["published"] = (f"no: a blocking check failed; the published snapshot is "
                                f"unchanged and the checked one stays on branch {run.branch}")
    if erasure is not None:
        erasure.finish(customer_trusted_published=table in run.published)
        outcome["erased_withdrawn_rows"] = MetadataValue.json(erasure.erased)
    outcome["checked_snapshot"] = str((staged or run.lake.require_published(table)).snapshot_id)
    for name, result in results:
        yield AssetCheckResult(asset_key=AssetKey(table), check_name=name, passed=result.passed,
                               severity=result.severity, metadata={**result.metadata, **outcome})
    if stale is not None:
        raise stale


def table_checks(table: str) -> AssetChecksDefinition:
    """One step per table that evaluates all of its checks, then publishes it."""
    inputs = check_inputs(table)
    specs = [
        AssetCheckSpec(name, asset=table, blocking=name not in WARNINGS,
                       description=DESCRIPTIONS[name], additional_deps=inputs)
        for name in check_names(table)
    ]

    @multi_asset_check(name=f"{table}_checks", specs=specs,
                       ins={name: AssetIn(name) for name in inputs})
    def _checks(context: AssetCheckExecutionContext, privacy: PrivacyPolicy,
                lakehouse: LakehouseResource, **tables: DataFrame):
        yield from audit(context, table, tables, privacy, lakehouse)

    return _checks


all_checks = [table_checks(table) for table in sorted(AUDITED_TABLES)]
