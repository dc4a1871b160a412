"""Spark settings for the run's one session, sized for a small machine by default."""

from __future__ import annotations

from stedi_assets.settings import Settings

# Every table here is small next to a Spark partition; 200 shuffle partitions (Spark's default)
# would mostly schedule empty tasks on a 2-core machine.
SHUFFLE_PARTITIONS = 4
# The customer tables (thousands of rows) are broadcast to every join; readings never are.
BROADCAST_THRESHOLD = 64 * 1024 * 1024


def spark_conf(settings: Settings) -> dict[str, str]:
    conf = {
        "spark.app.name": "stedi_assets",
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.sql.autoBroadcastJoinThreshold": str(BROADCAST_THRESHOLD),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
    }
    if settings.spark_remote:
        conf["spark.remote"] = settings.spark_remote
    else:
        conf["spark.master"] = settings.spark_master
        conf["spark.driver.memory"] = "2g"
    return conf
