"""What the Dagster UI shows about a table: size, schema, location and a masked preview."""

from __future__ import annotations

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema
from pyspark.sql import DataFrame

from stedi_assets.rules.contract import DIRECT_IDENTIFIERS, LANDING_QUARANTINE, TABLE_BY_NAME
from stedi_assets.rules.masking import MASKED, reason_counts

PREVIEW_ROWS = 5
# Raw landing lines can hold anything, identifiers included.
_MASKED_COLUMNS = DIRECT_IDENTIFIERS | {"raw_line"}


def published_note(snapshot, run_id: str) -> str:
    """The `published` line of a table's metadata, for a snapshot `run_id` published."""
    if snapshot.run_id not in (None, run_id):
        return (f"snapshot {snapshot.snapshot_id} (the same version, published first by run "
                f"{snapshot.run_id})")
    return f"snapshot {snapshot.snapshot_id}"


def declared_schema(table: str) -> TableSchema:
    """The contract's columns of `table`: what the UI shows before any run."""
    return TableSchema(columns=[TableColumn(column.name, column.type, description=column.about)
                                for column in TABLE_BY_NAME[table].columns])


def column_schema(table: DataFrame, name: str) -> TableSchema:
    """The columns a run wrote, with their types as written and their meanings from the
    contract."""
    about = {column.name: column.about for column in TABLE_BY_NAME[name].columns}
    return TableSchema(columns=[
        TableColumn(f.name, f.dataType.simpleString(), description=about.get(f.name))
        for f in table.schema.fields])


def quarantine_reasons(quarantine: DataFrame) -> MetadataValue:
    """How many quarantined records of each source have each reason, without the values some
    reasons quote: one row per kind of problem, and no landing value in the UI."""
    return MetadataValue.table(
        records=[TableRecord({"source": source, "reason": reason, "records": records})
                 for source, reason, records in reason_counts(quarantine)],
        schema=TableSchema(columns=[TableColumn("source", "string"),
                                    TableColumn("reason", "string"),
                                    TableColumn("records", "int")]))


def shown_columns(names: list[str]) -> list[str]:
    """The columns a preview reads: not the masked ones, which are never read at all."""
    return [name for name in names if name.lower() not in _MASKED_COLUMNS]


def markdown_preview(names: list[str], rows: list[dict]) -> str:
    """`rows` (of `shown_columns(names)`) as a markdown table of every column, direct
    identifiers and raw lines masked: the UI is not the access-restricted trusted zone."""
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows:
        lines.append("| " + " | ".join(
            MASKED if name.lower() in _MASKED_COLUMNS else _cell(row.get(name))
            for name in names) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def table_metadata(table: DataFrame, staged, preview: list[dict],
                   added: DataFrame | None = None) -> dict:
    """What the UI shows of a table version a run wrote (`staged`: its lake Snapshot;
    `preview`: its first rows' shown columns; `added`: the rows the run appended, when it
    appended)."""
    metadata = {
        "dagster/row_count": MetadataValue.int(staged.rows),
        "dagster/column_schema": column_schema(table, staged.table),
        "dagster/uri": MetadataValue.path(staged.location),
        "snapshot_id": MetadataValue.text(str(staged.snapshot_id)),
        "preview": MetadataValue.md(markdown_preview(table.columns, preview)),
    }
    if staged.table == LANDING_QUARANTINE and added is None:
        metadata["records_per_reason"] = quarantine_reasons(table)
    elif staged.table == LANDING_QUARANTINE:  # the reasons of what this run quarantined
        metadata["added_records_per_reason"] = quarantine_reasons(added)
    return metadata
