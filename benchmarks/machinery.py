"""What the pipeline's machinery costs: seconds, Spark jobs, Iceberg commits, bytes collected
to the driver and seconds outside Spark, per run and per Dagster step, against the plain script.

For each size (the course sample, copied, and generated samples: `10x`, any `<k>x`), N times
(--repeat, default 3), alternated:

- cold: `stedi run` into a fresh lake, then `benchmarks/plain_pyspark.py` into another, each a
  fresh process with a JVM of its own;
- warm: the same two through one Spark Connect server (`stedi engine start`, once, on a port of
  its own; stopped whatever happens; warmed up first by one pipeline run and one plain run
  that are not counted), then a second `stedi run` on the pipeline's lake (it finds
  nothing new) and, at --incremental-size (default 10x), new landing files holding 1 % more
  readings (benchmarks/new_readings.py) and a third `stedi run` (incremental); the files are
  removed afterwards, so every repeat starts from the same landing.

Nothing in the product changes: Spark reads a `spark-defaults.conf` and a `log4j2.properties`
from SPARK_CONF_DIR, a folder made here, which turn on Spark's event log (JSON lines) and send
Iceberg's "Successfully committed to table" lines (BaseMetastoreTableOperations: every catalog
commit, JDBC or Glue) to a file of their own. A cold run's JVM gets a folder per run; the warm
engine gets one at its start and its runs are told apart by time. The Dagster steps' start and
end come from the run's own records in its Dagster instance (<STEDI_HOME>/dagster), by step
key, whatever the steps are. Jobs (by submission time) and commits (by the time they were
logged) are attributed to the step whose interval holds them; what falls between steps shows
as "(outside steps)". The JVM's lines miss the pipeline's pyiceberg commits (audit branches
and publishes), so each run's catalog commits are also counted from the tables' metadata logs
(any writer: the "in metadata" column); per step, only the JVM's are attributed.
The plain script writes Parquet: no commits. Runs are `stedi run` (their events are in the
instance; `dagster asset materialize` on an ephemeral instance keeps none), each size's runs
sharing one instance, made before the first timed run.

Prints medians: per run kind, the pipeline's and the plain script's seconds and their ratio,
the pipeline's Spark jobs (count and summed seconds), Iceberg commits, bytes of result tasks
sent to the driver (task metric "Result Size"), seconds outside Spark (the run minus the union
of its jobs' intervals) and seconds before the first step (the process's start to the first
STEP_START: imports, Dagster); the plain script's jobs. Then a table per step for cold and warm
runs of the first size.

    python benchmarks/machinery.py [--sizes course,10x] [--repeat 3] [--engine-port N]
        [--incremental-size 10x] [--skip-cold] [--skip-warm] [--keep]

A warm run used to fail now and then with KeyError: 'lines' in accelerometer_landing (the
write's observed count of unclean lines missing through Spark Connect, on a loaded machine);
validation now judges those lines anyway when the count is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Iterable, Iterator

from incremental import landing_for, parsed_sizes, server_pids, size_name
from new_readings import drop, first_ms, open_lake, owners, readings_to_add, training_rows
from pipeline_vs_plain_pyspark import BIN, ROOT, timed

STEDI_RUN = [str(BIN / "stedi"), "run"]
PLAIN = [sys.executable, str(ROOT / "benchmarks" / "plain_pyspark.py")]
KEPT_SETTINGS = ("STEDI_JARS", "STEDI_JAR_CACHE")  # where the jars are; nothing a run decides
OUTSIDE_STEPS = "(outside steps)"
EVENT_LOG_SETTLE = 1.0  # seconds the engine's event log must stay unchanged after a run
EVENT_LOG_WAIT = 15.0

# --- Spark's configuration folder: the event log and Iceberg's commit lines ------------------

COMMIT_LOGGERS = ("org.apache.iceberg.BaseMetastoreTableOperations",)
COMMITS_FILE = "iceberg-commits.log"


def write_conf_dir(folder: Path, root_level: str = "WARN") -> tuple[Path, Path, Path]:
    """A SPARK_CONF_DIR: (conf dir, event log dir, commit lines file). The console keeps what
    Spark shows without a configuration of ours (WARN in a PySpark driver, INFO in a server
    started by spark-submit: `root_level`); the commit lines go to a file only."""
    conf, events = folder / "conf", folder / "events"
    conf.mkdir(parents=True, exist_ok=True)
    events.mkdir(parents=True, exist_ok=True)
    commits = folder / COMMITS_FILE
    (conf / "spark-defaults.conf").write_text(
        "spark.eventLog.enabled true\n"
        f"spark.eventLog.dir file://{events}\n"
        "spark.eventLog.compress false\n"
        "spark.eventLog.rolling.enabled false\n")
    loggers = "".join(
        f"logger.commit{n}.name = {name}\nlogger.commit{n}.level = info\n"
        f"logger.commit{n}.additivity = false\nlogger.commit{n}.appenderRef.file.ref = commits\n"
        for n, name in enumerate(COMMIT_LOGGERS))
    (conf / "log4j2.properties").write_text(
        f"rootLogger.level = {root_level.lower()}\n"
        "rootLogger.appenderRef.stdout.ref = console\n"
        "appender.console.type = Console\n"
        "appender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex\n"
        "appender.commits.type = File\n"
        "appender.commits.name = commits\n"
        f"appender.commits.fileName = {commits}\n"
        "appender.commits.append = true\n"
        "appender.commits.immediateFlush = true\n"
        "appender.commits.layout.type = PatternLayout\n"
        "appender.commits.layout.pattern = %d{UNIX_MILLIS} %c %m%n\n"
        + loggers)
    return conf, events, commits


# --- Parsers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A Spark job: submitted and completed (seconds since the epoch), and the bytes its result
    tasks sent to the driver."""
    id: int
    start: float
    end: float
    result_bytes: int = 0

    @property
    def seconds(self) -> float:
        return self.end - self.start


def spark_jobs(lines: Iterable[str]) -> list[Job]:
    """The completed jobs of a Spark event log (JSON lines), in submission order. A line that
    is not JSON (the last one of a log still being written) is skipped; a job without its
    JobEnd is left out."""
    started, ended, job_of_stage = {}, {}, {}
    result_bytes: dict[int, int] = defaultdict(int)  # by stage
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("Event")
        if kind == "SparkListenerJobStart":
            started[event["Job ID"]] = event["Submission Time"] / 1000
            for stage in event.get("Stage IDs", ()):
                job_of_stage.setdefault(stage, event["Job ID"])
        elif kind == "SparkListenerJobEnd":
            ended[event["Job ID"]] = event["Completion Time"] / 1000
        elif kind == "SparkListenerTaskEnd" and event.get("Task Type") == "ResultTask":
            metrics = event.get("Task Metrics") or {}
            result_bytes[event["Stage ID"]] += metrics.get("Result Size", 0)
    by_job: dict[int, int] = defaultdict(int)
    for stage, size in result_bytes.items():
        if stage in job_of_stage:
            by_job[job_of_stage[stage]] += size
    return sorted((Job(job, started[job], ended[job], by_job[job])
                   for job in started if job in ended), key=lambda j: (j.start, j.id))


def event_log_jobs(folder: Path) -> list[Job]:
    """Every job of every application whose event log is in `folder` (finished or not)."""
    jobs = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith(("appstatus", ".")):
            with path.open(errors="replace") as lines:
                jobs += spark_jobs(lines)
    return sorted(jobs, key=lambda j: j.start)


@dataclass(frozen=True)
class Commit:
    """One Iceberg catalog commit: when it was logged (its end), the table, its milliseconds."""
    at: float
    table: str
    ms: int


COMMIT_LINE = re.compile(r"^(\d{10,})\s+\S+\s+Successfully committed to table (\S+) in (\d+) ms")


def commit_lines(lines: Iterable[str]) -> list[Commit]:
    """The commits of the lines that log4j2.properties (write_conf_dir) writes."""
    found = []
    for line in lines:
        match = COMMIT_LINE.match(line)
        if match:
            found.append(Commit(int(match.group(1)) / 1000, match.group(2), int(match.group(3))))
    return found


def metadata_commit_times(landing: Path, lake: Path, start: float, end: float) -> list[float]:
    """When each table of the lake's catalog was committed to within [start, end], by any
    writer (Spark or pyiceberg), from the tables' metadata: its last-updated time and its
    metadata log's (the last 20 commits of each table: write.metadata.previous-versions-max).
    [] when the lake has no catalog. A lower bound: a table dropped or replaced in the window
    is not seen (a cold 0.02x run: 48 here and 48 commit lines); above the commit lines, it
    shows commits made outside the JVM (main's pyiceberg branch and publish)."""
    lakehouse = open_lake(landing, lake)
    if not lakehouse.catalog.exists():
        return []
    catalog, times = lakehouse.catalog.pyiceberg, []
    for name in catalog.list_tables(lakehouse.catalog.database):
        metadata = catalog.load_table(name).metadata
        stamps = [entry.timestamp_ms for entry in metadata.metadata_log]
        times += [ms / 1000 for ms in (*stamps, metadata.last_updated_ms)
                  if start * 1000 <= ms <= end * 1000]
    return sorted(times)


def read_commits(path: Path) -> list[Commit]:
    if not path.exists():
        return []
    with path.open(errors="replace") as lines:
        return commit_lines(lines)


@dataclass(frozen=True)
class Step:
    key: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


STEP_ENDS = ("STEP_SUCCESS", "STEP_FAILURE")


def dagster_steps(events: Iterable[tuple[str, str | None, float]]) -> list[Step]:
    """Steps from (event type, step key, timestamp) of a run, in the order they started. A step
    that started again (a retry) keeps its first start and its last end."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for kind, key, at in events:
        if key is None:
            continue
        if kind == "STEP_START":
            starts.setdefault(key, at)
        elif kind in STEP_ENDS:
            ends[key] = at
    return sorted((Step(key, start, ends[key]) for key, start in starts.items() if key in ends),
                  key=lambda s: s.start)


def union_seconds(intervals: Iterable[tuple[float, float]], within: tuple[float, float]) -> float:
    """Seconds of the union of `intervals`, clipped to `within`."""
    low, high = within
    clipped = sorted((max(a, low), min(b, high)) for a, b in intervals if b > low and a < high)
    total, current = 0.0, None
    for a, b in clipped:
        if current and a <= current[1]:
            current = (current[0], max(current[1], b))
        else:
            if current:
                total += current[1] - current[0]
            current = (a, b)
    if current:
        total += current[1] - current[0]
    return total


def outside_spark(start: float, end: float, jobs: Iterable[Job]) -> float:
    """Seconds of [start, end] when no Spark job ran."""
    return (end - start) - union_seconds(((j.start, j.end) for j in jobs), (start, end))


@dataclass
class Share:
    """What one step (or a whole run) did."""
    seconds: float
    jobs: list[Job] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    outside: float = 0.0

    @property
    def job_seconds(self) -> float:
        return sum(j.seconds for j in self.jobs)

    @property
    def result_bytes(self) -> int:
        return sum(j.result_bytes for j in self.jobs)


def attribute(steps: list[Step], jobs: list[Job], commits: list[Commit]) -> dict[str, Share]:
    """Each step's jobs (by submission time) and commits (by the time they were logged), and
    its seconds outside Spark; what falls in no step goes to OUTSIDE_STEPS (only if anything
    does)."""
    shares = {step.key: Share(step.seconds) for step in steps}

    def owner(at: float) -> str:
        for step in steps:
            if step.start <= at <= step.end:
                return step.key
        return OUTSIDE_STEPS

    rest = Share(0.0)
    for job in jobs:
        shares.get(owner(job.start), rest).jobs.append(job)
    for commit in commits:
        shares.get(owner(commit.at), rest).commits.append(commit)
    for step in steps:
        # Any job overlapping the step counts for its time, wherever it was submitted.
        shares[step.key].outside = outside_spark(step.start, step.end, jobs)
    if rest.jobs or rest.commits:
        shares[OUTSIDE_STEPS] = rest
    return shares


def in_window(items: Iterable, start: float, end: float, at=lambda item: item.start) -> list:
    return [item for item in items if start <= at(item) <= end]


# --- Running -----------------------------------------------------------------------------


@dataclass
class Measured:
    """One run: its seconds, its whole-run share, its steps' shares, seconds to its first step."""
    seconds: float
    run: Share
    steps: dict[str, Share]
    before_first_step: float | None
    # Catalog commits seen in the tables' metadata (Spark's and pyiceberg's); None: not read.
    catalog_commits: int | None = None


def base_env() -> dict[str, str | None]:
    """The runs' settings: none of this process's stedi settings but the jar cache's."""
    return {name: None for name in os.environ
            if name.startswith("STEDI_") and name not in KEPT_SETTINGS} | {
        "STEDI_INCREMENTAL": None, "SPARK_CONF_DIR": None}


def run_steps(home: Path, since: float) -> list[Step]:
    """The steps of the newest run of the Dagster instance under `home` (STEDI_HOME) if it
    started after `since`; none if no run did (`stedi run` that finds nothing new starts none)."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs = instance.get_run_records(limit=1)
        if not runs or runs[0].create_timestamp.timestamp() < since - 1:
            return []
        entries = instance.all_logs(runs[0].dagster_run.run_id)
    return dagster_steps((e.dagster_event.event_type_value, e.step_key, e.timestamp)
                         for e in entries if e.dagster_event is not None)


def prepare_home(home: Path) -> None:
    """The run's Dagster instance made before the timed runs, as a user's exists already."""
    from dagster import DagsterInstance

    from stedi_assets.operations.instance import prepare_dagster_home
    from stedi_assets.operations.settings import load_settings

    folder = prepare_dagster_home(load_settings({"STEDI_HOME": str(home)}))
    with DagsterInstance.from_config(str(folder)) as instance:
        instance.get_runs(limit=1)


def settled(folder: Path) -> None:
    """Waits until the event log in `folder` stops growing: Spark writes it from a listener
    thread, a moment after the client has its answer."""
    deadline, last, since = time.monotonic() + EVENT_LOG_WAIT, None, time.monotonic()
    while time.monotonic() < deadline:
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        if size != last:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= EVENT_LOG_SETTLE:
            return
        time.sleep(0.2)


@dataclass
class Engine:
    url: str
    pids: tuple[int, ...]
    events: Path
    commits: Path


class Runner:
    """Runs a command as a fresh process and measures it."""

    def __init__(self, work: Path, engine: Engine | None):
        self.work, self.engine = work, engine

    def __call__(self, label: str, command: list[str], landing: Path, lake: Path,
                 home: Path | None, env: dict | None = None) -> Measured:
        env = base_env() | (env or {})
        if home:
            env["STEDI_HOME"] = str(home)
        if self.engine:
            env["STEDI_SPARK_REMOTE"] = self.engine.url
            events, commits, others = self.engine.events, self.engine.commits, self.engine.pids
        else:
            conf, events, commits = write_conf_dir(self.work / "spark" / label)
            env["SPARK_CONF_DIR"] = str(conf)
            others = ()
        start = time.time()
        seconds, _ = timed(command, landing, lake, self.work / f"{label}.log", env, others)
        end = time.time()
        settled(events)
        jobs = in_window(event_log_jobs(events), start, end)
        run_commits = in_window(read_commits(commits), start, end, at=lambda c: c.at)
        run = Share(seconds, jobs, run_commits, outside_spark(start, end, jobs))
        if not any(p.is_file() for p in events.iterdir()):
            print(f"  warning: no Spark event log in {events} after {label} (was "
                  f"{events.parent / 'conf'} read?)", file=sys.stderr)
        if home is None:
            return Measured(seconds, run, {}, None)
        steps = run_steps(home, start)
        first = steps[0].start - start if steps else None
        try:  # a cross-check: commits the JVM did not log are pyiceberg's
            catalog = len(metadata_commit_times(landing, lake, start, end))
        except Exception as problem:  # never worth the run's figures
            print(f"  warning: {label}: the tables' metadata not read: {problem!r}",
                  file=sys.stderr)
            catalog = None
        return Measured(seconds, run, attribute(steps, jobs, run_commits), first, catalog)


def measure_size(size: str, landing: Path, work: Path, repeat: int, mode: str,
                 runner: Runner, incremental: bool,
                 results: dict[str, dict[str, list[Measured]]], keep: bool = False) -> None:
    """Into `results` as they are measured, by run kind ("cold course", "warm course", "warm
    nothing new course", "warm incremental 10x"): its runs and the plain script's of the
    same size."""
    plain: list[Measured] = []

    def kind_name(kind: str) -> str:
        return f"{mode} {size}" if kind == "pipeline" else f"{mode} {kind} {size}"

    wanted = ["pipeline"]
    if mode == "warm":
        wanted += ["nothing new", "incremental"] if incremental else ["nothing new"]
    kinds: dict[str, list[Measured]] = {}
    for kind in wanted:
        kinds[kind] = []
        results[kind_name(kind)] = {"pipeline": kinds[kind], "plain": plain}
    home = work / f"{mode}-{size}-home"  # one Dagster instance per mode and size, as a user's
    prepare_home(home)
    for number in range(1, repeat + 1):
        label = f"{mode}-{size}-{number}"
        lake = work / f"{label}-lake"
        kinds["pipeline"].append(runner(f"{label}-pipeline", STEDI_RUN, landing, lake, home))
        plain_lake = work / f"{label}-plain-lake"
        plain.append(runner(f"{label}-plain", [*PLAIN, "--landing", str(landing), "--lake",
                                               str(plain_lake)], landing, plain_lake, None))
        if not keep:
            shutil.rmtree(plain_lake, ignore_errors=True)
        said = (f"  {mode} {size} run {number}: pipeline {kinds['pipeline'][-1].seconds:.1f} s, "
                f"plain {plain[-1].seconds:.1f} s")
        if mode == "warm":
            kinds["nothing new"].append(runner(f"{label}-nothing-new", STEDI_RUN, landing,
                                               lake, home))
            said += f", nothing new {kinds['nothing new'][-1].seconds:.1f} s"
            if incremental:
                kinds["incremental"].append(incremental_run(runner, label, landing, lake, home))
                said += f", incremental {kinds['incremental'][-1].seconds:.1f} s"
        print(said, flush=True)
        if not keep:  # the lakes are kept with the work folder, else removed as they are done
            shutil.rmtree(lake, ignore_errors=True)


def incremental_run(runner: Runner, label: str, landing: Path, lake: Path,
                    home: Path) -> Measured:
    """1 % more readings, each adding one training row, then `stedi run`; the new files are
    removed afterwards (the next repeat builds a fresh lake from the same landing)."""
    lakehouse = open_lake(landing, lake)
    rows, who, count = training_rows(lakehouse), owners(lakehouse), readings_to_add(lakehouse)
    name = f"machinery-{label}"
    drop(landing, name, who, count, first_ms())
    try:
        measured = runner(f"{label}-incremental", STEDI_RUN, landing, lake, home)
    finally:
        for source in ("accelerometer", "step_trainer"):
            (landing / source / f"{name}.json").unlink(missing_ok=True)
    after = training_rows(lakehouse)
    if after != rows + count:
        print(f"  warning: {label}: machine_learning_curated has {after} rows after "
              f"+{count} readings, {rows + count} expected", file=sys.stderr)
    return measured


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def warm_engine(work: Path, port: int) -> Iterator[Engine]:
    """`stedi engine start` with a SPARK_CONF_DIR of ours; stopped whatever happens."""
    folder = work / "engine"
    # A server started by spark-submit logs at INFO without a configuration of ours.
    conf, events, commits = write_conf_dir(folder, root_level="INFO")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("STEDI_") or key in KEPT_SETTINGS}
    env |= {"STEDI_HOME": str(folder / "home"), "SPARK_CONF_DIR": str(conf)}
    stedi = [str(BIN / "stedi"), "engine"]
    try:
        began = time.monotonic()
        started = subprocess.run([*stedi, "start", "--port", str(port)], env=env,
                                 capture_output=True, text=True)
        if started.returncode != 0:
            raise SystemExit(f"stedi engine start failed ({started.returncode}): "
                             f"{(started.stderr or started.stdout).strip()[-2000:]}")
        url = f"sc://127.0.0.1:{port}"
        print(f"engine at {url}, up in {time.monotonic() - began:.1f} s", flush=True)
        yield Engine(url, server_pids(url), events, commits)
    finally:
        subprocess.run([*stedi, "stop"], env=env, capture_output=True)


# --- Report ------------------------------------------------------------------------------


def median(values: Iterable[float | None]) -> float:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else float("nan")


def summary_row(kind: str, runs: list[Measured], plain: list[Measured]) -> dict:
    pipeline = median(r.seconds for r in runs)
    plain_s = median(r.seconds for r in plain)
    return {
        "kind": kind, "pipeline": pipeline, "plain": plain_s, "ratio": pipeline / plain_s,
        "jobs": median(len(r.run.jobs) for r in runs),
        "job_s": median(r.run.job_seconds for r in runs),
        "commits": median(len(r.run.commits) for r in runs),
        "catalog": median(r.catalog_commits for r in runs),
        "bytes": median(r.run.result_bytes for r in runs),
        "outside": median(r.run.outside for r in runs),
        "before": median(r.before_first_step for r in runs),
        "plain_jobs": median(len(r.run.jobs) for r in plain),
        "plain_job_s": median(r.run.job_seconds for r in plain),
        "plain_bytes": median(r.run.result_bytes for r in plain),
    }


def step_rows(runs: list[Measured]) -> list[dict]:
    """Medians per step key, in the order the steps ran (keys of any run, first seen first)."""
    keys = list(dict.fromkeys(key for r in runs for key in r.steps))
    rows = []
    for key in keys:
        shares = [r.steps[key] for r in runs if key in r.steps]
        rows.append({"step": key, "seconds": median(s.seconds for s in shares),
                     "jobs": median(len(s.jobs) for s in shares),
                     "job_s": median(s.job_seconds for s in shares),
                     "commits": median(len(s.commits) for s in shares),
                     "bytes": median(s.result_bytes for s in shares),
                     "outside": median(s.outside for s in shares)})
    return rows


def report(results: dict[str, dict[str, list[Measured]]], first_size: str | None) -> None:
    print(f"\n{'run kind':<28} {'pipeline s':>10} {'plain s':>8} {'ratio':>6} {'jobs':>5} "
          f"{'jobs s':>7} {'commits':>7} {'in metadata':>11} {'collected KiB':>13} {'outside-Spark s':>15} "
          f"{'before 1st step s':>17} {'plain jobs':>10} {'plain jobs s':>12} "
          f"{'plain KiB':>9}")
    for kind, runs in results.items():
        if not runs["pipeline"] or not runs["plain"]:
            continue  # stopped before it ran
        r = summary_row(kind, runs["pipeline"], runs["plain"])
        print(f"{kind:<28} {r['pipeline']:>10.1f} {r['plain']:>8.1f} {r['ratio']:>6.2f} "
              f"{r['jobs']:>5.0f} {r['job_s']:>7.1f} {r['commits']:>7.0f} {r['catalog']:>11.0f} "
              f"{r['bytes'] / 1024:>13.1f} {r['outside']:>15.1f} {r['before']:>17.1f} "
              f"{r['plain_jobs']:>10.0f} {r['plain_job_s']:>12.1f} "
              f"{r['plain_bytes'] / 1024:>9.1f}")
    for mode in ("cold", "warm"):
        kind = f"{mode} {first_size}"
        if not results.get(kind, {}).get("pipeline"):
            continue
        print(f"\nper step, {kind} (medians)\n{'step':<40} {'s':>7} {'jobs':>5} {'jobs s':>7} "
              f"{'commits':>7} {'collected KiB':>13} {'outside-Spark s':>15}")
        for r in step_rows(results[kind]["pipeline"]):
            print(f"{r['step']:<40} {r['seconds']:>7.2f} {r['jobs']:>5.0f} {r['job_s']:>7.2f} "
                  f"{r['commits']:>7.0f} {r['bytes'] / 1024:>13.1f} {r['outside']:>15.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="course,10x",
                        help="comma-separated: course, 10x, any <k>x (default course,10x)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternated")
    parser.add_argument("--engine-port", type=int, help="the warm engine's port (default: a "
                        "free one)")
    parser.add_argument("--incremental-size", default="10x", type=size_name,
                        help="the size of the warm incremental run, one of --sizes (10x)")
    parser.add_argument("--skip-cold", action="store_true", help="no cold runs")
    parser.add_argument("--skip-warm", action="store_true", help="no warm-engine runs")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    sizes = parsed_sizes(parser, args.sizes)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.skip_warm and args.skip_cold:
        parser.error("--skip-cold and --skip-warm leave nothing to run")
    if not args.skip_warm and args.incremental_size not in sizes:
        print(f"no incremental run: --incremental-size {args.incremental_size} is not one of "
              f"--sizes {args.sizes}")
    print(f"Spark {version('pyspark')}, Dagster {version('dagster')}, "
          f"Python {sys.version.split()[0]}, nproc {len(os.sched_getaffinity(0))}, "
          f"{args.repeat} run(s) each", flush=True)
    # A SIGTERM ends the benchmark as Ctrl-C does: through the `finally`s that stop the engine.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="stedi-machinery-"))
    results: dict[str, dict[str, list[Measured]]] = {}
    try:
        measure(args, sizes, work, results)
    except (Exception, SystemExit) as problem:  # what was measured is still shown
        print(f"machinery: stopped: {problem!r}; the work folder is kept: {work}",
              file=sys.stderr)
        args.keep, failed = True, True
    else:
        failed = False
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results, sizes[0])
    return 1 if failed else 0


def warm_up(runner: Runner, landing: Path, work: Path) -> None:
    """One pipeline run and one plain run on a new engine, not counted: a warm engine is one
    whose JVM has loaded and compiled what a run uses (its first run takes 10 s longer)."""
    began = time.monotonic()
    runner("warm-up-pipeline", STEDI_RUN, landing, work / "warm-up-lake", None)
    runner("warm-up-plain", [*PLAIN, "--landing", str(landing), "--lake",
                             str(work / "warm-up-plain-lake")], landing, work / "warm-up-plain-lake",
           None)
    for lake in ("warm-up-lake", "warm-up-plain-lake"):
        shutil.rmtree(work / lake, ignore_errors=True)
    print(f"engine warmed up by a pipeline run and a plain run (not counted): "
          f"{time.monotonic() - began:.1f} s", flush=True)


def measure(args: argparse.Namespace, sizes: list[str], work: Path,
            results: dict[str, dict[str, list[Measured]]]) -> None:
    """Fills `results` as it goes, run kind by run kind."""
    landings = {size: landing_for(size, work) for size in sizes}
    if not args.skip_cold:
        runner = Runner(work, None)
        for size in sizes:
            measure_size(size, landings[size], work, args.repeat, "cold", runner, False, results,
                         args.keep)
    if not args.skip_warm:
        with warm_engine(work, args.engine_port or free_port()) as engine:
            runner = Runner(work, engine)
            warm_up(runner, landings[sizes[0]], work)
            for size in sizes:
                measure_size(size, landings[size], work, args.repeat, "warm", runner,
                             size == args.incremental_size, results, args.keep)


if __name__ == "__main__":
    sys.exit(main())
