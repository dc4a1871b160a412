"""`stedi sql` output formats, and its Athena path (Glue catalog) against moto."""

import json

import pytest
import requests
from moto import mock_aws

from stedi_assets.operations import aws
from stedi_assets.cli import main
from stedi_assets.cli.query import QueryError, athena_query, render

NAMES = ["table", "rows"]
ROWS = [("customer_curated", 482), ("landing_quarantine", None)]


def test_json_is_an_array_of_row_objects():
    assert json.loads(render(NAMES, ROWS, "json")) == [
        {"table": "customer_curated", "rows": 482}, {"table": "landing_quarantine", "rows": None}]


def test_csv_has_a_header_and_one_line_per_row():
    assert render(NAMES, ROWS, "csv").splitlines() == [
        "table,rows", "customer_curated,482", "landing_quarantine,"]


def test_table_aligns_columns():
    assert render(NAMES, ROWS, "table").splitlines() == [
        "table               rows",
        "------------------  ----",
        "customer_curated    482",
        "landing_quarantine",
    ]


@pytest.fixture
def glue_env(tmp_path, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "STEDI_CATALOG": "glue",
                        "STEDI_PSEUDONYM_KEY": "a-test-key",
                        "STEDI_LAKE_URI": str(tmp_path / "lake"),
                        "STEDI_ATHENA_OUTPUT": "s3://athena-results/stedi/"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_sql_with_the_glue_catalog_asks_athena(glue_env, capsys):
    # moto runs no queries; its API queues the result Athena would give.
    requests.post("http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json={
        "account_id": "123456789012", "region": "us-east-1",
        "results": [{"rows": [{"Data": [{"VarCharValue": "n"}]},
                              {"Data": [{"VarCharValue": "40981"}]}],
                     "column_info": [{"Name": "n", "Type": "bigint", "CatalogName": "hive",
                                      "SchemaName": "", "TableName": "", "Label": "n",
                                      "Precision": 19, "Scale": 0, "Nullable": "UNKNOWN",
                                      "CaseSensitive": False}]}],
    }, timeout=10).raise_for_status()
    sent = []
    aws.client("athena").meta.events.register(
        "provide-client-params.athena.StartQueryExecution",
        lambda params, **_: sent.append({k: v for k, v in params.items()
                                         if k != "ClientRequestToken"}))

    query = "select count(*) as n from machine_learning_curated"
    assert main(["sql", query, "--format", "json"]) == 0

    assert json.loads(capsys.readouterr().out) == [{"n": 40981}]
    assert sent == [{"QueryString": query, "QueryExecutionContext": {"Database": "stedi"},
                     "WorkGroup": "primary",  # Athena's default, named
                     "ResultConfiguration": {"OutputLocation": "s3://athena-results/stedi/"}}]


class Athena:
    """An Athena whose queries stay in `state` (with `reason`, if any); it notes cancellations."""

    def __init__(self, state: str, reason: str | None = None):
        self.status = {"State": state, **({"StateChangeReason": reason} if reason else {})}
        self.stopped = []

    def start_query_execution(self, **_):
        return {"QueryExecutionId": "q1"}

    def get_query_execution(self, **_):
        return {"QueryExecution": {"Status": self.status}}

    def stop_query_execution(self, QueryExecutionId):
        self.stopped.append(QueryExecutionId)


def test_a_failed_athena_query_is_one_clear_error():
    with pytest.raises(QueryError, match="^Athena query failed: TABLE_NOT_FOUND: .*stedi.nope"):
        athena_query("select * from nope", "stedi", None, None, client=Athena(
            "FAILED", "TABLE_NOT_FOUND: line 1:15: Table 'stedi.nope' does not exist"))


def test_a_query_cancelled_without_a_reason_is_one_clear_error():
    with pytest.raises(QueryError, match="^Athena query cancelled: no reason given$"):
        athena_query("select 1", "stedi", None, None, client=Athena("CANCELLED"))


def test_a_query_that_never_finishes_is_cancelled_at_the_time_limit(monkeypatch):
    monkeypatch.setattr("stedi_assets.cli.athena.TIMEOUT_SECONDS", 0.05)
    running = Athena("RUNNING")
    with pytest.raises(QueryError, match="^Athena query still running after .*: cancelled$"):
        athena_query("select 1", "stedi", None, "analysts", client=running, poll_seconds=0.01)
    assert running.stopped == ["q1"]
