from dagster import AssetSelection, define_asset_job

stedi_pipeline = define_asset_job(
    "stedi_pipeline",
    selection=AssetSelection.all(),
    description="Every table, landing to curated, with its checks.",
)
