"""Spark settings for the run's one session, sized for a small machine by default."""

from __future__ import annotations

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
    }
