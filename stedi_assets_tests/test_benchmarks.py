"""The benchmarks' own parts that need no pipeline: memory split into driver and JVM, the
runs' environment, the new landing files and who they are for. (No timings: the benchmarks
measure them; nothing here asserts one.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from incremental import size_name  # noqa: E402
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
