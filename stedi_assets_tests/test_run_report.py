"""The run's row accounting as a figure (accounting_picture) and as `stedi report`'s page."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from stedi_assets.operations.accounting_picture import RunAccount, SourceAccount, draw

COURSE = RunAccount((
    SourceAccount("customer", {"read": 956, "valid": 956, "quarantined": 0, "kept": 482,
                               "excluded_no_consent": 474, "excluded_orphans": 0,
                               "removed_duplicates": 0}),
    SourceAccount("accelerometer", {"read": 81_275, "valid": 81_273, "quarantined": 2,
                                    "kept": 40_981, "excluded_no_consent": 40_292,
                                    "excluded_orphans": 0, "removed_duplicates": 0},
                  {"line is not JSON": 2, "x: not a number": 1}),
), curated_rows=40_981)


@pytest.mark.unit
def test_the_figure_shows_the_accounting_s_numbers_and_is_the_same_for_the_same_counts():
    svg = draw(COURSE, "svg").decode()
    for number in ("956", "482", "474", "81,275", "81,273", "40,981", "40,292"):
        assert number in svg, number
    assert "2 line is not JSON" in svg and "machine_learning_curated" in svg
    assert draw(COURSE) == draw(COURSE)  # PNG: no date, fixed size and fonts
    # Change one count: the picture changes, and says the new number.
    fewer = replace(COURSE, sources=(replace(COURSE.sources[0], terms={
        **COURSE.sources[0].terms, "kept": 481, "excluded_no_consent": 475}),
        COURSE.sources[1]))
    assert draw(fewer) != draw(COURSE)
    assert "481 kept" in draw(fewer, "svg").decode()


@pytest.mark.pipeline
def test_stedi_report_draws_the_last_run_s_accounting(published, monkeypatch, tmp_path, capsys):
    from dagster import DagsterInstance

    from stedi_assets.cli import main
    from stedi_assets.operations.settings import load_settings

    landing, lake, tables = published
    monkeypatch.setenv("STEDI_LANDING_URI", str(landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(lake))
    # The instance is the test session's: other tests' runs may be newer than the fixture's.
    with DagsterInstance.from_config(load_settings().dagster_home) as instance:
        runs = {run.run_id: written_rows(instance, run.run_id) for run in instance.get_runs()}
    run_id = next(run for run, written in runs.items()
                  if written.get("customer_trusted", (None, None))[1] == tables["customer_trusted"][1])
    assert main(["report", "--run", run_id, "--output-dir", str(tmp_path)]) == 0
    page = Path(capsys.readouterr().out.strip())
    assert page.parent == tmp_path
    text = page.read_text()
    assert f"Row accounting of run {run_id}</h1>" in text
    assert 'src="data:image/png;base64,' in text
    # `kept` (the checks' accounting) is what the run published of each trusted table.
    written = {table: rows for table, (rows, _) in runs[run_id].items()}
    table = dict(re.findall(r"<tr><th>(\w+)</th><td>[\d,]+</td><td>[\d,]+</td><td>[\d,]+</td>"
                            r"<td>([\d,]+)</td>", text))
    assert {source: int(kept.replace(",", "")) for source, kept in table.items()} == {
        "customer": written["customer_trusted"], "accelerometer": written["accelerometer_trusted"],
        "step_trainer": written["step_trainer_trusted"]}


def written_rows(instance, run_id: str) -> dict[str, tuple[int, str]]:
    """table -> (rows, snapshot id) of what the run materialized."""
    found = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            metadata = materialization.metadata
            found[materialization.asset_key.path[-1]] = (
                metadata["dagster/row_count"].value, metadata["snapshot_id"].value)
    return found


@pytest.mark.unit
def test_a_report_without_a_run_is_one_line(tmp_path, monkeypatch, capsys):
    from stedi_assets.cli import main

    monkeypatch.setenv("STEDI_HOME", str(tmp_path / "home"))
    assert main(["report"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stedi report: no run in the instance yet")
