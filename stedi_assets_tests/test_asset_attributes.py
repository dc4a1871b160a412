"""What the UI says about each table before any run: name, owners, code version, where it
lives, columns with their meaning, and checks in plain words. Loading definitions needs no
Spark: these are unit tests."""

import re
from dataclasses import replace

import pytest
from dagster import AssetKey

from stedi_assets.rules import transforms
from stedi_assets.pipeline.checks import DESCRIPTIONS
from stedi_assets.rules.contract import (
    CONTRACT_VERSION, OWNERS, SOURCE_BY_TABLE, TABLE_BY_NAME, ZONE_OF_TABLE, Column,
)
from stedi_assets.pipeline.definitions import build_definitions
from stedi_assets.lake.catalog import iceberg_name
from stedi_assets.operations.settings import load_settings
from stedi_assets_tests.conftest import check_keys

PUBLISHED_COLUMNS = {
    "customer_trusted": transforms.CUSTOMER_TRUSTED_COLUMNS,
    "accelerometer_trusted": transforms.ACCELEROMETER_TRUSTED_COLUMNS,
    "customer_curated": transforms.CUSTOMER_CURATED_COLUMNS,
    "step_trainer_trusted": transforms.STEP_TRAINER_TRUSTED_COLUMNS,
    "machine_learning_curated": transforms.MACHINE_LEARNING_CURATED_COLUMNS,
    "landing_quarantine": ("source", "source_file", "raw_line", "reasons", "quarantined_at"),
    **{table: ("source_file", "source_file_size", "source_file_modified", "raw_line",
               *(field.column for field in source.fields),
               "invalid_reasons", "unknown_fields")
       for table, source in SOURCE_BY_TABLE.items()},
}
LOCAL_KINDS = {"spark", "iceberg", "parquet", "sqlite", "local"}


def asset_graph(environ: dict | None = None, tmp_path=None):
    environ = environ or {"STEDI_LAKE_URI": str(tmp_path / "lake"),
                          "STEDI_LANDING_URI": str(tmp_path / "landing")}
    return build_definitions(load_settings(environ)).resolve_asset_graph()


@pytest.mark.parametrize("table", sorted(ZONE_OF_TABLE))
def test_every_table_says_what_it_is_who_owns_it_and_where_it_lives(table, tmp_path):
    node = asset_graph(tmp_path=tmp_path).get(AssetKey(table))
    assert node.description == TABLE_BY_NAME[table].about
    assert node.owners == list(OWNERS)
    assert node.code_version.startswith(f"{CONTRACT_VERSION}.")
    assert node.metadata["dagster/table_name"] == f"stedi.{iceberg_name(table)}"
    assert node.kinds == LOCAL_KINDS | ({"json"} if table in SOURCE_BY_TABLE else set())


@pytest.mark.parametrize("table", sorted(ZONE_OF_TABLE))
def test_every_table_shows_its_published_columns_with_their_meaning(table, tmp_path):
    schema = asset_graph(tmp_path=tmp_path).get(AssetKey(table)).metadata[
        "dagster/column_schema"]
    assert tuple(column.name for column in schema.columns) == PUBLISHED_COLUMNS[table]
    for column in schema.columns:
        assert column.type and column.description and column.description.strip(), column.name


def test_where_tables_live_follows_the_settings():
    graph = asset_graph({"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_PSEUDONYM_KEY": "k",
                         "STEDI_GLUE_DATABASE": "stedi_dev"})
    node = graph.get(AssetKey("machine_learning_curated"))
    assert node.kinds == {"spark", "iceberg", "parquet", "glue", "s3"}
    assert node.metadata["dagster/table_name"] == "stedi_dev.machine_learning_curated"


def test_the_code_version_follows_the_schema_not_the_wording():
    table = TABLE_BY_NAME["customer_curated"]
    reworded = replace(table, about="other words", columns=tuple(
        replace(column, about="other words") for column in table.columns))
    assert reworded.code_version == table.code_version
    assert replace(table, revision=2).code_version != table.code_version
    wider = replace(table, columns=(*table.columns, Column("email", "string", "e-mail")))
    assert wider.code_version != table.code_version
    assert len({t.code_version for t in TABLE_BY_NAME.values()}) == len(TABLE_BY_NAME)


def test_every_check_explains_itself_in_plain_words(tmp_path):
    graph = asset_graph(tmp_path=tmp_path)
    for key in check_keys():
        assert graph.get_check_spec(key).description == DESCRIPTIONS[key.name]
    for name, text in DESCRIPTIONS.items():
        # No table names, formulas or code names beyond the settings a person may change.
        words = set(re.findall(r"[A-Za-z_]+", text))
        assert not words & set(ZONE_OF_TABLE), name
        assert "=" not in text and "+" not in text, name
        jargon = {w for w in words if "_" in w and not w.startswith("STEDI_")}
        assert jargon <= {"customer_id", "as_of_date"}, (name, jargon)
