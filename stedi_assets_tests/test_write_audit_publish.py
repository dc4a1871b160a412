"""Write-audit-publish end to end: a run killed while it writes changes nothing readers see,
the next run publishes, and reruns publish the same tables again without duplicates."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from stedi_assets.cli import main
from stedi_assets.lakehouse import MANIFEST
from stedi_assets.sample_data import SampleSize, generate_landing
from stedi_assets_tests.conftest import open_lakehouse, row_counts, run_pipeline

TARGET = "machine_learning_curated"  # the last table written: everything before it publishes


def sql_count(table: str, monkeypatch, capsys, landing: Path, lake: Path) -> int:
    monkeypatch.setenv("STEDI_LANDING_URI", str(landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(lake))
    assert main(["sql", f"select count(*) as n from {table}", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)[0]["n"]


def kill_while_writing(landing: Path, lake: Path, table_root: Path) -> Path:
    """Starts `stedi run` in its own process group and kills all of it (Python and the
    Spark JVM) as soon as a new version folder of the table appears; returns that folder."""
    before = set(table_root.iterdir())
    env = {**os.environ, "STEDI_LANDING_URI": str(landing), "STEDI_LAKE_URI": str(lake)}
    stedi = Path(sys.executable).parent / "stedi"
    process = subprocess.Popen([str(stedi), "run"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            new = set(table_root.iterdir()) - before
            if new:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
                return new.pop()
            time.sleep(0.005)
        raise AssertionError(f"{table_root.name} was never written (exit {process.poll()})")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_killed_run_changes_nothing_and_reruns_publish_the_same_tables(
        spark, tmp_path, monkeypatch, capsys):
    old_landing, new_landing, lake = tmp_path / "old", tmp_path / "new", tmp_path / "lake"
    generate_landing(old_landing, SampleSize(customers=40, readings_per_device=6))
    generate_landing(new_landing, SampleSize(customers=60, readings_per_device=6))
    first = run_pipeline(old_landing, lake)
    assert first.success
    old_rows = row_counts(first)[TARGET]
    published = open_lakehouse(old_landing, lake).require_published(TARGET)

    killed = kill_while_writing(new_landing, lake, lake / "curated" / TARGET)

    assert not (killed / MANIFEST).exists()  # it really was mid-write
    assert open_lakehouse(new_landing, lake).require_published(TARGET) == published
    assert sql_count(TARGET, monkeypatch, capsys, new_landing, lake) == old_rows

    second = run_pipeline(new_landing, lake)
    assert second.success
    new_rows = row_counts(second)[TARGET]
    assert new_rows > old_rows
    assert sql_count(TARGET, monkeypatch, capsys, new_landing, lake) == new_rows

    third = run_pipeline(new_landing, lake)
    assert third.success
    assert row_counts(third) == row_counts(second)
    lakehouse = open_lakehouse(new_landing, lake)
    for table in lakehouse.tables():
        assert sql_count(table.name, monkeypatch, capsys, new_landing, lake) == table.row_count

    # Retention: `stedi vacuum --keep 1` leaves only what is published, the killed write too.
    assert main(["vacuum", "--keep", "1"]) == 0
    assert str(killed) in capsys.readouterr().out
    for table in lakehouse.tables():
        folders = list(Path(table.data_location).parent.iterdir())
        assert folders == [Path(table.data_location)]
        assert len(lakehouse.catalog.history(table.name)) == 1
