from pathlib import Path

import pytest

from stedi_assets.operations.settings import DEVELOPMENT_PSEUDONYM_KEY, SettingsError, load_settings


def test_defaults_are_local_and_use_the_generated_sample():
    settings = load_settings({})
    assert settings.consent_mode == "any"
    assert settings.uses_generated_sample
    assert settings.lake_uri.endswith(".stedi/lake")
    assert settings.uses_development_key


def test_everything_comes_from_the_environment(tmp_path):
    settings = load_settings({"STEDI_LANDING_URI": "s3://bucket/landing/",
                              "STEDI_LAKE_URI": str(tmp_path), "STEDI_CONSENT_MODE": "AS_OF_DATE",
                              "STEDI_PSEUDONYM_KEY": "secret"})
    assert (settings.landing_uri, settings.lake_uri, settings.consent_mode) == (
        "s3://bucket/landing", str(tmp_path), "as_of_date")
    assert not settings.uses_generated_sample
    assert settings.pseudonym_key_env == "STEDI_PSEUDONYM_KEY"
    assert "secret" not in repr(settings)


def test_an_unknown_consent_mode_names_the_variable():
    with pytest.raises(SettingsError, match="STEDI_CONSENT_MODE='always'"):
        load_settings({"STEDI_CONSENT_MODE": "always"})


@pytest.mark.parametrize("environ", [
    {"STEDI_LAKE_URI": "s3a://bucket/lake"},
    {"STEDI_LAKE_URI": "S3://bucket/lake"},
    {"STEDI_LANDING_URI": "s3://bucket/landing"},
    {"STEDI_CATALOG": "glue"},
    {"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_PSEUDONYM_KEY": DEVELOPMENT_PSEUDONYM_KEY},
], ids=["s3a lake", "upper-case S3 lake", "landing on S3", "glue catalog", "the dev key's value"])
def test_the_development_key_is_refused_beyond_local_paths_and_the_local_catalog(environ):
    with pytest.raises(SettingsError, match="STEDI_PSEUDONYM_KEY must be set"):
        load_settings(environ)
    assert load_settings({**environ, "STEDI_PSEUDONYM_KEY": "a-secret-of-my-own"})


def test_the_development_key_is_fine_on_local_paths(tmp_path):
    for lake in (str(tmp_path / "lake"), f"file://{tmp_path}/lake"):
        settings = load_settings({"STEDI_LAKE_URI": lake,
                                  "STEDI_LANDING_URI": f"file://{tmp_path}/landing"})
        assert settings.uses_development_key
    same_as_dev = load_settings({"STEDI_PSEUDONYM_KEY": DEVELOPMENT_PSEUDONYM_KEY})
    assert same_as_dev.uses_development_key


def test_a_lake_on_s3_refuses_the_development_key():
    with pytest.raises(SettingsError, match="STEDI_PSEUDONYM_KEY must be set"):
        load_settings({"STEDI_LAKE_URI": "s3://bucket/lake"})
    assert load_settings({"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_PSEUDONYM_KEY": "k"})


def test_the_catalog_is_local_in_the_lake_unless_the_lake_is_on_s3(tmp_path):
    local = load_settings({"STEDI_LAKE_URI": str(tmp_path)})
    from stedi_assets.operations.spark_config import lake_catalog

    assert (local.catalog, lake_catalog(local).sqlite_path) == ("local", tmp_path / "catalog.sqlite")
    on_s3 = load_settings({"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_PSEUDONYM_KEY": "k",
                           "STEDI_GLUE_DATABASE": "stedi_prod", "STEDI_KEEP_VERSIONS": "5"})
    assert (on_s3.catalog, on_s3.catalog_database, on_s3.keep_versions) == ("glue", "stedi_prod", 5)


@pytest.mark.parametrize("variable, value", [
    ("STEDI_CATALOG", "hive"), ("STEDI_KEEP_VERSIONS", "0"), ("STEDI_KEEP_VERSIONS", "three")])
def test_unusable_catalog_settings_name_the_variable(variable, value):
    with pytest.raises(SettingsError, match=f"{variable}='{value}'"):
        load_settings({variable: value})


def test_the_local_catalog_brings_iceberg_and_sqlite_jdbc(tmp_path):
    from stedi_assets.operations.spark_config import spark_conf

    conf = spark_conf(load_settings({"STEDI_LAKE_URI": str(tmp_path)}))
    packages = conf["spark.jars.packages"].split(",")
    assert packages[0].startswith("org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:")
    assert any(p.startswith("org.xerial:sqlite-jdbc:") for p in packages)
    assert conf["spark.sql.catalog.lake.type"] == "jdbc"
    assert conf["spark.sql.catalog.lake.uri"] == f"jdbc:sqlite:{tmp_path / 'catalog.sqlite'}"
    assert "spark.hadoop.fs.s3.impl" not in conf


def test_s3_brings_the_s3a_connector_matching_pyspark_and_the_endpoint(monkeypatch, tmp_path):
    import pyspark

    from stedi_assets.operations.spark_config import spark_conf

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123")
    monkeypatch.setenv("STEDI_S3_PATH_STYLE", "true")
    on_s3 = {"STEDI_LANDING_URI": "s3://bucket/landing", "STEDI_LAKE_URI": "s3://bucket/lake",
             "STEDI_PSEUDONYM_KEY": "k", "STEDI_JAR_CACHE": str(tmp_path)}
    conf = spark_conf(load_settings(on_s3))
    shipped = next((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    version = shipped.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
    packages = conf["spark.jars.packages"].split(",")
    assert f"org.apache.hadoop:hadoop-aws:{version}" in packages
    assert any(p.startswith("org.apache.iceberg:iceberg-aws-bundle:") for p in packages)
    assert "software.amazon.awssdk:bundle" in conf["spark.jars.excludes"]  # 640 MB spared
    assert conf["spark.jars.ivy"] == str(tmp_path)
    assert conf["spark.sql.catalog.lake.type"] == "glue"
    assert conf["spark.sql.catalog.lake.warehouse"] == "s3://bucket/lake"
    assert conf["spark.sql.catalog.lake.s3.endpoint"] == "http://127.0.0.1:5123"
    assert conf["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5123"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert not any("secret" in key or "access.key" in key for key in conf)

    provided = spark_conf(load_settings({**on_s3, "STEDI_JARS": "provided"}))
    assert "spark.jars.packages" not in provided

    # Iceberg's version (the one AWS's managed Spark ships, say): every Iceberg jar follows it.
    older = spark_conf(load_settings({**on_s3, "STEDI_ICEBERG_VERSION": "1.11.0"}))
    iceberg = [p for p in older["spark.jars.packages"].split(",") if "iceberg" in p]
    assert len(iceberg) == 2 and all(p.endswith(":1.11.0") for p in iceberg)


@pytest.mark.parametrize("variable, value", [
    ("STEDI_MAX_SNAPSHOT_AGE_HOURS", "-1"), ("STEDI_MAX_SNAPSHOT_AGE_HOURS", "a week"),
    ("STEDI_GRACE_HOURS", "1"), ("STEDI_JARS", "ivy"), ("STEDI_ICEBERG_VERSION", "1.9.0")])
def test_unusable_retention_and_jar_settings_name_the_variable(variable, value):
    with pytest.raises(SettingsError, match=f"{variable}='{value}'"):
        load_settings({variable: value})


def test_a_resource_field_with_a_fixed_set_of_values_is_validated():
    from pydantic import ValidationError

    from stedi_assets.pipeline.resources import PrivacyPolicy

    with pytest.raises(ValidationError):
        PrivacyPolicy(consent_mode="sometimes", pseudonym_key="k")


TAKE_THE_LOCK = """
import sys
from filelock import FileLock, Timeout
try:
    FileLock(sys.argv[1]).acquire(timeout=0)
except Timeout:
    sys.exit(3)
"""


def _lock_is_free(path: Path) -> bool:
    import subprocess
    import sys

    taken = subprocess.run([sys.executable, "-c", TAKE_THE_LOCK, str(path)], timeout=60)
    assert taken.returncode in (0, 3), taken
    return taken.returncode == 0


def test_jvms_start_one_at_a_time_only_while_the_jar_cache_lacks_a_jar(tmp_path):
    from stedi_assets.operations.spark_config import (RESOLVING_LOCK, jars_resolved_alone,
                                           missing_packages, spark_conf)

    cache = tmp_path / "ivy"
    conf = spark_conf(load_settings({"STEDI_LAKE_URI": str(tmp_path / "lake"),
                                     "STEDI_JAR_CACHE": str(cache)}))
    packages = conf["spark.jars.packages"].split(",")
    assert missing_packages(conf) == packages
    with jars_resolved_alone(conf):  # another process starting a JVM now waits
        assert not _lock_is_free(cache / RESOLVING_LOCK)
    assert _lock_is_free(cache / RESOLVING_LOCK)

    (cache / "jars").mkdir()
    for package in packages[1:]:  # Ivy's names: <group>_<artifact>-<version>.jar
        (cache / "jars" / "{}_{}-{}.jar".format(*package.split(":"))).touch()
    assert missing_packages(conf) == packages[:1]
    (cache / "jars" / "{}_{}-{}.jar".format(*packages[0].split(":"))).touch()
    assert missing_packages(conf) == []
    with jars_resolved_alone(conf):  # every jar there: JVMs start side by side
        assert _lock_is_free(cache / RESOLVING_LOCK)


def test_a_remote_engine_s_session_resolves_no_jars_here():
    from stedi_assets.operations.spark_config import missing_packages, spark_conf

    conf = spark_conf(load_settings({"STEDI_SPARK_REMOTE": "sc://127.0.0.1:15002",
                                     "STEDI_JAR_CACHE": "/nonexistent/ivy"}))
    assert missing_packages(conf) == []
