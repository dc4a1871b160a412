"""What `stedi run` shows a person: one line per table as it is built, the published tables,
and errors; the JVM's, Spark's and Dagster's own output goes to a log file."""

from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, TextIO

from dagster import AssetCheckSeverity, DagsterEventType

ROW_COUNT = "dagster/row_count"
# How a run changed a table (its plan: stedi_assets.lake.incremental), in words.
CHANGE_WORDS = {"full": "built", "append": "appended to", "unchanged": "unchanged"}
TAIL_WAIT = "DAGSTER_COMPUTE_LOG_TAIL_WAIT_AFTER_FINISH"
TAIL_SECONDS = "0.2"


def log_path(home: Path, run_id: str) -> Path:
    """A new log file's path under the state folder: logs/run-<UTC time>-<run id>.log."""
    started = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return home / "logs" / f"run-{started}-{run_id[:8]}.log"


@dataclass
class Terminal:
    """Where a person reads: the process's stdout and stderr as they were before the run."""

    out: TextIO
    err: TextIO

    def say(self, line: str, error: bool = False) -> None:
        stream = self.err if error else self.out
        print(line, file=stream, flush=True)


@contextmanager
def quiet(log: Path | None) -> Iterator[Terminal]:
    """Sends everything written to file descriptors 1 and 2, and to sys.stdout and sys.stderr
    (Python warnings, Dagster's console log), to `log` until the end of the block; yields the
    terminal as it was. The JVM that Spark starts inherits descriptors 1 and 2, so they are
    redirected, not only Python's streams, and before it starts. `log` None: nothing moves."""
    if log is None:
        yield Terminal(sys.stdout, sys.stderr)
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    log.parent.mkdir(parents=True, exist_ok=True)
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    terminal = Terminal(_kept(sys.stdout, 1), _kept(sys.stderr, 2))
    streams = sys.stdout, sys.stderr
    saved = os.dup(1), os.dup(2)
    # An instance that keeps compute logs copies them here with `tail -F`, which Dagster stops
    # at once unless told to wait, and the last output (a failure) would be lost. GNU tail
    # follows the file by inotify, within a millisecond: a fifth of a second per stream is
    # ample even on a loaded machine (a second each, as before, cost every run 2 s).
    wait = os.environ.get(TAIL_WAIT)
    os.environ[TAIL_WAIT] = wait or TAIL_SECONDS
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        sys.stdout, sys.stderr = (open(fd, "w", buffering=1, encoding="utf-8",
                                       errors="backslashreplace", closefd=False) for fd in (1, 2))
        yield terminal
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = streams
        for fd, original in zip((1, 2), saved):
            os.dup2(original, fd)
            os.close(original)
        os.close(target)
        if wait is None:
            del os.environ[TAIL_WAIT]
        for stream in (terminal.out, terminal.err):
            if stream not in streams:
                stream.close()


def _kept(stream: TextIO, fd: int) -> TextIO:
    """`stream`, or when it writes to descriptor `fd` (about to go to the log), a stream on a
    copy of that descriptor, which stays on the terminal."""
    try:
        if stream.fileno() != fd:
            return stream
    except (AttributeError, ValueError, io.UnsupportedOperation):  # a StringIO, a test capture
        return stream
    return open(os.dup(fd), "w", buffering=1, encoding=stream.encoding,
                errors=stream.errors or "backslashreplace")


@dataclass
class _Table:
    change: str | None = None  # full, append or unchanged
    started: float | None = None
    rows: int | None = None
    passed: int = 0
    warnings: int = 0
    failed: list[str] = field(default_factory=list)


class Progress:
    """Listens to a run's Dagster events and says one line per table when its step ends:
    `customer_trusted   built, 120 rows, 5 checks passed, published (3.1 s)`."""

    def __init__(self, defs, terminal: Terminal):
        self.terminal = terminal
        # An asset's op is its step, which runs its checks too.
        self.table_of_step: dict[str, str] = {
            definition.node_def.name: definition.key.path[-1] for definition in defs.assets or ()
            if len(definition.keys) == 1}
        self.width = max(map(len, self.table_of_step.values()), default=0)
        self.tables: dict[str, _Table] = {}
        self.said: set[str] = set()

    def __call__(self, entry) -> None:
        event = entry.dagster_event
        table = self.table_of_step.get(event.step_key) if event else None
        if table is None:
            return
        seen = self.tables.setdefault(table, _Table())
        if event.is_step_start and seen.started is None:
            seen.started = entry.timestamp
        elif event.is_step_materialization:
            metadata = event.step_materialization_data.materialization.metadata
            rows, change = metadata.get(ROW_COUNT), metadata.get("change")
            seen.rows = rows.value if rows else None
            seen.change = change.value if change else None
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if evaluation.passed:
                seen.passed += 1
            elif evaluation.severity == AssetCheckSeverity.WARN:
                seen.warnings += 1
            else:
                seen.failed.append(evaluation.check_name)
        elif event.is_step_failure and seen.rows is None:
            self.say(table, "failed" + self.took(seen, entry))
        elif event.is_step_failure or event.is_step_success:
            self.say(table, self.outcome(seen, event.is_step_success) + self.took(seen, entry))

    def finish(self) -> None:
        """Says the tables the run never reached (Dagster skips the steps after a failure
        without an event of their own)."""
        for table in self.table_of_step.values():
            seen = self.tables.get(table, _Table())
            self.say(table, "not built: a table it reads failed" if seen.rows is None
                     else self.outcome(seen, False))

    def say(self, table: str, what: str) -> None:
        if table not in self.said:  # a table's checks are skipped when the table failed
            self.said.add(table)
            self.terminal.say(f"{table.ljust(self.width)}  {what}")

    @staticmethod
    def outcome(seen: _Table, succeeded: bool) -> str:
        parts = [f"{CHANGE_WORDS.get(seen.change, 'built')}, {seen.rows} rows"]
        if seen.passed:
            parts.append(f"{seen.passed} checks passed")
        if seen.warnings:
            parts.append(f"{seen.warnings} warning{'s' * (seen.warnings > 1)}")
        if seen.failed:
            parts.append(f"check failed: {', '.join(seen.failed)}")
        parts.append("published" if succeeded and not seen.failed else "not published")
        return ", ".join(parts)

    @staticmethod
    def took(seen: _Table, entry) -> str:
        return f" ({entry.timestamp - seen.started:.1f} s)" if seen.started else ""
