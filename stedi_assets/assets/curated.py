"""Curated zone: what data scientists get. No direct identifiers, only customer_id."""


from dagster import AssetExecutionContext, asset
from pyspark.sql import DataFrame

from stedi_assets import transforms
from stedi_assets.contract import CURATED
from stedi_assets.resources import PrivacyPolicy


@asset(group_name=CURATED, kinds={"spark", "iceberg"},
       description="customer_trusted customers with at least one accelerometer_trusted reading.")
def customer_curated(
    context: AssetExecutionContext,
    customer_trusted: DataFrame,
    accelerometer_trusted: DataFrame,
    privacy: PrivacyPolicy,
) -> DataFrame:
    context.add_output_metadata({"pseudonym_key": privacy.key_label()})
    return transforms.customer_curated(customer_trusted, accelerometer_trusted)


@asset(group_name=CURATED, kinds={"spark", "iceberg"},
       description="Each Step Trainer reading paired with its owner's phone readings of the "
       "same millisecond: the training table.")
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
