"""The lake's tables as Iceberg tables: the one seam that writes them, write-audit-publish on
branches, retention and consent erasure.

A run notes, when it starts, the snapshot `main` of every table points at: its bases. It writes
each table to an audit branch of its own, created at that base; the table's checks read the
branch; publishing fast-forwards `main` to it, in one catalog commit on the condition that
`main` is still the base. When another run published the table since this run started, a run
whose version is the same (built from the same inputs by the same rules) takes that snapshot
as its own; any other stale run fails with one line and publishes nothing. Downstream steps
read the snapshots their run published, so one run never mixes two versions of a table.

Metadata (snapshots, history, what is published) is read through pyiceberg, without Spark.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:  # Spark is imported where it is used: reading metadata needs none of it
    from pyspark.sql import DataFrame, SparkSession

from stedi_assets.rules.contract import (
    FILE_COLUMNS, SOURCE_BY_TABLE, TABLE_BY_NAME, ZONE_OF_TABLE,
)
from stedi_assets.lake.catalog import LakeCatalog, iceberg_name, pipeline_table

RUN_ID_PROPERTY = "stedi.run-id"
# Partitioned (landing) tables: a task writes one file per landing file it read, no shuffle.
FANOUT_WRITES = {"write.distribution-mode": "none", "write.spark.fanout.enabled": "true"}
# What a snapshot was built from: the rules (table code version, consent mode, key) and, per
# input table, the snapshot of it this version reflects. Incremental runs start from these.
RULES_PROPERTY = "stedi.rules"
BUILT_FROM_PREFIX = "stedi.built-from."
COMMIT_ATTEMPTS = 6
AUDIT_PREFIX = "audit_"
_AUDIT_BRANCH = re.compile(r"^audit_(\d{8}_\d{6})_[0-9a-z]+$")

log = logging.getLogger(__name__)


class TableNotPublished(LookupError):
    """A table has no published snapshot (yet)."""


def not_published(table: str) -> TableNotPublished:
    return TableNotPublished(f"table {table} has no published snapshot yet "
                             "(materialize it first, e.g. `stedi run`)")


class StalePublish(RuntimeError):
    """Another run published the table since this run started; this run publishes nothing."""


@dataclass(frozen=True)
class Retention:
    keep: int = 3  # snapshots of main always kept
    max_snapshot_age_hours: float = 120.0  # older ones (beyond `keep`) are expired
    grace_hours: float = 24.0  # unreferenced files and abandoned audit branches live this long


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of a pipeline table, as `stedi tables` and `stedi history` show it."""

    table: str
    snapshot_id: int
    rows: int
    committed_at: datetime
    run_id: str | None
    operation: str
    location: str = ""


def audit_branch(run_id: str, started: datetime) -> str:
    """The run's branch name: when the run started (for the grace period), and which run."""
    stamp = started.astimezone(timezone.utc).strftime("%Y%m%d_%H%M%S")
    return f"{AUDIT_PREFIX}{stamp}_{re.sub('[^0-9a-z]', '', run_id.lower())[:8]}"


def branch_started(branch: str) -> datetime | None:
    found = _AUDIT_BRANCH.match(branch)
    if not found:
        return None
    return datetime.strptime(found.group(1), "%Y%m%d_%H%M%S").replace(tzinfo=timezone.utc)


class Lakehouse:
    """The lake's tables through one catalog. `spark` gives the session (started lazily)."""

    def __init__(self, catalog: LakeCatalog, retention: Retention = Retention(), spark=None):
        self.catalog, self.retention, self._spark = catalog, retention, spark

    @property
    def spark(self) -> SparkSession:
        return self._spark()

    def sql(self, statement: str) -> DataFrame:
        return self.spark.sql(statement)

    def commit(self, statement: str) -> list:
        """Runs a statement that commits table metadata (a branch, a fast-forward, an expiry)
        and returns its rows. Iceberg does not retry these when another process committed to
        the same table a moment before; each is safe to repeat against the refreshed table
        (a fast-forward then fails if `main` moved), so it is repeated."""
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                return self.spark.sql(statement).collect()
            except Exception as error:
                if "CommitFailedException" not in str(error) or attempt == COMMIT_ATTEMPTS:
                    raise
                log.info("concurrent commit, trying again (%d): %s", attempt, statement)
                time.sleep(random.uniform(0.05, 0.5) * attempt)
        raise AssertionError("unreachable")

    def change_refs(self, table: str, change) -> None:
        """Commits `change(loaded table, ManageSnapshots)`: branch and `main` moves, each one
        catalog commit through pyiceberg, without Spark. A commit that another process beat
        (the table's metadata moved) or whose catalog file was busy is tried again on the
        freshly loaded table, where `change` decides anew (it raises when it no longer
        applies)."""
        from pyiceberg.exceptions import CommitFailedException
        from sqlalchemy.exc import OperationalError

        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            loaded = self.iceberg_table(table)
            try:
                with loaded.manage_snapshots() as refs:
                    change(loaded, refs)
                return
            except (CommitFailedException, OperationalError) as error:
                if attempt == COMMIT_ATTEMPTS:
                    raise
                log.info("concurrent commit to %s, trying again (%d): %s", table, attempt, error)
                time.sleep(random.uniform(0.05, 0.5) * attempt)

    # -- metadata (pyiceberg) ------------------------------------------------------------
    def iceberg_table(self, table: str):
        """The pyiceberg table behind `table`, freshly loaded (None if it does not exist, or if
        what has its name is not an Iceberg table the pipeline can read)."""
        from pyiceberg.exceptions import (
            NoSuchIcebergTableError, NoSuchPropertyException, NoSuchTableError,
        )

        name = (self.catalog.database, iceberg_name(table))
        try:
            return self.catalog.pyiceberg.load_table(name)
        except (NoSuchIcebergTableError, NoSuchPropertyException) as problem:
            # Somebody else's table under the pipeline's name (Glue holds any kind: the
            # course's JSON tables, a view, a half-made Iceberg entry): not the pipeline's.
            log.warning("%s in %s is not a table of this pipeline, left out: %s",
                        ".".join(name), self.catalog.describe(), problem)
            return None
        except NoSuchTableError:
            return None

    def main_snapshot_id(self, table: str) -> int | None:
        loaded = self.iceberg_table(table)
        return loaded.metadata.current_snapshot_id if loaded is not None else None

    def published(self, table: str) -> Snapshot | None:
        loaded = self.iceberg_table(table)
        if loaded is None or loaded.metadata.current_snapshot_id is None:
            return None
        return _snapshot(table, loaded, loaded.metadata.current_snapshot_id)

    def require_published(self, table: str) -> Snapshot:
        found = self.published(table)
        if found is None:
            raise not_published(table)
        return found

    def tables(self) -> list[Snapshot]:
        """The published snapshot of every pipeline table, in lineage order."""
        from pyiceberg.exceptions import NoSuchNamespaceError

        try:
            listed = self.catalog.pyiceberg.list_tables(self.catalog.database)
        except NoSuchNamespaceError:
            return []
        ours = {pipeline_table(name) for _, name in listed} - {None}
        found = [self.published(table) for table in ZONE_OF_TABLE if table in ours]
        return [snapshot for snapshot in found if snapshot is not None]

    def history(self, table: str) -> list[Snapshot]:
        """Every snapshot `main` has pointed at and still retains, newest first."""
        loaded = self.iceberg_table(table)
        if loaded is None:
            raise TableNotPublished(f"no table {table} in {self.catalog.describe()}")
        retained = {s.snapshot_id for s in loaded.metadata.snapshots}
        log_entries = [e for e in loaded.metadata.snapshot_log if e.snapshot_id in retained]
        return [_snapshot(table, loaded, e.snapshot_id, e.timestamp_ms)
                for e in reversed(log_entries)]

    def summary(self, table: str, snapshot_id: int | None) -> dict[str, str]:
        """The summary properties of one snapshot of `table` ({} when there is none)."""
        loaded = self.iceberg_table(table) if snapshot_id is not None else None
        found = loaded.metadata.snapshot_by_id(snapshot_id) if loaded is not None else None
        return dict(found.summary.additional_properties) if found and found.summary else {}

    def appended_records(self, table: str, after: int, upto: int) -> int | None:
        """How many rows `upto` added to `after` when it descends from it through appends
        only (then its rows are those of `after` plus the ones appended); else None."""
        loaded = self.iceberg_table(table)
        current, added = upto, 0
        while current != after:
            found = loaded.metadata.snapshot_by_id(current) if loaded is not None else None
            if found is None or found.summary is None or found.summary.operation.value != "append":
                return None
            added += int(found.summary.additional_properties.get("added-records", 0))
            current = found.parent_snapshot_id
        return added

    def same_version(self, table: str, one: int | None, other: int) -> bool:
        """Whether two snapshots of `table` hold the same rows: both stamped, with the same
        rules and the same snapshots of its inputs (what the incremental plans rely on too)
        and, for a landing table, holding the same landing files."""
        if one is None:
            return False
        stamps = [_stamp(self.summary(table, snapshot)) for snapshot in (one, other)]
        if RULES_PROPERTY not in stamps[0] or stamps[0] != stamps[1]:
            return False
        if table not in SOURCE_BY_TABLE:
            return True
        ledgers = [self.ledger(table, snapshot) for snapshot in (one, other)]
        return ledgers[0] is not None and ledgers[0] == ledgers[1]

    def ledger(self, table: str, snapshot_id: int) -> dict[str, tuple[int, int]] | None:
        """uri -> (size, modified ms) of every landing file a landing table's snapshot holds
        rows of, as Spark named it, from the table's partitions: metadata, no Spark job,
        whatever the table's size. None when a data file lies outside those partitions (a
        table of an earlier layout)."""
        import pyarrow.compute as pc

        partitions = self.iceberg_table(table).inspect.partitions(snapshot_id=snapshot_id)
        if "partition" not in partitions.column_names:
            return None
        found = partitions.column("partition").combine_chunks()
        if any(name not in {f.name for f in found.type} for name in FILE_COLUMNS):
            return None
        path, size, modified = (found.field(name) for name in FILE_COLUMNS)
        if path.null_count:
            return None
        micros = pc.cast(modified, "int64").to_pylist()
        return {uri: (bytes_, at // 1000) for uri, bytes_, at in
                zip(path.to_pylist(), size.to_pylist(), micros)}

    def register_raw_landing(self, table: str) -> None:
        """The raw feed's table lists the landing files of its published snapshot: `main` as
        it is now, so that a run that published an older version a moment earlier than
        another run published a newer one does not list the older files last."""
        if table in SOURCE_BY_TABLE:
            loaded = self.iceberg_table(table)
            ledger = self.ledger(table, loaded.metadata.current_snapshot_id) or {}
            self.catalog.register_raw_landing(table, [plain_path(uri) for uri in ledger],
                                              loaded.io)

    def first_rows(self, table: str, snapshot_id: int, columns: list[str], limit: int
                   ) -> list[dict]:
        """Up to `limit` rows of `columns` of a snapshot, read through pyiceberg (no Spark
        job) from its first data files only: a scan would open every file at once."""
        from pyiceberg.io.pyarrow import ArrowScan

        loaded = self.iceberg_table(table)
        scan = loaded.scan(snapshot_id=snapshot_id, selected_fields=tuple(columns), limit=limit)
        tasks, rows = [], 0
        for task in scan.plan_files():
            tasks.append(task)
            rows += task.file.record_count
            if rows >= limit:
                break
        read = ArrowScan(loaded.metadata, loaded.io, scan.projection(), scan.row_filter,
                         scan.case_sensitive, limit).to_table(tasks)
        return read.to_pylist()

    def nulls(self, table: str, snapshot_id: int, column: str) -> int:
        """How many nulls `column` holds in a snapshot, from its data files' metrics."""
        loaded = self.iceberg_table(table)
        field_id = loaded.schema().find_field(column).field_id
        files = loaded.inspect.data_files(snapshot_id=snapshot_id)
        return sum(dict(counts or []).get(field_id, 0)
                   for counts in files.column("null_value_counts").to_pylist())

    def hive_columns(self, table: str) -> list[tuple[str, str]]:
        from stedi_assets.lake.raw_landing import hive_type

        schema = self.iceberg_table(table).schema()
        return [(f.name, hive_type(f.field_type)) for f in schema.fields]

    # -- runs ----------------------------------------------------------------------------
    def start_run(self, run_id: str, started: datetime | None = None) -> LakeRun:
        return LakeRun(self, run_id, started or datetime.now(timezone.utc))

    # -- retention -----------------------------------------------------------------------
    def expire(self, table: str, keep: int | None = None) -> int:
        """Expires snapshots of `table` past retention; returns how many data files Iceberg
        deleted. Only files no retained snapshot or branch references are ever deleted."""
        keep = keep or self.retention.keep
        older_than = _now() - timedelta(hours=self.retention.max_snapshot_age_hours)
        loaded = self.iceberg_table(table)
        if loaded is None or not _expirable(loaded.metadata, keep, older_than):
            return 0  # nothing to expire: spare the Spark jobs
        return self.expire_snapshots(table, older_than, keep)

    def expire_snapshots(self, table: str, older_than: datetime, keep: int) -> int:
        rows = self.commit(
            f"CALL lake.system.expire_snapshots(table => '{self.catalog.identifier(table)}', "
            f"older_than => TIMESTAMP '{older_than:%Y-%m-%d %H:%M:%S.%f}', "
            f"retain_last => {keep})")
        return rows[0]["deleted_data_files_count"] if rows else 0

    def drop_branches(self, table: str, keep=frozenset(), older_than: datetime | None = None
                      ) -> list[str]:
        """Drops audit branches of `table` but those in `keep` (all, or only those started
        before `older_than`)."""
        loaded = self.iceberg_table(table)
        if loaded is None:
            return []
        dropped = []
        for name in loaded.metadata.refs:
            started = branch_started(name)
            if started is None or name in keep or (older_than and started >= older_than):
                continue
            self.commit(f"ALTER TABLE {self.catalog.identifier(table)} DROP BRANCH IF EXISTS `{name}`")
            dropped.append(name)
        return dropped

    def vacuum(self, keep: int | None = None) -> list[str]:
        """Retention now, on every table: abandoned audit branches past the grace period,
        snapshots past retention, then files nothing references that are older than the grace
        period (a write still running may be adding them). Returns what it did, per table."""
        keep = keep or self.retention.keep
        grace_start = _now() - timedelta(hours=self.retention.grace_hours)
        done = []
        for snapshot in self.tables():
            table, identifier = snapshot.table, self.catalog.identifier(snapshot.table)
            branches = self.drop_branches(table, older_than=grace_start)
            files = self.expire(table, keep)
            orphans = len(self.sql(
                f"CALL lake.system.remove_orphan_files(table => '{identifier}', "
                f"older_than => TIMESTAMP '{grace_start:%Y-%m-%d %H:%M:%S.%f}')").collect())
            done.append(f"{table}: {len(branches)} audit branches dropped, {files} data files "
                        f"of expired snapshots and {orphans} orphan files deleted")
        return done


@dataclass
class LakeRun:
    """One pipeline run's view of the lake (see the module's docstring)."""

    lake: Lakehouse
    run_id: str
    started: datetime
    bases: dict[str, int | None] = field(default_factory=dict)
    published: dict[str, int] = field(default_factory=dict)  # by this run
    plans: dict[str, object] = field(default_factory=dict)  # each table's incremental.Plan
    _frames: dict[tuple[str, int], DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.branch = audit_branch(self.run_id, self.started)
        self.bases = {table: self.lake.main_snapshot_id(table) for table in ZONE_OF_TABLE}

    # -- write ---------------------------------------------------------------------------
    def stage(self, table: str, frames: DataFrame | Iterable[DataFrame], append: bool = False,
              stamp: dict[str, str] | None = None) -> Snapshot:
        """Writes `frames` as the whole of `table` (with `append`: as rows added to its base)
        on this run's audit branch: one DataFrame, or parts written one after the other (the
        next part is asked for once the previous one is written). `stamp` goes into the
        summary of every snapshot written."""
        from pyspark.sql import DataFrame
        from pyspark.sql import functions as F

        parts = iter([frames] if isinstance(frames, DataFrame) else frames)
        frame = next(parts)
        identifier = self.lake.catalog.identifier(table)
        base = self.bases.get(table)
        if base is None:  # (another run may publish it meanwhile: `publish` decides)
            self._create(table, frame)
        self._branch_at(table, base)
        properties = {RUN_ID_PROPERTY: self.run_id, **(stamp or {})}

        def writer(part: DataFrame):
            written = part.writeTo(f"{identifier}.branch_{self.branch}")
            for key, value in properties.items():
                written = written.option(f"snapshot-property.{key}", value)
            return written

        if append and base is not None:
            writer(frame).append()
        else:
            if base is not None:  # a table made before its layout was the contract's
                self._lay_out(table)
            writer(frame).overwrite(F.lit(True))
        for more in parts:
            writer(more).append()
        return self.require_staged(table)

    def _branch_at(self, table: str, base: int | None) -> None:
        """Creates (or resets) this run's audit branch of `table` at `base`."""
        if base is None:  # a new table, without a snapshot to branch from: Iceberg makes one
            self.lake.commit(f"ALTER TABLE {self.lake.catalog.identifier(table)} CREATE OR "
                             f"REPLACE BRANCH `{self.branch}` WITH SNAPSHOT RETENTION 1 SNAPSHOTS")
            return

        def change(loaded, refs) -> None:
            if loaded.metadata.snapshot_by_id(base) is None:  # expired after another run published
                raise self._stale(table, "another run published it since this run started")
            # The branch keeps only its head: its ancestors are main's, which retention governs.
            refs.create_branch(base, self.branch, min_snapshots_to_keep=1)

        self.lake.change_refs(table, change)

    def _create(self, table: str, frame: DataFrame) -> None:
        catalog = self.lake.catalog
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in frame.schema.fields)
        properties = {
            "format-version": "2",
            "stedi.zone": ZONE_OF_TABLE[table],
            "history.expire.min-snapshots-to-keep": str(self.lake.retention.keep),
            "history.expire.max-snapshot-age-ms":
                str(int(self.lake.retention.max_snapshot_age_hours * 3_600_000)),
            # Runs writing other tables commit at the same moment: retry more than the default.
            "commit.retry.num-retries": "10",
            # Old metadata files go with the commits that replace them.
            "write.metadata.delete-after-commit.enabled": "true",
            "write.metadata.previous-versions-max": "20",
        }
        spec = TABLE_BY_NAME[table]
        if spec.partitioned_by:
            properties |= FANOUT_WRITES
        listed = ", ".join(f"'{key}'='{value}'" for key, value in properties.items())
        partitioned = (f" PARTITIONED BY ({', '.join(f'`{c}`' for c in spec.partitioned_by)})"
                       if spec.partitioned_by else "")
        for statement in (
                f"CREATE NAMESPACE IF NOT EXISTS {catalog.identifier(table).rsplit('.', 1)[0]}",
                f"CREATE TABLE IF NOT EXISTS {catalog.identifier(table)} ({columns}) USING iceberg"
                f"{partitioned} LOCATION '{catalog.location(table)}' TBLPROPERTIES ({listed})"):
            try:
                self.lake.sql(statement)
            except Exception as error:  # another run (or step) created it a moment ago
                if "already exists" not in str(error).lower():
                    # The JDBC catalog says so only as a failed insert of the namespace's
                    # properties: once more, IF NOT EXISTS then finds it, or fails for real.
                    self.lake.sql(statement)
        self._lay_out(table)

    def _lay_out(self, table: str) -> None:
        """Gives `table` the contract's partitions and write order where it lacks them (a
        table made by an earlier version): metadata only, the next full write follows it."""
        spec, loaded = TABLE_BY_NAME[table], self.lake.iceberg_table(table)
        identifier = self.lake.catalog.identifier(table)
        names = {loaded.schema().find_column_name(f.source_id) for f in loaded.spec().fields}
        for column in spec.partitioned_by:
            if column not in names:
                self.lake.commit(f"ALTER TABLE {identifier} ADD PARTITION FIELD `{column}`")
        if spec.partitioned_by and not set(spec.partitioned_by) <= names:
            listed = ", ".join(f"'{key}'='{value}'" for key, value in FANOUT_WRITES.items())
            self.lake.commit(f"ALTER TABLE {identifier} SET TBLPROPERTIES ({listed})")
        ordered = [loaded.schema().find_column_name(f.source_id) for f in loaded.sort_order().fields]
        if spec.reading_time and ordered != [spec.reading_time]:
            self.lake.commit(f"ALTER TABLE {identifier} WRITE ORDERED BY `{spec.reading_time}`")

    def staged(self, table: str) -> Snapshot | None:
        """What this run wrote of `table` and has not published: its audit branch's head."""
        loaded = self.lake.iceberg_table(table)
        ref = loaded.metadata.refs.get(self.branch) if loaded is not None else None
        if ref is None:
            return None
        snapshot = _snapshot(table, loaded, ref.snapshot_id)
        return snapshot if snapshot.run_id == self.run_id else None

    def require_staged(self, table: str) -> Snapshot:
        staged = self.staged(table)
        if staged is None:
            raise TableNotPublished(f"{table}: this run wrote nothing to publish")
        return staged

    # -- read ----------------------------------------------------------------------------
    def version(self, table: str) -> int | None:
        """The snapshot of `table` this run reads once it is published: this run's, else the
        base."""
        return self.published.get(table, self.bases.get(table))

    def _reader(self, **options):
        """A reader of Iceberg tables with `options`. Loaded as a data source, not by table
        name: Spark resolves one query's references to a table name once, whatever their
        options, so through Spark Connect (which sends a whole query to be resolved at once)
        an incremental read beside a whole-table read of the same table would read it
        whole twice."""
        reader = self.lake.spark.read.format("iceberg")
        for key, value in options.items():
            reader = reader.option(key, str(value))
        return reader

    def read_version(self, table: str, snapshot_id: int) -> DataFrame:
        return self._reader(versionAsOf=snapshot_id).load(self.lake.catalog.identifier(table))

    def read_appended(self, table: str, after: int, upto: int) -> DataFrame:
        """The rows appended to `table` after snapshot `after`, up to snapshot `upto`
        (Iceberg's incremental read; it skips snapshots that are not appends, so callers ask
        only across appends: see `Lakehouse.appended_records`)."""
        options = {"start-snapshot-id": after, "end-snapshot-id": upto}
        return self._reader(**options).load(self.lake.catalog.identifier(table))

    def read(self, table: str) -> DataFrame:
        """What this run wrote of `table`, else what was published when the run started. A
        snapshot is read as the same DataFrame each time, so that what is derived from it
        once (the customers' latest records) is known again by it."""
        version = self.published.get(table)
        if version is None and self.staged(table) is not None:
            reader = self._reader(branch=self.branch)
        elif version is None:
            version = self.bases.get(table)
            if version is None:
                raise not_published(table)
        if version is not None:
            if (table, version) in self._frames:
                return self._frames[(table, version)]
            reader = self._reader(versionAsOf=version)
        try:
            frame = reader.load(self.lake.catalog.identifier(table))
            if version is not None:
                self._frames[(table, version)] = frame
            return frame
        except Exception as error:
            if "Cannot find snapshot" in str(error):
                raise self._stale(table, "the snapshot this run started from was expired after "
                                         "another run published") from None
            raise

    # -- publish -------------------------------------------------------------------------
    def publish(self, table: str) -> Snapshot:
        """Fast-forwards `main` to this run's branch, then applies retention. The branch is
        dropped: `main` holds the snapshot now, and downstream steps read it by its id.

        `main` must still be this run's base. When another run published the table since,
        this run's version is published only if it is the same version (`same_version`):
        then this run takes that snapshot as its own, reads it downstream and drops its
        branch; else it raises StalePublish, so an older run can never land over a newer one
        (which could bring back a withdrawn customer's rows)."""
        if table in self.published:  # a retried call: done already
            return _snapshot(table, self.lake.iceberg_table(table), self.published[table])
        staged = self.require_staged(table)
        base, landed = self.bases.get(table), {}

        def change(loaded, refs) -> None:
            main = loaded.metadata.current_snapshot_id
            if main == staged.snapshot_id:  # this publish landed, but its answer was lost
                landed["snapshot"] = main
                return
            if main != base and not self.lake.same_version(table, main, staged.snapshot_id):
                raise self._stale(table, "another run published it since this run started"
                                  if base is not None else
                                  "it was first published by another run after this run started")
            if main == base:  # one commit, on the condition that main is still where it was
                refs.set_current_snapshot(snapshot_id=staged.snapshot_id)
            refs.remove_branch(self.branch)
            landed["snapshot"] = staged.snapshot_id if main == base else main

        self.lake.change_refs(table, change)
        self.bases[table] = self.published[table] = landed["snapshot"]
        self.lake.register_raw_landing(table)
        self.lake.expire(table)
        return _snapshot(table, self.lake.iceberg_table(table), landed["snapshot"])

    def _stale(self, table: str, why: str) -> StalePublish:
        return StalePublish(f"{table}: not published: {why}; its published snapshot stays, and "
                            f"this run's version stays on branch {self.branch} for inspection")

    # -- consent erasure -----------------------------------------------------------------
    def erase(self, rows_of: dict[str, DataFrame]) -> dict[str, int]:
        """Deletes `rows_of[table]` (rows of customers who withdrew consent, as keys of the
        table) from the published table, then expires every snapshot and drops every other
        run's audit branch that could still hold them. Returns rows deleted per table."""
        deleted = {}
        for table, keys in rows_of.items():
            identifier = self.lake.catalog.identifier(table)
            columns = keys.columns
            found = self.lake.spark.table(identifier).join(keys, on=columns, how="left_semi").count()
            if not found:
                continue
            view = f"stedi_withdrawn_{table}"
            keys.createOrReplaceTempView(view)
            matched = " AND ".join(f"t.`{c}` = w.`{c}`" for c in columns)
            self.lake.sql(f"MERGE INTO {identifier} t USING {view} w ON {matched} "
                          "WHEN MATCHED THEN DELETE")
            deleted[table] = found
            self._rebase(table)
            self.purge_history(table)
        return deleted

    def purge_history(self, table: str) -> None:
        """Expires every snapshot of `table` but `main`'s, and drops every other run's audit
        branch: after an erasure nothing may keep the rows that left."""
        self.lake.drop_branches(table, keep={self.branch})
        self.lake.expire_snapshots(table, _now(), keep=1)

    def _rebase(self, table: str) -> None:
        """After this run's own erasure commit on `main`, that commit is the run's base."""
        loaded = self.lake.iceberg_table(table)
        head = loaded.metadata.snapshot_by_id(loaded.metadata.current_snapshot_id)
        if head is not None and head.parent_snapshot_id == self.bases.get(table):
            self.bases[table] = head.snapshot_id


def _snapshot(table: str, loaded, snapshot_id: int, committed_ms: int | None = None) -> Snapshot:
    found = loaded.metadata.snapshot_by_id(snapshot_id)
    summary = found.summary.additional_properties if found.summary else {}
    return Snapshot(
        table=table, snapshot_id=snapshot_id, rows=int(summary.get("total-records", 0)),
        committed_at=datetime.fromtimestamp((committed_ms or found.timestamp_ms) / 1000, timezone.utc),
        run_id=summary.get(RUN_ID_PROPERTY),
        operation=found.summary.operation.value if found.summary else "",
        location=loaded.metadata.location)


def _stamp(summary: dict[str, str]) -> dict[str, str]:
    """What a snapshot was built from, as its summary says: the pipeline's properties but
    the run's id."""
    return {key: value for key, value in summary.items()
            if key.startswith("stedi.") and key != RUN_ID_PROPERTY}


def _expirable(metadata, keep: int, older_than: datetime) -> list[int]:
    """Snapshots Iceberg would expire: not a branch head, not among main's newest `keep`, and
    older than `older_than`. (A cheap look at the metadata before asking Spark.)"""
    protected = {ref.snapshot_id for ref in metadata.refs.values()}
    current = metadata.current_snapshot_id
    while current is not None and keep > 0:
        protected.add(current)
        parent = metadata.snapshot_by_id(current)
        current, keep = (parent.parent_snapshot_id if parent else None), keep - 1
    limit = older_than.timestamp() * 1000
    return [s.snapshot_id for s in metadata.snapshots
            if s.snapshot_id not in protected and s.timestamp_ms < limit]


def plain_path(uri: str) -> str:
    """A path as Spark reports it (`file:/a%20b.json`, `s3a://...`) as the listing gives it."""
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    if uri.startswith("s3a://"):
        uri = "s3://" + uri[len("s3a://"):]
    return unquote(uri)


def _now() -> datetime:
    return datetime.now(timezone.utc)
