"""Each step's plan for its table: full, append or unchanged (see stedi_assets.lake.incremental)."""

from __future__ import annotations

from dagster import AssetExecutionContext

from stedi_assets.lake import incremental
from stedi_assets.rules.contract import Source
from stedi_assets.lake import LakeRun
from stedi_assets.pipeline.resources import LakehouseResource, LandingZone, PrivacyPolicy


def _incremental(context: AssetExecutionContext, lakehouse: LakehouseResource) -> bool:
    asked_full = context.run.tags.get(incremental.FULL_TAG, "").lower() == "true"
    return lakehouse.incremental and not asked_full


def _rules(table: str, privacy: PrivacyPolicy) -> str:
    return incremental.rules(table, privacy.consent_mode, privacy.pseudonym_key)


def table_plan(context: AssetExecutionContext, table: str, lakehouse: LakehouseResource,
               privacy: PrivacyPolicy) -> tuple[LakeRun, incremental.Plan]:
    run = lakehouse.run(context.run.run_id)
    return run, incremental.plan(run, table, _rules(table, privacy),
                                 _incremental(context, lakehouse))


def landing_plan(context: AssetExecutionContext, source: Source, lakehouse: LakehouseResource,
                 privacy: PrivacyPolicy, landing_zone: LandingZone
                 ) -> tuple[LakeRun, incremental.Plan]:
    run = lakehouse.run(context.run.run_id)
    landing_zone.source_uri(source)  # a generated sample is written before it is listed
    return run, incremental.plan_landing(
        run, source.table, _rules(source.table, privacy), _incremental(context, lakehouse),
        landing_zone.readable_files(source))
