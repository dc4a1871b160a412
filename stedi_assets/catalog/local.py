"""The embedded default catalog: SQLite in the lake root."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from stedi_assets.catalog.model import DEFAULT_DATABASE, StaleVersion, TableVersion

SCHEMA = """
CREATE TABLE IF NOT EXISTS table_versions (
    database TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
    zone TEXT NOT NULL, format TEXT NOT NULL, location TEXT NOT NULL,
    columns TEXT NOT NULL, row_count INTEGER, published_at REAL NOT NULL, snapshot TEXT,
    PRIMARY KEY (database, name, version));
CREATE TABLE IF NOT EXISTS published (
    database TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (database, name));
"""
COLUMNS = "v.name, v.version, v.zone, v.format, v.location, v.columns, v.row_count, " \
          "v.published_at, v.snapshot"


class LocalCatalog:
    """Glue's model (database, tables, numbered versions) in one SQLite file. Safe for several
    processes: each publish is one IMMEDIATE transaction, so two writers serialise and the
    second sees the first's version."""

    def __init__(self, path: str, database: str = DEFAULT_DATABASE):
        self.path, self.database = path, database
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60, isolation_level=None)

    def _select(self, where: str, parameters: tuple) -> list[TableVersion]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {COLUMNS} FROM table_versions v LEFT JOIN published p USING "
                f"(database, name, version) WHERE v.database = ? AND {where}",
                (self.database, *parameters)).fetchall()
        return [_from_row(row) for row in rows]

    def published(self, name: str) -> TableVersion | None:
        found = self._select("p.name = ?", (name,))
        return found[0] if found else None

    def tables(self) -> list[TableVersion]:
        return sorted(self._select("p.name IS NOT NULL", ()), key=lambda t: t.name)

    def history(self, name: str) -> list[TableVersion]:
        """Every version still recorded, newest first."""
        versions = self._select("v.name = ?", (name,))
        return sorted(versions, key=lambda v: int(v.version), reverse=True)

    def publish(self, table: TableVersion, expected_version: str | None) -> TableVersion:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            current = db.execute("SELECT version FROM published WHERE database = ? AND name = ?",
                                 (self.database, table.name)).fetchone()
            current_version = str(current[0]) if current else None
            if current_version != expected_version:
                raise StaleVersion(f"{table.name}: expected version {expected_version}, "
                                   f"found {current_version}")
            latest = db.execute("SELECT max(version) FROM table_versions WHERE database = ? "
                                "AND name = ?", (self.database, table.name)).fetchone()[0]
            version, now = (latest or 0) + 1, time.time()
            db.execute("INSERT INTO table_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                self.database, table.name, version, table.zone, table.format, table.location,
                json.dumps(table.columns), table.row_count, now, table.snapshot))
            db.execute("INSERT OR REPLACE INTO published VALUES (?, ?, ?)",
                       (self.database, table.name, version))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return table.with_version(str(version), now)

    def forget(self, name: str, versions: list[str]) -> None:
        """Removes versions from the history; the published one is never removed."""
        with self._connect() as db:
            db.executemany(
                "DELETE FROM table_versions WHERE database = ? AND name = ? AND version = ? "
                "AND version NOT IN (SELECT version FROM published WHERE database = ? AND name = ?)",
                [(self.database, name, int(v), self.database, name) for v in versions])


def _from_row(row) -> TableVersion:
    name, version, zone, fmt, location, columns, row_count, published_at, snapshot = row
    return TableVersion(name, zone, location, tuple(tuple(c) for c in json.loads(columns)),
                        fmt, row_count, str(version), published_at, snapshot)
