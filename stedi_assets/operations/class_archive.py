"""A class data sharing (CDS) archive for the JVMs that run Spark here: the classes of Spark,
Iceberg and their libraries as a JVM holds them once loaded, which a new JVM maps instead of
reading, parsing and verifying tens of thousands of classes again. Measured here, a cold local
start (session, a JSON read, an Iceberg write): 24 s without it, 15 s with it.

Java 19 makes such an archive by itself; Java 17, which the project supports, writes one only
when a JVM exits (-XX:ArchiveClassesAtExit), and that JVM runs slower meanwhile. So one is made
on purpose, once per Java and Spark (`python -m stedi_assets.operations.class_archive_writer`,
which `make run` and `make test` call), by a JVM that does a small run's kind of work; every
JVM after it maps it (this module). The JVM checks an archive before it maps it, and a class of another jar (the
S3 libraries) is loaded as usual: an archive never changes what runs, only how fast it starts.
"""

from __future__ import annotations

import hashlib
import os
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
