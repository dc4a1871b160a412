"""The JVMs' class archive (stedi_assets/operations/class_archive.py): mapped when there is one
for this Java and Spark, never in the way when there is none, and off when asked."""

import os

import pytest

from stedi_assets.operations import class_archive
from stedi_assets.operations.settings import load_settings
from stedi_assets.operations.spark_config import DRIVER_JAVA_OPTIONS, spark_conf

pytestmark = pytest.mark.unit


@pytest.fixture
def archive_dir(tmp_path, monkeypatch):
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    return tmp_path / "archives", str(java)


def settings(folder, **more):
    return load_settings({"STEDI_CLASS_ARCHIVE": str(folder), "STEDI_LAKE_URI": "/tmp/lake",
                          "STEDI_LANDING_URI": "/tmp/landing", **more})


def test_a_jvm_maps_the_archive_of_its_java_and_spark_when_there_is_one(archive_dir):
    folder, java = archive_dir
    assert DRIVER_JAVA_OPTIONS not in spark_conf(settings(folder))  # none yet: as before
    archive = class_archive.archive_file(folder, java)
    folder.mkdir()
    archive.write_bytes(b"classes")
    options = spark_conf(settings(folder))[DRIVER_JAVA_OPTIONS]
    assert f"-XX:SharedArchiveFile={archive}" in options.split()
    # Another Java (or another Spark) has an archive of its own.
    assert class_archive.archive_file(folder, java + "-other") != archive
    assert os.path.basename(archive).startswith("spark-")


def test_the_archive_joins_the_driver_options_the_lake_already_sets(archive_dir):
    folder, java = archive_dir
    folder.mkdir()
    class_archive.archive_file(folder, java).write_bytes(b"classes")
    on_glue = spark_conf(settings(folder, STEDI_CATALOG="glue", STEDI_LAKE_URI="s3://b/lake",
                                  STEDI_LANDING_URI="s3://b/landing",
                                  STEDI_PSEUDONYM_KEY="a-test-key"))
    options = on_glue[DRIVER_JAVA_OPTIONS].split()
    assert any(option.startswith("-Daws.maxAttempts=") for option in options)
    assert any(option.startswith("-XX:SharedArchiveFile=") for option in options)


def test_off_maps_nothing(archive_dir):
    folder, java = archive_dir
    folder.mkdir()
    class_archive.archive_file(folder, java).write_bytes(b"classes")
    assert load_settings({"STEDI_CLASS_ARCHIVE": "off"}).class_archive_dir is None
    off = spark_conf(load_settings({"STEDI_CLASS_ARCHIVE": "off", "STEDI_LAKE_URI": "/tmp/l",
                                    "STEDI_LANDING_URI": "/tmp/la"}))
    assert DRIVER_JAVA_OPTIONS not in off
