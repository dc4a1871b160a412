"""Times the Dagster pipeline against a plain PySpark script doing the same work.

(a) `dagster asset materialize -m stedi_assets --select '*'`: every table and every asset check,
    on an ephemeral Dagster instance (DAGSTER_HOME unset);
(b) `python benchmarks/plain_pyspark.py`: the same tables, written the same way, no Dagster.

Both run as fresh processes (interpreter and JVM start-up included, as a user pays them),
alternated a, b, a, b, ..., each into a fresh lake, on the course sample (if present) and on a
generated sample ten times its size. Prints the median wall-clock times and their ratio, the
peak memory of each (the process and its JVM, sampled), and the pipeline's median time per
Dagster step (from its log).

    python benchmarks/pipeline_vs_plain_pyspark.py [--repeat 3] [--only course|10x]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import threading
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


STEP_FINISHED = re.compile(r'Finished execution of step "([^"]+)" in ([0-9.hms]+)\.')


def timed(command: list[str], landing: Path, lake: Path, log: Path) -> tuple[float, int]:
    """Wall-clock seconds and peak memory (bytes) of one run; its output goes to `log`. Exits
    if the run fails."""
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env.update(STEDI_LANDING_URI=str(landing), STEDI_LAKE_URI=str(lake))
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = PeakMemory(process.pid)
        returncode = process.wait()
        elapsed = time.perf_counter() - started
        peak.stop()
    if returncode != 0:
        print(f"{' '.join(command)} failed with exit code {returncode}; "
              f"the end of its output:\n{log.read_text()[-4000:]}", file=sys.stderr)
        sys.exit(1)
    return elapsed, peak.bytes


class PeakMemory:
    """The largest resident memory of a process and its descendants (the JVM), sampled."""

    def __init__(self, pid: int, every: float = 0.2):
        import psutil

        self.root, self.bytes, self._done = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def _sample(self, every: float) -> None:
        import psutil

        while not self._done.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                self.bytes = max(self.bytes, sum(p.memory_info().rss for p in tree))
            except psutil.Error:  # a process ended between listing and reading it
                pass
            self._done.wait(every)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def step_seconds(log: Path) -> dict[str, float]:
    """Each Dagster step's duration, from the run's log (Dagster writes 447ms, 2.1s, 4m52s)."""
    unit_seconds = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return {step: sum(float(value) * unit_seconds[unit]
                      for value, unit in re.findall(r"([0-9.]+)(ms|h|m|s)", text))
            for step, text in STEP_FINISHED.findall(log.read_text(errors="replace"))}


def measure(name: str, landing: Path, work: Path, repeat: int) -> dict:
    """Medians of (a) the pipeline and (b) the plain script, alternated: seconds, peak memory,
    and (a)'s seconds per step."""
    dagster, plain, steps = [], [], {}
    for run in range(1, repeat + 1):
        lake = work / f"{name}-dagster-{run}"
        log = lake.with_name(lake.name + ".log")
        dagster.append(timed(
            [str(BIN / "dagster"), "asset", "materialize", "-m", "stedi_assets", "--select", "*"],
            landing, lake, log))
        for step, seconds in step_seconds(log).items():
            steps.setdefault(step, []).append(seconds)
        lake = work / f"{name}-plain-{run}"
        plain.append(timed(
            [sys.executable, "benchmarks/plain_pyspark.py", "--landing", str(landing),
             "--lake", str(lake)],
            landing, lake, lake.with_name(lake.name + ".log")))
        print(f"  {name} run {run}: (a) {dagster[-1][0]:.1f} s, (b) {plain[-1][0]:.1f} s",
              flush=True)
    return {
        "a": statistics.median(t for t, _ in dagster), "b": statistics.median(t for t, _ in plain),
        "a_peak": max(m for _, m in dagster), "b_peak": max(m for _, m in plain),
        "steps": {step: statistics.median(times) for step, times in steps.items()},
    }


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
    results = {}
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as tmp:
        for name, landing in data_sets(args.only, Path(tmp)):
            results[name] = measure(name, landing, Path(tmp), args.repeat)
    print(f"\n{'data set':<10} {'(a) dagster s':>14} {'(b) plain s':>12} {'a/b':>6} "
          f"{'(a) peak MiB':>13} {'(b) peak MiB':>13}")
    for name, r in results.items():
        print(f"{name:<10} {r['a']:>14.1f} {r['b']:>12.1f} {r['a'] / r['b']:>6.2f} "
              f"{r['a_peak'] / 2**20:>13.0f} {r['b_peak'] / 2**20:>13.0f}")
    names = list(results)
    print(f"\n(a) per step, median seconds\n{'step':<34}" + "".join(f"{n:>10}" for n in names))
    steps = dict.fromkeys(step for r in results.values() for step in r["steps"])
    for step in steps:
        print(f"{step:<34}" + "".join(
            f"{results[n]['steps'].get(step, float('nan')):>10.2f}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
