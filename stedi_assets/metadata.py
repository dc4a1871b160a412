"""What the Dagster UI shows about a table: size, schema, location and a masked preview."""

from __future__ import annotations

from dagster import MetadataValue, TableColumn, TableSchema
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi_assets.contract import DIRECT_IDENTIFIERS

PREVIEW_ROWS = 5
MASKED = "•••"
# Raw landing lines can hold anything, identifiers included.
_MASKED_COLUMNS = DIRECT_IDENTIFIERS | {"raw_line"}


def column_schema(table: DataFrame) -> TableSchema:
    return TableSchema(
        columns=[TableColumn(f.name, f.dataType.simpleString()) for f in table.schema.fields]
    )


def markdown_preview(table: DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """The first rows as a markdown table, direct identifiers masked: the UI is not the
    access-restricted trusted zone."""
    names = table.columns
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in _shown(table).limit(rows).collect():
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines)


def _shown(table: DataFrame) -> DataFrame:
    """`table` as the preview may show it. Masked in Spark, so that what is masked never
    reaches the driver (a raw line may be megabytes long)."""
    return table.select(*(
        F.when(F.col(name).isNotNull(), F.lit(MASKED)).alias(name)
        if name.lower() in _MASKED_COLUMNS else F.col(name)
        for name in table.columns))


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def table_metadata(table: DataFrame, staged) -> dict:
    """What the UI shows of a table version a run wrote (`staged`: its lake Snapshot)."""
    return {
        "dagster/row_count": MetadataValue.int(staged.rows),
        "dagster/column_schema": column_schema(table),
        "dagster/uri": MetadataValue.path(staged.location),
        "snapshot_id": MetadataValue.text(str(staged.snapshot_id)),
        "preview": MetadataValue.md(markdown_preview(table)),
    }
