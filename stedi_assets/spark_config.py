"""Spark settings for the run's one session, sized for a small machine by default."""

from __future__ import annotations

from pathlib import Path

from stedi_assets import aws
from stedi_assets.settings import Settings

# Every table here is small next to a Spark partition; 200 shuffle partitions (Spark's default)
# would mostly schedule empty tasks on a 2-core machine.
SHUFFLE_PARTITIONS = 4
# The customer tables (thousands of rows) are broadcast to every join; readings never are.
BROADCAST_THRESHOLD = 64 * 1024 * 1024


def spark_conf(settings: Settings) -> dict[str, str]:
    """Session settings. Through Spark Connect only SQL settings apply: the server owns the
    rest."""
    conf = {
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.sql.autoBroadcastJoinThreshold": str(BROADCAST_THRESHOLD),
        "spark.sql.session.timeZone": "UTC",
    }
    if settings.spark_remote:
        return {"spark.remote": settings.spark_remote, **conf}
    return {
        "spark.master": settings.spark_master,
        "spark.app.name": "stedi_assets",
        "spark.driver.memory": "2g",
        "spark.ui.showConsoleProgress": "false",
        **conf,
        **(s3a_conf(settings) if settings.uses_s3 else {}),
    }


def hadoop_version() -> str:
    """The Hadoop version the installed pyspark ships (hadoop-aws must match it exactly)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in jars.glob("hadoop-client-api-*.jar"):
        return jar.name[len("hadoop-client-api-"):-len(".jar")]
    raise RuntimeError(f"no hadoop-client-api jar in {jars}: cannot choose hadoop-aws")


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Spark's S3A connector, configured like boto3: the standard credential chain, and the
    endpoint and region from the usual AWS variables (for S3-compatible servers)."""
    conf = {}
    if settings.s3a_jars == "maven":  # EMR, Glue and Databricks ship the connector already
        conf["spark.jars.packages"] = f"org.apache.hadoop:hadoop-aws:{hadoop_version()}"
        conf["spark.jars.ivy"] = settings.jar_cache
    endpoint = aws.s3_endpoint()
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint.startswith("https")).lower()
    region = aws.region()
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if aws.path_style_access():
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
    return conf
