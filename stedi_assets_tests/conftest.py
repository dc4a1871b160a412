"""One SparkSession for the whole test session, and helpers to run the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance
from pyspark.sql import SparkSession

from stedi_assets.definitions import build_definitions
from stedi_assets.jobs import stedi_pipeline
from stedi_assets.spark_config import spark_conf
from stedi_assets.sample_data import SampleSize, generate_landing
from stedi_assets.settings import load_settings

COURSE_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "udacity-stedi"


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    """The session's JVM. Pipelines run in sessions of their own on it (one per lake)."""
    builder = SparkSession.builder
    for key, value in spark_conf(load_settings({})).items():
        builder = builder.config(key, value)
    return builder.config("spark.ui.enabled", "false").getOrCreate()


def pipeline_settings(landing: Path, lake: Path, consent_mode: str = "any", **environ):
    return load_settings({
        "STEDI_LANDING_URI": str(landing),
        "STEDI_LAKE_URI": str(lake),
        "STEDI_CONSENT_MODE": consent_mode,
        **environ,
    })


def open_lakehouse(landing: Path, lake: Path, **environ):
    """The lake as the `stedi` commands see it, with a Spark session of its own."""
    from stedi_assets.cli import open_lakehouse as lakehouse

    return lakehouse(pipeline_settings(landing, lake, **environ), spark=True)


def run_pipeline(landing: Path, lake: Path, consent_mode: str = "any", tables=None,
                 **resources):
    """Materializes every table (or only `tables`, reading the others' published versions)
    with their checks; returns the ExecuteInProcessResult."""
    defs = build_definitions(pipeline_settings(landing, lake, consent_mode), **resources)
    selection = [AssetKey(table) for table in tables] if tables else None
    with DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def(stedi_pipeline.name).execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=selection,
        )


def check_keys() -> set:
    from stedi_assets.checks import all_checks

    return {key for checks in all_checks for key in checks.check_keys}


def row_counts(result) -> dict[str, int]:
    return {
        event.asset_key.path[-1]: event.step_materialization_data.materialization.metadata[
            "dagster/row_count"].value
        for event in result.get_asset_materialization_events()
    }


def printed_tables(stdout: str) -> dict[str, list[str]]:
    """`stedi run`/`stedi tables` output: table -> [zone, snapshot, rows, committed_at,
    location]."""
    found = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) == 6 and words[3].isdigit():
            found[words[0]] = words[1:]
    return found


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate_landing(root, SampleSize(customers=40, readings_per_device=6))
    return root


@pytest.fixture(scope="session")
def course_sample() -> Path:
    if not COURSE_SAMPLE.is_dir():
        pytest.skip(f"course sample not found at {COURSE_SAMPLE}")
    return COURSE_SAMPLE


# Fixtures that run a whole pipeline: a test that uses one is `slow`. A test that needs Spark
# at all is `spark`; one that needs neither Spark nor a server is `quick`.
PIPELINE_FIXTURES = {"published", "lake_env", "pipeline_run", "published_lake", "course_sample"}
NOT_QUICK = {"slow", "spark", "aws", "connect"}


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if PIPELINE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)
        if "spark" in fixtures:
            item.add_marker(pytest.mark.spark)
        if not NOT_QUICK & {mark.name for mark in item.iter_markers()}:
            item.add_marker(pytest.mark.quick)
