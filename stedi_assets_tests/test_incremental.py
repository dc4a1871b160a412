"""Incremental runs equal full rebuilds: after each of a sequence of landing drops, a lake
that only ever runs incrementally holds, row for row, what a lake rebuilt in full from the
same landing holds."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from stedi_assets.pipeline.checks import (
    CONSENT, NO_DUPLICATE_KEYS, ROW_ACCOUNTING, SAME_CUSTOMER_PAIRS,
)
from stedi_assets.rules.contract import (
    ACCELEROMETER_TRUSTED, LANDING_QUARANTINE, MACHINE_LEARNING_CURATED, ZONE_OF_TABLE,
)
from stedi_assets.lake.incremental import FULL_TAG
from stedi_assets.pipeline.resources import LakeIOManager, build_resources
from stedi_assets.rules.sample_data import SampleSize, generate_landing
from stedi_assets_tests.conftest import open_lakehouse, pipeline_settings, run_pipeline

pytestmark = pytest.mark.pipeline

YEAR_2000 = 946_684_800  # seconds: a late file's modification time


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.json"))
            for line in path.read_text().splitlines() if line.strip()]


def write(path: Path, lines: list) -> None:
    """Written beside and renamed, as a feed would."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    temporary = path.with_name("." + path.name)
    temporary.write_text(text)
    temporary.rename(path)


class Landing:
    """The generated landing, and the people and devices the drops are about."""

    def __init__(self, root: Path):
        self.root = root
        customers = records(root / "customer")
        steps = records(root / "step_trainer")
        readings = records(root / "accelerometer")
        # Customers with readings of both kinds after they consented: in every table.
        consenting = [c for c in customers if c.get("shareWithResearchAsOfDate")
                      and any(r["user"].lower() == c["email"].lower()
                              and r["timestamp"] >= c["shareWithResearchAsOfDate"] for r in readings)
                      and any(s["serialNumber"] == c["serialNumber"]
                              and s["sensorReadingTime"] >= c["shareWithResearchAsOfDate"]
                              for s in steps)]
        self.owner, self.leaver, self.claimed = consenting[:3]
        self.steps_of = {c["email"]: sorted(s["sensorReadingTime"] for s in steps
                                            if s["serialNumber"] == c["serialNumber"])
                         for c in consenting[:3]}
        self.a_reading, self.a_step = readings[0], steps[0]
        # After the owner's last device reading and after they consented.
        self.later = max(self.steps(self.owner)[-1], self.owner["shareWithResearchAsOfDate"]) + 1_000

    def steps(self, customer: dict) -> list[int]:
        return self.steps_of[customer["email"]]


def drop_new_readings(landing: Landing) -> None:
    """1% new phone readings: the owner's at a time no device reading has yet, a repeat of
    an old reading, a repeat within the file, and a stranger's (a customer from drop 3 on)."""
    owner, later = landing.owner, landing.later
    new = {"user": owner["email"], "timestamp": later, "x": 1.0, "y": 2.0, "z": 3.0}
    stranger = [{"user": "newcomer@test.com", "timestamp": later + i, "x": 0.5, "y": 0.5,
                 "z": 0.5} for i in range(3)]
    write(landing.root / "accelerometer" / "drop-1.json",
          [new, new, landing.a_reading, *stranger])


def drop_step_readings(landing: Landing) -> None:
    """A device reading that pairs with drop 1's phone reading, an old reading again with a
    larger distance, and a device nobody owns."""
    owner, later = landing.owner, landing.later
    old = dict(landing.a_step, distanceFromObject=landing.a_step["distanceFromObject"] + 50)
    write(landing.root / "step_trainer" / "drop-2.json", [
        {"sensorReadingTime": later, "serialNumber": owner["serialNumber"],
         "distanceFromObject": 222},
        old,
        {"sensorReadingTime": later, "serialNumber": "nobodys-device", "distanceFromObject": 1}])


def drop_new_customer(landing: Landing) -> None:
    """The stranger of drop 1 registers, consents, and claims an existing customer's device
    (which then belongs to nobody for sure)."""
    claimed = landing.claimed
    write(landing.root / "customer" / "drop-3.json", [dict(
        claimed, customerName="New Comer", email="newcomer@test.com",
        registrationDate=claimed["registrationDate"] + 1,
        lastUpdateDate=claimed["lastUpdateDate"] + 1)])


def drop_withdrawal(landing: Landing) -> None:
    leaver = landing.leaver
    withdrawn = {key: value for key, value in leaver.items() if not key.startswith("share")}
    write(landing.root / "customer" / "drop-4.json",
          [dict(withdrawn, lastUpdateDate=leaver["lastUpdateDate"] + 10_000)])


def drop_late_file(landing: Landing) -> None:
    """Phone readings taken long ago, at the times of the owner's device readings, in a file
    last modified in 2000."""
    owner = landing.owner
    path = landing.root / "accelerometer" / "drop-5.json"
    write(path, [{"user": owner["email"], "timestamp": at, "x": 7.0, "y": 7.0, "z": 7.0}
                 for at in landing.steps(owner)])
    os.utime(path, (YEAR_2000, YEAR_2000))


def drop_lower_distance_and_bad_files(landing: Landing) -> None:
    owner = landing.owner
    first = landing.steps(owner)[0]
    write(landing.root / "step_trainer" / "drop-6.json", [
        {"sensorReadingTime": first, "serialNumber": owner["serialNumber"],
         "distanceFromObject": 0}])
    write(landing.root / "accelerometer" / "drop-6-bad.json",
          ["not json", '{"user": "x@test.com"}', "[1, 2]"])
    write(landing.root / "accelerometer" / "drop-6-blank.json", ["", "   "])


def rewrite_and_remove(landing: Landing) -> None:
    path = landing.root / "accelerometer" / "drop-5.json"
    write(path, path.read_text().splitlines()[:1])
    (landing.root / "step_trainer" / "drop-2.json").unlink()


# (drop, {table: how the incremental run must have changed it})
DROPS = [
    (drop_new_readings, {"accelerometer_landing": "append", "accelerometer_trusted": "append",
                         "customer_trusted": "unchanged", "machine_learning_curated": "append",
                         "step_trainer_trusted": "unchanged"}),
    (drop_step_readings, {"step_trainer_trusted": "append", "machine_learning_curated": "append",
                          "accelerometer_trusted": "unchanged"}),
    (drop_new_customer, {"customer_trusted": "full", "accelerometer_trusted": "full",
                         "accelerometer_landing": "unchanged"}),
    (drop_withdrawal, {"customer_trusted": "full", "machine_learning_curated": "full"}),
    (drop_late_file, {"accelerometer_trusted": "append", "machine_learning_curated": "append"}),
    (drop_lower_distance_and_bad_files, {"step_trainer_trusted": "full",
                                         "landing_quarantine": "append"}),
    (rewrite_and_remove, {"accelerometer_landing": "full", "step_trainer_landing": "full"}),
]


def changes(result) -> dict[str, str]:
    """How the run changed each table: full, append or unchanged (with why)."""
    return {event.asset_key.path[-1]:
            event.step_materialization_data.materialization.metadata["change"].value
            for event in result.get_asset_materialization_events()}


def published(landing: Path, lake: Path) -> dict[str, list]:
    """Every table's published rows, in a canonical order (the quarantine without the time
    each record was quarantined, which is when a run first saw it)."""
    tables = {}
    for table in ZONE_OF_TABLE:
        found = open_lakehouse(landing, lake).iceberg_table(table).scan().to_arrow().to_pylist()
        if table == LANDING_QUARANTINE:
            found = [{k: v for k, v in row.items() if k != "quarantined_at"} for row in found]
        tables[table] = sorted(repr(sorted(row.items())) for row in found)
    return tables


@pytest.mark.parametrize("consent_mode", ["as_of_date"])
def test_incremental_runs_equal_full_rebuilds(spark, tmp_path, consent_mode):
    root = tmp_path / "landing"
    generate_landing(root, SampleSize(customers=30, readings_per_device=4))
    landing = Landing(root)
    incremental = tmp_path / "incremental"
    assert run_pipeline(root, incremental, consent_mode).success
    for number, (drop, expected) in enumerate(DROPS, start=1):
        drop(landing)
        full = tmp_path / f"full-{number}"  # each full rebuild starts from nothing
        step = run_pipeline(root, incremental, consent_mode)
        rebuilt = run_pipeline(root, full, consent_mode, tags={FULL_TAG: "true"})
        assert step.success and rebuilt.success, drop.__name__
        assert set(changes(rebuilt).values()) == {"full"}
        assert expected.items() <= changes(step).items(), f"{drop.__name__}: {changes(step)}"
        left, right = published(root, incremental), published(root, full)
        for table in ZONE_OF_TABLE:
            assert left[table] == right[table], (drop.__name__, table)


# -- checks of an append fail on bad appended rows ---------------------------------------------

def _stranger(rows):
    return rows.unionByName(rows.limit(1).withColumn("user", F.lit("stranger@nowhere.test")))


APPEND_TAMPERS = {
    (ACCELEROMETER_TRUSTED, CONSENT): _stranger,
    (ACCELEROMETER_TRUSTED, NO_DUPLICATE_KEYS): "repeat",
    (ACCELEROMETER_TRUSTED, ROW_ACCOUNTING): lambda rows: rows.limit(0),
    # Last: its run publishes accelerometer_trusted's append, which the cases above tamper with.
    (MACHINE_LEARNING_CURATED, SAME_CUSTOMER_PAIRS):
        lambda rows: rows.withColumn("customer_id", F.lit("somebody-else")),
}


class AppendTamperingIOManager(LakeIOManager):
    table: str
    check: str

    def handle_output(self, context, obj):
        if context.asset_key.path[-1] == self.table:
            assert obj.plan.mode == "append", obj.plan
            tamper = APPEND_TAMPERS[(self.table, self.check)]
            if tamper == "repeat":  # a row the table holds already, appended again
                held = self.lakehouse.run(context.run_id).read(self.table).limit(1)
                tamper = lambda rows: rows.unionByName(held)  # noqa: E731
            obj = replace(obj, rows=tamper(obj.rows))
        super().handle_output(context, obj)


@pytest.fixture(scope="module")
def appended_lake(spark, tmp_path_factory):
    """A published lake, and new readings of both kinds in its landing, not yet run."""
    root = tmp_path_factory.mktemp("append") / "landing"
    generate_landing(root, SampleSize(customers=20, readings_per_device=4))
    lake = root.parent / "lake"
    assert run_pipeline(root, lake).success
    landing = Landing(root)
    drop_new_readings(landing)
    drop_step_readings(landing)
    return root, lake


@pytest.mark.parametrize("table, check", list(APPEND_TAMPERS), ids=lambda v: str(v))
def test_checks_of_an_append_fail_on_bad_appended_rows(appended_lake, table, check):
    root, lake = appended_lake
    resources = build_resources(pipeline_settings(root, lake))
    io_manager = AppendTamperingIOManager(lakehouse=resources["lakehouse"], table=table,
                                          check=check)
    before = open_lakehouse(root, lake).require_published(table).snapshot_id
    result = run_pipeline(root, lake, io_manager=io_manager)
    failed = {(e.asset_key.path[-1], e.check_name) for e in result.get_asset_check_evaluations()
              if not e.passed}
    assert (table, check) in failed
    assert not result.success
    assert open_lakehouse(root, lake).require_published(table).snapshot_id == before
