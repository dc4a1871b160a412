"""Athena for `stedi sql` on the Glue catalog: dagster-aws's client, and what it lacks."""

from __future__ import annotations

from dagster_aws.athena import AthenaClient, AthenaError, AthenaTimeout

# Athena's own default limit for a DML query; polling stops there and the query is cancelled.
TIMEOUT_SECONDS = 30 * 60


class AthenaQueryFailed(Exception):
    """An Athena query that failed, was cancelled or ran too long; the message says which."""


class StediAthena(AthenaClient):
    """dagster-aws's `AthenaClient`: its polling (a bounded number of polls) and its verdict
    on the final state are used as they are. `AthenaClientResource.get_client()` would make a
    plain AthenaClient (without the two additions below) on a boto3 client of its own; this
    one takes the project's client (`aws.client`, configured like every other AWS call) and
    needs no Dagster run around it, which `stedi sql` is not."""

    def __init__(self, client, database: str, output: str | None, workgroup: str | None,
                 poll_seconds: float = 0.5):
        super().__init__(client, workgroup=workgroup or "primary", polling_interval=poll_seconds,
                         max_polls=max(1, round(TIMEOUT_SECONDS / max(poll_seconds, 0.01))))
        self.database = database
        self.output = output

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Column names and typed rows of `sql`, or AthenaQueryFailed saying why not."""
        # execute_query sends only the query and the workgroup; the database the tables are
        # named in, and an output location where the workgroup has none, are needed too.
        request = {"QueryString": sql, "QueryExecutionContext": {"Database": self.database},
                   "WorkGroup": self.workgroup}
        if self.output:
            request["ResultConfiguration"] = {"OutputLocation": self.output}
        query_id = self.client.start_query_execution(**request)["QueryExecutionId"]
        try:
            self._poll(query_id)
        except AthenaTimeout:
            self.client.stop_query_execution(QueryExecutionId=query_id)
            raise AthenaQueryFailed(f"Athena query still running after {TIMEOUT_SECONDS // 60} "
                             "minutes: cancelled") from None
        except (AthenaError, KeyError):  # its message is the reason alone; KeyError: no reason
            status = self.client.get_query_execution(
                QueryExecutionId=query_id)["QueryExecution"]["Status"]
            raise AthenaQueryFailed(f"Athena query {status['State'].lower()}: "
                             f"{status.get('StateChangeReason', 'no reason given')}") from None
        return self.typed_results(query_id)

    def typed_results(self, query_id: str) -> tuple[list[str], list[tuple]]:
        """Names and typed values from GetQueryResults. AthenaClient's own results read the
        result CSV from S3 as text: no column names or types, NULL read as '', through a
        default S3 client (no endpoint or path-style settings), needing read access to the
        results bucket."""
        pages = self.client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        names, types, rows = [], [], []
        for page in pages:
            result = page["ResultSet"]
            if not names:
                columns = result["ResultSetMetadata"]["ColumnInfo"]
                names, types = [c["Name"] for c in columns], [c["Type"] for c in columns]
            rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in result["Rows"]]
        if rows and rows[0] == names:  # Athena repeats the header as the first row
            rows = rows[1:]
        return names, [tuple(map(value, row, types)) for row in rows]


def value(text: str | None, kind: str):
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
