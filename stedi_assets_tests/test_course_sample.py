"""The contract's known answers on the course sample, in both consent modes."""

import json

import pytest

from stedi_assets.cli import main

from stedi_assets_tests.conftest import check_keys, row_counts, run_pipeline

LANDING_AND_QUARANTINE = {
    "customer_landing": 956,
    "accelerometer_landing": 81_273,
    "step_trainer_landing": 28_680,
    "landing_quarantine": 0,
}
EXPECTED = {
    "any": {
        **LANDING_AND_QUARANTINE,
        "customer_trusted": 482,
        "accelerometer_trusted": 40_981,
        "customer_curated": 482,
        "step_trainer_trusted": 14_460,
        "machine_learning_curated": 40_981,
    },
    "as_of_date": {
        **LANDING_AND_QUARANTINE,
        "customer_trusted": 482,
        "accelerometer_trusted": 32_025,
        "customer_curated": 464,
        "step_trainer_trusted": 11_297,
        "machine_learning_curated": 32_025,
    },
}


@pytest.mark.parametrize("consent_mode", ["any", "as_of_date"])
def test_course_sample_gives_the_contract_counts(spark, course_sample, tmp_path, consent_mode,
                                                 monkeypatch, capsys):
    result = run_pipeline(course_sample, tmp_path / "lake", consent_mode)

    assert result.success
    assert row_counts(result) == EXPECTED[consent_mode]
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    assert len(result.get_asset_check_evaluations()) == len(check_keys())

    # What an analyst sees: the published tables, by name, through `stedi sql`.
    monkeypatch.setenv("STEDI_LANDING_URI", str(course_sample))
    monkeypatch.setenv("STEDI_LAKE_URI", str(tmp_path / "lake"))
    for table, rows in EXPECTED[consent_mode].items():
        assert main(["sql", f"select count(*) from {table}", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out) == [{"count_star()": rows}]
