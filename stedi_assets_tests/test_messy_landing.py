"""The real pipeline on a messy landing zone agrees with an independent reference.

`generate_messy_landing` writes every kind of bad or tricky record the data contract names;
`reference.py` computes, in plain Python from the contract alone, what every table, the
quarantine and the row accounting must then hold. The pipeline runs once per consent mode.
"""

import gzip
import re
from collections import Counter

import pytest
from dagster import IntMetadataValue
from pyspark.sql import functions as F

from stedi_assets.rules.contract import TABLE_BY_NAME
from stedi_assets_tests import reference
from stedi_assets_tests.conftest import open_lakehouse, row_counts, run_pipeline
from stedi_assets_tests.messy_data import generate_messy_landing

ACCOUNTED = {"customer": "customer_trusted", "accelerometer": "accelerometer_trusted",
             "step_trainer": "step_trainer_trusted"}
ROW_ACCOUNTING = "row_accounting"


@pytest.fixture(scope="module")
def messy_landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy_landing")
    generate_messy_landing(root)
    return root


@pytest.fixture(scope="module", params=reference.CONSENT_MODES)
def pipeline_run(request, spark, messy_landing, tmp_path_factory):
    """(consent mode, the pipeline's result, the reference's expectations)."""
    mode = request.param
    LAKES[mode] = tmp_path_factory.mktemp(f"lake_{mode}")
    result = run_pipeline(messy_landing, LAKES[mode], mode)
    return mode, result, reference.expected(messy_landing, mode)


LAKES = {}  # consent mode -> the lake its run wrote


def failed_checks(result) -> list[str]:
    return [f"{e.asset_key.path[-1]}.{e.check_name}"
            for e in result.get_asset_check_evaluations() if not e.passed]


# --- The generator and the reference on their own (no Spark) ------------------------------


def test_the_generator_is_deterministic(tmp_path):
    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    generate_messy_landing(tmp_path / "a")
    generate_messy_landing(tmp_path / "b")
    generate_messy_landing(tmp_path / "c", seed=7)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


@pytest.mark.parametrize("consent_mode", reference.CONSENT_MODES)
def test_the_reference_balances_its_own_books(messy_landing, consent_mode):
    expected = reference.expected(messy_landing, consent_mode)
    counts, accounting = expected.row_counts, expected.accounting
    for source, terms in accounting.items():
        assert reference.balance_problems(terms) == [], source
        assert terms["read"] == counts[f"{source}_landing"]
        assert terms["kept"] == counts[ACCOUNTED[source]]
    assert sum(t["quarantined"] for t in accounting.values()) == counts["landing_quarantine"]
    # Every invalid record has at least one reason, and at most one per field.
    for records in expected.records.values():
        for record in records:
            fields = [name for name, _ in record.reasons]
            assert len(fields) == len(set(fields)), record.line
            assert record.valid == (not record.reasons)


def test_the_messy_landing_has_every_kind_of_defect(messy_landing):
    """If the generator loses a kind of defect, the comparison below stops covering it."""
    anyway = reference.expected(messy_landing, "any")
    as_of_date = reference.expected(messy_landing, "as_of_date")
    assert {category for _, _, category in anyway.quarantine} == set(reference.CATEGORIES)
    assert {source for source, _, _ in anyway.quarantine} == set(reference.SOURCES)
    for source, terms in anyway.accounting.items():
        assert terms["quarantined"] > 0, source
        if source != "customer":
            assert terms["excluded_orphans"] > 0, source
        assert terms["excluded_no_consent"] > 0, source
        assert terms["removed_duplicates"] > 0, source
    assert anyway.accounting["step_trainer"]["conflicting_distances"] > 0
    assert all(anyway.unknown_fields[source] for source in reference.SOURCES)  # schema drift
    # as_of_date excludes readings taken before consent, and customers with none after it.
    for table in ("accelerometer_trusted", "customer_curated", "step_trainer_trusted",
                  "machine_learning_curated"):
        assert 0 < as_of_date.row_counts[table] < anyway.row_counts[table], table
    names = {p.name for p in messy_landing.rglob("*") if p.is_file()}
    for suffix in reference.SUFFIXES:
        assert any(name.endswith(suffix) for name in names), suffix
    lines = [line for source in reference.SOURCES
             for path in reference.landing_files(messy_landing, source)
             for line in _text(path).split("\n")]
    assert any(line and not line.strip() for line in lines)  # blank, not empty
    assert any(line.endswith("\r") for line in lines)
    assert any('"timeStamp"' in line for line in lines)
    assert any('"timestamp"' in line for line in lines)
    assert any(re.search(r"\d{13}\.0+[,}]", line) for line in lines)  # integral float epochs
    assert any(re.search(r"\d{13}\.\d*[1-9]", line) for line in lines)  # non-integral ones
    assert any("\ufffd" in line for line in lines)  # bytes that are not UTF-8
    assert any(line.strip(" ") and not line.strip() for line in lines)  # tabs, NBSP: blank
    assert all(reference.hidden_landing_files(messy_landing, source) for source in reference.SOURCES)


def _text(path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8", "replace")


# --- The pipeline against the reference ----------------------------------------------------


def test_every_table_has_the_reference_row_count(pipeline_run):
    mode, result, expected = pipeline_run
    assert row_counts(result) == expected.row_counts, (
        f"consent mode {mode}; failed checks: {failed_checks(result)}")


def test_the_quarantine_has_the_reference_reasons(pipeline_run, messy_landing):
    mode, result, expected = pipeline_run
    [snapshot] = [
        event.step_materialization_data.materialization.metadata["snapshot_id"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[-1] == "landing_quarantine"
    ]
    lake = open_lakehouse(messy_landing, LAKES[mode])
    quarantine = lake.spark.read.option("versionAsOf", snapshot).table(
        lake.catalog.identifier("landing_quarantine"))
    reasons = quarantine.select(
        "source", F.explode("reasons").alias("reason")).groupBy("source", "reason").count()
    found = Counter()
    for row in reasons.collect():
        found[(row["source"], *reference.categorise(row["reason"]))] += row["count"]
    assert dict(found) == dict(expected.quarantine), f"consent mode {mode}"


def test_the_schema_drift_report_counts_the_reference_unknown_fields(pipeline_run):
    mode, result, expected = pipeline_run
    reported = {e.asset_key.path[-1]: e.metadata["unknown_fields"].value
                for e in result.get_asset_check_evaluations() if e.check_name == "schema_drift"}
    assert reported == {reference.LANDING_TABLE[source]: expected.unknown_fields[source]
                        for source in reference.SOURCES}


def test_the_row_accounting_matches_the_reference(pipeline_run):
    mode, result, expected = pipeline_run
    evaluations = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()
                   if e.check_name == ROW_ACCOUNTING}
    assert set(evaluations) == set(ACCOUNTED.values()), (
        f"expected a `{ROW_ACCOUNTING}` check on each of {sorted(ACCOUNTED.values())}, found "
        f"it on {sorted(evaluations)}")
    for source, table in ACCOUNTED.items():
        metadata = evaluations[table].metadata
        wanted = expected.accounting[source]
        assert {key: metadata[key].value for key in wanted if key in metadata} == wanted, (
            f"{table} ({mode})")
        assert evaluations[table].passed, f"{table} ({mode})"


def test_hidden_landing_files_are_reported_as_not_read(pipeline_run, messy_landing):
    _, result, _ = pipeline_run
    reported = {
        event.asset_key.path[-1]: event.step_materialization_data.materialization.metadata[
            "files_not_read"].value
        for event in result.get_asset_materialization_events()
        if "files_not_read" in event.step_materialization_data.materialization.metadata
    }
    assert reported == {
        reference.LANDING_TABLE[source]: [
            str(path) for path in reference.hidden_landing_files(messy_landing, source)]
        for source in reference.SOURCES
    }
    assert all(reported.values())


def test_every_materialization_shows_its_row_count_and_the_contracts_columns(pipeline_run):
    """The UI plots `dagster/row_count` over runs, and a run's schema is the declared one:
    the columns the contract names, of its types, with its descriptions."""
    _, result, _ = pipeline_run
    events = result.get_asset_materialization_events()
    assert {event.asset_key.path[-1] for event in events} == set(TABLE_BY_NAME)
    for event in events:
        table = event.asset_key.path[-1]
        metadata = event.step_materialization_data.materialization.metadata
        assert isinstance(metadata["dagster/row_count"], IntMetadataValue), table
        written = [(column.name, column.type, column.description)
                   for column in metadata["dagster/column_schema"].schema.columns]
        assert written == [(column.name, column.type, column.about)
                           for column in TABLE_BY_NAME[table].columns], table


def test_the_quarantine_shows_its_records_per_reason_without_values(pipeline_run):
    mode, result, expected = pipeline_run
    [per_reason] = [
        event.step_materialization_data.materialization.metadata["records_per_reason"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[-1] == "landing_quarantine"
    ]
    found = Counter()
    for record in per_reason.records:
        reason = record.data["reason"]
        assert not re.search(r"\(\S*\d", reason), reason  # the offending value is not shown
        found[(record.data["source"], *reference.categorise(reason))] += record.data["records"]
    assert dict(found) == dict(expected.quarantine), f"consent mode {mode}"
