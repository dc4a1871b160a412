"""Landing zone: the raw feeds, typed and validated, never modified."""


from dagster import AssetExecutionContext, AssetsDefinition, MetadataValue, asset
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame

from stedi_assets.rules import validation
from stedi_assets.pipeline.assets.attributes import table_asset
from stedi_assets.pipeline.checks import audited
from stedi_assets.pipeline.assets.plans import landing_plan, table_plan
from stedi_assets.lake.incremental import APPEND, UNCHANGED, TableUpdate, appended
from stedi_assets.rules.contract import (
    ACCELEROMETER, CUSTOMER, LANDING_QUARANTINE, SOURCES, STEP_TRAINER, Source,
)
from stedi_assets.pipeline.resources import LakehouseResource, LandingZone, PrivacyPolicy


def landing_asset(source: Source) -> AssetsDefinition:
    @asset(**table_asset(source.table, "json"))
    @audited
    def _landing(context: AssetExecutionContext, landing_zone: LandingZone,
                 pyspark: LazyPySparkResource, lakehouse: LakehouseResource,
                 privacy: PrivacyPolicy) -> TableUpdate:
        hidden = landing_zone.hidden_files(source)
        if hidden:
            context.log.warning(
                f"{source.name}: {len(hidden)} landing file(s) not read because a name on their "
                f"path starts with _ or . (hidden from Spark); rename them: {', '.join(hidden[:5])}")
        context.add_output_metadata({"files_not_read": MetadataValue.json(hidden)},
                                    output_name="result")
        _, plan = landing_plan(context, source, lakehouse, privacy, landing_zone)
        if plan.mode == UNCHANGED:
            return TableUpdate(plan)
        files = list(plan.new_files) if plan.mode == APPEND else landing_zone.source_uri(source)
        lines = validation.read_landing_lines(pyspark.spark_session, files)
        return TableUpdate(plan, validation.validate_in_parts(lines, source))

    return _landing


landing_assets = [landing_asset(source) for source in SOURCES]


@asset(**table_asset(LANDING_QUARANTINE))
def landing_quarantine(
    context: AssetExecutionContext, customer_landing: DataFrame,
    accelerometer_landing: DataFrame, step_trainer_landing: DataFrame,
    lakehouse: LakehouseResource, privacy: PrivacyPolicy,
) -> TableUpdate:
    run, plan = table_plan(context, LANDING_QUARANTINE, lakehouse, privacy)
    landings = {CUSTOMER: customer_landing, ACCELEROMETER: accelerometer_landing,
                STEP_TRAINER: step_trainer_landing}
    if plan.mode == UNCHANGED:
        return TableUpdate(plan)
    if plan.mode == APPEND:
        landings = {source: appended(run, plan, source.table) for source in landings
                    if not plan.changes[source.table].same_rows}
    return TableUpdate(plan, validation.landing_quarantine(list(landings.items())))
