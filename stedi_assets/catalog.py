"""The table catalog: which version of each table is published, and where.

Two implementations with one behaviour: `LocalCatalog` (SQLite in the lake root, the
embedded default) and `GlueCatalog` (the AWS Glue Data Catalog, which Athena reads). Both
publish with optimistic concurrency: a writer states the version it expects to replace, and
loses (`StaleVersion`) if somebody else published in between.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field

from stedi_assets.contract import LANDING, SOURCE_BY_TABLE

PARQUET = "parquet"
JSON = "json"
DEFAULT_DATABASE = "stedi"


class StaleVersion(RuntimeError):
    """Somebody published the table since the caller read its version."""


@dataclass(frozen=True)
class TableVersion:
    name: str
    zone: str
    location: str  # as Athena expects it: s3://… on AWS, a folder locally
    columns: tuple[tuple[str, str], ...]  # (name, Hive type)
    format: str = PARQUET
    row_count: int | None = None
    version: str | None = None  # set by the catalog when published
    published_at: float = field(default=0.0, compare=False)


def hive_columns(schema) -> tuple[tuple[str, str], ...]:
    """Spark's simple type strings are Hive's type names (string, bigint, array<string>…)."""
    return tuple((f.name.lower(), f.dataType.simpleString()) for f in schema.fields)


def table_input(table: TableVersion) -> dict:
    """A complete Glue TableInput that Athena can query."""
    if table.format == JSON:
        formats = {
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                "Parameters": {"case.insensitive": "TRUE", **_json_mappings(table.name)},
            },
        }
    else:
        formats = {
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
        }
    parameters = {"classification": table.format, "stedi.zone": table.zone}
    if table.row_count is not None:
        parameters["stedi.row_count"] = str(table.row_count)
    return {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in table.columns],
            "Location": table.location.rstrip("/") + "/",
            "Compressed": False,
            **formats,
        },
    }


def _json_mappings(table: str) -> dict[str, str]:
    """Published snake_case column -> the landing JSON's camelCase field."""
    source = SOURCE_BY_TABLE.get(table)
    if source is None:
        return {}
    return {
        f"mapping.{field.column}": field.name
        for field in source.fields
        if field.column != field.name.lower()
    }


def landing_table(table: str, landing_uri: str) -> TableVersion:
    """A landing feed as a typed JSON table over the landing location (raw, never copied)."""
    source = SOURCE_BY_TABLE[table]
    types = {"string": "string", "email": "string", "epoch": "bigint", "consent": "bigint",
             "integer": "bigint", "number": "double"}
    columns = tuple((field.column, types[field.kind]) for field in source.fields)
    location = f"{landing_uri.rstrip('/')}/{source.name}"
    return TableVersion(table, LANDING, location, columns, format=JSON)


class LocalCatalog:
    """SQLite in the lake root. Safe for several processes: each publish is one IMMEDIATE
    transaction, so two writers serialise and the second sees the first's version."""

    def __init__(self, path: str, database: str = DEFAULT_DATABASE):
        self.path, self.database = path, database
        with self._connect() as db:
            db.executescript("""
                CREATE TABLE IF NOT EXISTS table_versions (
                    database TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
                    zone TEXT NOT NULL, format TEXT NOT NULL, location TEXT NOT NULL,
                    columns TEXT NOT NULL, row_count INTEGER, published_at REAL NOT NULL,
                    PRIMARY KEY (database, name, version));
                CREATE TABLE IF NOT EXISTS published (
                    database TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
                    PRIMARY KEY (database, name));
            """)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60, isolation_level=None)

    def published(self, name: str) -> TableVersion | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT v.* FROM published p JOIN table_versions v USING (database, name, version)"
                " WHERE p.database = ? AND p.name = ?", (self.database, name)).fetchone()
        return _from_row(row) if row else None

    def tables(self) -> list[TableVersion]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT v.* FROM published p JOIN table_versions v USING (database, name, version)"
                " WHERE p.database = ? ORDER BY v.name", (self.database,)).fetchall()
        return [_from_row(row) for row in rows]

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
            version = (latest or 0) + 1
            now = time.time()
            db.execute("INSERT INTO table_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                self.database, table.name, version, table.zone, table.format, table.location,
                json.dumps(table.columns), table.row_count, now))
            db.execute("INSERT OR REPLACE INTO published VALUES (?, ?, ?)",
                       (self.database, table.name, version))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return TableVersion(table.name, table.zone, table.location, table.columns,
                            table.format, table.row_count, str(version), now)

    def history(self, name: str) -> list[TableVersion]:
        """Every version still recorded, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM table_versions WHERE database = ? AND name = ? "
                              "ORDER BY version DESC", (self.database, name)).fetchall()
        return [_from_row(row) for row in rows]

    def forget(self, name: str, versions: list[str]) -> None:
        with self._connect() as db:
            db.executemany(
                "DELETE FROM table_versions WHERE database = ? AND name = ? AND version = ? "
                "AND version NOT IN (SELECT version FROM published WHERE database = ? AND name = ?)",
                [(self.database, name, int(v), self.database, name) for v in versions])


def _from_row(row) -> TableVersion:
    _, name, version, zone, fmt, location, columns, row_count, published_at = row
    return TableVersion(name, zone, location, tuple(tuple(c) for c in json.loads(columns)),
                        fmt, row_count, str(version), published_at)


class GlueCatalog:
    """The AWS Glue Data Catalog. Credentials come from the standard AWS chain and are never
    logged; updates carry the table's VersionId so a concurrent writer cannot be overwritten."""

    def __init__(self, database: str = DEFAULT_DATABASE, region: str | None = None,
                 endpoint_url: str | None = None, client=None):
        import boto3

        self.database = database
        self.glue = client or boto3.client("glue", region_name=region, endpoint_url=endpoint_url)
        self._ensure_database()

    def _ensure_database(self) -> None:
        errors = self.glue.exceptions
        try:
            self.glue.get_database(Name=self.database)
        except errors.EntityNotFoundException:
            try:
                self.glue.create_database(DatabaseInput={
                    "Name": self.database,
                    "Description": "STEDI lakehouse: landing, trusted and curated tables"})
            except errors.AlreadyExistsException:
                pass

    def published(self, name: str) -> TableVersion | None:
        try:
            table = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None
        return _from_glue(table)

    def tables(self) -> list[TableVersion]:
        pages = self.glue.get_paginator("get_tables").paginate(DatabaseName=self.database)
        return sorted((_from_glue(t) for page in pages for t in page["TableList"]),
                      key=lambda t: t.name)

    def publish(self, table: TableVersion, expected_version: str | None) -> TableVersion:
        errors = self.glue.exceptions
        try:
            if expected_version is None:
                self.glue.create_table(DatabaseName=self.database, TableInput=table_input(table))
            else:
                self.glue.update_table(DatabaseName=self.database, TableInput=table_input(table),
                                       VersionId=expected_version)
        except (errors.AlreadyExistsException, errors.ConcurrentModificationException) as lost:
            raise StaleVersion(f"{table.name}: somebody else published first ({lost})") from None
        return self.published(table.name)

    def history(self, name: str) -> list[TableVersion]:
        pages = self.glue.get_paginator("get_table_versions").paginate(
            DatabaseName=self.database, TableName=name)
        versions = [_from_glue(v["Table"], v["VersionId"]) for page in pages
                    for v in page["TableVersions"]]
        return sorted(versions, key=lambda v: int(v.version), reverse=True)

    def forget(self, name: str, versions: list[str]) -> None:
        current = self.published(name)
        doomed = [v for v in versions if current is None or v != current.version]
        for version in doomed:  # retention keeps few versions: one call each is fine
            self.glue.delete_table_version(
                DatabaseName=self.database, TableName=name, VersionId=version)


def _from_glue(table: dict, version: str | None = None) -> TableVersion:
    storage = table["StorageDescriptor"]
    parameters = table.get("Parameters", {})
    rows = parameters.get("stedi.row_count")
    return TableVersion(
        name=table["Name"],
        zone=parameters.get("stedi.zone", ""),
        location=storage["Location"].rstrip("/"),
        columns=tuple((c["Name"], c["Type"]) for c in storage["Columns"]),
        format=parameters.get("classification", PARQUET),
        row_count=int(rows) if rows is not None else None,
        version=str(version or table.get("VersionId", "")),
    )


def expired_versions(history: list[TableVersion], keep: int) -> list[TableVersion]:
    """What retention removes: every version but the newest `keep` (history newest first)."""
    return history[max(keep, 1):]
