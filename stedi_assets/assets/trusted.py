"""Trusted zone: valid, deduplicated, consenting; keeps PII (access-restricted)."""


from dagster import asset
from pyspark.sql import DataFrame

from stedi_assets import transforms
from stedi_assets.assets.attributes import table_asset
from stedi_assets.contract import ACCELEROMETER_TRUSTED, CUSTOMER_TRUSTED, STEP_TRAINER_TRUSTED
from stedi_assets.resources import PrivacyPolicy


@asset(**table_asset(CUSTOMER_TRUSTED))
def customer_trusted(customer_landing: DataFrame, privacy: PrivacyPolicy) -> DataFrame:
    return transforms.customer_trusted(customer_landing, privacy.pseudonym_key)


@asset(**table_asset(ACCELEROMETER_TRUSTED))
def accelerometer_trusted(
    accelerometer_landing: DataFrame, customer_trusted: DataFrame, privacy: PrivacyPolicy
) -> DataFrame:
    return transforms.accelerometer_trusted(
        accelerometer_landing, customer_trusted, privacy.consent_mode
    )


@asset(**table_asset(STEP_TRAINER_TRUSTED))
def step_trainer_trusted(
    step_trainer_landing: DataFrame, customer_curated: DataFrame, privacy: PrivacyPolicy
) -> DataFrame:
    return transforms.step_trainer_trusted(
        step_trainer_landing, customer_curated, privacy.consent_mode
    )
