"""Write-audit-publish on Iceberg branches, stale publishes, retention and orphan removal, on
tiny tables (no pipeline): what the hand-written version layer got wrong, shown right."""

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from stedi_assets.lake import StalePublish, TableNotPublished
from stedi_assets_tests.conftest import open_lakehouse

TABLE = "customer_curated"
LONG_AGO = datetime.now(timezone.utc) - timedelta(days=3)


@pytest.fixture
def lake(spark, tmp_path):
    return open_lakehouse(tmp_path / "landing", tmp_path / "lake", STEDI_KEEP_VERSIONS="1",
                          STEDI_MAX_SNAPSHOT_AGE_HOURS="0")


def frame(lake, rows: int, tag: str = "x"):
    return lake.spark.range(rows).select(
        F.col("id").cast("string").alias("customer_id"), F.lit(tag).alias("serial_number"))


def count(lake, table=TABLE) -> int:
    return lake.spark.table(lake.catalog.identifier(table)).count()


def publish(lake, run_id: str, rows: int, started=None):
    run = lake.start_run(run_id, started)
    run.stage(TABLE, frame(lake, rows))
    return run, run.publish(TABLE)


def data_files(lake, table=TABLE) -> set[Path]:
    return set(Path(lake.catalog.location(table), "data").rglob("*.parquet"))


def age_every_file(lake, table=TABLE, days: int = 3) -> None:
    """As if the table's files were written days ago (orphan removal keeps younger ones)."""
    then = time.time() - days * 86_400
    for path in Path(lake.catalog.location(table)).rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_a_run_reads_what_it_wrote_and_publishes_exactly_that(lake):
    run = lake.start_run("run-aaaa")
    with pytest.raises(TableNotPublished, match="customer_curated has no published snapshot"):
        run.read(TABLE)
    staged = run.stage(TABLE, frame(lake, 7))

    assert (staged.rows, staged.run_id) == (7, "run-aaaa")
    assert lake.published(TABLE) is None  # staged is not published
    assert run.read(TABLE).count() == 7
    published = run.publish(TABLE)
    assert published.snapshot_id == staged.snapshot_id == lake.require_published(TABLE).snapshot_id
    assert [(s.run_id, s.rows) for s in lake.history(TABLE)] == [("run-aaaa", 7)]
    assert count(lake) == 7


def test_a_stale_publish_fails_and_the_newer_data_stays(lake):
    publish(lake, "run-0000", 3)
    older, newer = lake.start_run("run-aaaa"), lake.start_run("run-bbbb")
    older.stage(TABLE, frame(lake, 7, "old"))
    newer.stage(TABLE, frame(lake, 5, "new"))
    newer.publish(TABLE)

    with pytest.raises(StalePublish, match="another run published it since this run started") as lost:
        older.publish(TABLE)

    assert "\n" not in str(lost.value)
    assert lake.require_published(TABLE).run_id == "run-bbbb"
    assert count(lake) == 5
    assert older.read(TABLE).count() == 7  # kept on its branch for inspection


def test_the_first_publish_of_a_table_is_not_overwritten_by_an_older_run(lake):
    older, newer = lake.start_run("run-aaaa"), lake.start_run("run-bbbb")
    newer.stage(TABLE, frame(lake, 5))
    newer.publish(TABLE)
    older.stage(TABLE, frame(lake, 7))
    with pytest.raises(StalePublish, match="first published by another run"):
        older.publish(TABLE)
    assert count(lake) == 5


STAMP = {"stedi.rules": "v1", "stedi.built-from.customer_trusted": "42"}


def test_a_run_that_lost_the_race_to_the_same_version_takes_the_winner_s(lake):
    """Two runs at once build the same version of a table (the same rules, the same inputs'
    snapshots): the second to publish takes the first's snapshot, and a different stamp is
    still refused."""
    publish(lake, "run-0000", 3)
    first, second, other = (lake.start_run(f"run-{n}") for n in ("aaaa", "bbbb", "cccc"))
    for run, stamp in ((first, STAMP), (second, STAMP),
                       (other, {**STAMP, "stedi.built-from.customer_trusted": "43"})):
        run.stage(TABLE, frame(lake, 5), stamp=stamp)
    won = first.publish(TABLE)

    taken = second.publish(TABLE)
    assert (taken.snapshot_id, taken.run_id) == (won.snapshot_id, "run-aaaa")
    assert second.published[TABLE] == won.snapshot_id and second.staged(TABLE) is None
    assert second.read(TABLE).count() == 5
    assert second.branch not in lake.iceberg_table(TABLE).metadata.refs
    with pytest.raises(StalePublish, match="another run published it since this run started"):
        other.publish(TABLE)
    assert lake.require_published(TABLE).snapshot_id == won.snapshot_id


def test_a_landing_table_is_the_same_version_only_with_the_same_landing_files(lake):
    files = {"file:/landing/customer/a.json": (120, LONG_AGO)}
    more = {**files, "file:/landing/customer/b.json": (7, LONG_AGO)}
    runs = [lake.start_run(f"run-{n}") for n in ("aaaa", "bbbb", "cccc")]
    for run, held in zip(runs, (files, files, more)):
        run.stage("customer_landing", landing_rows(lake, held), stamp={"stedi.rules": "v1"})
    won = runs[0].publish("customer_landing")

    assert runs[1].publish("customer_landing").snapshot_id == won.snapshot_id
    with pytest.raises(StalePublish, match="first published by another run"):
        runs[2].publish("customer_landing")


def test_a_publish_whose_answer_was_lost_is_found_done_when_tried_again(lake, monkeypatch):
    run = lake.start_run("run-aaaa")
    staged = run.stage(TABLE, frame(lake, 4))
    commit = lake.change_refs

    def answer_lost(table, change):  # the commit lands, its answer does not: tried again
        commit(table, change)
        commit(table, change)

    monkeypatch.setattr(lake, "change_refs", answer_lost)
    assert run.publish(TABLE).snapshot_id == staged.snapshot_id
    assert count(lake) == 4


def test_a_version_being_checked_survives_another_run_publishing_and_expiring(lake):
    publish(lake, "run-0000", 3)
    checking = lake.start_run("run-aaaa")
    checking.stage(TABLE, frame(lake, 7))
    checked = checking.read(TABLE)  # lazily: files are read only when counted below
    for i in range(3):  # keep 1, no minimum age: every snapshot but main's is expirable
        publish(lake, f"run-b{i:03d}", 10 + i)
    lake.vacuum(keep=1)

    assert checked.count() == 7  # nothing it references was deleted
    with pytest.raises(StalePublish):
        checking.publish(TABLE)
    assert count(lake) == 12  # readable by name, the newest publish


def test_a_metadata_only_edit_then_vacuum_loses_nothing(lake):
    run, _ = publish(lake, "run-aaaa", 9)
    run.publish(TABLE)  # the same publish again (a retried call): a no-op
    lake.sql(f"ALTER TABLE {lake.catalog.identifier(TABLE)} SET TBLPROPERTIES ('comment'='edited')")
    files = data_files(lake)
    age_every_file(lake)

    lake.vacuum(keep=1)

    assert data_files(lake) == files
    assert count(lake) == 9
    assert lake.require_published(TABLE).run_id == "run-aaaa"


def test_retention_expires_old_snapshots_and_orphans_after_the_grace_period(lake):
    for i in range(4):  # keep 1, no minimum age: each publish expires the one before
        run, _ = publish(lake, f"run-{i:04d}", 10 + i)
        assert run.branch not in lake.iceberg_table(TABLE).metadata.refs  # dropped once published
    abandoned = lake.start_run("run-dead", started=LONG_AGO)  # killed after its write
    abandoned.stage(TABLE, frame(lake, 99))
    orphan = Path(lake.catalog.location(TABLE), "data", "left-by-a-killed-run.parquet")
    orphan.write_bytes(b"not referenced by any snapshot")
    age_every_file(lake)
    fresh_orphan = orphan.with_name("a-run-is-writing-it-now.parquet")
    fresh_orphan.write_bytes(b"not referenced yet")

    report = lake.vacuum()

    assert [s.rows for s in lake.history(TABLE)] == [13]
    assert count(lake) == 13
    assert "1 audit branches dropped" in report[0]
    assert abandoned.branch not in lake.iceberg_table(TABLE).metadata.refs
    assert not orphan.exists()
    assert fresh_orphan.exists()  # younger than the grace period: a write may still add it
    referenced = {Path(f.removeprefix("file:")) for f in lake.spark.table(
        f"{lake.catalog.identifier(TABLE)}.all_data_files").select("file_path").toPandas()["file_path"]}
    assert referenced and referenced <= data_files(lake)


def test_a_run_whose_starting_snapshot_was_expired_stops_with_one_line(lake):
    publish(lake, "run-0000", 3)
    slow = lake.start_run("run-aaaa")  # starts from run-0000's snapshot...
    publish(lake, "run-bbbb", 5)  # ...which keep 1 and no minimum age expire at once

    with pytest.raises(StalePublish, match="expired after another run published"):
        slow.read(TABLE)
    with pytest.raises(StalePublish, match="another run published it since this run started"):
        slow.stage(TABLE, frame(lake, 7))
    assert count(lake) == 5


def landing_rows(lake, files: dict[str, tuple[int, datetime]]):
    """Two valid customer records from each of `files` (path -> (size, modified))."""
    from stedi_assets.rules.contract import CUSTOMER
    from stedi_assets.rules.validation import validate
    from stedi_assets_tests.helpers import customer
    import json

    lines = [(path, size, modified, json.dumps(customer(f"{n}@{Path(path).stem}.com", "S1")))
             for path, (size, modified) in files.items() for n in range(2)]
    frame = lake.spark.createDataFrame(
        lines, "source_file string, source_file_size bigint, source_file_modified timestamp, "
               "raw_line string")
    return validate(frame, CUSTOMER)


def test_a_landing_table_s_ledger_is_read_from_its_partitions(lake):
    then = datetime(2026, 11, 1, 8, 30, 15, 250_000, tzinfo=timezone.utc)
    first = {"file:/landing/customer/a.json": (120, then),
             "file:/landing/customer/b%20c.json": (340, then + timedelta(seconds=7))}
    run = lake.start_run("run-ledger")
    staged = run.stage("customer_landing", landing_rows(lake, first))
    later = {"s3a://bucket/landing/customer/d.json": (99, then + timedelta(days=1))}
    run.publish("customer_landing")
    appended = lake.start_run("run-ledger-2")
    more = appended.stage("customer_landing", landing_rows(lake, later), append=True)

    def millis(files):
        return {path: (size, int(at.timestamp() * 1000)) for path, (size, at) in files.items()}

    assert lake.ledger("customer_landing", staged.snapshot_id) == millis(first)
    assert lake.ledger("customer_landing", more.snapshot_id) == millis(first | later)
    # Clean records keep no raw line: the metrics tell a version holds valid records.
    assert lake.nulls("customer_landing", staged.snapshot_id, "raw_line") == 4
    assert lake.nulls("customer_landing", staged.snapshot_id, "email") == 0


def earlier_table(lake, table: str, rows) -> int:
    """`table` as an earlier version made it, without the contract's layout, holding `rows`;
    returns its snapshot."""
    from stedi_assets.rules.contract import TABLE_BY_NAME

    identifier = lake.catalog.identifier(table)
    lake.catalog.pyiceberg  # makes the catalog's folder, as a run does
    lake.sql(f"CREATE NAMESPACE IF NOT EXISTS {identifier.rsplit('.', 1)[0]}")
    columns = ", ".join(f"`{c.name}` {c.type}" for c in TABLE_BY_NAME[table].columns)
    lake.sql(f"CREATE TABLE {identifier} ({columns}) USING iceberg "
             f"LOCATION '{lake.catalog.location(table)}'")
    rows.writeTo(identifier).append()
    return lake.main_snapshot_id(table)


def test_an_earlier_layout_is_given_the_contract_s_on_the_next_full_write(lake):
    files = {"file:/landing/customer/a.json": (1, LONG_AGO)}
    landing = "customer_landing"
    before = earlier_table(lake, landing, landing_rows(lake, files))
    readings = lake.spark.createDataFrame(
        [("id", "a@b.com", at, 0.0, 0.0, 0.0) for at in (5, 1, 9, 3)],
        "customer_id string, user string, timestamp bigint, x double, y double, z double")
    earlier_table(lake, "accelerometer_trusted", readings)
    assert lake.ledger(landing, before) is None  # an incremental run rebuilds it

    run = lake.start_run("run-layout")
    run.stage(landing, landing_rows(lake, files))
    run.stage("accelerometer_trusted", readings)

    assert lake.ledger(landing, run.staged(landing).snapshot_id) == {
        "file:/landing/customer/a.json": (1, int(LONG_AGO.timestamp() * 1000))}
    loaded = lake.iceberg_table("accelerometer_trusted")
    assert [loaded.schema().find_column_name(f.source_id)
            for f in loaded.sort_order().fields] == ["timestamp"]
