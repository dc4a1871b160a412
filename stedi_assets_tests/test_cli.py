from stedi_assets.cli import main


def test_run_prints_every_table_with_its_row_count(spark, small_landing, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_LANDING_URI", str(small_landing))
    monkeypatch.setenv("STEDI_LAKE_URI", str(tmp_path / "lake"))
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert lines["landing_quarantine"][0] == "0"
    assert lines["machine_learning_curated"][1] == str(tmp_path / "lake" / "curated" / "machine_learning_curated")
    assert int(lines["machine_learning_curated"][0]) > 0


def test_bad_configuration_is_one_line_and_a_non_zero_exit(monkeypatch, capsys):
    monkeypatch.setenv("STEDI_CONSENT_MODE", "sometimes")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "STEDI_CONSENT_MODE='sometimes'" in err


def test_a_missing_landing_folder_is_one_line(spark, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_LANDING_URI", str(tmp_path / "nowhere"))
    monkeypatch.setenv("STEDI_LAKE_URI", str(tmp_path / "lake"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "landing folder for customer not found" in err


def test_generate_writes_a_landing_zone(tmp_path, capsys):
    assert main(["generate", str(tmp_path), "--customers", "10"]) == 0
    assert capsys.readouterr().out.startswith("customer=10 ")
    assert (tmp_path / "customer").is_dir()
