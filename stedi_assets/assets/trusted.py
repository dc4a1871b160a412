"""Trusted zone: valid, deduplicated, consenting; keeps PII (access-restricted)."""


from dagster import asset
from pyspark.sql import DataFrame

from stedi_assets import transforms
from stedi_assets.contract import TRUSTED
from stedi_assets.resources import PrivacyPolicy


@asset(group_name=TRUSTED, kinds={"spark", "iceberg"},
       description="One record per customer (latest wins) who consents to research.")
def customer_trusted(customer_landing: DataFrame, privacy: PrivacyPolicy) -> DataFrame:
    return transforms.customer_trusted(customer_landing, privacy.pseudonym_key)


@asset(group_name=TRUSTED, kinds={"spark", "iceberg"},
       description="Distinct phone readings of customer_trusted customers, within the consent mode.")
def accelerometer_trusted(
    accelerometer_landing: DataFrame, customer_trusted: DataFrame, privacy: PrivacyPolicy
) -> DataFrame:
    return transforms.accelerometer_trusted(
        accelerometer_landing, customer_trusted, privacy.consent_mode
    )


@asset(group_name=TRUSTED, kinds={"spark", "iceberg"},
       description="Distinct Step Trainer readings of customer_curated devices, within the "
       "consent mode.")
def step_trainer_trusted(
    step_trainer_landing: DataFrame, customer_curated: DataFrame, privacy: PrivacyPolicy
) -> DataFrame:
    return transforms.step_trainer_trusted(
        step_trainer_landing, customer_curated, privacy.consent_mode
    )
