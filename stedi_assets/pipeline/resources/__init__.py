"""Resources, built from the settings in one place."""


from dagster import EnvVar

from stedi_assets.pipeline.resources.lake_io_manager import LakeIOManager
from stedi_assets.pipeline.resources.lakehouse import LakehouseResource
from stedi_assets.pipeline.resources.landing_zone import LandingZone
from stedi_assets.pipeline.resources.privacy import PrivacyPolicy
from stedi_assets.pipeline.resources.spark import spark_resource
from stedi_assets.operations.settings import DEVELOPMENT_PSEUDONYM_KEY, Settings


def build_resources(settings: Settings) -> dict:
    pyspark = spark_resource(settings)
    key = EnvVar(settings.pseudonym_key_env) if settings.pseudonym_key_env else DEVELOPMENT_PSEUDONYM_KEY
    lakehouse = LakehouseResource(
        lake_uri=settings.lake_uri,
        landing_uri=settings.landing_uri,
        catalog=settings.catalog,
        database=settings.catalog_database,
        keep_versions=settings.keep_versions,
        max_snapshot_age_hours=settings.max_snapshot_age_hours,
        grace_hours=settings.grace_hours,
        max_shrink=settings.max_shrink,
        accept_shrink=sorted(settings.accept_shrink),
        incremental=settings.incremental,
        pyspark=pyspark,
    )
    return {
        "pyspark": pyspark,
        "lakehouse": lakehouse,
        "io_manager": LakeIOManager(lakehouse=lakehouse),
        "landing_zone": LandingZone(
            uri=settings.landing_uri, generated_sample=settings.uses_generated_sample
        ),
        "privacy": PrivacyPolicy(
            consent_mode=settings.consent_mode,
            pseudonym_key=key,
            development_key=settings.uses_development_key,
        ),
    }


__all__ = ["LakeIOManager", "LakehouseResource", "LandingZone", "PrivacyPolicy", "build_resources"]
