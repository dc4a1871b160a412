"""A PostgreSQL server of the tests' own: Debian's binaries (`scripts/ensure-postgres` installs
them where missing), a cluster made with initdb in a temporary folder, on a free port of
127.0.0.1, password authentication only; stopped and its folder removed whatever happens.

PostgreSQL refuses to run as root: as root (CI), initdb and the server run as the `postgres`
user Debian's package creates, in a folder that user owns.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from stedi_assets.operations.settings import POSTGRES_SCHEME
from stedi_assets_tests.dagster_dev import ROOT, free_port, tail

SERVER_USER = "postgres"  # as root: Debian's package makes this user
SUPERUSER = "stedi"
DATABASE = "dagster"
START_TIMEOUT = 60  # seconds
# A throw-away cluster: nothing of it outlives the test, so nothing is flushed to disk.
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


@dataclass(frozen=True)
class Postgres:
    url: str  # postgresql+psycopg2://stedi:<password>@127.0.0.1:<port>/dagster
    password: str
    port: int


def server_binaries() -> Path:
    """The folder of initdb and pg_ctl, installed with apt-get where missing."""
    found = subprocess.run([str(ROOT / "scripts" / "ensure-postgres")],
                           capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(found.stderr.strip() or "scripts/ensure-postgres failed", pytrace=False)
    return Path(found.stdout.strip())


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A running server with the database `dagster`, owned by the password-protected
    superuser `stedi`."""
    binaries = server_binaries()
    as_server_user, owner = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="stedi-postgres-"))  # not under pytest's 0700 tmp
    data, log, password = folder / "data", folder / "server.log", secrets.token_hex(16)
    try:
        password_file = folder / "password"
        password_file.write_text(password + "\n")
        if owner is not None:
            for path in (folder, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        _run(as_server_user + [
            str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
            f"--pwfile={password_file}", "--auth=scram-sha-256", "--no-locale", "-E", "UTF8",
            "--no-sync"])
        password_file.unlink()
        port = free_port()
        started = subprocess.run(as_server_user + [
            str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
            "-t", str(START_TIMEOUT), "-o",
            f"-h 127.0.0.1 -p {port} -k {folder} {SERVER_OPTIONS}", "start"],
            capture_output=True, text=True)
        if started.returncode != 0:
            pytest.fail(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n"
                        f"{tail(log) if log.exists() else ''}", pytrace=False)
        _run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER,
              DATABASE], env=os.environ | {"PGPASSWORD": password})
        yield Postgres(f"{POSTGRES_SCHEME}://{SUPERUSER}:{password}@127.0.0.1:{port}/{DATABASE}",
                       password, port)
    finally:
        _stop(binaries, as_server_user, data)
        shutil.rmtree(folder, ignore_errors=True)


def _server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a program as the server's user, and that user (None: this
    one)."""
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.fail(f"as root, PostgreSQL runs as the user {SERVER_USER!r}, and there is none "
                    "(Debian's postgresql package creates it)", pytrace=False)
    return ["runuser", "-u", SERVER_USER, "--"], owner


def _run(command: list[str], **kwargs) -> None:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command[:3])} … failed ({done.returncode}):\n"
                    f"{done.stdout}{done.stderr}", pytrace=False)


def _stop(binaries: Path, as_server_user: list[str], data: Path) -> None:
    """pg_ctl's fast shutdown; a server still there after it is killed."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return  # never started
    subprocess.run(as_server_user + [str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast",
                                     "-w", "-t", "30", "stop"], capture_output=True)
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return  # gone: the server removes its pid file as it exits
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
