"""The code location loads, and its shape is the contract's."""

from dagster import AssetKey, Definitions

import stedi_assets
from stedi_assets.pipeline.checks import (
    CONSENT, NO_DIRECT_IDENTIFIERS, NO_DUPLICATE_KEYS, REQUIRED_FIELDS_PRESENT, ROW_ACCOUNTING,
    SAME_CUSTOMER_PAIRS, SCHEMA_DRIFT,
)
from stedi_assets.rules.contract import CURATED, TRUSTED, ZONE_OF_TABLE
from stedi_assets_tests.conftest import check_keys


def test_all_definitions_load():
    Definitions.validate_loadable(stedi_assets.defs)
    graph = stedi_assets.defs.resolve_asset_graph()
    assert {key.path[-1] for key in graph.get_all_asset_keys()} == set(ZONE_OF_TABLE)


def test_each_table_is_in_its_zone_and_has_its_upstream():
    graph = stedi_assets.defs.resolve_asset_graph()
    for table, zone in ZONE_OF_TABLE.items():
        assert graph.get(AssetKey(table)).group_name == zone
    parents = {key.path[-1] for key in graph.get(AssetKey("machine_learning_curated")).parent_keys}
    assert parents == {"step_trainer_trusted", "customer_curated", "accelerometer_trusted"}


def test_trusted_and_curated_tables_have_blocking_consent_and_dedup_checks():
    checks = {(key.asset_key.path[-1], key.name) for key in check_keys()}
    for table, zone in ZONE_OF_TABLE.items():
        if zone in (TRUSTED, CURATED):
            assert {(table, CONSENT), (table, NO_DUPLICATE_KEYS)} <= checks
        if zone == CURATED:
            assert (table, NO_DIRECT_IDENTIFIERS) in checks
    assert ("machine_learning_curated", SAME_CUSTOMER_PAIRS) in checks
    graph = stedi_assets.defs.resolve_asset_graph()
    for key in check_keys():
        assert graph.get_check_spec(key).blocking == (key.name != SCHEMA_DRIFT)


def test_landing_tables_check_required_fields_and_report_drift():
    checks = {(key.asset_key.path[-1], key.name) for key in check_keys()}
    for table in ("customer_landing", "accelerometer_landing", "step_trainer_landing"):
        assert {(table, REQUIRED_FIELDS_PRESENT), (table, SCHEMA_DRIFT)} <= checks
    for table in ("customer_trusted", "accelerometer_trusted", "step_trainer_trusted"):
        assert (table, ROW_ACCOUNTING) in checks


def test_secret_settings_reach_dagster_as_environment_variable_names(monkeypatch):
    """What the UI shows of the resources: the variables' names, never a token or a key."""
    from dagster import EnvVar

    from stedi_assets.pipeline.resources import build_resources
    from stedi_assets.operations.settings import load_settings

    secrets = {"STEDI_SPARK_REMOTE": "sc://spark.example:15002/;token=s3cret-token",
               "STEDI_PSEUDONYM_KEY": "k3y-that-must-not-show"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    resources = build_resources(load_settings())
    assert resources["pyspark"].remote == EnvVar("STEDI_SPARK_REMOTE")
    assert resources["privacy"].pseudonym_key == EnvVar("STEDI_PSEUDONYM_KEY")
    shown = repr({name: resource for name, resource in resources.items()})
    for value in secrets.values():
        assert value not in shown
    assert "s3cret" not in shown and "spark.example" not in shown
