"""Asset checks on every landing, trusted and curated table, in the table's own step.

The audit of write-audit-publish: once a table's step has written its version to the run's
audit branch, it checks that version and publishes it only when every blocking check passes. A failing blocking check leaves the
published snapshot as it was and stops the run before any downstream table is built from
bad data. Schema drift (unknown fields) only warns.

What each check counts is built in rules/check_counts.py; here, only the Dagster side: the
checks' names, descriptions and specs, the audit step and the counts judged as results.
"""


import functools
import time
from dataclasses import dataclass, replace
from typing import Callable

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey,
    MetadataValue, Output,
)
from pyspark.sql import DataFrame

from stedi_assets.rules import accounting, check_counts, quality, tally
from stedi_assets.lake import incremental
from stedi_assets.rules.check_counts import ACCOUNTED_SOURCE, Violations
from stedi_assets.rules.contract import (
    ACCELEROMETER_TRUSTED, CURATED, CUSTOMER_CURATED, CUSTOMER_LANDING, CUSTOMER_TRUSTED,
    LANDING, LANDING_QUARANTINE, MACHINE_LEARNING_CURATED, SOURCE_BY_TABLE,
    STEP_TRAINER_TRUSTED, UNIQUE_KEYS, ZONE_OF_TABLE,
)
from stedi_assets.lake.erasure import Erasure
from stedi_assets.lake.incremental import APPEND, UNCHANGED
from stedi_assets.lake import StalePublish
from stedi_assets.pipeline.metadata import published_note
from stedi_assets.pipeline.resources import LakehouseResource, PrivacyPolicy
from stedi_assets.rules.shrink import DEFAULT_MAX_SHRINK, ShrinkPolicy
from stedi_assets.rules.tally import Tally

CONSENT = "consent"
NO_DUPLICATE_KEYS = "no_duplicate_keys"
SAME_CUSTOMER_PAIRS = "same_customer_pairs"
NO_DIRECT_IDENTIFIERS = "no_direct_identifiers"
ROW_ACCOUNTING = "row_accounting"
REQUIRED_FIELDS_PRESENT = "required_fields_present"
VALID_RECORDS_PRESENT = "valid_records_present"
NO_SUDDEN_SHRINK = "no_sudden_shrink"
SCHEMA_DRIFT = "schema_drift"
WARNINGS = frozenset({SCHEMA_DRIFT})  # reported, never blocking


@dataclass(frozen=True)
class Audited:
    """What a check step knows of the version it checks beyond its rows: the row counts of
    that version and of the published one (None when there is none), and the shrink policy."""

    rows: int | None = None
    published_rows: int | None = None
    policy: ShrinkPolicy = ShrinkPolicy()
    # When the checked rows are only those the run appended: the whole new version, and the
    # version the rows were appended to.
    whole: DataFrame | None = None
    before: DataFrame | None = None
    # The version appended to holds a record that passed the fast validation (a null raw
    # line), so a valid one: known from its files' metrics, without reading it.
    clean_before: bool = False


@dataclass(frozen=True)
class Evaluation:
    """What a check counts, and how its result follows from the counts. The counts of all of
    a table's checks come from one Spark job (tally.count_all)."""

    tallies: dict[str, Tally]
    result: Callable[[dict[str, dict[str, int]]], AssetCheckResult]


def violations_found(violations: Violations, **metadata) -> Evaluation:
    """Passes when there is no violation; otherwise their count and a few offending keys,
    with direct identifiers masked (check metadata is visible to everybody with the UI)."""
    def result(counted: dict) -> AssetCheckResult:
        count = counted["violations"]["rows"]
        sample = violations.sample() if count else []  # a second job, only on failure
        return AssetCheckResult(
            passed=count == 0,
            metadata={"violations": count, "sample": MetadataValue.json(sample), **metadata},
        )

    return Evaluation(violations.tallies(), result)


# What each check means, for a person deciding whether to trust the table.
DESCRIPTIONS = {
    CONSENT: "Every row belongs to a customer who agreed to share their data for research "
    "(with consent mode as_of_date: every reading was taken after they agreed). Who agreed is "
    "worked out again from the raw customer records, not taken from the table being checked.",
    NO_DUPLICATE_KEYS: "Nothing is counted twice: no two rows describe the same thing "
    "(the same customer, or the same reading).",
    NO_DIRECT_IDENTIFIERS: "The table names nobody: no name, e-mail address, phone number or "
    "birthday, not even an e-mail address inside other text. Customers appear only by their "
    "pseudonym, customer_id.",
    SAME_CUSTOMER_PAIRS: "Each Step Trainer reading is paired only with a phone reading of the "
    "same person who owns the Step Trainer, never with somebody else's phone.",
    ROW_ACCOUNTING: "No record went missing: every record that arrived is in this table, in "
    "the quarantine as invalid, or left out for a stated reason (no consent, no matching "
    "customer or device, a duplicate), and the numbers add up.",
    REQUIRED_FIELDS_PRESENT: "The feed's format did not change: no landing file lost a field "
    f"the data needs from all of its records (files of at least {quality.DRIFT_MIN_RECORDS} "
    "records).",
    SCHEMA_DRIFT: "Lists fields the feed sends that nobody expected. Only a warning: they "
    "are ignored, but may mean the feed is changing.",
    VALID_RECORDS_PRESENT: "The feed is readable: if its files hold records, at least one of "
    "them is valid (a feed of only unreadable lines is not published as an empty one).",
    NO_SUDDEN_SHRINK: "The table did not suddenly lose most of its rows: compared with the "
    f"version published before, it lost at most {DEFAULT_MAX_SHRINK:.0%} of them (setting "
    "STEDI_MAX_SHRINK), unless someone accepted the loss for this run (STEDI_ACCEPT_SHRINK).",
}


def check_names(table: str) -> list[str]:
    if ZONE_OF_TABLE[table] == LANDING:
        return [REQUIRED_FIELDS_PRESENT, VALID_RECORDS_PRESENT, NO_SUDDEN_SHRINK, SCHEMA_DRIFT]
    names = [CONSENT, NO_DUPLICATE_KEYS, NO_SUDDEN_SHRINK]
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


def consent(table: str, rows: DataFrame, inputs: dict, privacy: PrivacyPolicy, *_) -> Evaluation:
    violations = check_counts.consent(table, rows, inputs[CUSTOMER_LANDING],
                                      privacy.pseudonym_key, privacy.consent_mode)
    return violations_found(violations, consent_mode=privacy.consent_mode)


def no_duplicate_keys(table: str, rows: DataFrame, _: dict, __: PrivacyPolicy,
                      audited: Audited) -> Evaluation:
    return violations_found(check_counts.duplicate_keys(table, rows, audited.whole),
                            key=", ".join(UNIQUE_KEYS[table]))


def no_direct_identifiers(_: str, rows: DataFrame, *__) -> Evaluation:
    columns = quality.identifier_columns(rows)

    def result(counted: dict) -> AssetCheckResult:
        email_like = counted["email_like"]["rows"]
        return AssetCheckResult(
            passed=not columns and email_like == 0,
            metadata={"identifier_columns": MetadataValue.json(columns),
                      "rows_with_email_like_values": email_like},
        )

    return Evaluation(check_counts.email_like(rows), result)


def same_customer_pairs(_: str, rows: DataFrame, inputs: dict, *__) -> Evaluation:
    return violations_found(check_counts.cross_customer_pairs(
        rows, inputs[CUSTOMER_CURATED], inputs[ACCELEROMETER_TRUSTED]))


def row_accounting(table: str, rows: DataFrame, inputs: dict, privacy: PrivacyPolicy,
                   audited: Audited) -> Evaluation:
    mode, before = privacy.consent_mode, audited.before
    tallies = check_counts.accounting_tallies(table, rows, inputs, privacy.pseudonym_key, mode,
                                              before)

    def result(counted: dict) -> AssetCheckResult:
        terms = accounting.terms(counted)
        problems = accounting.balance_problems(terms)
        return AssetCheckResult(passed=not problems, metadata={
            "source": SOURCE_BY_TABLE[ACCOUNTED_SOURCE[table]].name, **terms,
            "counted": "this run's new landing files" if before is not None else "every landing file",
            "problems": MetadataValue.json(problems), "consent_mode": mode})

    return Evaluation(tallies, result)


def required_fields_present(table: str, rows: DataFrame, *_) -> Evaluation:
    return violations_found(check_counts.fields_missing(table, rows))


def schema_drift(_: str, rows: DataFrame, *__) -> Evaluation:
    def result(counted: dict) -> AssetCheckResult:
        counts = counted["unknown_fields"]
        return AssetCheckResult(passed=not counts, severity=AssetCheckSeverity.WARN,
                                metadata={"unknown_fields": MetadataValue.json(counts),
                                          "records_with_unknown_fields": sum(counts.values())})

    return Evaluation(check_counts.unknown_fields(rows), result)


def valid_records_present(table: str, rows: DataFrame, _: dict, __: PrivacyPolicy,
                          audited: Audited) -> Evaluation:
    def result(counted: dict) -> AssetCheckResult:
        records, valid = counted["records"]["records"], counted["records"]["valid"] or 0
        earlier = counted["earlier"]["valid"] if "earlier" in counted else int(audited.clean_before)
        problem = audited.policy.empty_source_problem(table, records, valid + earlier)
        return _judged(problem, table, audited, records=records, valid_records=valid)

    return Evaluation(check_counts.valid_records(rows, audited.before, audited.clean_before),
                      result)


def no_sudden_shrink(table: str, _: DataFrame, __: dict, ___: PrivacyPolicy,
                     audited: Audited) -> Evaluation:
    """Counted from the snapshots' summaries: no Spark job."""
    def result(_: dict) -> AssetCheckResult:
        if audited.rows is None:
            return AssetCheckResult(passed=True, metadata={
                "compared": "nothing: this run wrote no new version of the table"})
        problem = audited.policy.shrink_problem(table, audited.published_rows, audited.rows)
        return _judged(problem, table, audited, rows=audited.rows,
                       published_rows=audited.published_rows, max_shrink=audited.policy.max_shrink)

    return Evaluation({}, result)


def _judged(problem: str | None, table: str, audited: Audited, **metadata) -> AssetCheckResult:
    """A check that passes without `problem`; says when it passed only because it was accepted."""
    accepted = table in audited.policy.accepted
    return AssetCheckResult(passed=problem is None, description=problem, metadata={
        **metadata, "accepted_by_STEDI_ACCEPT_SHRINK": accepted})


EVALUATE = {
    CONSENT: consent,
    NO_DUPLICATE_KEYS: no_duplicate_keys,
    NO_DIRECT_IDENTIFIERS: no_direct_identifiers,
    SAME_CUSTOMER_PAIRS: same_customer_pairs,
    ROW_ACCOUNTING: row_accounting,
    REQUIRED_FIELDS_PRESENT: required_fields_present,
    SCHEMA_DRIFT: schema_drift,
    VALID_RECORDS_PRESENT: valid_records_present,
    NO_SUDDEN_SHRINK: no_sudden_shrink,
}


def evaluate(table: str, rows: DataFrame, inputs: dict, privacy: PrivacyPolicy,
             audited: Audited = Audited()):
    """(name, result) of every check of one table, all counted in one Spark job."""
    evaluations = {name: EVALUATE[name](table, rows, inputs, privacy, audited)
                   for name in check_names(table)}
    counted = tally.count_all({f"{name}.{key}": counts for name, evaluation in evaluations.items()
                               for key, counts in evaluation.tallies.items()})
    return [(name, evaluation.result({key: counted[f"{name}.{key}"]
                                      for key in evaluation.tallies}))
            for name, evaluation in evaluations.items()]


def audited(compute: Callable[..., incremental.TableUpdate]):
    """An audited table's step from the function that computes its TableUpdate: the update,
    which the IO manager writes to the run's audit branch, then the result of every check of
    that version, which is published when every blocking check passes. A failed blocking
    check fails the step (Dagster), so nothing downstream is built from it."""
    @functools.wraps(compute)
    def step(context: AssetExecutionContext, *args, privacy: PrivacyPolicy,
             lakehouse: LakehouseResource, **kwargs):
        update = compute(context, *args, privacy=privacy, lakehouse=lakehouse, **kwargs)
        yield Output(update)
        yield from audit(context, update.plan.table, privacy, lakehouse)

    return step


def audit(context: AssetExecutionContext, table: str, privacy: PrivacyPolicy,
          lakehouse: LakehouseResource):
    """Checks what this run wrote of `table` (its audit branch) and publishes it when every
    blocking check passes."""
    run = lakehouse.run(context.run.run_id)
    plan = run.plans[table]
    if plan.mode == UNCHANGED:
        yield from _unchanged(table, run)
        return
    inputs = {name: _input(context, run, table, name) for name in check_inputs(table)}
    staged = run.require_staged(table)
    started = time.perf_counter()
    published = run.lake.published(table)
    audited = Audited(rows=staged.rows, published_rows=published.rows if published else None,
                      policy=lakehouse.shrink_policy())
    rows = run.read(table)
    if plan.mode == APPEND:
        # What the run appended is checked; what it was appended to passed when published.
        base = run.bases[table]
        audited = replace(audited, whole=rows, before=run.read_version(table, base),
                          clean_before=table in SOURCE_BY_TABLE
                          and run.lake.nulls(table, base, "raw_line") > 0)
        rows = run.read_appended(table, base, staged.snapshot_id)
        inputs = _appended_inputs(table, inputs, run, plan, rows)
    results = evaluate(table, rows, inputs, privacy, audited)
    passed = all(result.passed for name, result in results if name not in WARNINGS)
    outcome = {"audit_branch": run.branch, "checked_snapshot": str(staged.snapshot_id),
               "check_seconds": MetadataValue.float(round(time.perf_counter() - started, 2))}
    erasure = None
    if table == CUSTOMER_TRUSTED:
        # Erasure does not wait for a green run: whatever the checks say.
        erasure = Erasure.plan(run, inputs[CUSTOMER_LANDING], privacy.pseudonym_key)
        erasure.erase_downstream()
    stale = None
    if passed:
        try:
            started = time.perf_counter()
            outcome["published"] = published_note(run.publish(table), run.run_id)
            outcome["publish_seconds"] = MetadataValue.float(round(time.perf_counter() - started, 2))
        except StalePublish as problem:
            stale, outcome["published"] = problem, f"no: {problem}"
    else:
        outcome["published"] = (f"no: a blocking check failed; the published snapshot is "
                                f"unchanged and the checked one stays on branch {run.branch}")
    if erasure is not None:
        erasure.finish(customer_trusted_published=table in run.published)
        outcome["erased_withdrawn_rows"] = MetadataValue.json(erasure.erased)
    for name, result in results:
        yield AssetCheckResult(asset_key=AssetKey(table), check_name=name, passed=result.passed,
                               severity=result.severity, description=result.description,
                               metadata={**result.metadata, **outcome})
    if stale is not None:
        raise stale


def _input(context: AssetExecutionContext, run, table: str, name: str) -> DataFrame:
    """A table the checks of `table` compare it with, as this run wrote it (when the run
    selected it) or as published."""
    selected = context.run.asset_selection
    if (selected is None or AssetKey(name) in selected) and name not in run.plans:
        raise RuntimeError(f"the checks of {table} compare it with {name}, which this run "
                           "has not written yet (its step failed or did not run)")
    return run.read(name)


def _appended_inputs(table: str, inputs: dict, run, plan, added_rows: DataFrame) -> dict:
    """What the checks of the rows the run appended compare them with: an accounted table's
    source as the rows the run appended to it (read here), and their quarantined records."""
    added_source = (incremental.appended(run, plan, ACCOUNTED_SOURCE[table])
                    if table in ACCOUNTED_SOURCE else None)
    return check_counts.appended_inputs(table, inputs, added_rows, added_source)


def _unchanged(table: str, run):
    """Every check passes: the run did not change the table, whose published version passed
    them when it was published."""
    published = run.lake.require_published(table)
    for name in check_names(table):
        yield AssetCheckResult(asset_key=AssetKey(table), check_name=name, passed=True,
                               metadata={"checked": "not again: the table did not change in "
                                         "this run", "checked_snapshot": str(published.snapshot_id)})


def check_specs(table: str) -> list[AssetCheckSpec]:
    """The checks of `table`, evaluated in the table's own step once it is written, after the
    tables they compare it with (their `additional_deps`; the table's lineage is unchanged)."""
    inputs = check_inputs(table)
    return [AssetCheckSpec(name, asset=table, blocking=name not in WARNINGS,
                           description=DESCRIPTIONS[name], additional_deps=inputs)
            for name in check_names(table)]
