"""Trusted zone: valid, deduplicated, consenting; keeps PII (access-restricted)."""


from dagster import AssetExecutionContext, asset
from pyspark.sql import DataFrame

from stedi_assets.rules import transforms
from stedi_assets.pipeline.assets.attributes import table_asset
from stedi_assets.pipeline.checks import audited
from stedi_assets.pipeline.assets.plans import table_plan
from stedi_assets.rules.contract import (
    ACCELEROMETER_LANDING, ACCELEROMETER_TRUSTED, CUSTOMER_TRUSTED, STEP_TRAINER_LANDING,
    STEP_TRAINER_TRUSTED,
)
from stedi_assets.lake.incremental import APPEND, UNCHANGED, TableUpdate, appended
from stedi_assets.pipeline.resources import LakehouseResource, PrivacyPolicy


@asset(**table_asset(CUSTOMER_TRUSTED))
@audited
def customer_trusted(context: AssetExecutionContext, customer_landing: DataFrame,
                     privacy: PrivacyPolicy, lakehouse: LakehouseResource) -> TableUpdate:
    # Customers are few: a change rebuilds the table (there is no append plan for it).
    _, plan = table_plan(context, CUSTOMER_TRUSTED, lakehouse, privacy)
    if plan.mode == UNCHANGED:
        return TableUpdate(plan)
    return TableUpdate(plan, transforms.customer_trusted(customer_landing, privacy.pseudonym_key))


@asset(**table_asset(ACCELEROMETER_TRUSTED))
@audited
def accelerometer_trusted(
    context: AssetExecutionContext, accelerometer_landing: DataFrame,
    customer_trusted: DataFrame, privacy: PrivacyPolicy, lakehouse: LakehouseResource,
) -> TableUpdate:
    run, plan = table_plan(context, ACCELEROMETER_TRUSTED, lakehouse, privacy)
    if plan.mode == UNCHANGED:
        return TableUpdate(plan)
    if plan.mode == APPEND:
        return TableUpdate(plan, transforms.new_accelerometer_readings(
            appended(run, plan, ACCELEROMETER_LANDING), customer_trusted,
            run.read(ACCELEROMETER_TRUSTED), privacy.consent_mode))
    return TableUpdate(plan, transforms.accelerometer_trusted(
        accelerometer_landing, customer_trusted, privacy.consent_mode))


@asset(**table_asset(STEP_TRAINER_TRUSTED))
@audited
def step_trainer_trusted(
    context: AssetExecutionContext, step_trainer_landing: DataFrame,
    customer_curated: DataFrame, privacy: PrivacyPolicy, lakehouse: LakehouseResource,
) -> TableUpdate:
    run, plan = table_plan(context, STEP_TRAINER_TRUSTED, lakehouse, privacy)
    mode = privacy.consent_mode
    if plan.mode == UNCHANGED:
        return TableUpdate(plan)
    if plan.mode == APPEND:
        new, stored = appended(run, plan, STEP_TRAINER_LANDING), run.read(STEP_TRAINER_TRUSTED)
        # A stored row would change, not only new ones come: rebuilt (rare).
        if transforms.lowered_distances(new, customer_curated, stored, mode).isEmpty():
            return TableUpdate(plan, transforms.new_step_readings(
                new, customer_curated, stored, mode))
        plan = plan.full("a new reading gives a stored one a smaller distance")
    return TableUpdate(plan, transforms.step_trainer_trusted(
        step_trainer_landing, customer_curated, mode))
