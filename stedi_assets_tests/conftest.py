"""One SparkSession for the whole test session, and helpers to run the pipeline."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, JobDefinition
from pyspark.sql import SparkSession

from stedi_assets.pipeline.definitions import build_definitions
from stedi_assets.pipeline.jobs import stedi_pipeline
from stedi_assets.operations.spark_config import jars_resolved_alone, spark_conf
from stedi_assets.rules.sample_data import SampleSize, generate_landing
from stedi_assets.operations.java import SHORT_JOB_JAVA_OPTIONS
from stedi_assets.operations.settings import load_settings

COURSE_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "udacity-stedi"


# Options of the short-lived JVMs the tests start as subprocesses: those of `stedi run`, of
# `dagster dev`'s runs, of `dagster asset materialize`, of a Spark Connect server (Spark's
# launcher adds SPARK_SUBMIT_OPTS to the java command line, silently, and each subprocess
# inherits this process's environment). Such a JVM lives for one small run: C1 alone compiles
# what it runs soon enough, without C2's compiler threads taking the second core from Spark, and
# the serial collector suits its small heap. What Spark computes is the same; on this 2-core
# machine a small `stedi run` takes about a sixth less time (more than a third under load).
# The session's own JVM (`spark`) lives for the whole session and runs most pipelines: there
# C2's code pays for itself (with these options the whole suite's in-process runs were slower),
# so it starts without them.
TEST_JVM_OPTIONS = SHORT_JOB_JAVA_OPTIONS


@pytest.fixture(scope="session", autouse=True)
def quick_jvms() -> Iterator[str | None]:
    """Every JVM a test starts as a subprocess gets TEST_JVM_OPTIONS (after any a person set);
    yields the person's own SPARK_SUBMIT_OPTS."""
    own = os.environ.get("SPARK_SUBMIT_OPTS")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_SUBMIT_OPTS", " ".join(filter(None, [own, TEST_JVM_OPTIONS])))
        yield own


@pytest.fixture(scope="session")
def spark(quick_jvms) -> SparkSession:
    """The session's JVM, started with the JVM options a person gave, not TEST_JVM_OPTIONS.
    Pipelines run in sessions of their own on it (one per lake)."""
    conf = spark_conf(load_settings({}))
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    with pytest.MonkeyPatch.context() as patch:
        if quick_jvms is None:
            patch.delenv("SPARK_SUBMIT_OPTS")
        else:
            patch.setenv("SPARK_SUBMIT_OPTS", quick_jvms)
        with jars_resolved_alone(conf):  # `make test`'s two workers start theirs at once
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
                 tags: dict | None = None, **resources):
    """Materializes every table (or only `tables`, reading the others' published versions)
    with their checks (with run `tags`); returns the ExecuteInProcessResult."""
    defs = build_definitions(pipeline_settings(landing, lake, consent_mode), **resources)
    selection = [AssetKey(table) for table in tables] if tables else None
    with DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def(stedi_pipeline.name).execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=selection, tags=tags,
        )


def check_keys() -> set:
    from stedi_assets.pipeline.assets import all_assets

    return {key for asset in all_assets for key in asset.check_keys}


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
def published(spark, small_landing, tmp_path_factory):
    """The small landing with every table published by `stedi run` (in this process) into a
    lake of its own, and what it printed: (landing, lake, printed_tables). Shared by the tests
    that only read it (the `stedi` commands, the row counts a run of the small landing gives);
    a test that changes a lake makes its own."""
    from stedi_assets.cli import main

    lake = tmp_path_factory.mktemp("published") / "lake"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEDI_LANDING_URI", str(small_landing))
        patch.setenv("STEDI_LAKE_URI", str(lake))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["run"]) == 0
    return small_landing, lake, printed_tables(out.getvalue())


@pytest.fixture(scope="session")
def course_sample() -> Path:
    if not COURSE_SAMPLE.is_dir():
        pytest.skip(f"course sample not found at {COURSE_SAMPLE}")
    return COURSE_SAMPLE


@pytest.fixture(scope="session", autouse=True)
def stedi_home(tmp_path_factory) -> Path:
    """The tests' own local state folder: their runs are never in the project's Dagster
    instance (`.stedi/dagster`) nor in a DAGSTER_HOME of the person running them."""
    home = tmp_path_factory.mktemp("stedi-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEDI_HOME", str(home))
        patch.delenv("DAGSTER_HOME", raising=False)
        yield home


# --- Markers: each test's cost, found from what it uses -------------------------------------
# So that a new test is classified without anyone marking it, each test gets one tier (an
# explicit tier mark wins):
#   pipeline: runs the stedi job (in this process or as `stedi run`), starts any subprocess,
#             or reads the whole course sample;
#   spark:    tiny hand-made frames on the session's JVM (the `spark` fixture);
#   unit:     neither: plain Python, no JVM, no server (`pytest -m unit`: seconds).
# A test that needs a server (`aws`, `connect`, `ui`: marked in its file) is never unit or
# spark. A test that runs a pipeline without one of PIPELINE_FIXTURES is marked `pipeline` in
# its file; `guard_tiers` below fails a unit or spark test that runs more than its tier
# allows, so a forgotten mark is loud, never a slow unit run.
TIERS = ("unit", "spark", "pipeline")
SERVERS = ("aws", "connect", "ui")
# Fixtures that run a whole pipeline, or hold pipeline-sized data.
PIPELINE_FIXTURES = {"published", "lake_env", "pipeline_run", "published_lake", "course_sample"}


def _tier(item) -> str:
    fixtures = set(getattr(item, "fixturenames", ()))
    if PIPELINE_FIXTURES & fixtures:
        return "pipeline"
    return "spark" if "spark" in fixtures else "unit"


# `make test` runs `pytest -n 2 --dist loadfile --no-loadscope-reorder`: each of two workers
# takes a whole file at a time (its module fixtures are built once), in collection order. The
# longest files come first, so the short ones fill in at the end instead of one worker running
# a long file alone.
LONGEST_FILES = ("test_on_s3.py", "test_incremental.py", "test_sensor_daemon.py",
                 "test_cluster.py", "test_checks_block.py", "test_write_audit_publish.py",
                 "test_validation_fast_path.py", "test_transforms.py")  # 90 s to 650 s each


def _longest_first(item) -> int:
    name = item.path.name
    return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)


def pytest_collection_modifyitems(items):
    items.sort(key=_longest_first)  # stable: each file's tests keep their order
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        if marks & set(TIERS) or not hasattr(item, "function"):
            continue
        tier = _tier(item)
        if tier != "pipeline" and marks & set(SERVERS):
            continue  # a server is its own cost
        item.add_marker(tier)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Runs a unit or spark test with what its tier excludes made to fail at once."""
    tier = next((name for name in ("unit", "spark") if item.get_closest_marker(name)), None)
    if tier is None:
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        guard_tiers(patch, tier)
        return (yield)


def guard_tiers(patch: pytest.MonkeyPatch, tier: str) -> None:
    def refuse(what: str, remedy: str):
        pytest.fail(f"a {tier} test {what}: {remedy}", pytrace=False)

    execute = JobDefinition.execute_in_process

    def execute_in_process(job, *args, **kwargs):
        if job.name == stedi_pipeline.name:
            refuse("runs the stedi pipeline", "mark it @pytest.mark.pipeline")
        return execute(job, *args, **kwargs)

    start = subprocess.Popen.__init__

    def popen(process, args, *more, **kwargs):
        program = Path(str(args[0] if isinstance(args, (list, tuple)) else args).split()[0]).name
        if program == "stedi" or program.startswith("dagster"):
            refuse(f"starts `{program}`", "mark it @pytest.mark.pipeline (or ui, for the "
                   "webserver or daemon)")
        start(process, args, *more, **kwargs)

    patch.setattr(JobDefinition, "execute_in_process", execute_in_process)
    patch.setattr(subprocess.Popen, "__init__", popen)
    if "moto.server" in sys.modules:
        patch.setattr(sys.modules["moto.server"].ThreadedMotoServer, "start",
                      lambda *_: refuse("starts a moto server", "mark it @pytest.mark.aws"))
    if tier == "unit":
        patch.setattr(SparkSession.Builder, "getOrCreate", lambda *_: refuse(
            "starts Spark", "use the `spark` fixture (or mark it @pytest.mark.spark)"))
