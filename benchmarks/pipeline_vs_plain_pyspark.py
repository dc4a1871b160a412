"""Times the Dagster pipeline against a plain PySpark script doing the same work.

(a) `dagster asset materialize -m stedi_assets --select '*'`: every table and every asset check,
    on an ephemeral Dagster instance (DAGSTER_HOME unset);
(b) `python benchmarks/plain_pyspark.py`: the same tables, written the same way, no Dagster.

Both run as fresh processes (interpreter and JVM start-up included, as a user pays them),
alternated a, b, a, b, ..., each into a fresh lake, on the course sample (if present) and on
generated samples 10 (and, when asked, 100) times its size. Prints the median wall-clock times
and their ratio, the marginal cost of each further course sample's worth of data, the peak
memory of each (the process and its JVM, sampled), and the pipeline's median time per Dagster
step (from its log).

    python benchmarks/pipeline_vs_plain_pyspark.py [--repeat 3] [--sizes course,10x,100x]
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
COURSE_CUSTOMERS = 956  # the generated samples are multiples of the course sample
TIMES = {"course": 1, "10x": 10, "100x": 100}


STEP_FINISHED = re.compile(r'Finished execution of step "([^"]+)" in ([0-9.hms]+)\.')


def timed(command: list[str], landing: Path, lake: Path, log: Path,
          env: dict[str, str | None] | None = None, others: tuple[int, ...] = ()
          ) -> tuple[float, PeakMemory]:
    """Wall-clock seconds and peak memory of one run; its output goes to `log`. `env` adds
    settings to the run's environment (None removes one); `others` are processes whose memory
    counts as the run's JVM (a Spark Connect server). Exits if the run fails."""
    environ = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    environ.update(STEDI_LANDING_URI=str(landing), STEDI_LAKE_URI=str(lake))
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=out,
                                   stderr=subprocess.STDOUT)
        peak = PeakMemory(process.pid, others=others)
        returncode = process.wait()
        elapsed = time.perf_counter() - started
        peak.stop()
    if returncode != 0:
        print(f"{' '.join(command)} failed with exit code {returncode}; "
              f"the end of its output:\n{log.read_text()[-4000:]}", file=sys.stderr)
        sys.exit(1)
    return elapsed, peak


class PeakMemory:
    """The largest resident memory (bytes) of a process and its descendants, sampled: `bytes`
    in all, `driver` of the process alone (Python) and `jvm` of its descendants (the JVM and
    its Python workers) plus `others` (a Spark Connect server, which is not a descendant)."""

    def __init__(self, pid: int, every: float = 0.2, others: tuple[int, ...] = ()):
        import psutil

        self.root, self.others = psutil.Process(pid), [psutil.Process(p) for p in others]
        self.bytes = self.driver = self.jvm = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def _sample(self, every: float) -> None:
        import psutil

        while not self._done.is_set():
            try:
                driver = self.root.memory_info().rss
                rest = [*self.root.children(recursive=True), *self.others]
                jvm = sum(p.memory_info().rss for p in rest)
            except psutil.Error:  # a process ended between listing and reading it
                pass
            else:
                self.driver, self.jvm = max(self.driver, driver), max(self.jvm, jvm)
                self.bytes = max(self.bytes, driver + jvm)
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
        "a_peak": max(m.bytes for _, m in dagster), "b_peak": max(m.bytes for _, m in plain),
        "steps": {step: statistics.median(times) for step, times in steps.items()},
    }


def data_sets(sizes: list[str], work: Path) -> list[tuple[str, Path]]:
    chosen = []
    for size in sizes:
        if size == "course":
            if COURSE_SAMPLE.is_dir():
                chosen.append((size, COURSE_SAMPLE.resolve()))
            else:
                print(f"course sample not found at {COURSE_SAMPLE.resolve()}: skipped")
            continue
        sys.path.insert(0, str(ROOT))
        from stedi_assets.rules.sample_data import SampleSize, generate_landing

        generate_landing(work / f"landing-{size}", SampleSize(customers=COURSE_CUSTOMERS * TIMES[size]))
        chosen.append((size, work / f"landing-{size}"))
    return chosen


def marginal_costs(results: dict) -> list[str]:
    """Seconds each further course sample's worth of data adds, between consecutive sizes."""
    lines, sizes = [], [size for size in TIMES if size in results]
    for smaller, larger in zip(sizes, sizes[1:]):
        more = TIMES[larger] - TIMES[smaller]
        a = (results[larger]["a"] - results[smaller]["a"]) / more
        b = (results[larger]["b"] - results[smaller]["b"]) / more
        lines.append(f"{smaller} -> {larger}: (a) {a:.2f} s, (b) {b:.2f} s per course sample's "
                     f"worth of rows ({a / b:.2f}x)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternated")
    parser.add_argument("--sizes", default="course,10x",
                        help="comma-separated, of course, 10x, 100x (default course,10x)")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    if unknown := set(sizes) - set(TIMES):
        parser.error(f"unknown size(s) {', '.join(sorted(unknown))}: choose from {', '.join(TIMES)}")
    print(f"Spark {version('pyspark')}, Dagster {version('dagster')}, "
          f"Python {sys.version.split()[0]}, nproc {len(os.sched_getaffinity(0))}, "
          f"{args.repeat} runs each")
    results = {}
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as tmp:
        for name, landing in data_sets(sizes, Path(tmp)):
            results[name] = measure(name, landing, Path(tmp), args.repeat)
    print(f"\n{'data set':<10} {'(a) dagster s':>14} {'(b) plain s':>12} {'a/b':>6} "
          f"{'(a) peak MiB':>13} {'(b) peak MiB':>13}")
    for name, r in results.items():
        print(f"{name:<10} {r['a']:>14.1f} {r['b']:>12.1f} {r['a'] / r['b']:>6.2f} "
              f"{r['a_peak'] / 2**20:>13.0f} {r['b_peak'] / 2**20:>13.0f}")
    for line in marginal_costs(results):
        print(line)
    names = list(results)
    print(f"\n(a) per step, median seconds\n{'step':<34}" + "".join(f"{n:>10}" for n in names))
    steps = dict.fromkeys(step for r in results.values() for step in r["steps"])
    for step in steps:
        print(f"{step:<34}" + "".join(
            f"{results[n]['steps'].get(step, float('nan')):>10.2f}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
