"""Write-audit-publish end to end, with real processes: a run killed while it writes changes
nothing readers see, reruns publish the same tables, and two runs started at the same moment
on one lake either publish complete tables or stop with one line, losing nothing."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stedi_assets.cli import main
from stedi_assets.rules.sample_data import SampleSize, generate_landing
from stedi_assets_tests.conftest import open_lakehouse, row_counts, run_pipeline
from stedi_assets_tests.test_lakehouse import age_every_file

pytestmark = pytest.mark.pipeline

TARGET = "machine_learning_curated"  # the last table written: everything before it publishes
BIN = Path(sys.executable).parent


def sql_count(table: str, monkeypatch, capsys, landing: Path, lake: Path) -> int:
    monkeypatch.setenv("STEDI_LANDING_URI", str(landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(lake))
    assert main(["sql", f"select count(*) as n from {table}", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)[0]["n"]


def environment(landing: Path, lake: Path, **extra) -> dict:
    return {**os.environ, "STEDI_LANDING_URI": str(landing), "STEDI_LAKE_URI": str(lake), **extra}


def kill_while_writing(landing: Path, lake: Path, data: Path) -> set[Path]:
    """Starts `stedi run` in its own process group and kills all of it (Python and the Spark
    JVM) as soon as a new data file of the table appears; returns the files it left."""
    before = set(data.rglob("*.parquet"))
    process = subprocess.Popen([str(BIN / "stedi"), "run"], env=environment(landing, lake),
                               start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            new = set(data.rglob("*.parquet")) - before
            if new:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
                return new
            time.sleep(0.005)
        raise AssertionError(f"{data} was never written (exit {process.poll()})")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.pipeline
def test_killed_run_changes_nothing_and_reruns_publish_the_same_tables(
        spark, tmp_path, monkeypatch, capsys):
    old_landing, new_landing, lake = tmp_path / "old", tmp_path / "new", tmp_path / "lake"
    generate_landing(old_landing, SampleSize(customers=40, readings_per_device=6))
    generate_landing(new_landing, SampleSize(customers=60, readings_per_device=6))
    first = run_pipeline(old_landing, lake)
    assert first.success
    old_rows = row_counts(first)[TARGET]
    lakehouse = open_lakehouse(new_landing, lake)
    published = lakehouse.require_published(TARGET)

    left = kill_while_writing(new_landing, lake, lake / "curated" / TARGET / "data")

    assert lakehouse.require_published(TARGET) == published
    assert sql_count(TARGET, monkeypatch, capsys, new_landing, lake) == old_rows
    for table in lakehouse.tables():  # whatever the killed run published, it published whole
        assert sql_count(table.table, monkeypatch, capsys, new_landing, lake) == table.rows

    second = run_pipeline(new_landing, lake)
    assert second.success
    new_rows = row_counts(second)[TARGET]
    assert new_rows > old_rows
    assert sql_count(TARGET, monkeypatch, capsys, new_landing, lake) == new_rows

    third = run_pipeline(new_landing, lake)
    assert third.success
    assert row_counts(third) == row_counts(second)
    for table in lakehouse.tables():
        assert sql_count(table.table, monkeypatch, capsys, new_landing, lake) == table.rows

    # Once the grace period is over, `stedi vacuum` removes what the killed write left, and
    # nothing a table still references.
    for table in lakehouse.tables():
        age_every_file(lakehouse, table.table)
    assert main(["vacuum", "--keep", "1"]) == 0
    assert "orphan files deleted" in capsys.readouterr().out
    assert not any(path.exists() for path in left)
    for table in lakehouse.tables():
        assert sql_count(table.table, monkeypatch, capsys, new_landing, lake) == table.rows
        assert table.rows == row_counts(third)[table.table]


@pytest.mark.pipeline
def test_two_runs_at_once_on_one_lake_both_succeed_with_whole_tables(
        spark, small_landing, published, tmp_path, monkeypatch, capsys):
    """Each table goes to whichever run publishes it first; the other run finds the same
    version there (the same rules, the same inputs) and goes on from it: neither fails, and
    every table is whole."""
    lake = tmp_path / "lake"
    # What one run alone publishes from the same landing.
    expected = {table: int(rows) for table, (_, _, rows, _, _) in published[2].items()}
    env = environment(small_landing, lake, STEDI_KEEP_VERSIONS="1")
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "stedi_assets", "--select", "*"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=900)[0] for run in runs]

    for run, output in zip(runs, outputs):
        problems = [line for line in output.splitlines() if "Exception" in line or "Error" in line]
        assert run.returncode == 0, "\n".join(problems[:20])
        assert "FILE_NOT_EXIST" not in output and "No such file" not in output
    lakehouse = open_lakehouse(small_landing, lake)
    for table in lakehouse.tables():
        assert table.rows == expected[table.table]
        assert sql_count(table.table, monkeypatch, capsys, small_landing, lake) == expected[table.table]
