"""Freshness: seconds from a landing file dropped while the sensor runs to a published
machine_learning_curated that holds it.

Starts the warm Spark engine (`stedi engine start`; --remote names one already running,
--no-engine gives every run a JVM of its own), then `dagster-daemon run -m stedi_assets` with
the sensor landing_files on (every 5 s) over a small generated landing, with a STEDI_HOME,
Dagster instance (the project's dagster.yaml) and lake of its own, and waits for the sensor's
first run. Then, --drops times: new phone and Step Trainer readings of customer_curated
customers (benchmarks/new_readings.py: each adds one training row), written under hidden names
and renamed (t0); polls the catalog with pyiceberg until machine_learning_curated's current
snapshot is newer than t0 and holds them (t1); waits for the runs to end and splits t1 - t0
with the run's records: until the sensor's tick, then the run created, started,
machine_learning_curated published, seen. Prints each drop, then the median and max. Stops
the daemon and the engine whatever happens.

    python benchmarks/freshness.py [--drops 5] [--customers 40] [--remote sc://... | --no-engine]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from new_readings import drop, first_ms, open_lake, owners, readings_to_add, training_rows

from stedi_assets.rules.contract import MACHINE_LEARNING_CURATED  # noqa: E402  (after new_readings)
from stedi_assets.operations.instance import prepare_dagster_home  # noqa: E402
from stedi_assets.rules.sample_data import SampleSize, generate_landing  # noqa: E402
from stedi_assets.operations.settings import load_settings  # noqa: E402

BIN = Path(sys.executable).parent
ENGINE_PORT = 15002  # `stedi engine start`'s default
KEPT_SETTINGS = ("STEDI_JARS", "STEDI_JAR_CACHE")  # where the jars are; nothing a run decides
FIRST_RUN_TIMEOUT = 900  # seconds: a cold JVM, maybe Ivy resolving the jars
DROP_TIMEOUT = 300
POLL_SECONDS = 0.2
LANDING_SENSOR = "landing_files"  # stedi_assets.pipeline.sensors (not imported: it loads Dagster's)
PHASES = ("tick", "created", "started", "published", "seen")


class Failed(SystemExit):
    """The benchmark cannot go on; its message says why."""


def environment(work: Path, landing: Path, lake: Path, home: Path, interval: int) -> dict:
    """This process's environment without its stedi settings (but the jar cache) and its
    DAGSTER_HOME, with the benchmark's own."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("STEDI_") or name in KEPT_SETTINGS}
    return env | {"STEDI_HOME": str(work / "stedi"), "STEDI_LANDING_URI": str(landing),
                  "STEDI_LAKE_URI": str(lake), "DAGSTER_HOME": str(home),
                  "STEDI_SENSOR_RUNNING": "true", "STEDI_SENSOR_INTERVAL_SECONDS": str(interval)}


@contextmanager
def engine(env: dict, args: argparse.Namespace) -> Iterator[str | None]:
    """The Spark Connect URL runs use (None: a JVM per run); an engine started here is
    stopped here."""
    if args.no_engine or args.remote:
        yield args.remote
        return
    stedi = [str(BIN / "stedi"), "engine"]
    port = ["--port", str(args.engine_port)] if args.engine_port else []
    try:  # stopped even when its start fails or is interrupted half-way
        started = subprocess.run([*stedi, "start", *port], env=env, capture_output=True,
                                 text=True)
        if started.returncode != 0:
            raise Failed(f"stedi engine start failed ({started.returncode}): "
                         f"{(started.stderr or started.stdout).strip()[-2000:]}\n"
                         "(--no-engine runs without one)")
        printed = re.search(r"sc://\S+", started.stdout)  # its last line names the URL
        yield printed.group(0) if printed else f"sc://127.0.0.1:{args.engine_port or ENGINE_PORT}"
    finally:
        subprocess.run([*stedi, "stop"], env=env, capture_output=True)


@contextmanager
def daemon(env: dict, log: Path) -> Iterator[None]:
    """`dagster-daemon run -m stedi_assets` in a process group of its own (its code server,
    runs and their JVMs with it), stopped at the end."""
    with log.open("w") as out:
        process = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-m", "stedi_assets"],
                                   cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Asks the daemon to stop as Ctrl-C does; whatever of its group is left is killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_for_runs(instance, count: int, timeout: float) -> None:
    """Until there are at least `count` runs and every run has ended, successfully."""
    deadline = time.monotonic() + timeout
    while True:
        records = instance.get_run_records()
        _refuse_failures(records)
        if len(records) >= count and all(r.dagster_run.is_finished for r in records):
            return
        if time.monotonic() > deadline:
            raise Failed(f"{count} finished run(s) expected within {timeout:.0f} s, "
                         f"found {[r.dagster_run.status.value for r in records]}")
        time.sleep(1)


def _refuse_failures(records) -> None:
    failed = [r.dagster_run for r in records
              if r.dagster_run.is_finished and not r.dagster_run.is_success]
    if failed:
        raise Failed(f"run {failed[0].run_id} {failed[0].status.value}: the benchmark measures "
                     "runs that succeed")


def wait_for_training_rows(instance, lakehouse, rows: int, t0: float) -> tuple[object, float]:
    """machine_learning_curated's published snapshot once it is newer than t0 and has
    `rows`, and when it was seen (t1)."""
    deadline = time.monotonic() + DROP_TIMEOUT
    while time.monotonic() < deadline:
        current = lakehouse.published(MACHINE_LEARNING_CURATED)
        if current.committed_at.timestamp() > t0 and current.rows >= rows:
            return current, time.time()
        _refuse_failures(instance.get_run_records(limit=5))
        time.sleep(POLL_SECONDS)
    raise Failed(f"machine_learning_curated did not reach {rows} rows within {DROP_TIMEOUT} s")


def phases(instance, lakehouse, current, t0: float, t1: float) -> dict[str, float]:
    """Seconds from each event to the next: the drop, the sensor tick that requested the run,
    the run created, started, machine_learning_curated published (main moved), seen."""
    record = instance.get_run_record_by_id(current.run_id)
    if record is None:
        raise Failed(f"machine_learning_curated's snapshot names run {current.run_id}, "
                     "which the instance does not have")
    run = record.dagster_run
    tick = tick_time(instance, {run.run_id, run.root_run_id} - {None}, t0)
    published = next(snapshot.committed_at.timestamp()  # when main moved to it
                     for snapshot in lakehouse.history(MACHINE_LEARNING_CURATED)
                     if snapshot.snapshot_id == current.snapshot_id)
    times = [t0, tick, record.create_timestamp.timestamp(), record.start_time, published, t1]
    return {phase: (after - before if None not in (before, after) else float("nan"))
            for phase, before, after in zip(PHASES, times, times[1:])}


def tick_time(instance, run_ids: set[str], since: float) -> float | None:
    """When the sensor's tick that requested one of `run_ids` began."""
    from dagster._core.scheduler.instigation import InstigatorType

    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.instigator_name != LANDING_SENSOR:
            continue
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id,
                                   after=since - 60, limit=50)
        for tick in ticks:
            if run_ids & set(tick.run_ids):
                return tick.timestamp
    return None


def measure(args: argparse.Namespace, work: Path) -> list[dict]:
    landing, lake = work / "landing", work / "lake"
    generate_landing(landing, SampleSize(customers=args.customers))
    home = prepare_dagster_home(load_settings({"STEDI_HOME": str(work / "stedi")}))
    env = environment(work, landing, lake, home, args.interval)
    from dagster import DagsterInstance

    # Created here, before the daemon: two processes creating it at once failed (alembic:
    # "more than one head").
    instance = DagsterInstance.from_config(str(home))
    instance.get_runs()
    with engine(env, args) as remote:
        if remote:
            env["STEDI_SPARK_REMOTE"] = remote
        shown = (remote or "a JVM per run").split(";")[0]  # parameters may hold a token
        print(f"engine: {shown}; sensor every {args.interval} s; work folder {work}", flush=True)
        with daemon(env, work / "daemon.log"):
            return drops(args, instance, open_lake(landing, lake), landing)


def drops(args, instance, lakehouse, landing: Path) -> list[dict]:
    began = time.monotonic()
    wait_for_runs(instance, 1, FIRST_RUN_TIMEOUT)
    print(f"first run (the landing already there) done after {time.monotonic() - began:.0f} s")
    who, count, after, measured = owners(lakehouse), readings_to_add(lakehouse), 0, []
    print(f"\n{'drop':>4} {'readings':>8} {'t1-t0 s':>8}"
          + "".join(f" {'→' + phase:>10}" for phase in PHASES) + "  run")
    for number in range(1, args.drops + 1):
        rows, first = training_rows(lakehouse), first_ms(after)
        after = first + count
        t0 = drop(landing, f"drop-{number}", who, count, first)
        current, t1 = wait_for_training_rows(instance, lakehouse, rows + count, t0)
        wait_for_runs(instance, 0, DROP_TIMEOUT)  # idle again before the next drop
        split = phases(instance, lakehouse, current, t0, t1)
        measured.append({"total": t1 - t0, **split})
        print(f"{number:>4} {count:>8} {t1 - t0:>8.1f}"
              + "".join(f" {split[phase]:>10.1f}" for phase in PHASES)
              + f"  {current.run_id[:8]}", flush=True)
    return measured


def report(measured: list[dict]) -> None:
    totals = [m["total"] for m in measured]
    print(f"\nt1 - t0 over {len(totals)} drops: median {statistics.median(totals):.1f} s, "
          f"max {max(totals):.1f} s (target: 30 s)")
    print("median of each phase: " + ", ".join(
        f"→{phase} {statistics.median(m[phase] for m in measured):.1f} s" for phase in PHASES))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=5, help="landing drops, one at a time")
    parser.add_argument("--customers", type=int, default=40, help="size of the landing")
    parser.add_argument("--interval", type=int, default=5, help="the sensor's, in seconds")
    parser.add_argument("--remote", metavar="sc://HOST:PORT",
                        help="a Spark Connect server already running (not started or stopped)")
    parser.add_argument("--engine-port", type=int,
                        help="the port of the engine started here (default: stedi engine's)")
    parser.add_argument("--no-engine", action="store_true",
                        help="no engine: every run starts a JVM of its own")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if args.remote and args.no_engine:
        parser.error("--remote and --no-engine exclude each other")
    work = Path(tempfile.mkdtemp(prefix="stedi-freshness-"))
    try:
        measured = measure(args, work)
    except Failed as problem:
        print(f"freshness: {problem}", file=sys.stderr)
        if (work / "daemon.log").exists():
            print(f"--- the end of {work / 'daemon.log'}:\n{_tail(work / 'daemon.log')}",
                  file=sys.stderr)
        print(f"kept {work}", file=sys.stderr)
        return 1
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    report(measured)
    return 0


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
