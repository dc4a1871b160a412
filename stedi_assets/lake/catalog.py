"""Where the tables live, decided once: the Iceberg catalog Spark writes and pyiceberg reads.

`local` (the embedded default): one SQLite file in the lake, which Spark reaches through
Iceberg's JDBC catalog and pyiceberg through its SQL catalog; data and metadata in the lake
folder. `glue`: the AWS Glue Data Catalog, data and metadata on S3 (Athena reads the same
tables). Nothing else in the project asks which one it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from stedi_assets.operations import aws
from stedi_assets.rules.contract import SOURCE_BY_TABLE, ZONE_OF_TABLE
from stedi_assets.operations.settings import ICEBERG_VERSION, IcebergVersion

NAME = "lake"  # the catalog's name in Spark and in pyiceberg (the JDBC catalog records it)
SQLITE_JDBC = "org.xerial:sqlite-jdbc:3.54.1.0"
# The AWS SDK v2 inside iceberg-aws-bundle. Hadoop's S3A connector (for the landing files) runs
# on it too, given the two SDK modules the bundle lacks: 116 MB of jars instead of the 640 MB
# SDK bundle hadoop-aws asks for, which is excluded with everything the bundle already has.
AWS_SDK_VERSION = "2.54.17"
_IN_THE_BUNDLE = (
    "annotations", "apache5-client", "arns", "auth", "aws-core", "aws-query-protocol",
    "aws-xml-protocol", "checksums", "checksums-spi", "crt-core", "endpoints-spi", "http-auth",
    "http-auth-aws", "http-auth-aws-eventstream", "http-auth-spi", "http-client-spi",
    "identity-spi", "json-utils", "metrics-spi", "netty-nio-client", "profiles", "protocol-core",
    "regions", "retries", "retries-spi", "s3", "sdk-core", "third-party-jackson-core", "utils",
    "utils-lite", "bundle")
S3_EXCLUDES = ",".join(
    [f"software.amazon.awssdk:{name}" for name in _IN_THE_BUNDLE]
    + ["io.netty:*", "org.apache.httpcomponents*:*", "commons-codec:commons-codec",
       "commons-logging:commons-logging", "org.slf4j:slf4j-api",
       "org.reactivestreams:reactive-streams", "software.amazon.eventstream:eventstream"])
VALIDATED_SUFFIX = "_validated"

CatalogKind = Literal["local", "glue"]
JarSource = Literal["maven", "provided"]


def iceberg_name(table: str) -> str:
    """The Iceberg table behind a pipeline table. A landing table's name belongs to the raw
    JSON (data contract); the validated, typed snapshot the pipeline reads is beside it."""
    return table + VALIDATED_SUFFIX if table in SOURCE_BY_TABLE else table


def pipeline_table(name: str) -> str | None:
    """The pipeline table an Iceberg table belongs to (None for tables of somebody else)."""
    table = name.removesuffix(VALIDATED_SUFFIX) if name.endswith(VALIDATED_SUFFIX) else name
    return table if table in ZONE_OF_TABLE and iceberg_name(table) == name else None


@dataclass(frozen=True)
class LakeCatalog:
    kind: CatalogKind
    lake_uri: str  # a folder, or s3://bucket/prefix with the Glue catalog
    landing_uri: str
    database: str = "stedi"
    jars: JarSource = "maven"
    jar_cache: str = ""
    iceberg_version: IcebergVersion = ICEBERG_VERSION

    # -- names and places ----------------------------------------------------------------
    def identifier(self, table: str) -> str:
        """Spark's name of a pipeline table's Iceberg table."""
        return f"{NAME}.{self.database}.{iceberg_name(table)}"

    def table_name(self, table: str) -> str:
        """The name a person queries the table's data by (Athena, `stedi sql` on Glue)."""
        return f"{self.database}.{iceberg_name(table)}"

    @property
    def kinds(self) -> set[str]:
        """Where every table lives, as the UI's kind tags: Iceberg tables of Parquet files,
        in the Glue catalog or the local SQLite one, on S3 or on this machine's disk."""
        return {"iceberg", "parquet", "glue" if self.kind == "glue" else "sqlite",
                "s3" if self.lake_uri.startswith("s3://") else "local"}

    def location(self, table: str) -> str:
        """Each zone under its own prefix, so access can be granted per zone."""
        return f"{self.lake_uri.rstrip('/')}/{ZONE_OF_TABLE[table]}/{iceberg_name(table)}"

    def raw_landing_location(self, table: str) -> str:
        """The raw feed's table: the folder of its manifest, beside its validated snapshot
        (lake/raw_landing.py: the landing files stay where they landed)."""
        return f"{self.lake_uri.rstrip('/')}/{ZONE_OF_TABLE[table]}/{table}/"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.lake_uri) / "catalog.sqlite"

    def exists(self) -> bool:
        """Whether there is a catalog to read (the local one is created by the first run)."""
        return self.kind == "glue" or self.sqlite_path.is_file()

    def describe(self) -> str:
        if self.kind == "glue":
            return f"Glue database {self.database}"
        return f"{self.sqlite_path}"

    # -- Spark ---------------------------------------------------------------------------
    def spark_conf(self) -> dict[str, str]:
        """The Iceberg catalog `lake`, its jars, and S3 when anything is on S3."""
        prefix = f"spark.sql.catalog.{NAME}"
        conf = {
            "spark.sql.extensions":
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
            prefix: "org.apache.iceberg.spark.SparkCatalog",
            # Other processes commit too: every read asks the catalog, never a stale cache.
            f"{prefix}.cache-enabled": "false",
        }
        if self.kind == "glue":
            conf |= {f"{prefix}.type": "glue", f"{prefix}.warehouse": self.lake_uri,
                     f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO"}
            # Endpoints for S3-compatible servers; credentials stay in the default chain.
            for key, value in (("glue.endpoint", aws.endpoint("glue")),
                               ("s3.endpoint", aws.s3_endpoint()), ("client.region", aws.region())):
                if value:
                    conf[f"{prefix}.{key}"] = value
            if aws.path_style_access():
                conf[f"{prefix}.s3.path-style-access"] = "true"
        else:
            conf |= {f"{prefix}.type": "jdbc",
                     f"{prefix}.uri": f"jdbc:sqlite:{self.sqlite_path}",
                     f"{prefix}.warehouse": self.lake_uri,
                     # Several processes may commit at once: SQLite waits for its lock.
                     f"{prefix}.jdbc.busy_timeout": "60000"}
        if self.uses_s3 or self.kind == "glue":
            conf |= aws.jvm_retries()
        if self.uses_s3:
            conf |= _s3a_conf()
        if self.jars == "maven":
            conf["spark.jars.packages"] = ",".join(self.packages())
            conf["spark.jars.ivy"] = self.jar_cache
            if self.uses_s3:
                conf["spark.jars.excludes"] = S3_EXCLUDES
        return conf

    @property
    def uses_s3(self) -> bool:
        return any(uri.startswith("s3://") for uri in (self.lake_uri, self.landing_uri))

    def packages(self) -> list[str]:
        """Maven coordinates Spark needs beyond pyspark (resolved once, then cached)."""
        spark_line = ".".join(_pyspark_version().split(".")[:2])
        packages = [f"org.apache.iceberg:iceberg-spark-runtime-{spark_line}_2.13:"
                    f"{self.iceberg_version}"]
        if self.kind == "local":
            packages.append(SQLITE_JDBC)
        if self.kind == "glue" or self.uses_s3:
            packages.append(f"org.apache.iceberg:iceberg-aws-bundle:{self.iceberg_version}")
        if self.uses_s3:
            packages += [f"org.apache.hadoop:hadoop-aws:{hadoop_version()}",
                         f"software.amazon.awssdk:s3-transfer-manager:{AWS_SDK_VERSION}",
                         f"software.amazon.awssdk:apache-client:{AWS_SDK_VERSION}"]
        return packages

    def register_raw_landing(self, table: str, files: list[str], io) -> None:
        """Lists `files` in the raw landing feed's manifest and, on Glue, registers the feed as
        the contract's typed JSON table of them (the local catalog holds Iceberg tables only:
        there `stedi sql` shows the validated snapshot, and `stedi ddl` the table to create
        elsewhere). The manifest is written first: the table never lists a stale one. `io`:
        a pyiceberg FileIO for the lake."""
        from stedi_assets.lake.raw_landing import MANIFEST, manifest, register_in_glue

        location = self.raw_landing_location(table)
        with io.new_output(location + MANIFEST).create(overwrite=True) as out:
            out.write(manifest(files))
        if self.kind == "glue":
            register_in_glue(aws.client("glue"), self.database, table, location)

    # -- pyiceberg -----------------------------------------------------------------------
    @cached_property
    def pyiceberg(self):
        """The same catalog through pyiceberg: metadata and reads without a JVM."""
        if self.kind == "glue":
            from pyiceberg.catalog.glue import GlueCatalog

            # pyarrow's S3 ignores AWS_ENDPOINT_URL; without a region it guesses, slowly.
            properties = {key: value for key, value in (
                ("glue.endpoint", aws.endpoint("glue")), ("s3.endpoint", aws.s3_endpoint()),
                ("glue.region", aws.region()), ("s3.region", aws.region())) if value}
            return GlueCatalog(NAME, **properties, **aws.pyiceberg_retries())
        from pyiceberg.catalog.sql import SqlCatalog
        from sqlalchemy.exc import OperationalError

        self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            try:
                return SqlCatalog(NAME, uri=f"sqlite:///{self.sqlite_path}",
                                  warehouse=Path(self.lake_uri).as_uri())
            except OperationalError as error:  # another process created the catalog just now
                if "already exists" not in str(error) or attempt == 2:
                    raise


# Hadoop's own chain for S3A (keys in its configuration, in the environment, the instance or
# container role) lacks what boto3 and Iceberg's S3FileIO find next in the standard chain: a
# named profile (AWS_PROFILE, ~/.aws/config and credentials: SSO, assume-role,
# credential_process) and a web identity token (EKS). Without them a person with AWS_PROFILE
# saw Glue work and Spark fail. Each SDK provider is built anew by its `create()`, unlike
# DefaultCredentialsProvider.create(), a singleton that S3A would close with a filesystem.
_PROFILE = "software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider"
_WEB_IDENTITY = "software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider"


def s3a_credential_providers() -> list[str]:
    # The web identity provider fails to start without its token file: listed only with one.
    return ["org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider",
            *([_WEB_IDENTITY] if aws.web_identity() else []), _PROFILE,
            "org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider"]


def _s3a_conf() -> dict[str, str]:
    """Hadoop's S3A connector for `s3://` paths (the landing files), configured like boto3:
    the standard credential chain, endpoint and region from the usual AWS variables."""
    conf = {"spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
            "spark.hadoop.fs.s3a.aws.credentials.provider": ",".join(s3a_credential_providers())}
    endpoint = aws.s3_endpoint()
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint.startswith("https")).lower()
    if aws.region():
        conf["spark.hadoop.fs.s3a.endpoint.region"] = aws.region()
    if aws.path_style_access():
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
    return conf


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


def hadoop_version() -> str:
    """The Hadoop version the installed pyspark ships (hadoop-aws must match it exactly)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in jars.glob("hadoop-client-api-*.jar"):
        return jar.name[len("hadoop-client-api-"):-len(".jar")]
    raise RuntimeError(f"no hadoop-client-api jar in {jars}: cannot choose hadoop-aws")
