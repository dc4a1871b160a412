import pytest

from stedi_assets.settings import SettingsError, load_settings


def test_defaults_are_local_and_use_the_generated_sample():
    settings = load_settings({})
    assert settings.consent_mode == "any"
    assert settings.uses_generated_sample
    assert settings.lake_uri.endswith(".stedi/lake")
    assert settings.uses_development_key


def test_everything_comes_from_the_environment(tmp_path):
    settings = load_settings({"STEDI_LANDING_URI": "s3://bucket/landing/",
                              "STEDI_LAKE_URI": str(tmp_path), "STEDI_CONSENT_MODE": "AS_OF_DATE",
                              "STEDI_PSEUDONYM_KEY": "secret"})
    assert (settings.landing_uri, settings.lake_uri, settings.consent_mode) == (
        "s3://bucket/landing", str(tmp_path), "as_of_date")
    assert not settings.uses_generated_sample
    assert settings.pseudonym_key_env == "STEDI_PSEUDONYM_KEY"
    assert "secret" not in repr(settings)


def test_an_unknown_consent_mode_names_the_variable():
    with pytest.raises(SettingsError, match="STEDI_CONSENT_MODE='always'"):
        load_settings({"STEDI_CONSENT_MODE": "always"})


def test_a_lake_on_s3_refuses_the_development_key():
    with pytest.raises(SettingsError, match="STEDI_PSEUDONYM_KEY must be set"):
        load_settings({"STEDI_LAKE_URI": "s3://bucket/lake"})
    assert load_settings({"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_PSEUDONYM_KEY": "k"})


def test_the_catalog_is_local_in_the_lake_unless_the_lake_is_on_s3(tmp_path):
    local = load_settings({"STEDI_LAKE_URI": str(tmp_path)})
    assert (local.catalog, local.local_catalog_path) == ("local", str(tmp_path / "catalog.sqlite"))
    on_s3 = load_settings({"STEDI_LAKE_URI": "s3://bucket/lake", "STEDI_PSEUDONYM_KEY": "k",
                           "STEDI_GLUE_DATABASE": "stedi_prod", "STEDI_KEEP_VERSIONS": "5"})
    assert (on_s3.catalog, on_s3.catalog_database, on_s3.keep_versions) == ("glue", "stedi_prod", 5)


@pytest.mark.parametrize("variable, value", [
    ("STEDI_CATALOG", "hive"), ("STEDI_KEEP_VERSIONS", "0"), ("STEDI_KEEP_VERSIONS", "three")])
def test_unusable_catalog_settings_name_the_variable(variable, value):
    with pytest.raises(SettingsError, match=f"{variable}='{value}'"):
        load_settings({variable: value})
