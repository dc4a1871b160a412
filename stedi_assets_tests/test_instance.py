"""The project's Dagster instance: where it lives, what its dagster.yaml says, what survives a
restart."""

import uuid

import pytest
import yaml
from dagster import DagsterRun, DagsterRunStatus
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_postgres import DagsterPostgresStorage

from stedi_assets.operations import instance as project
from stedi_assets.operations.instance import (
    INSTANCE_TEMPLATE, prepare_dagster_home, project_instance,
)
from stedi_assets.pipeline.jobs import stedi_pipeline
from stedi_assets.operations.settings import (
    INSTANCE_STORAGE_SETTING, POSTGRES_URL_SETTING, SettingsError, load_settings,
)

# The instance on a real PostgreSQL server: test_sensor_daemon.py.
SECRET_URL = "postgresql+psycopg2://stedi:s3cret-pw@db.example:5432/dagster"
ON_POSTGRES = {INSTANCE_STORAGE_SETTING: "postgres", POSTGRES_URL_SETTING: SECRET_URL}


def test_the_instance_is_in_the_local_state_folder_and_survives_a_restart(tmp_path):
    settings = load_settings({"STEDI_HOME": str(tmp_path / "state")})
    assert settings.dagster_home == str(tmp_path / "state" / "dagster")
    with project_instance(settings) as instance:
        assert instance.is_persistent
        # One run at a time: the others wait in the queue.
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 1
        # A queued run starts within a second (Dagster's default is 5 s): freshness.
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        # Retries as each run's dagster/max_retries tag asks.
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 0
        run = instance.add_run(DagsterRun(job_name=stedi_pipeline.name, run_id=str(uuid.uuid4()),
                                          status=DagsterRunStatus.SUCCESS))
    with project_instance(settings) as restarted:
        assert restarted.get_run_by_id(run.run_id).status == DagsterRunStatus.SUCCESS


def test_the_pipeline_is_retried_once_from_its_first_step():
    assert stedi_pipeline.tags == {"dagster/max_retries": "1", "dagster/retry_strategy": "ALL_STEPS"}


def test_a_dagster_home_of_ones_own_is_used_as_it_is(tmp_path):
    own = tmp_path / "own"
    settings = load_settings({"STEDI_HOME": str(tmp_path / "state"), "DAGSTER_HOME": str(own)})
    assert (settings.dagster_home, settings.owns_dagster_home) == (str(own), False)
    assert prepare_dagster_home(settings) == own
    assert not (own / "dagster.yaml").exists()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_dagster_home(settings)
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_the_configuration_follows_the_template_unless_a_person_replaced_it(tmp_path):
    settings = load_settings({"STEDI_HOME": str(tmp_path)})
    config = prepare_dagster_home(settings) / "dagster.yaml"
    template = INSTANCE_TEMPLATE.read_text()
    assert config.read_text() == template
    older = template.partition("\n")[0] + "\nrun_retries:\n  enabled: false\n"
    config.write_text(older)
    prepare_dagster_home(settings)
    assert config.read_text() == template
    config.write_text("# mine\nrun_retries:\n  enabled: false\n")
    prepare_dagster_home(settings)
    assert config.read_text().startswith("# mine")


def test_make_ui_is_given_the_instance_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_HOME", str(tmp_path))
    assert project.main() == 0
    home = capsys.readouterr().out.strip()
    assert home == str(tmp_path / "dagster")
    assert (tmp_path / "dagster" / "dagster.yaml").read_text() == INSTANCE_TEMPLATE.read_text()


def test_on_postgres_the_instance_names_the_url_variable_and_keeps_the_queue_and_retries(
        tmp_path, monkeypatch):
    settings = load_settings({"STEDI_HOME": str(tmp_path), **ON_POSTGRES})
    assert settings.instance_storage == "postgres"
    text = (prepare_dagster_home(settings) / "dagster.yaml").read_text()
    assert "s3cret" not in text and "db.example" not in text
    assert text.startswith(INSTANCE_TEMPLATE.read_text())  # queue and retries as on SQLite
    written = yaml.safe_load(text)
    assert written["storage"] == {"postgres": {"postgres_url": {"env": POSTGRES_URL_SETTING}}}
    # Dagster's own reading of the folder: the URL comes from the environment when it loads.
    monkeypatch.setenv(POSTGRES_URL_SETTING, SECRET_URL)
    config, _ = dagster_instance_config(settings.dagster_home)
    storage = process_config(DagsterPostgresStorage.config_type(), config["storage"]["postgres"])
    assert storage.success and storage.value["postgres_url"] == SECRET_URL
    assert config["run_coordinator"]["config"] == {"max_concurrent_runs": 1,
                                                   "dequeue_interval_seconds": 1}
    assert config["run_retries"] == {"enabled": True, "max_retries": 0}


def test_the_configuration_follows_the_storage_and_a_persons_own_is_left_alone(tmp_path):
    home = {"STEDI_HOME": str(tmp_path)}
    config = prepare_dagster_home(load_settings({**home, **ON_POSTGRES})) / "dagster.yaml"
    assert "storage:" in config.read_text()
    prepare_dagster_home(load_settings(home))
    assert config.read_text() == INSTANCE_TEMPLATE.read_text()  # back on SQLite
    config.write_text("# mine\nrun_retries:\n  enabled: false\n")
    prepare_dagster_home(load_settings({**home, **ON_POSTGRES}))
    assert config.read_text().startswith("# mine")


@pytest.mark.parametrize("environ, message", [
    ({INSTANCE_STORAGE_SETTING: "mysql"}, "STEDI_INSTANCE_STORAGE='mysql' is not one of"),
    ({INSTANCE_STORAGE_SETTING: "postgres"}, "needs STEDI_DAGSTER_POSTGRES_URL"),
    (ON_POSTGRES | {POSTGRES_URL_SETTING: "postgres://stedi:s3cret-pw@db.example/dagster"},
     "STEDI_DAGSTER_POSTGRES_URL is not a postgresql\\+psycopg2://"),
    (ON_POSTGRES | {POSTGRES_URL_SETTING: "postgresql://stedi:s3cret-pw@db.example/dagster"},
     "psycopg 3"),
    (ON_POSTGRES | {POSTGRES_URL_SETTING: f" {SECRET_URL}"}, "is not a postgresql"),
])
def test_an_unusable_storage_setting_says_why_without_the_url(environ, message):
    with pytest.raises(SettingsError, match=message) as refused:
        load_settings(environ)
    assert "s3cret" not in str(refused.value)


def test_sqlite_is_the_default_storage():
    assert load_settings({}).instance_storage == "sqlite"
    assert load_settings({INSTANCE_STORAGE_SETTING: " SQLite "}).instance_storage == "sqlite"
