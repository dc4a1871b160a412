"""Curated zone: what data scientists get. No direct identifiers, only customer_id."""


from dagster import AssetExecutionContext, asset
from pyspark.sql import DataFrame

from stedi_assets.rules import transforms
from stedi_assets.pipeline.assets.attributes import table_asset
from stedi_assets.pipeline.checks import audited
from stedi_assets.pipeline.assets.plans import table_plan
from stedi_assets.rules.contract import (
    ACCELEROMETER_TRUSTED, CUSTOMER_CURATED, MACHINE_LEARNING_CURATED, STEP_TRAINER_TRUSTED,
)
from stedi_assets.lake.incremental import APPEND, UNCHANGED, TableUpdate, appended, as_built
from stedi_assets.pipeline.resources import LakehouseResource, PrivacyPolicy


@asset(**table_asset(CUSTOMER_CURATED))
@audited
def customer_curated(
    context: AssetExecutionContext,
    customer_trusted: DataFrame,
    accelerometer_trusted: DataFrame,
    privacy: PrivacyPolicy,
    lakehouse: LakehouseResource,
) -> TableUpdate:
    context.add_output_metadata({"pseudonym_key": privacy.key_label()}, output_name="result")
    run, plan = table_plan(context, CUSTOMER_CURATED, lakehouse, privacy)
    if plan.mode == UNCHANGED:
        return TableUpdate(plan)
    if plan.mode == APPEND:
        return TableUpdate(plan, transforms.new_curated_customers(
            customer_trusted, appended(run, plan, ACCELEROMETER_TRUSTED),
            run.read(CUSTOMER_CURATED)))
    return TableUpdate(plan, transforms.customer_curated(customer_trusted, accelerometer_trusted))


@asset(**table_asset(MACHINE_LEARNING_CURATED))
@audited
def machine_learning_curated(
    context: AssetExecutionContext,
    step_trainer_trusted: DataFrame,
    customer_curated: DataFrame,
    accelerometer_trusted: DataFrame,
    privacy: PrivacyPolicy,
    lakehouse: LakehouseResource,
) -> TableUpdate:
    context.add_output_metadata({"pseudonym_key": privacy.key_label()}, output_name="result")
    run, plan = table_plan(context, MACHINE_LEARNING_CURATED, lakehouse, privacy)
    if plan.mode == UNCHANGED:
        return TableUpdate(plan)
    if plan.mode == APPEND:
        return TableUpdate(plan, transforms.new_machine_learning_pairs(
            as_built(run, plan, STEP_TRAINER_TRUSTED), appended(run, plan, STEP_TRAINER_TRUSTED),
            customer_curated, accelerometer_trusted, appended(run, plan, ACCELEROMETER_TRUSTED)))
    return TableUpdate(plan, transforms.machine_learning_curated(
        step_trainer_trusted, customer_curated, accelerometer_trusted))
