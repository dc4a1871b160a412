"""`stedi run` as a person sees it: one line per table, the tables, and the JVM's chatter in a
log file it names, never on the terminal."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from stedi_assets.rules.contract import ZONE_OF_TABLE
from stedi_assets.cli import failure_line, jvm_gone
from stedi_assets.operations.run_output import quiet
from stedi_assets_tests.conftest import printed_tables
from stedi_assets_tests.dagster_dev import free_port

STEDI = Path(sys.executable).parent / "stedi"

# What the JVM, Spark, log4j, Hadoop, Ivy and Python libraries print on their own.
CHATTER = re.compile(
    r"\bWARN\b|WARNING|log4j|SLF4J|Using incubator|NativeCodeLoader|loopback|"
    r"\w+Warning\b|setLogLevel|Setting default log level|[Ii]vy|:: resolv|artifacts copied|"
    r"Truncated the string representation|\bat org\.apache\.|py4j")


def stedi_run(tmp_path: Path, landing: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("STEDI_") and key != "DAGSTER_HOME"}
    env.update(STEDI_HOME=str(tmp_path / "home"), STEDI_LANDING_URI=str(landing),
               STEDI_LAKE_URI=str(tmp_path / "lake"))
    return subprocess.run([str(STEDI), "run", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)


def named_log(output: str, tmp_path: Path) -> Path:
    [named] = re.findall(r"(\S+\.log)\b", output)
    log = Path(named) if Path(named).is_absolute() else tmp_path / named
    assert log.is_file() and log.resolve().is_relative_to((tmp_path / "home" / "logs").resolve())
    return log


@pytest.mark.pipeline
def test_a_run_prints_progress_and_tables_and_leaves_the_chatter_in_a_log(small_landing,
                                                                         tmp_path):
    finished = stedi_run(tmp_path, small_landing)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-3000:]
    assert finished.stderr == "", finished.stderr[-3000:]
    chatter = [line for line in output.splitlines() if CHATTER.search(line)]
    assert not chatter, "\n".join(chatter[:20])
    published = printed_tables(finished.stdout)
    assert set(published) == set(ZONE_OF_TABLE)
    for table, (_, _, rows, _, _) in published.items():
        progress = [line for line in finished.stdout.splitlines()
                    if line.split()[:2] == [table, "built,"]]
        assert len(progress) == 1, (table, finished.stdout)
        assert re.search(rf"built, {rows} rows\b.*published.*\(\d+\.\d s\)$", progress[0])
    log = named_log(finished.stdout, tmp_path)
    logged = log.read_text(errors="replace")
    assert "Using incubator modules" in logged  # the JVM's first words
    assert "STEP_SUCCESS" in logged  # and Dagster's event log


@pytest.mark.pipeline
def test_a_failed_run_says_why_in_one_line_on_the_terminal(tmp_path):
    finished = stedi_run(tmp_path, tmp_path / "nowhere")
    assert finished.returncode == 1
    output = finished.stdout + finished.stderr
    chatter = [line for line in output.splitlines() if CHATTER.search(line)]
    assert not chatter, "\n".join(chatter[:20])
    assert "landing folder for customer not found" in finished.stderr
    said = {line.split()[0]: line.split(None, 1)[1] for line in finished.stdout.splitlines()
            if line.split()[:1] and line.split()[0] in ZONE_OF_TABLE}
    assert said["customer_landing"].startswith("failed (")
    assert said["customer_trusted"] == "not built: a table it reads failed"
    assert len(said) == len(ZONE_OF_TABLE)
    assert "Traceback" not in output
    named_log(output, tmp_path)


def test_quiet_sends_descriptors_and_python_streams_to_the_log(tmp_path, capfd):
    log = tmp_path / "logs" / "run.log"
    with quiet(log) as terminal:
        subprocess.run(["sh", "-c", "echo child says; echo child warns >&2"], check=True)
        print("python says")
        print("python warns", file=sys.stderr)  # where Python's warnings are shown
        terminal.say("a table built")
        terminal.say("a step failed", error=True)
    print("after")
    assert capfd.readouterr() == ("a table built\nafter\n", "a step failed\n")
    logged = log.read_text()
    assert logged.splitlines() == ["child says", "child warns", "python says", "python warns"]


def test_verbose_moves_nothing(capfd):
    with quiet(None) as terminal:
        print("python says")
        terminal.say("a table built")
    assert capfd.readouterr().out == "python says\na table built\n"


JVM_FAILURE = """An error occurred while calling o3744.collectToPython.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 9.0 failed
\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2898)
Caused by: org.apache.iceberg.exceptions.RuntimeIOException: Failed to open input stream
\tat org.apache.iceberg.aws.s3.S3InputStream.openStream(S3InputStream.java:207)
Caused by: java.net.SocketException: Connection reset
\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:328)
"""


@pytest.mark.unit
@pytest.mark.parametrize("message, line", [
    (JVM_FAILURE, "An error occurred while calling o3744.collectToPython. "
                  "java.net.SocketException: Connection reset"),
    ("An error occurred while calling o12.sql.\n: java.io.FileNotFoundException: /lake/x\n"
     "\tat java.io.File(File.java:1)", "An error occurred while calling o12.sql. "
                                        "java.io.FileNotFoundException: /lake/x"),
    ("table customer_trusted has no published snapshot yet\nmore", "table customer_trusted "
                                                                    "has no published snapshot yet"),
    ("", "no message"),
])
def test_a_failed_step_is_said_by_its_innermost_cause(message, line):
    assert failure_line(message) == line


def _error_of(call) -> object:
    from dagster._utils.error import serializable_error_info_from_exc_info
    try:
        call()
    except Exception:
        return serializable_error_info_from_exc_info(sys.exc_info())
    raise AssertionError("expected an error")


@pytest.mark.unit
def test_a_step_whose_jvm_is_gone_says_so():
    from py4j.java_gateway import GatewayParameters, JavaGateway

    port = free_port()  # nothing listens: as a JVM that was killed
    gateway = JavaGateway(gateway_parameters=GatewayParameters(port=port))
    try:
        assert jvm_gone(_error_of(lambda: gateway.jvm.System.currentTimeMillis()))
    finally:
        gateway.close()
    # A refused connection that is not Py4J's (an S3 endpoint, say) is said as it is.
    refused = _error_of(lambda: socket.create_connection(("127.0.0.1", port), timeout=5))
    assert refused.cls_name == "ConnectionRefusedError" and not jvm_gone(refused)
