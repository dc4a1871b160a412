"""Athena DDL for a catalog entry, written from the same TableInput Glue receives."""

from __future__ import annotations

from stedi_assets.catalog.model import TableVersion, table_input


def athena_ddl(table: TableVersion, database: str) -> str:
    described = table_input(table)
    storage = described["StorageDescriptor"]
    serde = storage["SerdeInfo"]
    columns = ",\n".join(f"  `{column['Name']}` {column['Type']}" for column in storage["Columns"])
    lines = [
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table.name}` (",
        columns,
        ")",
        f"ROW FORMAT SERDE {_quote(serde['SerializationLibrary'])}",
    ]
    if serde.get("Parameters"):
        lines.append(f"WITH SERDEPROPERTIES ({_properties(serde['Parameters'])})")
    lines += [
        f"STORED AS INPUTFORMAT {_quote(storage['InputFormat'])}",
        f"OUTPUTFORMAT {_quote(storage['OutputFormat'])}",
        f"LOCATION {_quote(storage['Location'])}",
        f"TBLPROPERTIES ({_properties(described['Parameters'])});",
    ]
    return "\n".join(lines)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _properties(parameters: dict[str, str]) -> str:
    return ", ".join(f"{_quote(key)}={_quote(value)}" for key, value in sorted(parameters.items()))
