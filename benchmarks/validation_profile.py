"""Where validation spends its time: the exhaustive rules on every line against the pipeline's
fast test, on clean data and on clean data with messy files mixed in.

For each source, validates a generated sample (10 times the course sample by default) and the
same sample plus the messy landing zone's files, both ways, writing to Spark's `noop` sink,
and prints the seconds (median of the runs after a first, warming one), the Spark jobs,
stages and tasks, and how many times the landing files were read.

    python benchmarks/validation_profile.py [--times 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

# Only the plain modules, not the Dagster definitions (see plain_pyspark.py).
_ROOT = Path(__file__).resolve().parents[1]
_package = types.ModuleType("stedi_assets")
_package.__path__ = [str(_ROOT / "stedi_assets")]
sys.modules.setdefault("stedi_assets", _package)
sys.path.insert(0, str(_ROOT))  # the messy landing generator is test code, in the repository only

from pyspark.sql import SparkSession  # noqa: E402

from stedi_assets.rules.contract import SOURCES  # noqa: E402
from stedi_assets.rules.sample_data import SampleSize, generate_landing  # noqa: E402
from stedi_assets.rules.validation import (  # noqa: E402
    read_landing_lines, validate_exhaustively, validate_in_parts,
)
from stedi_assets_tests.messy_data import generate_messy_landing  # noqa: E402

COURSE_CUSTOMERS = 956


def write_all(frames) -> None:
    for frame in frames:
        frame.write.format("noop").mode("overwrite").save()


def measured(spark: SparkSession, label: str, work) -> tuple[float, int, int, int]:
    """Seconds, jobs, stages and tasks of `work()`."""
    sc = spark.sparkContext
    sc.setJobGroup(label, label)
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    tracker = sc.statusTracker()
    jobs = tracker.getJobIdsForGroup(label)
    stages = [stage for job in jobs for stage in tracker.getJobInfo(job).stageIds]
    tasks = sum(tracker.getStageInfo(stage).numTasks for stage in stages
                if tracker.getStageInfo(stage) is not None)
    sc.cancelJobGroup(label)  # nothing runs; only forgets the group
    return seconds, len(jobs), len(stages), tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=10, help="size, in course samples")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs after a warm-up")
    args = parser.parse_args()
    spark = (SparkSession.builder.master("local[*]").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").config("spark.sql.shuffle.partitions", "4")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory(prefix="stedi-validation-") as tmp:
        clean, mixed, messy = Path(tmp, "clean"), Path(tmp, "mixed"), Path(tmp, "messy")
        generate_landing(clean, SampleSize(customers=COURSE_CUSTOMERS * args.times))
        generate_messy_landing(messy)
        shutil.copytree(clean, mixed)
        for source in SOURCES:
            shutil.copytree(messy / source.name, mixed / source.name / "messy")
        print(f"{'source':<14} {'data':<6} {'lines':>9} {'invalid':>8} {'path':<11} "
              f"{'seconds':>8} {'jobs':>5} {'stages':>7} {'tasks':>6} {'reads':>6}")
        for source in SOURCES:
            for data, root in (("clean", clean), ("mixed", mixed)):
                lines = read_landing_lines(spark, str(root / source.name))
                count = lines.count()
                invalid = validate_exhaustively(lines, source).where("size(invalid_reasons) > 0")
                invalid_count = invalid.count()
                ways = {
                    "exhaustive": lambda: write_all([validate_exhaustively(lines, source)]),
                    "in parts": lambda: write_all(validate_in_parts(lines, source).parts()),
                }
                for way, work in ways.items():
                    runs = [measured(spark, f"{source.name}-{data}-{way}-{run}", work)
                            for run in range(args.repeat + 1)][1:]
                    seconds = statistics.median(run[0] for run in runs)
                    _, jobs, stages, tasks = runs[-1]
                    # Every job here starts from the landing files: one read each.
                    print(f"{source.name:<14} {data:<6} {count:>9} {invalid_count:>8} {way:<11} "
                          f"{seconds:>8.2f} {jobs:>5} {stages:>7} {tasks:>6} {jobs:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
