"""`dagster dev` (webserver and daemon) for the tests that need the real thing: on a free port
of 127.0.0.1, in a process group of its own, its output (and its runs') in a log file; and its
GraphQL API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT = 180  # seconds: the code location loads pyspark and dagster
# What the server's environment keeps of ours: where the jars are cached, nothing that changes
# what a run does.
KEPT_SETTINGS = ("STEDI_JARS", "STEDI_JAR_CACHE")


def dagster_env(**settings: str) -> dict[str, str]:
    """This process's environment without its stedi settings (but the jar cache) and its
    DAGSTER_HOME, with `settings` instead."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("STEDI_") or name in KEPT_SETTINGS}
    env.pop("DAGSTER_HOME", None)
    return env | settings


@contextmanager
def dagster_dev(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`dagster dev -m stedi_assets` with `env` (which names its DAGSTER_HOME); its URL. An
    error inside prints the log's tail (pytest shows it with the failure)."""
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-m", "stedi_assets",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: stopped with all it started
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, server, log_path)
        yield url
    except BaseException:
        print(f"--- the last lines of {log_path}:\n{tail(log_path, 80)}")
        raise
    finally:
        stop(server)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dagster dev exited ({server.returncode}):\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    pytest.fail(f"dagster dev did not answer within {SERVER_START_TIMEOUT} s:\n{tail(log)}")


def stop(server: subprocess.Popen) -> None:
    """Asks `dagster dev` to stop as Ctrl-C does; whatever of its group is left is killed."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)  # the webserver, daemon, code servers, runs
    except ProcessLookupError:
        pass
    server.wait()


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def graphql(url: str, query: str, **variables) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", json.dumps({"query": query, "variables": variables}).encode(),
        {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        reply = json.load(answer)
    assert "errors" not in reply, reply["errors"]
    return reply["data"]
