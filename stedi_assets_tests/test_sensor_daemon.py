"""The landing sensor as a person runs it: `dagster dev` (webserver and daemon) on 127.0.0.1 with
the project's instance on PostgreSQL (STEDI_INSTANCE_STORAGE=postgres, a server of the test's
own), the sensor turned on through the GraphQL API. Its first tick runs the pipeline on the
landing already there; a consent withdrawal moved in (with a modification time in 2000) starts
exactly one more run, which lowers machine_learning_curated by that customer's rows; then, with
nothing new, its ticks start nothing. The webserver and daemon are stopped and started again:
the runs, the sensor's state and its cursor are still there (in PostgreSQL, no SQLite file),
a tick with nothing new starts nothing, and a new phone reading starts exactly one more run.

The instance on SQLite is covered by test_instance.py and the UI's browser test.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter

import pytest

from stedi_assets.cli import open_lakehouse
from stedi_assets.rules.contract import (
    ACCELEROMETER, ACCELEROMETER_TRUSTED, CUSTOMER, CUSTOMER_TRUSTED, MACHINE_LEARNING_CURATED,
)
from stedi_assets.operations.instance import prepare_dagster_home, project_instance
from stedi_assets.pipeline.sensors import (
    CUSTOMER_TRIGGER, LANDING_SENSOR, READINGS_TRIGGER, RUN_KEY_TAG, TRIGGER_TAG, files_tag,
)
from stedi_assets.operations.settings import (
    INSTANCE_STORAGE_SETTING, POSTGRES_URL_SETTING, SENSOR_INTERVAL_SETTING, load_settings,
)
from stedi_assets_tests.conftest import pipeline_settings
from stedi_assets_tests.dagster_dev import dagster_dev, dagster_env, graphql
from stedi_assets_tests.postgres import postgres_server

pytestmark = [pytest.mark.ui, pytest.mark.pipeline]

TICK_SECONDS = 5  # the sensor's interval here; the daemon looks at its sensors every 5 s anyway
# Seconds from a request to its run's end: a JVM and the small landing. A bound, not a cost:
# runs took 3 to 5 minutes while other test suites loaded this 2-core machine.
RUN_TIMEOUT = 600
QUIET_TICKS = 2  # ticks after the last run, with nothing new landed, that must start nothing
DAY_MS = 86_400_000
# Moved in from an older copy, the file keeps its modification time: a sensor that keeps a
# high-water mark of modification times never sees it.
A_DAY_IN_2000 = 946_728_000
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")

RUNS = """{ runsOrError { ... on Runs { results {
    runId status startTime endTime tags { key value } } } } }"""
SENSORS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name } sensors { name sensorState { status
        typeSpecificData { ... on SensorData { lastCursor } } } } } } } }"""
INSTANCE = "{ instance { info } }"  # the UI's Deployment > Configuration
START_SENSOR = """mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
    __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""
TICKS = """query($selector: SensorSelector!, $after: Float) { sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(afterTimestamp: $after, limit: 20) {
        status timestamp skipReason runIds } } } } }"""


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def test_the_daemon_runs_the_pipeline_once_per_dropped_file_and_never_without_one(
        small_landing, tmp_path, postgres, capsys):
    began = time.monotonic()
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    shutil.copytree(small_landing, landing)  # the session's landing stays as it is
    stedi_home = tmp_path / "stedi"
    storage = {INSTANCE_STORAGE_SETTING: "postgres", POSTGRES_URL_SETTING: postgres.url}
    # The project's dagster.yaml (run queue, retries, PostgreSQL storage), as `make ui` writes
    # it: the URL reaches Dagster from the environment, never from the file.
    settings = load_settings({"STEDI_HOME": str(stedi_home), **storage})
    dagster_home = prepare_dagster_home(settings)
    assert postgres.password not in (dagster_home / "dagster.yaml").read_text()
    env = dagster_env(STEDI_LANDING_URI=str(landing), STEDI_LAKE_URI=str(lake),
                      STEDI_HOME=str(stedi_home), DAGSTER_HOME=str(dagster_home),
                      **{SENSOR_INTERVAL_SETTING: str(TICK_SECONDS)}, **storage)
    with dagster_dev(env, tmp_path / "dagster-dev.log") as url:
        info = graphql(url, INSTANCE)["instance"]["info"]
        assert "PostgresRunStorage" in info and postgres.password not in info, info
        selector, _ = _sensor_selector(url, "STOPPED")  # until someone turns it on
        started = graphql(url, START_SENSOR, selector=selector)["startSensor"]
        assert started.get("sensorState") == {"status": "RUNNING"}, started

        # The first tick requests every file already there: the baseline.
        (baseline,) = _wait_for_runs(url, 1)
        assert _tags(baseline)[TRIGGER_TAG] == CUSTOMER_TRIGGER
        lakehouse = open_lakehouse(pipeline_settings(landing, lake), spark=False)
        before = _rows(lakehouse, MACHINE_LEARNING_CURATED)
        customer, their_rows = _a_customer_in_training_data(lakehouse)
        assert 0 < their_rows < len(before)

        # The customer's record again, a day later, without consent: the latest record wins.
        _withdraw_consent(landing, customer)
        runs = _wait_for_runs(url, 2)
        (withdrawal,) = [run for run in runs if run["runId"] != baseline["runId"]]
        tags = _tags(withdrawal)
        assert (tags[TRIGGER_TAG], tags[files_tag(CUSTOMER)]) == (CUSTOMER_TRIGGER, "1")
        assert tags[RUN_KEY_TAG] != _tags(baseline)[RUN_KEY_TAG]
        after = _rows(lakehouse, MACHINE_LEARNING_CURATED)
        assert len(after) == len(before) - their_rows
        assert customer["customer_id"] not in {row["customer_id"] for row in after}

        # Nothing lands: the next ticks say so and start nothing.
        quiet = _wait_for_ticks(url, selector, after=withdrawal["endTime"], count=QUIET_TICKS)
        _assert_quiet(quiet)
        assert len(_runs(url)) == 2
        _, cursor = _sensor_selector(url, "RUNNING")
    first_server = time.monotonic() - began

    # The history, the sensor's state and its cursor are in PostgreSQL, none in SQLite files.
    assert not sorted(dagster_home.rglob("*.db")), sorted(dagster_home.rglob("*.db"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(POSTGRES_URL_SETTING, postgres.url)
        with project_instance(settings) as instance:
            assert instance.get_runs_count() == 2

    # The webserver and daemon again, on the same instance.
    restarted = time.time()
    with dagster_dev(env, tmp_path / "dagster-dev-restarted.log") as url:
        assert {run["runId"] for run in _runs(url)} == {baseline["runId"], withdrawal["runId"]}
        assert _sensor_selector(url, "RUNNING") == (selector, cursor) and cursor
        # Its first ticks after the restart: nothing new, nothing requested again.
        _assert_quiet(_wait_for_ticks(url, selector, after=restarted, count=1))
        assert len(_runs(url)) == 2

        # A new file after the restart starts exactly one more run: a phone reading of a
        # customer who still consents (readings alone: the run appends, the cheapest kind).
        other, _ = _a_customer_in_training_data(lakehouse)
        readings = len(_rows(lakehouse, ACCELEROMETER_TRUSTED))
        _new_phone_reading(landing, other)
        runs = _wait_for_runs(url, 3)
        (second,) = [run for run in runs
                     if run["runId"] not in (baseline["runId"], withdrawal["runId"])]
        tags = _tags(second)
        assert (tags[TRIGGER_TAG], tags[files_tag(ACCELEROMETER)]) == (READINGS_TRIGGER, "1")
        assert len({_tags(run)[RUN_KEY_TAG] for run in runs}) == 3
        assert len(_rows(lakehouse, ACCELEROMETER_TRUSTED)) == readings + 1
    with capsys.disabled():
        print(f"\nsensor daemon test: {time.monotonic() - began:.0f} s wall time, "
              f"{first_server:.0f} s before the restart (baseline run {_seconds(baseline)} s, "
              f"withdrawal run {_seconds(withdrawal)} s, reading run after the restart "
              f"{_seconds(second)} s)")


def _assert_quiet(ticks: list[dict]) -> None:
    assert all(tick["status"] == "SKIPPED" and not tick["runIds"] for tick in ticks), ticks
    assert {tick["skipReason"] for tick in ticks} == {"no new landing files"}


def _sensor_selector(url: str, status: str) -> tuple[dict, str | None]:
    """The landing sensor's selector, its location and repository names as the server says,
    and its cursor; the sensor's status is `status`."""
    found = [(repository, sensor) for repository in
             graphql(url, SENSORS)["repositoriesOrError"]["nodes"]
             for sensor in repository["sensors"] if sensor["name"] == LANDING_SENSOR]
    assert len(found) == 1, found
    ((repository, sensor),) = found
    assert sensor["sensorState"]["status"] == status
    return ({"repositoryLocationName": repository["location"]["name"],
             "repositoryName": repository["name"], "sensorName": LANDING_SENSOR},
            sensor["sensorState"]["typeSpecificData"]["lastCursor"])


def _runs(url: str) -> list[dict]:
    """Every run in the instance, whoever started it."""
    return graphql(url, RUNS)["runsOrError"]["results"]


def _tags(run: dict) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def _seconds(run: dict) -> str:
    return f"{run['endTime'] - run['startTime']:.0f}"


def _wait_for_runs(url: str, count: int) -> list[dict]:
    """The instance's runs once there are `count`, all succeeded; fails at once on one more,
    or on a run that did not succeed, or after RUN_TIMEOUT."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        runs = _runs(url)
        assert len(runs) <= count, f"more runs than {count}: {runs}"
        failed = [run for run in runs if run["status"] in FINISHED and run["status"] != "SUCCESS"]
        assert not failed, f"runs that did not succeed: {failed}"
        if len(runs) == count and all(run["status"] == "SUCCESS" for run in runs):
            for run in runs:  # started by the sensor, none by hand
                assert _tags(run).get("dagster/sensor_name") == LANDING_SENSOR, run
            return runs
        if time.monotonic() > deadline:
            pytest.fail(f"not {count} successful runs within {RUN_TIMEOUT} s: "
                        f"{Counter(run['status'] for run in runs)}")
        time.sleep(2)


def _wait_for_ticks(url: str, selector: dict, after: float, count: int) -> list[dict]:
    """The sensor's first `count` ticks after the time `after` (bounded by their interval)."""
    deadline = time.monotonic() + (count + 2) * TICK_SECONDS * 3
    while True:
        ticks = graphql(url, TICKS, selector=selector, after=after)[
            "sensorOrError"]["sensorState"]["ticks"]
        done = [tick for tick in ticks if tick["status"] != "STARTED"]
        if len(done) >= count:
            return sorted(done, key=lambda tick: tick["timestamp"])[:count]
        if time.monotonic() > deadline:
            pytest.fail(f"{len(done)} of {count} sensor ticks after the last run: {ticks}")
        time.sleep(TICK_SECONDS)


def _rows(lakehouse, table: str) -> list[dict]:
    """The table's published rows, read with pyiceberg (no JVM in the test)."""
    return lakehouse.iceberg_table(table).scan().to_arrow().to_pylist()


def _a_customer_in_training_data(lakehouse) -> tuple[dict, int]:
    """A consenting customer with readings in machine_learning_curated, and how many."""
    rows_of = Counter(row["customer_id"] for row in _rows(lakehouse, MACHINE_LEARNING_CURATED))
    customers = sorted(_rows(lakehouse, CUSTOMER_TRUSTED), key=lambda row: row["email"])
    customer = next(row for row in customers if rows_of[row["customer_id"]])
    return customer, rows_of[customer["customer_id"]]


def _withdraw_consent(landing, customer: dict) -> None:
    updated = max(customer["last_update_date"] or 0, customer["registration_date"])
    record = {"customerName": customer["customer_name"], "email": customer["email"],
              "phone": customer["phone"], "birthDay": str(customer["birth_day"]),
              "serialNumber": customer["serial_number"],
              "registrationDate": customer["registration_date"],
              "lastUpdateDate": updated + DAY_MS, "shareWithResearchAsOfDate": 0}
    # Written aside and moved in whole (the sensor never lists half of it), dated 2000.
    partial = landing / CUSTOMER.name / ".withdrawal.json.part"
    partial.write_text(json.dumps(record) + "\n")
    os.utime(partial, (A_DAY_IN_2000, A_DAY_IN_2000))
    partial.rename(landing / CUSTOMER.name / "withdrawal.json")


def _new_phone_reading(landing, customer: dict) -> None:
    """One phone reading of `customer`, at a time later than any in the sample."""
    reading = {"user": customer["email"], "timeStamp": int(time.time() * 1000),
               "x": 0.5, "y": 0.5, "z": 0.5}
    partial = landing / ACCELEROMETER.name / ".new-reading.json.part"
    partial.write_text(json.dumps(reading) + "\n")
    partial.rename(landing / ACCELEROMETER.name / "new-reading.json")
