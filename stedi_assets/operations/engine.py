"""`stedi engine`: a warm Spark engine on this machine, a Spark Connect server that outlives
runs, so a run (`stedi run`, the UI's, the sensor's) starts no JVM and resolves no jars of its
own: `STEDI_SPARK_REMOTE=sc://127.0.0.1:15002`.

The server is the installed pyspark's (`bin/spark-submit --class SparkConnectServer`; the pip
wheel has no start-connect-server.sh), bound to 127.0.0.1, with its pid and log in
`<STEDI_HOME>/engine`. It is given what every lake's catalog needs (Iceberg's jars, its SQL
extension, S3's connector when the lake or landing is on S3) but no catalog: each Connect
session brings its own as SQL settings, so one engine serves several lakes.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from stedi_assets.operations.settings import Settings

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
HOST = "127.0.0.1"
DEFAULT_PORT = 15002  # Spark Connect's own default
PORT_SETTING = "spark.connect.grpc.binding.port"
# The first start downloads Iceberg's jars (about 60 MB, 116 MB with S3) into the jar cache.
START_TIMEOUT = 600
STOP_TIMEOUT = 30
PID_FILE, LOG_FILE = "connect.pid", "connect.log"
# A Java exception's first line: `java.net.BindException: Failed to bind …`, possibly after
# `Exception in thread "main" `.
_FAILURE = re.compile(r"(?:[a-z_$][\w$]*\.)+[\w$]*(?:Exception|Error)\b.*")


class EngineError(RuntimeError):
    """The engine cannot be started, stopped or reached; the message is one line."""


@dataclass(frozen=True)
class Server:
    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"sc://{HOST}:{self.port}"


def server_command(settings: Settings, port: int, spark_home: Path) -> list[str]:
    """spark-submit's arguments for the server: the lake's Spark settings but its catalog, and
    nothing listening beyond 127.0.0.1."""
    from stedi_assets.operations.spark_config import (
        DRIVER_MEMORY, JVM_SETTINGS, lake_catalog, with_class_archive,
    )

    conf = {key: value for key, value in lake_catalog(settings).spark_conf().items()
            if not key.startswith("spark.sql.catalog.")}
    conf = with_class_archive(conf, settings)
    conf |= {**JVM_SETTINGS, "spark.ui.enabled": "false", "spark.driver.host": HOST,
             "spark.driver.bindAddress": HOST, "spark.connect.grpc.binding.address": HOST,
             PORT_SETTING: str(port)}
    return [str(spark_home / "bin" / "spark-submit"), "--class", SERVER_CLASS,
            "--name", "stedi-engine", "--master", settings.spark_master,
            "--driver-memory", DRIVER_MEMORY,
            *(part for key, value in conf.items() for part in ("--conf", f"{key}={value}"))]


def pyspark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def running(folder: Path) -> Server | None:
    """The engine whose pid `folder` holds, if that process is still an engine; a pid file
    left by one that died (or whose pid another process now has) is removed."""
    pid_file = folder / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return None
    arguments = _arguments(pid)
    port = re.search(rf"{re.escape(PORT_SETTING)}=(\d+)", arguments)
    if SERVER_CLASS not in arguments or not port:
        pid_file.unlink(missing_ok=True)
        return None
    return Server(pid, int(port.group(1)))


def _arguments(pid: int) -> str:
    """The process's command line; '' when there is no such process (or only its zombie)."""
    shown = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(pid)],
                           capture_output=True, text=True, check=False)
    return shown.stdout.strip()


def start(settings: Settings, folder: Path, port: int = DEFAULT_PORT,
          spark_home: Path | None = None, timeout: float = START_TIMEOUT) -> tuple[Server, bool]:
    """The engine, started unless it runs already (then False), once its server listens."""
    from stedi_assets.operations.spark_config import jars_resolved_alone, lake_catalog

    server = running(folder)
    if server:
        return server, False
    _refuse_busy_port(port)
    folder.mkdir(parents=True, exist_ok=True)
    spark_home = spark_home or pyspark_home()
    command = server_command(settings, port, spark_home)
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": HOST}
    log = folder / LOG_FILE
    with jars_resolved_alone(lake_catalog(settings).spark_conf()):
        with log.open("w") as output:
            # A session of its own: the terminal's Ctrl-C and the CLI's exit leave it running.
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT, env=env, start_new_session=True)
        (folder / PID_FILE).write_text(f"{process.pid}\n")
        try:
            _wait_until_listening(process, port, log, timeout)
        except BaseException:  # a failed start, or Ctrl-C while waiting: no half-started engine
            _end(process.pid, grace=0)
            process.wait()
            (folder / PID_FILE).unlink(missing_ok=True)
            raise
    return Server(process.pid, port), True


def _refuse_busy_port(port: int) -> None:
    with socket.socket() as probe:
        # As a server binds: a port whose last connections are closing (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise EngineError(f"{HOST}:{port} is in use by another program: choose another "
                              "port with --port") from None


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path,
                          timeout: float) -> None:
    """Returns once the port (free before the start) accepts connections: the server's gRPC
    service is up. Its log would say so too, unless a log4j configuration hides INFO."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")
            raise EngineError(f"the engine did not start: {failure(text)} (log: {log})")
        if _listens(port):
            return
        time.sleep(0.2)
    raise EngineError(f"the engine did not start within {timeout:g} s (log: {log})")


def _listens(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(5)
        return probe.connect_ex((HOST, port)) == 0


def failure(log: str) -> str:
    """What a failed start's log says went wrong, in one line: its first Java exception."""
    found = _FAILURE.search(log)
    if found:
        return found.group(0).strip()[:400]
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1].strip()[:400] if lines else "it exited without a word"


def stop(folder: Path) -> Server | None:
    """Stops the engine (None when none runs): SIGTERM, as Spark's own scripts do, then
    SIGKILL if it has not exited within STOP_TIMEOUT."""
    server = running(folder)
    if server:
        _end(server.pid, STOP_TIMEOUT)
        (folder / PID_FILE).unlink(missing_ok=True)
    return server


def _end(pid: int, grace: float) -> None:
    """Ends the server's process group (it and any Python worker it started)."""
    for signal_number, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.killpg(pid, signal_number)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if SERVER_CLASS not in _arguments(pid):
                return
            time.sleep(0.2)


def answers(server: Server) -> float:
    """Seconds a new Connect session takes to run a trivial query, or EngineError."""
    if not _listens(server.port):
        raise EngineError(f"the engine (pid {server.pid}) does not accept connections "
                          f"at {server.url}")
    from pyspark.sql import SparkSession

    started = time.monotonic()
    try:
        session = SparkSession.builder.remote(server.url).create()
        # A reattachable query is released after the answer, in the background: the
        # session's stop would come first and the server would log SESSION_CLOSED errors.
        session.client.disable_reattachable_execute()
        try:
            session.range(1).count()
        finally:
            session.stop()
    except Exception as problem:  # whatever the client raises, the answer is "it does not answer"
        lines = str(problem).strip().splitlines()
        raise EngineError(f"the engine at {server.url} (pid {server.pid}) does not answer: "
                          f"{lines[0] if lines else type(problem).__name__}") from None
    return time.monotonic() - started


def command(action: str, folder: Path, port: int = DEFAULT_PORT) -> int:
    """`stedi engine start|stop|status`; what it says, and its exit status."""
    from stedi_assets.operations.java import find_java
    from stedi_assets.operations.settings import load_settings

    if action == "start":
        settings = load_settings()
        find_java()
        server, started = start(settings, folder, port)
        print(f"engine {'started' if started else 'already running'} at {server.url} "
              f"(pid {server.pid}, log {folder / LOG_FILE})")
        print(f"STEDI_SPARK_REMOTE={server.url}")
        return 0
    if action == "stop":
        server = stop(folder)
        print(f"engine stopped (pid {server.pid})" if server else "engine not running")
        return 0
    server = running(folder)
    if not server:
        print("engine not running")
        return 1
    seconds = answers(server)
    print(f"engine running at {server.url} (pid {server.pid}): a query answered in "
          f"{seconds:.1f} s")
    return 0

