from stedi_assets.pipeline.assets.curated import customer_curated, machine_learning_curated
from stedi_assets.pipeline.assets.landing import landing_assets, landing_quarantine
from stedi_assets.pipeline.assets.trusted import (
    accelerometer_trusted, customer_trusted, step_trainer_trusted,
)

all_assets = [
    *landing_assets,
    landing_quarantine,
    customer_trusted,
    accelerometer_trusted,
    customer_curated,
    step_trainer_trusted,
    machine_learning_curated,
]
