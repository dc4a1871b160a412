"""The whole pipeline, its code unchanged, on a real cluster: a Spark standalone master and
worker started from the installed pyspark (`STEDI_SPARK_MASTER=spark://…`), and the warm
engine, a Spark Connect server started by `stedi engine` (`STEDI_SPARK_REMOTE=sc://…`). Both
give the course sample's contract counts. Each server starts once for the module, on free
ports of 127.0.0.1, and is stopped whatever happens; a failure prints the end of its log."""

from __future__ import annotations

import os
import signal
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from stedi_assets.operations import engine
from stedi_assets_tests.conftest import printed_tables
from stedi_assets_tests.dagster_dev import dagster_env, free_port, tail
from stedi_assets_tests.test_course_sample import EXPECTED

pytestmark = pytest.mark.pipeline

STEDI = Path(sys.executable).with_name("stedi")
SPARK_HOME = engine.pyspark_home()
START_TIMEOUT = 120  # seconds, for a master or worker on a loaded 2-core machine
RUN_TIMEOUT = 900
AWS_ICEBERG_VERSION = "1.11.0"  # Glue 6, EMR 8.1


@contextmanager
def logs_shown_on_failure(*logs: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for log in logs:
            if log.exists():
                print(f"--- the last lines of {log}:\n{tail(log, 60)}")
        raise


@contextmanager
def spark_daemon(arguments: list[str], ready: str, log: Path, env: dict) -> Iterator[None]:
    """`spark-class <arguments>` in the foreground of a process group of its own, until `ready`
    is in its log; stopped (the group: a worker's executors too) on the way out."""
    with log.open("w") as output:
        process = subprocess.Popen([str(SPARK_HOME / "bin" / "spark-class"), *arguments],
                                   stdout=output, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while ready not in log.read_text(errors="replace"):
            assert process.poll() is None, f"{arguments[0]} exited ({process.returncode})"
            assert time.monotonic() < deadline, f"{arguments[0]} not ready in {START_TIMEOUT} s"
            time.sleep(0.2)
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory) -> Iterator[tuple[str, Path, list[Path]]]:
    """A master and a worker of 2 cores: the master's URL, the worker's work dir, the logs."""
    folder = tmp_path_factory.mktemp("cluster")
    # The master's REST submission server would take port 6066, whoever else has it.
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}
    port, work = free_port(), folder / "work"  # executors copy the jars here: a temporary one
    logs = [folder / "master.log", folder / "worker.log"]
    url = f"spark://127.0.0.1:{port}"
    with logs_shown_on_failure(*logs), \
            spark_daemon(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                          "--port", str(port), "--webui-port", str(free_port())],
                         "I have been elected leader! New state: ALIVE", logs[0], env), \
            spark_daemon(["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                          "--webui-port", str(free_port()), "--cores", "2", "--memory", "2g",
                          "--work-dir", str(work)],
                         "Successfully registered with master", logs[1], env):
        yield url, work, logs


def stedi(home: Path, *arguments: str, **settings: str) -> subprocess.CompletedProcess:
    """`stedi <arguments>` with only `settings` (and the jar cache) for stedi settings."""
    env = dagster_env(STEDI_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1", **settings)
    return subprocess.run([str(STEDI), *arguments], env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)


def published_counts(home: Path, landing: Path, **settings: str) -> dict[str, int]:
    """`stedi run` on `landing` into a lake of its own: the row count of each table it
    printed as published."""
    finished = stedi(home, "run", STEDI_LANDING_URI=str(landing),
                     STEDI_LAKE_URI=str(home / "lake"), **settings)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return {table: int(row[2]) for table, row in printed_tables(finished.stdout).items()}


def test_the_pipeline_runs_unchanged_on_a_standalone_cluster(standalone_cluster, course_sample,
                                                             tmp_path):
    """On Iceberg 1.11.0, what AWS's managed Spark ships (Glue 6, EMR 8.1); the pinned version
    runs the course sample everywhere else (test_course_sample.py)."""
    url, work, logs = standalone_cluster
    with logs_shown_on_failure(*logs):
        assert published_counts(tmp_path, course_sample, STEDI_SPARK_MASTER=url,
                                STEDI_ICEBERG_VERSION=AWS_ICEBERG_VERSION) == EXPECTED["any"]
        # The worker's executor did the work, not a local Spark of the run's own…
        assert list(work.glob("app-*/*/stderr")), "the worker launched no executor"
        assert "Asked to launch executor" in logs[1].read_text()
        # …with the Iceberg runtime asked for.
        runtimes = {path.name for path in work.glob("app-*/*/*iceberg-spark-runtime*.jar")}
        assert runtimes and all(AWS_ICEBERG_VERSION in name for name in runtimes), runtimes


@pytest.mark.connect
def test_the_pipeline_runs_unchanged_on_the_warm_engine(course_sample, tmp_path):
    home, port = tmp_path, free_port()
    folder = home / "engine"
    log = folder / engine.LOG_FILE
    remote = f"sc://127.0.0.1:{port}"
    try:
        with logs_shown_on_failure(log):
            started = stedi(home, "engine", "start", "--port", str(port))
            assert started.returncode == 0, started.stderr
            assert started.stdout.splitlines()[-1] == f"STEDI_SPARK_REMOTE={remote}"
            again = stedi(home, "engine", "start")
            assert again.returncode == 0 and "engine already running at " + remote in again.stdout
            status = stedi(home, "engine", "status")
            assert status.returncode == 0, status.stderr
            assert status.stdout.startswith(f"engine running at {remote} (pid ")

            landing = home / "landing"
            shutil.copytree(course_sample, landing)
            assert published_counts(home, landing, STEDI_SPARK_REMOTE=remote) == (
                EXPECTED["any"])
            # The engine did the work: its log shows the run's Iceberg commits.
            assert "committed to table stedi.machine_learning_curated" in log.read_text()

            # An incremental run through Connect: a copy of a landing file, every reading a
            # repeat, is appended to the landing table and adds nothing downstream (its row
            # accounting once read the appended rows as the whole table through Connect).
            copied = sorted((landing / "accelerometer").rglob("*.json"))[0]
            shutil.copy(copied, copied.with_name("copy-" + copied.name))
            lines = sum(1 for line in copied.read_text().splitlines() if line.strip())
            assert published_counts(home, landing, STEDI_SPARK_REMOTE=remote) == {
                **EXPECTED["any"],
                "accelerometer_landing": EXPECTED["any"]["accelerometer_landing"] + lines}

            stopped = stedi(home, "engine", "stop")
            assert stopped.returncode == 0 and stopped.stdout.startswith("engine stopped (pid ")
            assert stedi(home, "engine", "status").stdout == "engine not running\n"
    finally:
        engine.stop(folder)  # when anything above failed
