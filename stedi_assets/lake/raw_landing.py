"""The raw landing feeds as the data contract registers them: typed JSON tables (JSON SerDe, as
the course's DDL) of exactly the landing files the pipeline has read, for Athena and every
Hive-style reader; and Athena DDL for every table.

A raw table is a symlink table: its location is a folder of the lake holding one manifest,
the landing files of its published validated snapshot, one URI per line. A reader reads those
files and nothing else: not a file the pipeline does not read (a README, a `.csv`, a hidden
`_tmp/` file), and whether or not it descends into sub-folders (Athena does, Trino's Hive
connector does not by default; the course's files lie a folder below the feed's).
"""

from __future__ import annotations

from stedi_assets.rules.contract import SOURCE_BY_TABLE

_HIVE_TYPES = {"string": "string", "email": "string", "epoch": "bigint", "consent": "bigint",
               "integer": "bigint", "number": "double"}


def raw_columns(table: str) -> list[tuple[str, str]]:
    """(published column, Hive type) of a landing feed, as the contract types it."""
    return [(f.column, _HIVE_TYPES[f.kind]) for f in SOURCE_BY_TABLE[table].fields]


MANIFEST = "manifest"  # no leading `_` or `.`: Hive-style readers skip such names
SYMLINK_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"


def manifest(files: list[str]) -> bytes:
    """A symlink manifest: one landing file's URI per line (as written, not URL-encoded)."""
    return "".join(f"{uri}\n" for uri in sorted(files)).encode()


def table_input(table: str, location: str) -> dict:
    """A complete Glue TableInput for a raw landing feed whose manifest is in `location`."""
    mappings = {f"mapping.{f.column}": f.name for f in SOURCE_BY_TABLE[table].fields
                if f.column != f.name.lower()}
    return {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json", "stedi.zone": "landing"},
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in raw_columns(table)],
            "Location": location.rstrip("/") + "/",
            "Compressed": False,
            "InputFormat": SYMLINK_INPUT_FORMAT,
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                "Parameters": {"case.insensitive": "TRUE", **mappings},
            },
        },
    }


def register_in_glue(glue, database: str, table: str, location: str) -> None:
    """Creates or updates the raw feed's Glue table (idempotent)."""
    wanted = table_input(table, location)
    try:
        glue.create_table(DatabaseName=database, TableInput=wanted)
    except glue.exceptions.AlreadyExistsException:
        glue.update_table(DatabaseName=database, TableInput=wanted)


def raw_ddl(table: str, location: str, database: str) -> str:
    described = table_input(table, location)
    storage = described["StorageDescriptor"]
    serde = storage["SerdeInfo"]
    return "\n".join([
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (",
        _columns(storage["Columns"]),
        ")",
        f"ROW FORMAT SERDE {_quote(serde['SerializationLibrary'])}",
        f"WITH SERDEPROPERTIES ({_properties(serde['Parameters'])})",
        f"STORED AS INPUTFORMAT {_quote(storage['InputFormat'])}",
        f"OUTPUTFORMAT {_quote(storage['OutputFormat'])}",
        f"LOCATION {_quote(storage['Location'])}",
        f"TBLPROPERTIES ({_properties(described['Parameters'])});",
    ])


def iceberg_ddl(name: str, columns: list[tuple[str, str]], location: str, database: str) -> str:
    """Athena's DDL for an Iceberg table (to recreate it elsewhere; Glue already has it)."""
    return "\n".join([
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{name}` (",
        _columns([{"Name": n, "Type": t} for n, t in columns]),
        ")",
        f"LOCATION {_quote(location.rstrip('/') + '/')}",
        "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet');",
    ])


def _columns(columns: list[dict]) -> str:
    return ",\n".join(f"  `{c['Name']}` {c['Type']}" for c in columns)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _properties(parameters: dict[str, str]) -> str:
    return ", ".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(parameters.items()))


def hive_type(iceberg_type) -> str:
    """An Iceberg type as Athena's DDL spells it."""
    from pyiceberg.types import ListType

    if isinstance(iceberg_type, ListType):
        return f"array<{hive_type(iceberg_type.element_type)}>"
    name = str(iceberg_type)
    return {"long": "bigint", "timestamptz": "timestamp"}.get(name, name)
