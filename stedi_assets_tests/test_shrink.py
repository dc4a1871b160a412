"""An emptied or unreadable feed is not published as empty tables, unless the run accepts it."""

import contextlib
import io
import json
import shutil

import pytest

from stedi_assets.pipeline.checks import (
    NO_SUDDEN_SHRINK, VALID_RECORDS_PRESENT, Audited, no_sudden_shrink, valid_records_present,
)
from stedi_assets.cli import main
from stedi_assets.rules.contract import AUDITED_TABLES, CUSTOMER_LANDING
from stedi_assets.operations.settings import SettingsError, load_settings
from stedi_assets.rules.shrink import ShrinkPolicy, accepted_tables
from stedi_assets_tests.conftest import open_lakehouse

ALL_TABLES = frozenset(AUDITED_TABLES)


def judged(evaluation, counted=None):
    return evaluation.result(counted or {})


@pytest.mark.parametrize("table", sorted(AUDITED_TABLES))
def test_each_table_may_not_lose_more_than_half_its_rows(table):
    def check(published, rows, policy=ShrinkPolicy()):
        return judged(no_sudden_shrink(table, None, {}, None, Audited(rows, published, policy)))

    failed = check(published=100, rows=49)
    assert not failed.passed
    assert failed.description.startswith(f"{table} would shrink by 51% against its published "
                                         "version (100 rows to 49), more than the 50% allowed")
    assert f"STEDI_ACCEPT_SHRINK={table}" in failed.description
    assert check(published=100, rows=50).passed
    assert check(published=None, rows=0).passed  # first publication
    assert check(published=0, rows=0).passed
    assert check(published=100, rows=0, policy=ShrinkPolicy(accepted=frozenset({table}))).passed
    assert not check(published=100, rows=89, policy=ShrinkPolicy(max_shrink=0.1)).passed


def test_a_check_of_what_is_published_compares_nothing():
    assert judged(no_sudden_shrink(CUSTOMER_LANDING, None, {}, None, Audited())).passed


def test_a_source_of_only_invalid_records_fails(spark):
    def check(reasons: list[list[str]], policy=ShrinkPolicy()):
        rows = spark.createDataFrame([(r,) for r in reasons], "invalid_reasons array<string>")
        evaluation = valid_records_present(CUSTOMER_LANDING, rows, {}, None,
                                           Audited(policy=policy))
        frame = evaluation.tallies["records"]
        counted = frame.frame.agg(frame.counts.alias("c")).first()["c"]
        return judged(evaluation, {"records": counted})

    failed = check([["not a JSON object"]] * 3)
    assert not failed.passed
    assert failed.description.startswith(
        "customer_landing: 3 records read and none is valid (their reasons are in "
        "landing_quarantine); if this is expected, run again with "
        "STEDI_ACCEPT_SHRINK=customer_landing")
    assert check([["not a JSON object"], []]).passed
    assert check([]).passed  # an empty folder: nothing was lost here (the shrink check says)
    assert check([["x"]], ShrinkPolicy(accepted=frozenset({CUSTOMER_LANDING}))).passed


def test_the_accept_setting_names_tables_or_all():
    assert accepted_tables(" Customer_Trusted ,", ALL_TABLES) == {"customer_trusted"}
    assert accepted_tables("all", ALL_TABLES) == ALL_TABLES
    assert accepted_tables("", ALL_TABLES) == frozenset()
    with pytest.raises(ValueError, match="STEDI_ACCEPT_SHRINK names custmer, which is not a"):
        accepted_tables("custmer", ALL_TABLES)


def run(monkeypatch, landing, lake, accept: str = "") -> tuple[int, str]:
    monkeypatch.setenv("STEDI_LANDING_URI", str(landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(lake))
    monkeypatch.setenv("STEDI_ACCEPT_SHRINK", accept)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run"])
    return code, err.getvalue()


def published_rows(landing, lake) -> dict[str, int]:
    return {t.table: t.rows for t in open_lakehouse(landing, lake).tables()}


@pytest.mark.pipeline
def test_an_emptied_feed_blocks_until_accepted(spark, small_landing, tmp_path, monkeypatch):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    shutil.copytree(small_landing, landing)
    assert run(monkeypatch, landing, lake) == (0, "")
    before = published_rows(landing, lake)
    for file in (landing / "accelerometer").iterdir():
        file.unlink()

    code, err = run(monkeypatch, landing, lake)
    assert code == 1
    assert (f"check failed: accelerometer_landing.{NO_SUDDEN_SHRINK} (accelerometer_landing "
            f"would shrink by 100% against its published version "
            f"({before['accelerometer_landing']:,} rows to 0)") in err
    assert published_rows(landing, lake) == before

    # Accepting the source's loss is not accepting what follows from it downstream.
    code, err = run(monkeypatch, landing, lake, accept="accelerometer_landing")
    assert code == 1
    assert f"check failed: accelerometer_trusted.{NO_SUDDEN_SHRINK}" in err
    assert published_rows(landing, lake)["accelerometer_landing"] == 0
    assert published_rows(landing, lake)["machine_learning_curated"] == before[
        "machine_learning_curated"]

    assert run(monkeypatch, landing, lake, accept="all") == (0, "")
    after = published_rows(landing, lake)
    assert after["accelerometer_trusted"] == after["machine_learning_curated"] == 0
    assert after["customer_trusted"] == before["customer_trusted"]


@pytest.mark.pipeline
def test_a_feed_of_unreadable_lines_is_not_published(spark, small_landing, tmp_path,
                                                     monkeypatch):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    shutil.copytree(small_landing, landing)
    customers = landing / "customer" / "customer-0000.json"
    records = [json.loads(line) for line in customers.read_text().splitlines()]
    customers.write_text(json.dumps(records, indent=2))  # pretty-printed: no line is a record
    lines = len(customers.read_text().splitlines())

    code, err = run(monkeypatch, landing, lake)
    assert code == 1
    assert (f"check failed: customer_landing.{VALID_RECORDS_PRESENT} (customer_landing: "
            f"{lines:,} records read and none is valid") in err
    assert "customer_trusted" not in published_rows(landing, lake)


@pytest.mark.parametrize("environ, problem", [
    ({"STEDI_MAX_SHRINK": "1.5"}, "STEDI_MAX_SHRINK='1.5' is not a fraction from 0 to 1"),
    ({"STEDI_MAX_SHRINK": "half"}, "STEDI_MAX_SHRINK='half' is not a fraction from 0 to 1"),
    ({"STEDI_ACCEPT_SHRINK": "customer"}, "STEDI_ACCEPT_SHRINK names customer, which is not"),
])
def test_bad_shrink_settings_are_one_clear_line(environ, problem):
    with pytest.raises(SettingsError, match=problem.replace("(", r"\(")):
        load_settings(environ)
