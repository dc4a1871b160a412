"""`python -m stedi_assets.operations.class_archive_writer` (`make class-archive`): writes the
JVMs' class archive (stedi_assets/operations/class_archive.py) when it is missing, with a JVM
of its own that does a small run's kind of work and writes the archive as it exits."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from stedi_assets.operations.class_archive import QUIET, archive_file
from stedi_assets.operations.java import SHORT_JOB_JAVA_OPTIONS


def _work(root: Path) -> None:
    """What the archiving JVM does: a session of the project's settings on a lake of its own,
    a generated landing read and validated, then written, branched and read back as Iceberg
    tables: the classes of a small run."""
    from stedi_assets.operations.settings import load_settings
    from stedi_assets.operations.spark_config import own_session, spark_conf
    from stedi_assets.rules import validation
    from stedi_assets.rules.contract import SOURCES
    from stedi_assets.rules.sample_data import SampleSize, generate_landing

    (root / "lake").mkdir()
    generate_landing(root / "landing", SampleSize(customers=10, readings_per_device=2))
    spark = own_session(spark_conf(load_settings({  # a JVM that writes an archive maps none
        "STEDI_HOME": str(root), "STEDI_LANDING_URI": str(root / "landing"),
        "STEDI_LAKE_URI": str(root / "lake"), "STEDI_CLASS_ARCHIVE": "off"})))
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.stedi")
    source = SOURCES[0]  # the classes are the same for every feed
    lines = validation.read_landing_lines(spark, str(root / "landing" / source.name))
    for number, part in enumerate(validation.validate_in_parts(lines, source).parts()):
        table = f"lake.stedi.{source.name}_{number}"
        part.writeTo(table).using("iceberg").createOrReplace()
        spark.sql(f"ALTER TABLE {table} CREATE BRANCH audit")
        part.writeTo(f"{table}.branch_audit").append()
        spark.table(table).groupBy().count().collect()


MODULE = "stedi_assets.operations.class_archive_writer"  # (`__name__` is __main__ under -m)
WORK_OPTION = "--work"  # the archiving JVM's own process: `_work` in a folder


class ArchiveFailed(RuntimeError):
    pass


def write(folder: Path, java: str) -> Path:
    """Writes the archive of `java` and this Spark; returns its path."""
    archive = archive_file(folder, java)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stedi-class-archive-") as work:
        # Written beside and renamed once the JVM has exited: a JVM maps all of it or none.
        writing = folder / f".{archive.name}.{os.getpid()}"
        # A JVM for one small piece of work: C1 and the serial collector spare a tenth of its
        # time, and the classes it archives serve JVMs of any compiler and collector.
        options = " ".join(filter(None, [os.environ.get("SPARK_SUBMIT_OPTS"),
                                         SHORT_JOB_JAVA_OPTIONS,
                                         f"-XX:ArchiveClassesAtExit={writing}", QUIET]))
        done = subprocess.run([sys.executable, "-m", MODULE, WORK_OPTION, work],
                              env={**os.environ, "SPARK_SUBMIT_OPTS": options},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0 or not writing.is_file():
        writing.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no archive written"])[-1]
        raise ArchiveFailed(f"the archiving JVM's run failed: {last}")
    os.replace(writing, archive)
    return archive


def main(argv: list[str]) -> int:
    from stedi_assets.operations.java import JavaMissing, find_java
    from stedi_assets.operations.settings import load_settings

    if argv[:1] == [WORK_OPTION]:
        _work(Path(argv[1]))
        return 0
    folder = load_settings().class_archive_dir
    if folder is None:
        print("class archive: off (STEDI_CLASS_ARCHIVE=off)")
        return 0
    try:
        java = find_java()
    except JavaMissing as missing:
        print(f"class archive: {missing}", file=sys.stderr)
        return 2
    archive = archive_file(Path(folder), java)
    if archive.is_file():
        print(f"class archive: {archive}")
        return 0
    try:
        write(Path(folder), java)
    except ArchiveFailed as failed:  # JVMs start as before, only slower
        print(f"class archive: not written: {failed}", file=sys.stderr)
        return 1
    print(f"class archive: {archive} (written now)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
