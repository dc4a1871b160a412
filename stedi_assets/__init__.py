"""STEDI lakehouse: landing -> trusted -> curated tables as Spark-backed Dagster assets."""

from stedi_assets.pipeline.definitions import build_definitions

defs = build_definitions()
