"""The benchmarks' own parts that need no pipeline: memory split into driver and JVM, the
runs' environment, the new landing files and who they are for, and machinery.py's parsers (the
Spark event log, Iceberg's commit lines, the Dagster steps, what falls in which step, the
seconds outside Spark). (No timings: the benchmarks measure them; nothing here asserts one.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from incremental import size_name  # noqa: E402
from machinery import (  # noqa: E402
    COMMIT_LINE, OUTSIDE_STEPS, Commit, Job, Step, attribute, commit_lines, dagster_steps,
    event_log_jobs, outside_spark, spark_jobs, union_seconds, write_conf_dir,
)
from new_readings import attributable, drop  # noqa: E402
from pipeline_vs_plain_pyspark import PeakMemory, timed  # noqa: E402

MIB = 2**20
# A parent that stays small while its child holds 200 MiB for a moment.
PARENT_AND_CHILD = (
    "import subprocess, sys; subprocess.run([sys.executable, '-c', "
    "'import time; block = b\"x\" * (200 * 2**20); time.sleep(1.5)'])")
# Another process holding 100 MiB until its input closes; it says when it holds it.
OTHER = "import sys; block = b'x' * (100 * 2**20); print('ready', flush=True); sys.stdin.read()"


def test_peak_memory_tells_the_driver_from_its_children_and_counts_other_processes():
    other = subprocess.Popen([sys.executable, "-c", OTHER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "ready\n"
        process = subprocess.Popen([sys.executable, "-c", PARENT_AND_CHILD])
        peak = PeakMemory(process.pid, every=0.05, others=(other.pid,))
        process.wait()
        peak.stop()
    finally:
        other.stdin.close()
        other.wait()
    assert peak.driver < 100 * MIB
    assert peak.jvm > 300 * MIB  # the child's 200 MiB and the other's 100 MiB
    assert peak.bytes >= peak.jvm and peak.bytes <= peak.driver + peak.jvm


def test_timed_gives_the_run_the_settings_asked_for_and_removes_the_ones_set_to_none(
        tmp_path, monkeypatch):
    monkeypatch.setenv("STEDI_INCREMENTAL", "false")
    monkeypatch.setenv("DAGSTER_HOME", "/somebody/else")
    log = tmp_path / "run.log"
    show = "import os, json; print(json.dumps({k: os.environ.get(k) for k in %r}))" % (
        ["STEDI_INCREMENTAL", "STEDI_HOME", "STEDI_LAKE_URI", "DAGSTER_HOME"],)
    seconds, peak = timed([sys.executable, "-c", show], tmp_path / "landing", tmp_path / "lake",
                          log, {"STEDI_INCREMENTAL": None, "STEDI_HOME": "h"})
    assert json.loads(log.read_text()) == {"STEDI_INCREMENTAL": None, "STEDI_HOME": "h",
                                           "STEDI_LAKE_URI": str(tmp_path / "lake"),
                                           "DAGSTER_HOME": None}
    assert seconds > 0 and peak.driver > 0


def test_a_drop_pairs_each_phone_reading_with_its_owners_device_at_the_same_time(tmp_path):
    for source in ("accelerometer", "step_trainer"):
        (tmp_path / source).mkdir()
    owners = [("a@test.com", "serial-a"), ("b@test.com", "serial-b")]
    drop(tmp_path, "drop-1", owners, 5, first_ms=1_000)
    phone = _lines(tmp_path / "accelerometer" / "drop-1.json")
    device = _lines(tmp_path / "step_trainer" / "drop-1.json")
    assert [(r["user"], r["timestamp"]) for r in phone] == [
        ("a@test.com", 1_000), ("b@test.com", 1_001), ("a@test.com", 1_002),
        ("b@test.com", 1_003), ("a@test.com", 1_004)]
    serial = dict(owners)
    assert [(r["serialNumber"], r["sensorReadingTime"]) for r in device] == [
        (serial[r["user"]], r["timestamp"]) for r in phone]
    # Nothing left under a hidden name; both files whole.
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "accelerometer", "drop-1.json", "drop-1.json", "step_trainer"]


def test_new_readings_go_to_customers_with_a_device_of_their_own():
    curated = [{"customer_id": "1", "serial_number": "s1"},
               {"customer_id": "2", "serial_number": "shared"},
               {"customer_id": "3", "serial_number": "shared"},
               {"customer_id": "4", "serial_number": None}]
    trusted = [{"customer_id": str(n), "email": f"{n}@test.com"} for n in range(1, 6)]
    assert attributable(curated, trusted) == [("1@test.com", "s1")]


@pytest.mark.parametrize("text", ["course", "10x", "100x", "0.05x", ".5x"])
def test_sizes_are_the_course_sample_or_multiples_of_it(text):
    assert size_name(text) == text


@pytest.mark.parametrize("text", ["x", "10", "0x", "-1x", "big"])
def test_other_sizes_are_refused(text):
    with pytest.raises(Exception, match="size|more than 0"):
        size_name(text)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- machinery.py ---------------------------------------------------------------------------

def _event(kind: str, **fields) -> str:
    return json.dumps({"Event": f"SparkListener{kind}", **fields})


def _task_end(stage: int, task_type: str, result_size: int) -> str:
    return _event("TaskEnd", **{"Stage ID": stage, "Stage Attempt ID": 0, "Task Type": task_type,
                                "Task Info": {"Task ID": stage * 10},
                                "Task Metrics": {"Result Size": result_size}})


# Job 0: a shuffle stage (0) and its result stage (1), two result tasks; job 1: one stage (2);
# job 2 never ended (the log of a server still running); then half a line.
EVENT_LOG = [
    _event("LogStart", **{"Spark Version": "4.1.4"}),
    _event("ApplicationStart", **{"App Name": "stedi_assets", "Timestamp": 999_000}),
    _event("JobStart", **{"Job ID": 0, "Submission Time": 1_000_000, "Stage IDs": [0, 1]}),
    _task_end(0, "ShuffleMapTask", 5_000),
    _task_end(1, "ResultTask", 300),
    _task_end(1, "ResultTask", 200),
    _event("JobEnd", **{"Job ID": 0, "Completion Time": 1_002_500,
                        "Job Result": {"Result": "JobSucceeded"}}),
    _event("JobStart", **{"Job ID": 1, "Submission Time": 1_003_000, "Stage IDs": [2]}),
    _task_end(2, "ResultTask", 40),
    _event("JobEnd", **{"Job ID": 1, "Completion Time": 1_003_250,
                        "Job Result": {"Result": "JobSucceeded"}}),
    _event("JobStart", **{"Job ID": 2, "Submission Time": 1_004_000, "Stage IDs": [3]}),
    '{"Event": "SparkListenerJobEnd", "Job ID": 2, "Compl',
]


@pytest.mark.unit
def test_the_event_log_gives_each_completed_job_its_interval_and_its_result_tasks_bytes():
    assert spark_jobs(EVENT_LOG) == [Job(0, 1_000.0, 1_002.5, 500), Job(1, 1_003.0, 1_003.25, 40)]


@pytest.mark.unit
def test_every_application_log_in_the_folder_is_read(tmp_path):
    (tmp_path / "local-1").write_text("\n".join(EVENT_LOG[:7]) + "\n")
    (tmp_path / "local-2.inprogress").write_text("\n".join(EVENT_LOG[7:10]) + "\n")
    # Job ids start again at 0 in each application.
    assert [(j.id, j.start) for j in event_log_jobs(tmp_path)] == [(0, 1_000.0), (1, 1_003.0)]


COMMITS = [
    "1796319963251 org.apache.iceberg.BaseMetastoreTableOperations Successfully committed to "
    "table stedi.accelerometer_landing_validated in 3895 ms",
    "1796319963331 org.apache.iceberg.BaseMetastoreTableOperations Refreshing table metadata "
    "from new version: file:/tmp/lake/metadata/00000-c0.metadata.json",
    "1796319970002 org.apache.iceberg.BaseMetastoreTableOperations Successfully committed to "
    "table stedi.customer_trusted in 12 ms",
    "26/12/03 17:50:01 WARN SomethingElse: Successfully committed to table x in 1 ms",
]


@pytest.mark.unit
def test_commit_lines_give_the_time_table_and_milliseconds_of_each_commit():
    assert commit_lines(COMMITS) == [
        Commit(1_796_319_963.251, "stedi.accelerometer_landing_validated", 3895),
        Commit(1_796_319_970.002, "stedi.customer_trusted", 12)]


@pytest.mark.unit
def test_the_conf_folder_turns_on_the_event_log_and_writes_commit_lines_the_parser_reads(
        tmp_path):
    conf, events, commits = write_conf_dir(tmp_path / "run")
    defaults = dict(line.split(" ", 1) for line in
                    (conf / "spark-defaults.conf").read_text().splitlines())
    assert defaults["spark.eventLog.enabled"] == "true"
    assert defaults["spark.eventLog.dir"] == f"file://{events}" and events.is_dir()
    log4j = (conf / "log4j2.properties").read_text()
    assert f"appender.commits.fileName = {commits}" in log4j
    assert "org.apache.iceberg.BaseMetastoreTableOperations" in log4j
    # The layout's fields, "%d{UNIX_MILLIS} %c %m", in the order the parser reads them.
    assert "%d{UNIX_MILLIS} %c %m%n" in log4j and COMMIT_LINE.match(COMMITS[0])


@pytest.mark.unit
def test_steps_come_from_their_start_and_end_events_in_the_order_they_started():
    events = [("RUN_START", None, 0.5), ("STEP_START", "b", 3.0), ("STEP_START", "a", 1.0),
              ("STEP_OUTPUT", "a", 1.5), ("STEP_SUCCESS", "a", 2.0), ("STEP_FAILURE", "b", 4.0),
              ("STEP_START", "b", 5.0), ("STEP_SUCCESS", "b", 6.0),  # b's retry
              ("STEP_START", "c", 7.0)]  # never ended: left out
    assert dagster_steps(events) == [Step("a", 1.0, 2.0), Step("b", 3.0, 6.0)]


@pytest.mark.unit
def test_the_union_of_intervals_counts_overlaps_once_and_only_inside_the_window():
    assert union_seconds([], (0, 10)) == 0
    assert union_seconds([(1, 3), (2, 4), (6, 7)], (0, 10)) == 4  # [1, 4] and [6, 7]
    assert union_seconds([(-5, 2), (9, 20), (11, 12)], (0, 10)) == 3  # clipped: [0, 2], [9, 10]
    assert union_seconds([(1, 9), (2, 3)], (0, 10)) == 8  # one inside another
    assert union_seconds([(1, 2), (2, 3)], (0, 10)) == 2  # touching


@pytest.mark.unit
def test_the_seconds_outside_spark_are_the_interval_less_its_jobs():
    jobs = [Job(0, 1.0, 3.0), Job(1, 2.0, 4.0), Job(2, 9.0, 12.0)]
    assert outside_spark(0.0, 10.0, jobs) == 10 - 3 - 1
    assert outside_spark(4.0, 9.0, jobs) == 5  # between the jobs
    assert outside_spark(0.0, 10.0, []) == 10


@pytest.mark.unit
def test_jobs_and_commits_go_to_the_step_whose_interval_holds_them():
    steps = [Step("load", 10.0, 20.0), Step("load_checks", 20.5, 25.0)]
    jobs = [Job(0, 11.0, 13.0, 100), Job(1, 12.0, 14.0, 1), Job(2, 19.0, 21.0),  # crosses over
            Job(3, 22.0, 23.0, 7), Job(4, 26.0, 27.0, 5)]  # after every step
    commits = [Commit(19.5, "t", 3), Commit(20.2, "t", 1), Commit(24.0, "t_audit", 2)]
    shares = attribute(steps, jobs, commits)
    assert list(shares) == ["load", "load_checks", OUTSIDE_STEPS]
    load, checks, rest = shares["load"], shares["load_checks"], shares[OUTSIDE_STEPS]
    assert [j.id for j in load.jobs] == [0, 1, 2] and load.result_bytes == 101
    assert [j.id for j in checks.jobs] == [3] and [j.id for j in rest.jobs] == [4]
    assert [c.at for c in load.commits] == [19.5] and [c.at for c in checks.commits] == [24.0]
    assert [c.at for c in rest.commits] == [20.2]  # between the steps
    assert load.seconds == 10 and load.job_seconds == 2 + 2 + 2
    # Outside Spark within each step's own interval, whichever step a job was submitted in.
    assert load.outside == 10 - (3 + 1)  # [11, 14] and [19, 20]
    assert checks.outside == 4.5 - (0.5 + 1)  # [20.5, 21] and [22, 23]


@pytest.mark.unit
def test_nothing_outside_the_steps_adds_no_row():
    assert list(attribute([Step("only", 0.0, 5.0)], [Job(0, 1.0, 2.0)], [])) == ["only"]
