"""A class data sharing (CDS) archive for the JVMs that run Spark here: the classes of Spark,
Iceberg and their libraries as a JVM holds them once loaded, which a new JVM maps instead of
reading, parsing and verifying tens of thousands of classes again. Measured here, a cold local
start (session, a JSON read, an Iceberg write): 17 to 20 s without it, 11.5 s with it.

Java 19 makes such an archive by itself; Java 17, which the project supports, writes one only
when a JVM exits (-XX:ArchiveClassesAtExit), and that JVM runs slower meanwhile. So one is made
on purpose, once per Java and Spark (`python -m stedi_assets.operations.class_archive`, which
`make run` and `make test` call), by a JVM that does a small run's kind of work; every JVM
after it maps it. The JVM checks an archive before it maps it, and a class of another jar (the
S3 libraries) is loaded as usual: an archive never changes what runs, only how fast it starts.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The JVM's notes about classes it does not archive (those of signed jars) are noise in a log.
QUIET = "-Xlog:cds=error,cds+dynamic=error"


def archive_file(folder: Path, java: str) -> Path:
    """Where the archive of `java` (the executable) and this Spark is: one per pair."""
    from pyspark import __version__ as spark

    jvm = hashlib.sha256(os.path.realpath(java).encode()).hexdigest()[:12]
    return folder / f"spark-{spark}-{jvm}.jsa"


def java_options(folder: str | None) -> str:
    """The options that map the archive of the JVM Spark's launcher would start, when there
    is one (else none: the JVM starts as it would without)."""
    from stedi_assets.operations.java import java_on_path

    java = java_on_path()
    if folder is None or java is None:
        return ""
    archive = archive_file(Path(folder), java)
    return f"-XX:SharedArchiveFile={archive} {QUIET}" if archive.is_file() else ""


# What the archiving JVM does: a session of the project's settings on a lake of its own, a
# generated landing read and validated, then written, branched and read back as Iceberg
# tables: the classes of a small run.
WORK = """
import sys
from pathlib import Path
from stedi_assets.operations.settings import load_settings
from stedi_assets.operations.spark_config import spark_conf, own_session
from stedi_assets.rules import validation
from stedi_assets.rules.contract import SOURCES
from stedi_assets.rules.sample_data import SampleSize, generate_landing

root = Path(sys.argv[1])
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
"""


class ArchiveFailed(RuntimeError):
    pass


def write(folder: Path, java: str) -> Path:
    """Writes the archive of `java` and this Spark (when it is missing); returns its path."""
    archive = archive_file(folder, java)
    if archive.is_file():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stedi-class-archive-") as work:
        # Written beside and renamed once the JVM has exited: a JVM maps all of it or none.
        writing = folder / f".{archive.name}.{os.getpid()}"
        # A JVM for one small piece of work: C1 and the serial collector spare a tenth of its
        # time, and the classes it archives serve JVMs of any compiler and collector.
        options = " ".join(filter(None, [os.environ.get("SPARK_SUBMIT_OPTS"),
                                         "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
                                         f"-XX:ArchiveClassesAtExit={writing}", QUIET]))
        done = subprocess.run([sys.executable, "-c", WORK, work],
                              env={**os.environ, "SPARK_SUBMIT_OPTS": options},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0 or not writing.is_file():
        writing.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no archive written"])[-1]
        raise ArchiveFailed(f"the archiving JVM's run failed: {last}")
    os.replace(writing, archive)
    return archive


def main() -> int:
    from stedi_assets.operations.java import JavaMissing, find_java
    from stedi_assets.operations.settings import load_settings

    folder = load_settings().class_archive_dir
    if folder is None:
        print("class archive: off (STEDI_CLASS_ARCHIVE=off)")
        return 0
    try:
        java = find_java()
    except JavaMissing as missing:
        print(f"class archive: {missing}", file=sys.stderr)
        return 2
    existed = archive_file(Path(folder), java).is_file()
    try:
        archive = write(Path(folder), java)
    except ArchiveFailed as failed:  # JVMs start as before, only slower
        print(f"class archive: not written: {failed}", file=sys.stderr)
        return 1
    print(f"class archive: {archive}{'' if existed else ' (written now)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
