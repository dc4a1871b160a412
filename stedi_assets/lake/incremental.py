"""Incremental runs: what changed since a table was built, and so what a run does to it.

Every snapshot a run writes is stamped with what it was built from: the rules (the table's
code version, the consent mode, the pseudonym key's fingerprint) and, per input table, the
snapshot of that input it reflects. The next run compares the stamp with the inputs it reads:

- every input the same: the table is `unchanged` (no write, no check, no Spark job);
- inputs that only grew by appends, where the table's rules allow it: the table `append`s
  what follows from the appended rows alone;
- anything else (another rule, an input rewritten or expired, a customer change, a table
  without a stamp, a full rebuild asked for): the table is rebuilt in `full`.

Landing tables have no input table: their ledger is the files they hold (path, size,
modification time). New files are appended; a file re-written or removed rebuilds the table.
A full rebuild of one table is a rewrite its downstream tables see, so it propagates.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a plan is made from metadata alone: Spark is imported where rows are read
    from pyspark.sql import DataFrame

from stedi_assets.rules.contract import (
    ACCELEROMETER_LANDING, ACCELEROMETER_TRUSTED, CUSTOMER_CURATED, CUSTOMER_LANDING,
    CUSTOMER_TRUSTED, LANDING_QUARANTINE, MACHINE_LEARNING_CURATED, STEP_TRAINER_LANDING,
    STEP_TRAINER_TRUSTED, TABLE_BY_NAME,
)
from stedi_assets.lake import LakeRun
from stedi_assets.lake.lakehouse import BUILT_FROM_PREFIX, RULES_PROPERTY, plain_path

FULL, APPEND, UNCHANGED = "full", "append", "unchanged"
FULL_TAG = "stedi/full"  # a run tagged stedi/full=true rebuilds every table

# Each derived table's inputs, and which of them may grow by appends while the table only
# appends too. A change of any other input (the customers, and so who consents and who owns
# which device) rebuilds the table.
INPUTS = {
    LANDING_QUARANTINE: {CUSTOMER_LANDING: True, ACCELEROMETER_LANDING: True,
                         STEP_TRAINER_LANDING: True},
    CUSTOMER_TRUSTED: {CUSTOMER_LANDING: False},
    ACCELEROMETER_TRUSTED: {ACCELEROMETER_LANDING: True, CUSTOMER_TRUSTED: False},
    CUSTOMER_CURATED: {CUSTOMER_TRUSTED: False, ACCELEROMETER_TRUSTED: True},
    STEP_TRAINER_TRUSTED: {STEP_TRAINER_LANDING: True, CUSTOMER_CURATED: False},
    MACHINE_LEARNING_CURATED: {STEP_TRAINER_TRUSTED: True, CUSTOMER_CURATED: False,
                               ACCELEROMETER_TRUSTED: True},
}


def rules(table: str, consent_mode: str, pseudonym_key: str) -> str:
    """What else than its inputs decides a table's rows. The key enters as a keyed hash of a
    constant: it tells keys apart and says nothing about the key."""
    fingerprint = hmac.new(pseudonym_key.encode(), b"stedi rules", hashlib.sha256).hexdigest()
    return f"{TABLE_BY_NAME[table].code_version};consent={consent_mode};key={fingerprint[:12]}"


@dataclass(frozen=True)
class Change:
    """One input of a table: the snapshot the table's published version reflects, the one
    this run reads, and whether the second only appended to the first."""

    before: int | None
    now: int | None
    appended: int | None  # rows appended from `before` to `now`; None: not by appends only

    @property
    def unchanged(self) -> bool:
        return self.before == self.now

    @property
    def same_rows(self) -> bool:
        """Unchanged, or grown by empty appends only (a run that added nothing)."""
        return self.unchanged or self.appended == 0


@dataclass(frozen=True)
class Plan:
    """What a run does to one table, and why."""

    table: str
    mode: str  # FULL, APPEND or UNCHANGED
    why: str
    stamp: dict[str, str]
    changes: dict[str, Change] = field(default_factory=dict)
    new_files: tuple[str, ...] = ()  # landing tables: the files an append reads

    def full(self, why: str) -> Plan:
        return Plan(self.table, FULL, why, self.stamp, self.changes, self.new_files)


@dataclass(frozen=True)
class TableUpdate:
    """What a step hands the IO manager: the plan, and the rows (all of them, or the ones
    to append; none when unchanged)."""

    plan: Plan
    rows: object = None  # a DataFrame, or parts (validation.ValidatedLanding)


def plan(run: LakeRun, table: str, table_rules: str, incremental: bool) -> Plan:
    """What this run does to a derived table, from its published stamp and its inputs."""
    inputs = INPUTS[table]
    stamp = {RULES_PROPERTY: table_rules,
             **{BUILT_FROM_PREFIX + name: str(run.version(name)) for name in inputs}}
    stamped = _stamp_problem(run, table, table_rules, incremental)
    if stamped:
        return Plan(table, FULL, stamped, stamp)
    summary = run.lake.summary(table, run.bases[table])
    changes = {}
    for name, may_append in inputs.items():
        before, now = int(summary[BUILT_FROM_PREFIX + name]), run.version(name)
        change = Change(before, now, 0 if before == now else
                        None if now is None else run.lake.appended_records(name, before, now))
        changes[name] = change
        if not change.same_rows and not (may_append and change.appended is not None):
            why = "was rebuilt" if may_append else "changed"
            return Plan(table, FULL, f"{name} {why} since it was built", stamp, changes)
    if all(change.same_rows for change in changes.values()):
        return Plan(table, UNCHANGED, "no input changed since it was built", stamp, changes)
    grown = ", ".join(name for name, change in changes.items() if not change.same_rows)
    return Plan(table, APPEND, f"rows appended to {grown}", stamp, changes)


def plan_landing(run: LakeRun, table: str, table_rules: str, incremental: bool,
                 listed: dict[str, tuple[int, int]]) -> Plan:
    """What this run does to a landing table. `listed`: path -> (size, modified ms) of every
    landing file Spark reads."""
    stamp = {RULES_PROPERTY: table_rules}
    stamped = _stamp_problem(run, table, table_rules, incremental)
    if stamped:
        return Plan(table, FULL, stamped, stamp)
    held = ingested_files(run, table)
    if held is None:
        return Plan(table, FULL, "its landing files are not in its partitions (an earlier "
                                 "layout)", stamp)
    for path, (size, modified) in held.items():
        if path not in listed:
            return Plan(table, FULL, f"landing file {path} was removed", stamp)
        if (size, modified // 1000) != (listed[path][0], listed[path][1] // 1000):
            return Plan(table, FULL, f"landing file {path} was re-written", stamp)
    new = tuple(sorted(set(listed) - set(held)))
    if not new:
        return Plan(table, UNCHANGED, "no new landing file", stamp)
    return Plan(table, APPEND, f"{len(new)} new landing file(s)", stamp, new_files=new)


def _stamp_problem(run: LakeRun, table: str, table_rules: str, incremental: bool) -> str | None:
    """Why the table must be rebuilt whatever its inputs did, or None."""
    if not incremental:
        return "a full rebuild was asked for"
    base = run.bases.get(table)
    if base is None:
        return "first build"
    summary = run.lake.summary(table, base)
    if summary.get(RULES_PROPERTY) != table_rules:
        return ("its published version was built by other rules"
                if RULES_PROPERTY in summary else "its published version has no build stamp")
    missing = [name for name in INPUTS.get(table, {}) if BUILT_FROM_PREFIX + name not in summary]
    return f"its build stamp lacks {', '.join(missing)}" if missing else None


def ingested_files(run: LakeRun, table: str) -> dict[str, tuple[int, int]] | None:
    """path -> (size, modified ms) of every file the landing table's base holds rows of."""
    held = run.lake.ledger(table, run.bases[table])
    return None if held is None else {plain_path(uri): file for uri, file in held.items()}


def appended(run: LakeRun, plan_: Plan, table: str) -> DataFrame:
    """The rows `table` gained since the planned table was built."""
    from pyspark.sql import functions as F

    change = plan_.changes[table]
    if change.same_rows:
        return run.read_version(table, change.now).where(F.lit(False))
    return run.read_appended(table, change.before, change.now)


def as_built(run: LakeRun, plan_: Plan, table: str) -> DataFrame:
    """`table` as it was when the planned table was built."""
    return run.read_version(table, plan_.changes[table].before)


def planned_without_running(lake, table_rules: dict[str, str], landing_tables: list[str],
                            listed: Callable[[str], dict[str, tuple[int, int]]]) -> list[Plan]:
    """The plans an incremental run would make of every table, worked out before any run
    starts (no Spark: the ledgers and stamps are in the tables' metadata). `table_rules`:
    each table's rules; `listed(table)`: a landing table's readable files (see plan_landing).
    Stops at the first table that would change: a run is needed then anyway."""
    run = lake.start_run("plan")  # reads only: no branch of its name is ever written
    plans = []
    for source_table in landing_tables:
        plans.append(plan_landing(run, source_table, table_rules[source_table], True,
                                  listed(source_table)))
        if plans[-1].mode != UNCHANGED:
            return plans
    for table in INPUTS:  # in lineage order
        plans.append(plan(run, table, table_rules[table], True))
        if plans[-1].mode != UNCHANGED:
            return plans
    return plans
