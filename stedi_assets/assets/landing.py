"""Landing zone: the raw feeds, typed and validated, never modified."""


from dagster import AssetExecutionContext, AssetsDefinition, MetadataValue, asset
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame

from stedi_assets import validation
from stedi_assets.assets.attributes import table_asset
from stedi_assets.contract import (
    ACCELEROMETER, CUSTOMER, LANDING_QUARANTINE, SOURCES, STEP_TRAINER, Source,
)
from stedi_assets.resources import LandingZone


def landing_asset(source: Source) -> AssetsDefinition:
    @asset(**table_asset(source.table, "json"))
    def _landing(context: AssetExecutionContext, landing_zone: LandingZone,
                 pyspark: LazyPySparkResource) -> validation.ValidatedLanding:
        hidden = landing_zone.hidden_files(source)
        if hidden:
            context.log.warning(
                f"{source.name}: {len(hidden)} landing file(s) not read because a name on their "
                f"path starts with _ or . (hidden from Spark); rename them: {', '.join(hidden[:5])}")
        context.add_output_metadata({"files_not_read": MetadataValue.json(hidden)})
        lines = validation.read_landing_lines(pyspark.spark_session,
                                              landing_zone.source_uri(source))
        return validation.validate_in_parts(lines, source)

    return _landing


landing_assets = [landing_asset(source) for source in SOURCES]


@asset(**table_asset(LANDING_QUARANTINE))
def landing_quarantine(
    customer_landing: DataFrame, accelerometer_landing: DataFrame, step_trainer_landing: DataFrame
) -> DataFrame:
    return validation.landing_quarantine([
        (CUSTOMER, customer_landing),
        (ACCELEROMETER, accelerometer_landing),
        (STEP_TRAINER, step_trainer_landing),
    ])
