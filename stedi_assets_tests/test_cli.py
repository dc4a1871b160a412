"""The `stedi` command line: run, tables, sql, ddl, vacuum, and one-line errors."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from stedi_assets.cli import main
from stedi_assets_tests.conftest import printed_tables


@pytest.fixture
def lake_env(published, monkeypatch):
    landing, lake, _ = published
    monkeypatch.setenv("STEDI_LANDING_URI", str(landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(lake))
    return published


def test_run_prints_every_published_table(published):
    landing, lake, tables = published
    assert len(tables) == 9
    assert tables["landing_quarantine"][2] == "0"
    zone, snapshot, rows, committed_at, location = tables["machine_learning_curated"]
    assert zone == "curated" and snapshot.isdigit() and committed_at.endswith("Z")
    assert int(rows) > 0
    assert location.endswith(str(lake / "curated" / "machine_learning_curated"))
    # The validated snapshot of a feed is an Iceberg table beside the raw feed's name.
    assert tables["customer_landing"][4].endswith(
        str(lake / "landing" / "customer_landing_validated"))


def test_a_run_that_finds_nothing_new_starts_nothing(lake_env, monkeypatch, capsys):
    """Known from the ledgers alone: no Dagster run, no JVM. Anything a run would change
    (other rules, a landing file added or re-written) means a run."""
    from stedi_assets.cli import nothing_new
    from stedi_assets.operations.settings import load_settings

    landing, _, tables = lake_env
    assert main(["run"]) == 0
    said = capsys.readouterr().out
    assert "nothing new:" in said and printed_tables(said) == tables
    assert nothing_new(load_settings())
    # In a process of its own, it loads neither Dagster nor Spark (seconds of imports).
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; from stedi_assets.cli import main; "
         "assert main(['run']) == 0; print(sorted({m.split('.')[0] for m in sys.modules}))"],
        capture_output=True, text=True, env=os.environ, check=True).stdout.splitlines()[-1]
    heavy = {name for name in json.loads(loaded.replace("'", '"'))
             if name.startswith(("dagster", "pyspark"))}
    assert not heavy, heavy

    monkeypatch.setenv("STEDI_CONSENT_MODE", "as_of_date")
    assert not nothing_new(load_settings())
    monkeypatch.delenv("STEDI_CONSENT_MODE")
    monkeypatch.setenv("STEDI_PSEUDONYM_KEY", "another-key")
    assert not nothing_new(load_settings())
    monkeypatch.delenv("STEDI_PSEUDONYM_KEY")
    # The shared landing, changed and put back as it was (path, size, modification time).
    first = sorted((landing / "step_trainer").glob("*.json"))[0]
    added, held, status = landing / "step_trainer" / "new.json", first.read_bytes(), first.stat()
    try:
        added.write_bytes(held)
        assert not nothing_new(load_settings())
        added.unlink()
        first.write_bytes(held + b"\n")
        assert not nothing_new(load_settings())
    finally:
        added.unlink(missing_ok=True)
        first.write_bytes(held)
        os.utime(first, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert nothing_new(load_settings())


def test_sql_answers_from_the_published_tables(lake_env, capsys):
    _, _, tables = lake_env
    query = "select count(*) as n from machine_learning_curated"
    assert main(["sql", query, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"n": int(tables["machine_learning_curated"][2])}]
    assert main(["sql", "select count(*) from customer_landing", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "count_star()", tables["customer_landing"][2]]
    assert main(["sql", "select zone, count(*) n from (select 'x' zone from customer_curated) "
                 "group by zone"]) == 0
    header, rule, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["zone", "n"] and set(rule) <= {"-", " "}
    assert row.split() == ["x", tables["customer_curated"][2]]


def test_tables_lists_the_catalog(lake_env, capsys):
    assert main(["tables", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {row["table"]: str(row["rows"]) for row in listed} == {
        table: row[2] for table, row in lake_env[2].items()}


def test_ddl_is_athena_ddl_for_every_table(lake_env, capsys):
    assert main(["ddl"]) == 0
    statements = capsys.readouterr().out.strip().split("\n\n")
    assert len(statements) == 3 + 9  # the raw feeds, then every Iceberg table
    landing = next(s for s in statements if "`stedi`.`customer_landing` (" in s)
    assert "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'" in landing
    assert "'mapping.share_with_research_as_of_date'='shareWithResearchAsOfDate'" in landing
    assert "`share_with_research_as_of_date` bigint" in landing
    manifests = lake_env[1] / "landing" / "customer_landing"
    assert f"LOCATION '{manifests}/'" in landing  # a manifest of the files read, beside them
    assert (manifests / "manifest").read_text().splitlines() == sorted(
        str(path) for path in (lake_env[0] / "customer").rglob("*.json"))
    curated = next(s for s in statements if "`stedi`.`customer_curated`" in s)
    assert "'table_type'='ICEBERG'" in curated and "LOCATION '" in curated
    assert "`registration_date` bigint" in curated
    validated = next(s for s in statements if "`stedi`.`customer_landing_validated`" in s)
    assert "`invalid_reasons` array<string>" in validated


def test_history_lists_the_snapshots_main_has_had(lake_env, capsys):
    _, _, tables = lake_env
    assert main(["history", "customer_trusted", "--format", "json"]) == 0
    [only] = json.loads(capsys.readouterr().out)
    assert str(only["snapshot"]) == tables["customer_trusted"][1]
    assert str(only["rows"]) == tables["customer_trusted"][2]
    assert only["run_id"] and only["operation"] == "overwrite"
    assert main(["history", "no_such_table"]) == 1
    assert "no table no_such_table" in capsys.readouterr().err


def test_sql_as_of_reads_an_earlier_snapshot(lake_env, capsys):
    _, _, tables = lake_env
    snapshot = tables["customer_curated"][1]
    query = "select count(*) as n from customer_curated"
    assert main(["sql", query, "--as-of", snapshot, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": int(tables["customer_curated"][2])}]
    assert main(["sql", query, "--as-of", "2000-01-01T00:00:00Z"]) == 1
    assert "customer_curated had no published snapshot then" in capsys.readouterr().err
    assert main(["sql", query, "--as-of", "12345"]) == 1
    assert "no table in the query has that snapshot" in capsys.readouterr().err


@pytest.mark.parametrize("query, problem", [
    ("select * from no_such_table", "no_such_table does not exist"),
    ("selec 1", "syntax error"),
])
def test_bad_sql_is_one_line_and_a_non_zero_exit(lake_env, capsys, query, problem):
    assert main(["sql", query]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stedi sql: ")
    assert problem in err


def test_no_catalog_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_LAKE_URI", str(tmp_path / "empty"))
    for command in (["tables"], ["sql", "select 1"], ["ddl"], ["vacuum"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no catalog at" in err
    assert not (tmp_path / "empty").exists()


def test_a_catalog_that_is_not_a_database_is_one_line(tmp_path, monkeypatch, capsys):
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "catalog.sqlite").write_bytes(b"this is no SQLite database" * 100)
    monkeypatch.setenv("STEDI_LAKE_URI", str(lake))
    for command in (["tables"], ["history", "customer_trusted"], ["sql", "select 1"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "file is not a database" in err, (command, err)


@pytest.mark.parametrize("problem", [
    OSError(28, "No space left on device"),
    PermissionError(13, "Permission denied", "/lake/catalog.sqlite"),
    sqlite3.OperationalError("attempt to write a readonly database"),
], ids=["disk full", "permission denied", "read-only catalog"])
def test_disk_and_permission_problems_are_one_line(lake_env, monkeypatch, capsys, problem):
    from stedi_assets.lake import Lakehouse

    def fails(*_, **__):
        raise problem

    monkeypatch.setattr(Lakehouse, "tables", fails)
    assert main(["tables"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stedi tables: ") and str(problem.args[-1]) in err


@pytest.mark.unit  # `stedi run` stops at the settings, before any Spark or Dagster
def test_bad_configuration_is_one_line_and_a_non_zero_exit(monkeypatch, capsys):
    monkeypatch.setenv("STEDI_CONSENT_MODE", "sometimes")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "STEDI_CONSENT_MODE='sometimes'" in err


@pytest.mark.pipeline
def test_a_missing_landing_folder_is_one_line(spark, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_LANDING_URI", str(tmp_path / "nowhere"))
    monkeypatch.setenv("STEDI_LAKE_URI", str(tmp_path / "lake"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "landing folder for customer not found" in err


def test_generate_writes_a_landing_zone(tmp_path, capsys):
    assert main(["generate", str(tmp_path), "--customers", "10"]) == 0
    assert capsys.readouterr().out.startswith("customer=10 ")
    assert (tmp_path / "customer").is_dir()


@pytest.mark.pipeline
def test_a_warning_is_printed_and_the_run_still_succeeds(spark, small_landing, tmp_path,
                                                          monkeypatch, capsys):
    """Schema drift warns: `stedi run` says so on stderr and exits 0."""
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    first = next((landing / "customer").rglob("*.json")).read_text().splitlines()[0]
    drifted = {**json.loads(first), "favouriteColour": "green"}
    (landing / "customer" / "drifted.json").write_text(json.dumps(drifted) + "\n")
    monkeypatch.setenv("STEDI_LANDING_URI", str(landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(tmp_path / "lake"))
    assert main(["run"]) == 0
    err = capsys.readouterr().err
    assert "warning: customer_landing.schema_drift ({'favouriteColour': 1})" in err
    assert "check failed" not in err and "pipeline failed" not in err
