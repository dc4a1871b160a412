from dagster import AssetSelection, define_asset_job

# Dagster's own tags (read by the run retry daemon of the project's instance, dagster.yaml).
MAX_RETRIES_TAG = "dagster/max_retries"
RETRY_STRATEGY_TAG = "dagster/retry_strategy"
# One retry covers what passes on a second try (a stale publish, a lost S3 connection) without
# tripling the cost of a run that fails on its data. A retry runs every step again: a run reads
# the whole landing zone and publishes through branches of its own, so a fresh run is the retry
# that cannot mix two runs' tables.
PIPELINE_RETRIES = 1

stedi_pipeline = define_asset_job(
    "stedi_pipeline",
    selection=AssetSelection.all(),
    description="Every table, landing to curated, with its checks.",
    tags={MAX_RETRIES_TAG: str(PIPELINE_RETRIES), RETRY_STRATEGY_TAG: "ALL_STEPS"},
)
