"""Write-audit-publish bookkeeping without Spark: staging, publishing, retention, contention."""

import json
import multiprocessing
from pathlib import Path

import pytest

from stedi_assets.catalog import LocalCatalog
from stedi_assets.lakehouse import MANIFEST, Lakehouse, TableNotPublished
from stedi_assets_tests.helpers import write_version

def lakehouse(root: Path, keep: int = 3) -> Lakehouse:
    return Lakehouse(str(root / "lake"), str(root / "landing"),
                     LocalCatalog(str(root / "lake" / "catalog.sqlite")), keep)


def test_a_staged_version_is_found_by_its_run_and_published_atomically(tmp_path):
    lake = lakehouse(tmp_path)
    with pytest.raises(TableNotPublished, match="customer_curated has no published version"):
        lake.require_published("customer_curated")
    staged = write_version(lake, "customer_curated", "run-aaaa-1", rows=7)
    write_version(lake, "customer_curated", "run-bbbb-2", rows=9)
    assert lake.staged("customer_curated", "run-aaaa-1") == staged
    assert lake.staged("customer_curated", "run-cccc-3") is None
    assert lake.published("customer_curated") is None  # staged is not published

    published = lake.publish(staged)
    assert lake.require_published("customer_curated") == published
    assert (published.version, published.row_count) == ("1", 7)
    manifest = json.loads((Path(published.location) / MANIFEST).read_text())
    assert manifest["run_id"] == "run-aaaa-1"


def test_an_interrupted_write_is_never_staged(tmp_path):
    lake = lakehouse(tmp_path)
    write_version(lake, "customer_curated", "run-aaaa-1", rows=7, complete=False)
    assert lake.staged("customer_curated", "run-aaaa-1") is None


def test_landing_tables_publish_the_raw_json_and_keep_the_snapshot(tmp_path):
    lake = lakehouse(tmp_path, keep=1)
    first = lake.publish(write_version(lake, "customer_landing", "run-1", rows=3))
    second = lake.publish(write_version(lake, "customer_landing", "run-2", rows=4))
    assert second.format == "json"
    assert second.location == str(tmp_path / "landing" / "customer")
    assert second.data_location == second.snapshot != first.snapshot
    assert not Path(first.snapshot).exists()  # retention removed the old snapshot…
    (tmp_path / "landing" / "customer").mkdir(parents=True)
    lake.vacuum()
    assert (tmp_path / "landing" / "customer").is_dir()  # …and never the landing feed


def test_retention_keeps_the_newest_versions_and_removes_older_unpublished_ones(tmp_path):
    lake = lakehouse(tmp_path, keep=2)
    failed_long_ago = write_version(lake, "customer_curated", "run-0", rows=1)
    published = [lake.publish(write_version(lake, "customer_curated", f"run-{i}", rows=i))
                 for i in range(1, 5)]
    failed_just_now = write_version(lake, "customer_curated", "run-5", rows=5)

    history = lake.catalog.history("customer_curated")
    assert [v.version for v in history] == [published[3].version, published[2].version]
    folders = sorted(p.name for p in Path(published[3].location).parent.iterdir())
    assert folders == sorted(Path(v.location).name
                             for v in (published[2], published[3], failed_just_now))
    assert not Path(failed_long_ago.location).exists()

    removed = lake.vacuum(keep=1)
    assert removed == [published[2].location]
    assert lake.require_published("customer_curated") == published[3]
    assert Path(failed_just_now.location).is_dir()  # newer than what is published: kept


def _publish_many(root: str, writer: str, count: int) -> None:
    lake = lakehouse(Path(root), keep=1000)
    for i in range(count):
        lake.publish(write_version(lake, "machine_learning_curated", f"{writer}{i:07d}", rows=i))


def test_two_publishers_at_once_lose_no_update_and_never_half_publish(tmp_path):
    lakehouse(tmp_path)  # creates the catalog before the race
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_publish_many, args=(str(tmp_path), w, 20)) for w in "ab"]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
    assert [process.exitcode for process in writers] == [0, 0]

    lake = lakehouse(tmp_path, keep=1000)
    history = lake.catalog.history("machine_learning_curated")
    assert len(history) == 40
    assert sorted(int(v.version) for v in history) == list(range(1, 41))
    runs = {json.loads((Path(v.location) / MANIFEST).read_text())["run_id"][0] for v in history}
    assert runs == {"a", "b"}
    published = lake.require_published("machine_learning_curated")
    assert published.version == "40"
    manifest = json.loads((Path(published.location) / MANIFEST).read_text())
    assert manifest["row_count"] == published.row_count
