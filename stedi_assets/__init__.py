"""STEDI lakehouse: landing -> trusted -> curated tables as Spark-backed Dagster assets."""

from stedi_assets.definitions import build_definitions

defs = build_definitions()
