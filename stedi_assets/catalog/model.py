"""What a catalog records about a table version, and how Glue and Athena describe it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    # Landing tables only: the validated, typed Parquet copy of the raw JSON this version
    # was read as. The pipeline reads it; Athena reads the raw JSON at `location`.
    snapshot: str | None = None

    @property
    def data_location(self) -> str:
        """Where this version's Parquet data is (what the pipeline reads and vacuum removes)."""
        return self.snapshot or self.location

    def with_version(self, version: str, published_at: float) -> TableVersion:
        return replace(self, version=version, published_at=published_at)


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
    if table.snapshot:
        parameters["stedi.snapshot"] = table.snapshot
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


def landing_table(table: str, landing_uri: str, snapshot: str | None = None,
                  row_count: int | None = None) -> TableVersion:
    """A landing feed as a typed JSON table over the landing location (raw, never copied)."""
    source = SOURCE_BY_TABLE[table]
    types = {"string": "string", "email": "string", "epoch": "bigint", "consent": "bigint",
             "integer": "bigint", "number": "double"}
    columns = tuple((field.column, types[field.kind]) for field in source.fields)
    location = f"{landing_uri.rstrip('/')}/{source.name}"
    return TableVersion(table, LANDING, location, columns, format=JSON, row_count=row_count,
                        snapshot=snapshot)


def expired_versions(history: list[TableVersion], keep: int) -> list[TableVersion]:
    """What retention removes: every version but the newest `keep` (history newest first)."""
    return history[max(keep, 1):]
