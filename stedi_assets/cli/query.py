"""SQL over the published tables: DuckDB over the local catalog, Athena over Glue."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

FORMATS = ("table", "csv", "json")


class QueryError(RuntimeError):
    """The query could not run; the message is one line saying why."""


def duckdb_query(lake, sql: str, as_of: str | None = None) -> tuple[list[str], list[tuple]]:
    """Runs `sql` in DuckDB over Arrow scans (pyiceberg) of the tables it names: what `main`
    holds, or held at `as_of` (a time, or a snapshot id of one of them). A landing table is its
    validated snapshot: the raw feed as the pipeline read it, with `invalid_reasons`."""
    import duckdb

    from stedi_assets.lake import iceberg_name

    published = {t.table: t for t in lake.tables()}
    names = {name: table for table in published for name in {table, iceberg_name(table)}}
    try:
        wanted = {name for name in duckdb.get_table_names(sql) if name in names}
    except duckdb.ParserException as problem:
        raise QueryError(_first_line(problem)) from None
    except duckdb.Error:  # it parses but does not bind: let DuckDB say why, with every table
        wanted = set(names)
    snapshots = _as_of(lake, {names[name] for name in wanted}, as_of)
    db = duckdb.connect()
    try:
        for name in sorted(wanted):
            table = names[name]
            db.register(name, lake.iceberg_table(table).scan(snapshot_id=snapshots[table]).to_arrow())
        cursor = db.execute(sql)
        columns = [column[0] for column in cursor.description or []]
        return columns, cursor.fetchall() if columns else []
    except duckdb.Error as problem:
        raise QueryError(_first_line(problem)) from None
    finally:
        db.close()


def _as_of(lake, tables: set[str], as_of: str | None) -> dict[str, int | None]:
    """The snapshot to read of each table: its current one, or as of a time or snapshot id."""
    if as_of is None:
        return dict.fromkeys(tables)
    if as_of.isdigit():  # a snapshot id: of one of the tables; the others as they are now
        owners = [t for t in tables if lake.iceberg_table(t).metadata.snapshot_by_id(int(as_of))]
        if not owners:
            raise QueryError(f"--as-of {as_of}: no table in the query has that snapshot "
                             "(see `stedi history TABLE`)")
        return {t: int(as_of) if t in owners else None for t in tables}
    try:
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"--as-of {as_of!r} is neither a time (2026-11-29T10:00:00Z) "
                         "nor a snapshot id") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    chosen = {}
    for table in tables:
        entry = lake.iceberg_table(table).snapshot_as_of_timestamp(int(moment.timestamp() * 1000))
        if entry is None:
            raise QueryError(f"--as-of {as_of}: {table} had no published snapshot then "
                             "(or it has been expired)")
        chosen[table] = entry.snapshot_id
    return chosen


def athena_query(sql: str, database: str, output: str | None, workgroup: str | None,
                 client=None, poll_seconds: float = 0.5) -> tuple[list[str], list[tuple]]:
    """Runs `sql` in Athena against the Glue database and returns its result rows."""
    from stedi_assets.operations import aws
    from stedi_assets.cli.athena import AthenaQueryFailed, StediAthena

    athena = StediAthena(client or aws.client("athena"), database, output, workgroup,
                         poll_seconds)
    try:
        return athena.query(sql)
    except AthenaQueryFailed as problem:
        raise QueryError(str(problem)) from None


def render(names: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(names, row)) for row in rows], default=str)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    cells = [names] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(names))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip()
             for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _first_line(problem: Exception) -> str:
    return str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
