"""Curated zone: what data scientists get. No direct identifiers, only customer_id."""


from dagster import AssetExecutionContext, asset
from pyspark.sql import DataFrame

from stedi_assets import transforms
from stedi_assets.assets.attributes import table_asset
from stedi_assets.contract import CUSTOMER_CURATED, MACHINE_LEARNING_CURATED
from stedi_assets.resources import PrivacyPolicy


@asset(**table_asset(CUSTOMER_CURATED))
def customer_curated(
    context: AssetExecutionContext,
    customer_trusted: DataFrame,
    accelerometer_trusted: DataFrame,
    privacy: PrivacyPolicy,
) -> DataFrame:
    context.add_output_metadata({"pseudonym_key": privacy.key_label()})
    return transforms.customer_curated(customer_trusted, accelerometer_trusted)


@asset(**table_asset(MACHINE_LEARNING_CURATED))
def machine_learning_curated(
    context: AssetExecutionContext,
    step_trainer_trusted: DataFrame,
    customer_curated: DataFrame,
    accelerometer_trusted: DataFrame,
    privacy: PrivacyPolicy,
) -> DataFrame:
    context.add_output_metadata({"pseudonym_key": privacy.key_label()})
    return transforms.machine_learning_curated(
        step_trainer_trusted, customer_curated, accelerometer_trusted
    )
