"""The Dagster wiring: assets, asset checks, the sensor, the job, resources and definitions."""
