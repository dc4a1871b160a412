"""`stedi engine` without a JVM: the server's command line, its pid file, how it fails. A fake
spark-submit stands in for the server; test_cluster.py starts the real one."""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stedi_assets.operations import engine
from stedi_assets.cli import main
from stedi_assets.operations.engine import PID_FILE, SERVER_CLASS, EngineError, Server
from stedi_assets.lake.catalog import S3_EXCLUDES
from stedi_assets.operations.settings import load_settings
from stedi_assets.operations.spark_config import lake_catalog

from stedi_assets_tests.dagster_dev import free_port

SPARK_HOME = Path("/opt/spark")
S3 = {"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_LANDING_URI": "s3://bucket/landing",
      "STEDI_PSEUDONYM_KEY": "a-key-of-our-own", "AWS_REGION": "eu-west-1"}


def conf(command: list[str]) -> dict[str, str]:
    pairs = [command[i + 1] for i, part in enumerate(command) if part == "--conf"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_server_has_the_jars_and_extension_of_any_lake_but_no_catalog(tmp_path):
    settings = load_settings({"STEDI_LAKE_URI": str(tmp_path / "lake"),
                              "STEDI_JAR_CACHE": str(tmp_path / "ivy")})
    command = engine.server_command(settings, 15123, SPARK_HOME)

    assert command[:3] == ["/opt/spark/bin/spark-submit", "--class", SERVER_CLASS]
    assert command[command.index("--master") + 1] == "local[*]"
    given = conf(command)
    assert given["spark.jars.packages"] == ",".join(lake_catalog(settings).packages())
    assert "org.xerial:sqlite-jdbc" in given["spark.jars.packages"]
    assert given["spark.jars.ivy"] == str(tmp_path / "ivy")
    assert given["spark.sql.extensions"].endswith("IcebergSparkSessionExtensions")
    # Each session brings its lake's catalog: one engine serves every lake.
    assert not [key for key in given if key.startswith("spark.sql.catalog.")]
    # Nothing listens beyond this machine.
    assert given["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert given["spark.connect.grpc.binding.port"] == "15123"
    assert given["spark.driver.bindAddress"] == given["spark.driver.host"] == "127.0.0.1"
    assert given["spark.ui.enabled"] == "false"


def test_on_s3_the_server_gets_the_aws_bundle_and_connector_without_the_sdk_bundle():
    given = conf(engine.server_command(load_settings(S3), engine.DEFAULT_PORT, SPARK_HOME))
    assert "org.apache.iceberg:iceberg-aws-bundle" in given["spark.jars.packages"]
    assert "org.apache.hadoop:hadoop-aws" in given["spark.jars.packages"]
    assert given["spark.jars.excludes"] == S3_EXCLUDES
    assert given["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"


def test_with_provided_jars_and_a_master_the_server_resolves_nothing_and_uses_the_cluster():
    command = engine.server_command(load_settings({
        **S3, "STEDI_JARS": "provided", "STEDI_SPARK_MASTER": "spark://10.0.0.5:7077"}),
        engine.DEFAULT_PORT, SPARK_HOME)
    assert command[command.index("--master") + 1] == "spark://10.0.0.5:7077"
    assert not {"spark.jars.packages", "spark.jars.ivy"} & set(conf(command))


def fake_spark_home(tmp_path: Path, body: str) -> Path:
    """A spark-submit that runs `body` (Python) with the server's arguments on its command
    line, as the real one's java has them."""
    script = tmp_path / "spark" / "bin" / "spark-submit"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return script.parents[1]


LISTENS = """
    import re, socket, sys, time
    port = int(re.search(r"binding.port=(\\d+)", " ".join(sys.argv)).group(1))
    server = socket.create_server(("127.0.0.1", port))
    print("INFO SparkConnectServer: Spark Connect server started", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "engine"
    yield folder
    engine.stop(folder)  # whatever a failed test left running


def test_start_waits_until_the_server_listens_and_a_second_start_finds_it(tmp_path, folder):
    port = free_port()
    spark = fake_spark_home(tmp_path, LISTENS)

    server, started = engine.start(load_settings({}), folder, port, spark, timeout=60)

    assert started and server == Server(int((folder / PID_FILE).read_text()), port)
    assert server.url == f"sc://127.0.0.1:{port}"
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    # Starting again (on any port) is not an error: it says which engine runs.
    assert engine.start(load_settings({}), folder, free_port(), spark) == (server, False)
    assert engine.running(folder) == server

    assert engine.stop(folder) == server
    assert engine.running(folder) is None and not (folder / PID_FILE).exists()
    with pytest.raises(ConnectionRefusedError):  # ended, not only asked to end
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert engine.stop(folder) is None


def test_a_server_that_fails_to_start_is_one_line_with_its_cause(tmp_path, folder):
    spark = fake_spark_home(tmp_path, """
        import sys
        print("26/11/29 09:57:28 ERROR SparkConnectServer: Error starting Spark Connect server")
        print("java.net.BindException: Failed to bind to address /127.0.0.1:15303: taken")
        print("\\tat org.sparkproject.connect.grpc.netty.NettyServer.start(NettyServer.java:1)")
        sys.exit(255)
    """)
    with pytest.raises(EngineError) as failed:
        engine.start(load_settings({}), folder, free_port(), spark, timeout=60)
    assert str(failed.value) == (
        "the engine did not start: java.net.BindException: Failed to bind to address "
        f"/127.0.0.1:15303: taken (log: {folder / 'connect.log'})")
    assert not (folder / PID_FILE).exists()


def test_a_server_that_never_listens_is_ended_after_the_timeout(tmp_path, folder):
    spark = fake_spark_home(tmp_path, "import os, time\nprint(os.getpid(), flush=True)\n"
                                      "time.sleep(120)\n")
    with pytest.raises(EngineError, match=r"did not start within 1 s \(log: .*connect.log\)"):
        engine.start(load_settings({}), folder, free_port(), spark, timeout=1)
    pid = int((folder / "connect.log").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (folder / PID_FILE).exists()


def test_the_failure_line_is_the_first_java_exception_or_the_last_line():
    log = ('Exception in thread "main" java.lang.RuntimeException: [unresolved dependency: '
           'org.example#nothing;1.0: not found]\n\tat org.apache.spark.deploy.SparkSubmit\n')
    assert engine.failure(log) == ("java.lang.RuntimeException: [unresolved dependency: "
                                   "org.example#nothing;1.0: not found]")
    assert engine.failure("starting\nError: JAVA_HOME is not set\n\n") == (
        "Error: JAVA_HOME is not set")
    assert engine.failure("") == "it exited without a word"


def test_a_busy_port_is_refused_before_anything_starts(tmp_path, folder):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(EngineError, match=f"127.0.0.1:{port} is in use by another program"):
            engine.start(load_settings({}), folder, port, fake_spark_home(tmp_path, LISTENS))
    assert not folder.exists()


def test_a_pid_file_of_a_dead_process_or_of_another_program_is_stale(tmp_path):
    folder = tmp_path / "engine"
    folder.mkdir()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    for pid in (finished.stdout.strip(), str(os.getpid()), "not a pid"):
        (folder / PID_FILE).write_text(pid)
        assert engine.running(folder) is None
        assert not (folder / PID_FILE).exists()
        assert engine.stop(folder) is None


def test_the_cli_says_in_one_line_what_the_engine_does(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_HOME", str(tmp_path))
    assert main(["engine", "status"]) == 1
    assert capsys.readouterr().out == "engine not running\n"
    assert main(["engine", "stop"]) == 0
    assert capsys.readouterr().out == "engine not running\n"
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["engine", "start", "--port", str(port)]) == 1
    said = capsys.readouterr()
    assert said.err == (f"stedi engine: 127.0.0.1:{port} is in use by another program: "
                        "choose another port with --port\n")
    assert said.out == ""
