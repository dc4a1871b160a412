"""Spark 4 needs Java 17 or 21; find one or say in one line what is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

SUPPORTED_JAVA = (17, 21)


class JavaMissing(RuntimeError):
    pass


def java_major_version(java: str) -> int | None:
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)', shown.stderr + shown.stdout)
    return int(found.group(1)) if found else None


# A JVM that does one short piece of work (the class archive's, the tests' subprocesses): C1
# alone compiles what it runs soon enough, without C2's threads taking a core from Spark, and the
# serial collector suits its small heap. What Spark computes is the same.
SHORT_JOB_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def java_on_path() -> str | None:
    """The `java` Spark's launcher runs: JAVA_HOME's, else the first on PATH (unchecked)."""
    home = os.environ.get("JAVA_HOME")
    return os.path.join(home, "bin", "java") if home else shutil.which("java")


def find_java() -> str:
    """Path of a supported `java`, from JAVA_HOME or PATH, or JavaMissing with one line."""
    candidate = java_on_path()
    if not candidate or not os.path.exists(candidate):
        raise JavaMissing(
            "no Java found: Spark 4 needs Java 17 or 21 (Debian/Ubuntu: "
            "apt-get install openjdk-17-jre-headless, or run scripts/ensure-java)"
        )
    major = java_major_version(candidate)
    if major not in SUPPORTED_JAVA:
        raise JavaMissing(
            f"{candidate} is Java {major}: Spark 4 needs Java 17 or 21 "
            "(set JAVA_HOME to one, or run scripts/ensure-java)"
        )
    return candidate
