"""SQL over the published tables: DuckDB over the local catalog, Athena over Glue."""

from __future__ import annotations

import csv
import io
import json
import time

from stedi_assets.catalog import TableVersion

FORMATS = ("table", "csv", "json")


class QueryError(RuntimeError):
    """The query could not run; the message is one line saying why."""


def duckdb_query(tables: list[TableVersion], sql: str) -> tuple[list[str], list[tuple]]:
    """Runs `sql` with every published table as a view of its published Parquet version."""
    import duckdb

    db = duckdb.connect()
    try:
        for table in tables:
            columns = ", ".join(_identifier(name) for name, _ in table.columns)
            files = _literal(f"{table.data_location.rstrip('/')}/*.parquet")
            db.execute(f"CREATE VIEW {_identifier(table.name)} AS "
                       f"SELECT {columns} FROM read_parquet({files})")
        cursor = db.execute(sql)
        names = [column[0] for column in cursor.description or []]
        return names, cursor.fetchall() if names else []
    except duckdb.Error as problem:
        raise QueryError(_first_line(problem)) from None
    finally:
        db.close()


def athena_query(sql: str, database: str, output: str | None, workgroup: str | None,
                 client=None, poll_seconds: float = 0.5) -> tuple[list[str], list[tuple]]:
    """Runs `sql` in Athena against the Glue database and returns its result rows."""
    from stedi_assets import aws

    athena = client or aws.client("athena")
    request = {"QueryString": sql, "QueryExecutionContext": {"Database": database}}
    if output:
        request["ResultConfiguration"] = {"OutputLocation": output}
    if workgroup:
        request["WorkGroup"] = workgroup
    query_id = athena.start_query_execution(**request)["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(poll_seconds)
    if status["State"] != "SUCCEEDED":
        raise QueryError(f"Athena query {status['State'].lower()}: "
                         f"{status.get('StateChangeReason', 'no reason given')}")
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
    names, types, rows = [], [], []
    for page in pages:
        result = page["ResultSet"]
        if not names:
            columns = result["ResultSetMetadata"]["ColumnInfo"]
            names, types = [c["Name"] for c in columns], [c["Type"] for c in columns]
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in result["Rows"]]
    if rows and rows[0] == names:  # Athena repeats the header as the first row
        rows = rows[1:]
    return names, [tuple(map(_athena_value, row, types)) for row in rows]


def _athena_value(text: str | None, kind: str):
    """Athena returns every value as text; numbers and booleans go back to their type."""
    if text is None:
        return None
    if kind in ("tinyint", "smallint", "integer", "int", "bigint"):
        return int(text)
    if kind in ("float", "real", "double"):
        return float(text)
    if kind == "boolean":
        return text == "true"
    return text


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


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(problem: Exception) -> str:
    return str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
