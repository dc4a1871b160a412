"""Versioned tables: write-audit-publish over the lake and its catalog.

Every materialization writes a fresh folder `<lake>/<zone>/<table>/<version>/`, named by the
time it was written and the run that wrote it, and then a manifest (written last, so a
folder without one is an interrupted write). Publishing switches the table's catalog entry
to that folder in one atomic update; readers only ever follow the catalog, so they never see
a half-written or unchecked version. Retention then removes what fell out of the window.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from stedi_assets import storage
from stedi_assets.catalog import (
    DEFAULT_DATABASE, GlueCatalog, LocalCatalog, StaleVersion, TableVersion, expired_versions,
    landing_table,
)
from stedi_assets.contract import SOURCE_BY_TABLE, ZONE_OF_TABLE
from stedi_assets.lake import table_location

MANIFEST = "_stedi_version.json"
DEFAULT_KEEP_VERSIONS = 3
PUBLISH_ATTEMPTS = 5

log = logging.getLogger(__name__)


class TableNotPublished(LookupError):
    """The catalog has no published version of a table."""


@dataclass(frozen=True)
class CatalogConfig:
    kind: str  # "local" or "glue"
    database: str = DEFAULT_DATABASE
    local_path: str | None = None  # the SQLite file of the local catalog

    def open(self):
        if self.kind == "glue":
            return GlueCatalog(database=self.database)
        return LocalCatalog(self.local_path, database=self.database)


class Lakehouse:
    """The lake's tables as versions, published through `catalog`."""

    def __init__(self, lake_uri: str, landing_uri: str, catalog,
                 keep_versions: int = DEFAULT_KEEP_VERSIONS):
        self.lake_uri, self.landing_uri = lake_uri.rstrip("/"), landing_uri.rstrip("/")
        self.catalog, self.keep_versions = catalog, max(keep_versions, 1)

    # -- write -------------------------------------------------------------------------------
    def new_version_location(self, table: str, run_id: str) -> str:
        """A folder nobody has used: the time now, to the microsecond, and the run."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{table_location(self.lake_uri, table)}/{stamp}-{run_id[:8]}"

    def record_staged(self, table: str, location: str, columns, row_count: int,
                      run_id: str) -> TableVersion:
        """Marks a completely written version folder as ready to be checked and published."""
        manifest = {"table": table, "columns": [list(c) for c in columns],
                    "row_count": row_count, "run_id": run_id, "written_at": time.time()}
        storage.write_text(f"{location}/{MANIFEST}", json.dumps(manifest))
        return self._staged_version(table, location, manifest)

    def staged(self, table: str, run_id: str) -> TableVersion | None:
        """The newest complete version `run_id` wrote of `table`, if any."""
        root = table_location(self.lake_uri, table)
        for name in reversed(storage.folders(root)):
            if name.endswith(f"-{run_id[:8]}"):
                text = storage.read_text(f"{root}/{name}/{MANIFEST}")
                manifest = json.loads(text) if text else None
                if manifest and manifest["run_id"] == run_id:
                    return self._staged_version(table, f"{root}/{name}", manifest)
        return None

    @staticmethod
    def _staged_version(table: str, location: str, manifest: dict) -> TableVersion:
        return TableVersion(table, ZONE_OF_TABLE[table], location,
                            tuple(tuple(c) for c in manifest["columns"]),
                            row_count=manifest["row_count"])

    # -- publish -----------------------------------------------------------------------------
    def publish(self, staged: TableVersion) -> TableVersion:
        """Makes `staged` the table's published version, then applies retention."""
        entry = staged
        if staged.name in SOURCE_BY_TABLE:  # Athena reads the raw JSON; the pipeline, the copy
            entry = landing_table(staged.name, self.landing_uri, snapshot=staged.location,
                                  row_count=staged.row_count)
        for attempt in range(PUBLISH_ATTEMPTS):
            current = self.catalog.published(staged.name)
            try:
                published = self.catalog.publish(entry, current.version if current else None)
                break
            except StaleVersion:
                # Another run published in between: its version stays in the history, and
                # ours, written later or not, goes on top of it.
                log.info("%s: published concurrently, retrying (%d)", staged.name, attempt + 1)
        else:
            raise StaleVersion(f"{staged.name}: still contended after {PUBLISH_ATTEMPTS} attempts")
        self.vacuum([staged.name])
        return published

    # -- read --------------------------------------------------------------------------------
    def published(self, table: str) -> TableVersion | None:
        return self.catalog.published(table)

    def require_published(self, table: str) -> TableVersion:
        version = self.catalog.published(table)
        if version is None:
            raise TableNotPublished(f"table {table} has no published version yet "
                                    "(materialize it first, e.g. `stedi run`)")
        return version

    def tables(self) -> list[TableVersion]:
        return self.catalog.tables()

    # -- retention ---------------------------------------------------------------------------
    def vacuum(self, tables=None, keep: int | None = None) -> list[str]:
        """Keeps the newest `keep` published versions of each table; deletes the data and
        catalog entries of older ones, and version folders never published (failed checks,
        interrupted writes) that are older than the oldest version kept. Newer unpublished
        folders stay: a run may still be writing them, or somebody inspecting them."""
        keep = self.keep_versions if keep is None else max(keep, 1)
        removed = []
        for table in tables or sorted(ZONE_OF_TABLE):
            root = table_location(self.lake_uri, table)
            history = self.catalog.history(table)
            expired = expired_versions(history, keep)
            kept = history[:len(history) - len(expired)]
            for version in expired:
                if _inside(version.data_location, root):  # never the landing feed itself
                    storage.delete_tree(version.data_location)
                    removed.append(version.data_location)
            if expired:
                self.catalog.forget(table, [v.version for v in expired])
            kept_folders = {v.data_location.rstrip("/").rsplit("/", 1)[-1] for v in kept
                            if _inside(v.data_location, root)}
            oldest_kept = min(kept_folders, default=None)
            for name in storage.folders(root):
                if oldest_kept and name < oldest_kept and name not in kept_folders:
                    storage.delete_tree(f"{root}/{name}")
                    removed.append(f"{root}/{name}")
        return removed


def _inside(location: str, root: str) -> bool:
    return location.rstrip("/").startswith(root.rstrip("/") + "/")


def open_lakehouse(settings) -> Lakehouse:
    """The lakehouse `settings` describe (the CLI's way in; Dagster uses the resource)."""
    catalog = CatalogConfig(settings.catalog, settings.catalog_database,
                            settings.local_catalog_path)
    return Lakehouse(settings.lake_uri, settings.landing_uri, catalog.open(),
                     settings.keep_versions)
