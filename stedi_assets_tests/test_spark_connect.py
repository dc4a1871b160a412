"""The same pipeline through Spark Connect: the transformations use only the DataFrame API.

`STEDI_SPARK_REMOTE=local` makes PySpark start a local Spark Connect server and talk to it
over gRPC, so this runs in its own process (a process holds one kind of session).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stedi_assets_tests.conftest import printed_tables, row_counts, run_pipeline

pytestmark = [pytest.mark.pipeline, pytest.mark.connect]


def test_the_pipeline_gives_the_same_tables_through_spark_connect(spark, small_landing, tmp_path):
    classic = row_counts(run_pipeline(small_landing, tmp_path / "classic"))
    env = {**os.environ, "STEDI_SPARK_REMOTE": "local", "STEDI_LANDING_URI": str(small_landing),
           "STEDI_LAKE_URI": str(tmp_path / "connect")}
    stedi = Path(sys.executable).parent / "stedi"
    finished = subprocess.run([str(stedi), "run"], env=env, capture_output=True, text=True,
                              timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    printed = {table: int(row[2]) for table, row in printed_tables(finished.stdout).items()}
    assert printed == classic
