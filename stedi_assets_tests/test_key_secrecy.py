"""The pseudonym key stays out of everything a run shows: plans, the SQL tab, Dagster's logs."""

from __future__ import annotations

import pytest
from dagster import DagsterInstance
from pyspark.sql import DataFrame

from stedi_assets.pipeline.definitions import build_definitions
from stedi_assets.pipeline.jobs import stedi_pipeline

from stedi_assets.pipeline.resources import build_resources
from stedi_assets.pipeline.resources.lake_io_manager import LakeIOManager
from stedi_assets.rules.validation import ValidatedLanding
from stedi_assets_tests.conftest import pipeline_settings
from stedi_assets_tests.helpers import leaked

KEY = "run-secret-Zq7-not-in-any-plan"
EXPLAINED: list[str] = []


class ExplainingIOManager(LakeIOManager):
    """The project's IO manager, recording each output's extended plan before writing it."""

    def handle_output(self, context, obj):
        rows = obj.rows
        frames = [rows.clean] if isinstance(rows, ValidatedLanding) else [rows]
        EXPLAINED.extend(extended_plan(frame) for frame in frames)
        super().handle_output(context, obj)


def extended_plan(frame: DataFrame) -> str:
    return frame._jdf.queryExecution().toString()  # what explain(extended=True) prints


def executed_plans(spark, after: int) -> list[str]:
    """The plan of every SQL execution after `after`, as the SQL tab and the event log show it."""
    executions = spark._jsparkSession.sharedState().statusStore().executionsList().iterator()
    plans = []
    while executions.hasNext():
        execution = executions.next()
        if execution.executionId() > after:
            plans.append(f"{execution.description()}\n{execution.physicalPlanDescription()}")
    return plans


def _ids(spark) -> int:
    executions = spark._jsparkSession.sharedState().statusStore().executionsList().iterator()
    latest = -1
    while executions.hasNext():
        latest = max(latest, executions.next().executionId())
    return latest


@pytest.mark.pipeline
def test_a_whole_run_shows_the_key_nowhere(spark, small_landing, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("STEDI_PSEUDONYM_KEY", KEY)
    settings = pipeline_settings(small_landing, tmp_path / "lake", STEDI_PSEUDONYM_KEY=KEY)
    assert not settings.uses_development_key
    lakehouse = build_resources(settings)["lakehouse"]
    defs = build_definitions(settings, io_manager=ExplainingIOManager(lakehouse=lakehouse))
    before = _ids(spark)
    EXPLAINED.clear()
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(stedi_pipeline.name).execute_in_process(
            instance=instance, raise_on_error=False)
    assert result.success
    executed = executed_plans(spark, before)
    assert len(EXPLAINED) == 9 and len(executed) > 50
    logs = [str(event) for event in result.all_events] + [caplog.text]
    for where, texts in (("explain", EXPLAINED), ("SQL tab", executed), ("logs", logs)):
        found = [form for text in texts for form in leaked(text, KEY)]
        assert found == [], f"{where} shows the key as {found[0]}"
