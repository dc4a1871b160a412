"""The code location: assets (each with its checks), the job, the sensor and resources."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from stedi_assets.pipeline.assets import all_assets
from stedi_assets.pipeline.assets.attributes import located
from stedi_assets.pipeline.jobs import stedi_pipeline
from stedi_assets.pipeline.resources import build_resources
from stedi_assets.pipeline.sensors import build_landing_sensor
from stedi_assets.operations.settings import Settings, load_settings
from stedi_assets.operations.spark_config import lake_catalog


def build_definitions(settings: Settings | None = None, **resources) -> Definitions:
    """The code location for `settings` (default: the environment); keyword arguments
    replace resources by key."""
    settings = settings or load_settings()
    # In-process: every step shares the run's one SparkSession (one JVM per run, not per step).
    return Definitions(
        assets=located(all_assets, lake_catalog(settings)),
        jobs=[stedi_pipeline],
        sensors=[build_landing_sensor(settings.sensor_running,
                                      settings.sensor_interval_seconds)],
        resources={**build_resources(settings), **resources},
        executor=in_process_executor,
    )
