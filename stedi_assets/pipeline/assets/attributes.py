"""What the UI says about each table before any run: from the contract and the settings."""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetsDefinition, AssetSpec, map_asset_specs

from stedi_assets.pipeline.checks import check_specs
from stedi_assets.rules.contract import (
    AUDITED_TABLES, LANDING, OWNERS, TABLE_BY_NAME, ZONE_OF_TABLE,
)
from stedi_assets.lake.catalog import LakeCatalog
from stedi_assets.pipeline.metadata import declared_schema

TABLE_NAME = "dagster/table_name"
PRIORITY = "dagster/priority"
COLUMN_SCHEMA = "dagster/column_schema"


def table_asset(table: str, *kinds: str) -> dict:
    """The @asset arguments of a contract table: its name, zone, description, owners, code
    version and columns; computed with Spark (and `kinds`). An audited table's step runs its
    checks too."""
    spec = TABLE_BY_NAME[table]
    audited = {} if table not in AUDITED_TABLES else {"check_specs": check_specs(table)}
    return {
        **audited,
        # Landing tables (the quarantine among them) are written before any other: trusted
        # tables' checks compare them with the quarantine, which is not their input.
        "op_tags": {PRIORITY: "1" if ZONE_OF_TABLE[table] == LANDING else "0"},
        "name": table,
        "group_name": spec.zone,
        "description": spec.about,
        "owners": list(OWNERS),
        "code_version": spec.code_version,
        "kinds": {"spark", *kinds},
        "metadata": {COLUMN_SCHEMA: declared_schema(table)},
    }


def located(assets: Iterable[AssetsDefinition], catalog: LakeCatalog) -> list[AssetsDefinition]:
    """`assets` with where their tables live, which only the settings know: the catalog's
    name of each table and its storage kinds (the same for every table)."""
    def locate(spec: AssetSpec) -> AssetSpec:
        return spec.merge_attributes(
            kinds=catalog.kinds, metadata={TABLE_NAME: catalog.table_name(spec.key.path[-1])})

    return list(map_asset_specs(locate, assets))
