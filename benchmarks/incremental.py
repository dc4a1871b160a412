"""What a run after new landing files costs against a full rebuild of the same lake.

For each size: a full `stedi run` into a fresh lake (the history). Then, per round, new landing
files holding 1 % more phone readings (of customer_curated customers with a Step Trainer of
their own) and their Step Trainer's readings at the same times (benchmarks/new_readings.py:
each adds one training row), and on the same lake and landing: (a) `stedi run` (incremental:
only the new files) and (b) `stedi run` with STEDI_INCREMENTAL=false (a full rebuild), each a
fresh process. Prints the seconds of each, a/b against the issue's target,
machine_learning_curated's rows after each (they must be equal: exits 1 if not) and the peak
resident memory of the Python driver and of the JVM (the run's own, or the Spark Connect
server of --remote).

    python benchmarks/incremental.py [--sizes course,10x,100x] [--rounds 1] [--remote sc://...]

A size is `course` (the course sample, copied: it is never written to) or `<k>x`, a generated
sample k times its size (0.02x to try the script out). 100x is a manual run (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlparse

from new_readings import drop, first_ms, open_lake, owners, readings_to_add, training_rows
from pipeline_vs_plain_pyspark import BIN, COURSE_CUSTOMERS, COURSE_SAMPLE, timed

STEDI_RUN = [str(BIN / "stedi"), "run"]
TARGETS = {"10x": 0.15, "100x": 0.05}  # issue 14: a/b at most
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def landing_for(size: str, work: Path) -> Path:
    """A landing of its own for `size`, which the benchmark adds files to."""
    landing = work / f"{size}-landing"
    if size == "course":
        if not COURSE_SAMPLE.is_dir():
            raise SystemExit(f"course sample not found at {COURSE_SAMPLE.resolve()}")
        shutil.copytree(COURSE_SAMPLE, landing)
    else:
        from stedi_assets.rules.sample_data import SampleSize, generate_landing

        times = float(size.removesuffix("x"))
        generate_landing(landing, SampleSize(customers=max(1, round(COURSE_CUSTOMERS * times))))
    return landing


def server_pids(remote: str | None) -> tuple[int, ...]:
    """The process listening at a local Spark Connect URL: its memory is the runs' JVM."""
    if not remote:
        return ()
    import psutil

    url = urlparse(remote.replace("sc://", "tcp://", 1))
    if url.hostname not in LOCAL_HOSTS:
        print(f"{remote}: not on this machine, its JVM's memory is not measured")
        return ()
    port = url.port or 15002
    found = {c.pid for c in psutil.net_connections("tcp")
             if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid}
    if not found:
        raise SystemExit(f"nothing listens on port {port} of this machine ({remote})")
    return tuple(found)


def measure(size: str, work: Path, rounds: int, remote: str | None) -> dict:
    """The history run, then `rounds` of: new readings, (a) incremental, (b) full; and what
    the size took on disk and in time (for the manual 100x run of docs/performance.md)."""
    began = time.monotonic()
    landing, lake = landing_for(size, work), work / f"{size}-lake"
    # Runs record themselves in an instance under STEDI_HOME: the benchmark's own, not .stedi.
    env = {"STEDI_HOME": str(work / f"{size}-home"), "STEDI_SPARK_REMOTE": remote,
           "STEDI_INCREMENTAL": None}
    others = server_pids(remote)

    def run(label: str, **settings: str):
        return timed(STEDI_RUN, landing, lake, work / f"{size}-{label}.log", env | settings,
                     others)

    seconds, _ = run("history")
    lakehouse = open_lake(landing, lake)
    rows, who, after = training_rows(lakehouse), owners(lakehouse), 0
    print(f"  {size}: history (full run, fresh lake) {seconds:.1f} s; machine_learning_curated "
          f"{rows} rows; {len(who)} customers to add readings for", flush=True)
    done = []
    for number in range(1, rounds + 1):
        count, first = readings_to_add(lakehouse), first_ms(after)
        after = first + count
        drop(landing, f"new-readings-{number}", who, count, first)
        a, a_peak = run(f"incremental-{number}")
        a_rows = training_rows(lakehouse)
        b, b_peak = run(f"full-{number}", STEDI_INCREMENTAL="false")
        b_rows = training_rows(lakehouse)
        print(f"  {size} round {number}: +{count} readings; (a) {a:.1f} s, {a_rows} rows; "
              f"(b) {b:.1f} s, {b_rows} rows" + _surprise(rows + count, a_rows, b_rows),
              flush=True)
        done.append(dict(count=count, a=a, b=b, a_rows=a_rows, b_rows=b_rows,
                         a_peak=a_peak, b_peak=b_peak))
        rows = b_rows
    return summary(done) | {"landing_bytes": _bytes(landing), "lake_bytes": _bytes(lake),
                            "wall": time.monotonic() - began}


def _bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _surprise(expected: int, a_rows: int, b_rows: int) -> str:
    if a_rows != b_rows:
        return "  MISMATCH: (a) and (b) differ"
    return "" if b_rows == expected else f"  (expected {expected}: the drop added fewer rows)"


def summary(rounds: list[dict]) -> dict:
    """Medians of the seconds, the last round's rows, the largest peaks."""
    return {
        "count": rounds[-1]["count"],
        "a": statistics.median(r["a"] for r in rounds),
        "b": statistics.median(r["b"] for r in rounds),
        "a_rows": rounds[-1]["a_rows"], "b_rows": rounds[-1]["b_rows"],
        "equal": all(r["a_rows"] == r["b_rows"] for r in rounds),
        **{f"{run}_{part}": max(getattr(r[f"{run}_peak"], part) for r in rounds)
           for run in "ab" for part in ("driver", "jvm")},
    }


def report(results: dict[str, dict]) -> None:
    print(f"\n{'size':<8} {'readings':>9} {'(a) s':>8} {'(b) s':>8} {'a/b':>6} {'target':>7} "
          f"{'rows (a)':>10} {'rows (b)':>10} {'(a) driver/JVM MiB':>19} "
          f"{'(b) driver/JVM MiB':>19}")
    for size, r in results.items():
        target = f"{TARGETS[size]:.2f}" if size in TARGETS else "-"
        print(f"{size:<8} {r['count']:>9} {r['a']:>8.1f} {r['b']:>8.1f} {r['a'] / r['b']:>6.2f} "
              f"{target:>7} {r['a_rows']:>10} {r['b_rows']:>10} "
              f"{_mib(r['a_driver'], r['a_jvm']):>19} {_mib(r['b_driver'], r['b_jvm']):>19}")
    print(f"\n{'size':<8} {'landing MiB':>12} {'lake MiB':>9} {'wall s':>7}  "
          "(generating, history and every round)")
    for size, r in results.items():
        print(f"{size:<8} {r['landing_bytes'] / 2**20:>12.1f} {r['lake_bytes'] / 2**20:>9.1f} "
              f"{r['wall']:>7.0f}")


def _mib(driver: int, jvm: int) -> str:
    return f"{driver / 2**20:.0f}/{jvm / 2**20:.0f}"


def size_name(text: str) -> str:
    if text != "course" and not re.fullmatch(r"(\d+(\.\d*)?|\.\d+)x", text):
        raise argparse.ArgumentTypeError(f"{text!r}: a size is course or <k>x (10x, 0.05x)")
    if text != "course" and float(text[:-1]) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: k must be more than 0")
    return text


def parsed_sizes(parser: argparse.ArgumentParser, text: str) -> list[str]:
    """The comma-separated sizes of --sizes, or the parser's error (exits)."""
    try:
        return [size_name(size) for size in text.split(",")]
    except argparse.ArgumentTypeError as problem:
        parser.error(str(problem))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="course,10x",
                        help="comma-separated: course, 10x, 100x, any <k>x (default course,10x)")
    parser.add_argument("--rounds", type=int, default=1, help="drops, each timed (a) then (b)")
    parser.add_argument("--remote", metavar="sc://HOST:PORT",
                        help="run on this warm Spark Connect server (stedi engine start)")
    parser.add_argument("--keep", action="store_true", help="keep the lakes, landings and logs")
    args = parser.parse_args()
    sizes = parsed_sizes(parser, args.sizes)
    engine = (args.remote or "a JVM per run").split(";")[0]  # parameters may hold a token
    print(f"Spark {version('pyspark')}, Dagster {version('dagster')}, "
          f"Python {sys.version.split()[0]}, nproc {len(os.sched_getaffinity(0))}, "
          f"engine {engine}, {args.rounds} round(s)")
    work = Path(tempfile.mkdtemp(prefix="stedi-incremental-"))
    try:
        results = {size: measure(size, work, args.rounds, args.remote) for size in sizes}
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results)
    if not all(r["equal"] for r in results.values()):
        print("machine_learning_curated differs between (a) and (b)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
