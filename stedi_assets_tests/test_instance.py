"""The project's Dagster instance: where it lives, what its dagster.yaml says, what survives a
restart."""

import uuid

from dagster import DagsterRun, DagsterRunStatus
from dagster._core.run_coordinator import QueuedRunCoordinator

from stedi_assets import instance as project
from stedi_assets.instance import INSTANCE_TEMPLATE, prepare_dagster_home, project_instance
from stedi_assets.jobs import stedi_pipeline
from stedi_assets.settings import load_settings


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
