"""Times the Dagster pipeline against a plain PySpark script doing the same work.

(a) `dagster asset materialize -m stedi_assets --select '*'`: every table and every asset check,
    on an ephemeral Dagster instance (DAGSTER_HOME unset);
(b) `python benchmarks/plain_pyspark.py`: the same tables, written the same way, no Dagster.

Both run as fresh processes (interpreter and JVM start-up included, as a user pays them),
alternated a, b, a, b, ..., each into a fresh lake, on the course sample (if present) and on a
generated sample ten times its size. Prints the median wall-clock times and their ratio.

    python benchmarks/pipeline_vs_plain_pyspark.py [--repeat 3] [--only course|10x]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE_SAMPLE = ROOT / ".." / "shared" / "data" / "udacity-stedi"
BIN = Path(sys.executable).parent
TEN_TIMES_COURSE = 9560  # the course sample has 956 customers


def timed(command: list[str], landing: Path, lake: Path, log: Path) -> float:
    """Wall-clock seconds of one run; its output goes to `log`. Exits if the run fails."""
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env.update(STEDI_LANDING_URI=str(landing), STEDI_LAKE_URI=str(lake))
    with log.open("w") as out:
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        print(f"{' '.join(command)} failed with exit code {finished.returncode}; "
              f"the end of its output:\n{log.read_text()[-4000:]}", file=sys.stderr)
        sys.exit(1)
    return elapsed


def measure(name: str, landing: Path, work: Path, repeat: int) -> tuple[float, float]:
    """Median seconds of (a) the pipeline and (b) the plain script, alternated."""
    dagster_times, plain_times = [], []
    for run in range(1, repeat + 1):
        lake = work / f"{name}-dagster-{run}"
        dagster_times.append(timed(
            [str(BIN / "dagster"), "asset", "materialize", "-m", "stedi_assets", "--select", "*"],
            landing, lake, lake.with_name(lake.name + ".log")))
        lake = work / f"{name}-plain-{run}"
        plain_times.append(timed(
            [sys.executable, "benchmarks/plain_pyspark.py", "--landing", str(landing),
             "--lake", str(lake)],
            landing, lake, lake.with_name(lake.name + ".log")))
        print(f"  {name} run {run}: (a) {dagster_times[-1]:.1f} s, (b) {plain_times[-1]:.1f} s",
              flush=True)
    return statistics.median(dagster_times), statistics.median(plain_times)


def data_sets(only: str | None, work: Path) -> list[tuple[str, Path]]:
    chosen = []
    if only in (None, "course"):
        if COURSE_SAMPLE.is_dir():
            chosen.append(("course", COURSE_SAMPLE.resolve()))
        else:
            print(f"course sample not found at {COURSE_SAMPLE.resolve()}: skipped")
    if only in (None, "10x"):
        sys.path.insert(0, str(ROOT))
        from stedi_assets.sample_data import SampleSize, generate_landing

        generate_landing(work / "landing-10x", SampleSize(customers=TEN_TIMES_COURSE))
        chosen.append(("10x", work / "landing-10x"))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternated")
    parser.add_argument("--only", choices=["course", "10x"], help="one data set only")
    args = parser.parse_args()
    print(f"Spark {version('pyspark')}, Dagster {version('dagster')}, "
          f"Python {sys.version.split()[0]}, nproc {len(os.sched_getaffinity(0))}, "
          f"{args.repeat} runs each")
    results = []
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as tmp:
        for name, landing in data_sets(args.only, Path(tmp)):
            results.append((name, *measure(name, landing, Path(tmp), args.repeat)))
    print(f"\n{'data set':<10} {'(a) dagster s':>14} {'(b) plain s':>12} {'a/b':>6}")
    for name, a, b in results:
        print(f"{name:<10} {a:>14.1f} {b:>12.1f} {a / b:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
