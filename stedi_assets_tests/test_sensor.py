"""The landing sensor: one run per new landing file version, again when its run fails; and
the setting that starts it running.

Each test ticks the sensor as the daemon does (every tick sees the cursor the last one left)
against the project's Dagster instance in a folder of its own, and plays the daemon's part with
the runs: creates one per request, fails it, retries it, re-executes it.
"""

import os
import uuid
from pathlib import Path

import pytest
from dagster import (
    DagsterEvent, DagsterEventType, DagsterRun, DagsterRunStatus, DefaultSensorStatus, RunsFilter,
    SensorResult, build_sensor_context,
)

from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, SOURCES, STEP_TRAINER
from stedi_assets.pipeline.definitions import build_definitions
from stedi_assets.operations.instance import project_instance
from stedi_assets.pipeline.jobs import stedi_pipeline
from stedi_assets.pipeline.resources import LandingZone
from stedi_assets.pipeline.sensors import (
    CUSTOMER_TRIGGER, LANDING_SENSOR, READINGS_TRIGGER, REQUESTED_AGAIN_TAG, RUN_KEY_TAG,
    SENSOR_ATTEMPTS, TRIGGER_TAG, build_landing_sensor, files_tag,
)
from stedi_assets.operations.settings import SettingsError, load_settings
from stedi_assets_tests import test_on_s3

aws_env = test_on_s3.aws_env  # the project's moto server on 127.0.0.1
A_DAY_IN_2000 = 946_728_000
RETRY_NUMBER_TAG = "dagster/retry_number"  # what the retry daemon adds to a retry
AUTO_RETRY_RUN_ID_TAG = "dagster/auto_retry_run_id"  # ... and to the run it retried


class Daemon:
    """Ticks the sensor and runs what it requests, as the Dagster daemon would."""

    def __init__(self, instance, landing_uri: str):
        self.instance, self.landing_uri, self.cursor = instance, landing_uri, None

    def tick(self) -> SensorResult:
        context = build_sensor_context(instance=self.instance, cursor=self.cursor,
                                       resources={"landing_zone": LandingZone(uri=self.landing_uri)})
        result = build_landing_sensor()(context)
        self.cursor = result.cursor
        return result

    def launch(self, result: SensorResult) -> list[DagsterRun]:
        """A run per request, unless a run has its key (Dagster's idempotence)."""
        runs = []
        for request in result.run_requests:
            if not self.instance.get_runs_count(_with_key(request.run_key)):
                runs.append(self._add_run({**stedi_pipeline.tags, **request.tags,
                                           RUN_KEY_TAG: request.run_key,
                                           "dagster/sensor_name": LANDING_SENSOR}))
        return runs

    def finish(self, run: DagsterRun, status: DagsterRunStatus) -> DagsterRun:
        if status == DagsterRunStatus.FAILURE:
            self.instance.report_run_failed(run)  # the instance decides whether it will retry
        elif status == DagsterRunStatus.CANCELED:
            self.instance.report_run_canceled(run)
        else:
            self.instance.report_dagster_event(
                DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name),
                run_id=run.run_id)
        return self.instance.get_run_by_id(run.run_id)

    def retry(self, failed: DagsterRun, automatic: bool = True) -> DagsterRun:
        """A re-execution of `failed` with its tags: by the retry daemon, or by a person."""
        kept = {key: value for key, value in failed.tags.items()
                if key not in ("dagster/will_retry", "dagster/failure_reason")}
        root = failed.root_run_id or failed.run_id
        lineage = {"dagster/parent_run_id": failed.run_id, "dagster/root_run_id": root}
        retry = self._add_run({**kept, **lineage, **({RETRY_NUMBER_TAG: "1"} if automatic else {})},
                              parent_run_id=failed.run_id, root_run_id=root)
        if automatic:
            self.instance.add_run_tags(failed.run_id, {AUTO_RETRY_RUN_ID_TAG: retry.run_id})
        return retry

    def _add_run(self, tags: dict, **lineage) -> DagsterRun:
        return self.instance.add_run(DagsterRun(
            job_name=stedi_pipeline.name, run_id=str(uuid.uuid4()), tags=tags,
            status=DagsterRunStatus.STARTED, **lineage))


def _with_key(run_key: str) -> RunsFilter:
    return RunsFilter(tags={RUN_KEY_TAG: run_key})


@pytest.fixture
def instance(tmp_path):
    """The project's instance (its dagster.yaml: run queue, retries) in the test's folder."""
    with project_instance(load_settings({"STEDI_HOME": str(tmp_path / "home")})) as instance:
        yield instance


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    for source in SOURCES:
        (root / source.name).mkdir(parents=True)
    return root


@pytest.fixture
def daemon(instance, landing) -> Daemon:
    return Daemon(instance, str(landing))


def land(root: Path, relative: str, text: str = "{}\n", mtime: float | None = None) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def requested(result: SensorResult) -> dict[str, str]:
    """The tags of the tick's one run request."""
    assert result.skip_reason is None, result.skip_reason
    (request,) = result.run_requests
    return request.tags


def skipped(result: SensorResult) -> str:
    assert not result.run_requests, [r.tags for r in result.run_requests]
    return result.skip_reason.skip_message


def test_files_landing_in_the_same_second_are_each_requested_once(daemon, landing):
    one_second = 1_780_000_000
    land(landing, "customer/customer-b.json", mtime=one_second)
    land(landing, "accelerometer/readings-b.json", mtime=one_second)
    first = daemon.tick()
    assert requested(first)
    daemon.launch(first)
    assert skipped(daemon.tick()).startswith("no new landing files")

    # Same second, names that sort first: a (time, name) high-water mark misses them.
    land(landing, "customer/customer-a.json", mtime=one_second)
    land(landing, "accelerometer/readings-a.json", mtime=one_second)
    land(landing, "accelerometer/readings-0.json", mtime=one_second)
    second = daemon.tick()
    tags = requested(second)
    assert (tags[files_tag(CUSTOMER)], tags[files_tag(ACCELEROMETER)]) == ("1", "2")
    daemon.launch(second)
    assert "waiting for run" in skipped(daemon.tick())


def test_a_file_older_than_everything_seen_is_requested(daemon, landing):
    land(landing, "customer/customer-1.json")
    daemon.launch(daemon.tick())
    # A consent withdrawal moved in with its modification time of long ago (mv, rsync, tar).
    land(landing, "customer/withdrawal.json", mtime=A_DAY_IN_2000)
    tags = requested(daemon.tick())
    assert tags[TRIGGER_TAG] == CUSTOMER_TRIGGER
    assert tags[files_tag(CUSTOMER)] == "1"


def test_a_rewritten_file_is_requested_again_even_with_its_old_time(daemon, landing):
    path = land(landing, "step_trainer/readings.json", mtime=A_DAY_IN_2000)
    (run,) = daemon.launch(daemon.tick())
    daemon.finish(run, DagsterRunStatus.SUCCESS)
    assert skipped(daemon.tick()) == "no new landing files"

    # Corrected and copied back keeping its time (cp -p, rsync -t): a new version all the same.
    path.write_text('{"sensorReadingTime": 1}\n')
    os.utime(path, (A_DAY_IN_2000, A_DAY_IN_2000))
    again = daemon.tick()
    assert requested(again) == {TRIGGER_TAG: READINGS_TRIGGER, files_tag(STEP_TRAINER): "1"}
    daemon.launch(again)
    assert "waiting for run" in skipped(daemon.tick())


def test_an_empty_landing_zone_requests_nothing(daemon, landing, instance):
    assert skipped(daemon.tick()) == "no new landing files"
    (landing / "customer" / "notes.txt").write_text("not a landing file")
    assert skipped(daemon.tick()) == "no new landing files"
    # Not there yet (a generated sample is written on the first run).
    nowhere = Daemon(instance, str(landing / "not-yet"))
    assert skipped(nowhere.tick()) == "no new landing files"
    assert instance.get_runs_count() == 0


def test_files_hidden_from_spark_start_no_run(daemon, landing):
    land(landing, "customer/.customer-1.json")  # half-copied by a tool, then renamed
    land(landing, "accelerometer/_temporary/0/part-0.json")
    land(landing, "step_trainer/_SUCCESS.json")
    assert skipped(daemon.tick()) == "no new landing files"
    # The files the landing tables report as not read.
    assert LandingZone(uri=str(landing)).hidden_files(ACCELEROMETER) == [
        str(landing / "accelerometer/_temporary/0/part-0.json")]
    (landing / "customer" / ".customer-1.json").rename(landing / "customer" / "customer-1.json")
    assert requested(daemon.tick())[files_tag(CUSTOMER)] == "1"


def test_runs_tell_consent_relevant_files_from_readings(daemon, landing):
    land(landing, "accelerometer/a.json")
    land(landing, "step_trainer/b.json")
    land(landing, "step_trainer/c.json.gz")
    readings = daemon.tick()
    assert requested(readings) == {TRIGGER_TAG: READINGS_TRIGGER, files_tag(ACCELEROMETER): "1",
                                   files_tag(STEP_TRAINER): "2"}
    daemon.launch(readings)
    land(landing, "customer/nested/customer-2.jsonl")
    assert requested(daemon.tick()) == {TRIGGER_TAG: CUSTOMER_TRIGGER, files_tag(CUSTOMER): "1"}


def test_a_failed_runs_files_are_requested_again_never_lost_never_forever(daemon, landing):
    land(landing, "customer/withdrawal.json")
    first = daemon.tick()
    (run,) = daemon.launch(first)
    assert "waiting for run" in skipped(daemon.tick())

    # The run fails; the instance's retries (dagster.yaml, the job's dagster/max_retries) will
    # run it again: the sensor waits for the retry, then for the retry's run.
    failed = daemon.finish(run, DagsterRunStatus.FAILURE)
    assert failed.is_complete_and_waiting_to_retry
    assert "waiting for run" in skipped(daemon.tick())
    retry = daemon.retry(failed)
    assert "waiting for run" in skipped(daemon.tick())
    assert not daemon.finish(retry, DagsterRunStatus.FAILURE).is_complete_and_waiting_to_retry

    # No retry left: the next tick asks again for the same file, under a new run key.
    again = daemon.tick()
    assert requested(again) == {TRIGGER_TAG: CUSTOMER_TRIGGER, files_tag(CUSTOMER): "1",
                                REQUESTED_AGAIN_TAG: "1"}
    assert again.run_requests[0].run_key != first.run_requests[0].run_key
    (run,) = daemon.launch(again)
    daemon.finish(run, DagsterRunStatus.CANCELED)

    # Asked SENSOR_ATTEMPTS times: no run loop on a file that fails every time. It waits,
    # still owed, for the next new file.
    assert SENSOR_ATTEMPTS == 2
    assert "1 file(s) wait" in skipped(daemon.tick())
    assert "1 file(s) wait" in skipped(daemon.tick())
    land(landing, "accelerometer/readings.json")
    tags = requested(daemon.tick())
    assert tags == {TRIGGER_TAG: CUSTOMER_TRIGGER, files_tag(CUSTOMER): "1",
                    files_tag(ACCELEROMETER): "1", REQUESTED_AGAIN_TAG: "1"}


def test_a_successful_re_execution_takes_in_the_files_that_wait(daemon, landing):
    land(landing, "customer/withdrawal.json")
    for _ in range(SENSOR_ATTEMPTS):
        (run,) = daemon.launch(daemon.tick())
        daemon.finish(run, DagsterRunStatus.CANCELED)
    assert "1 file(s) wait" in skipped(daemon.tick())

    # A person fixes the cause and re-executes the failed run from the UI: it keeps the run key.
    daemon.finish(daemon.retry(run, automatic=False), DagsterRunStatus.SUCCESS)
    assert skipped(daemon.tick()) == "no new landing files"
    land(landing, "accelerometer/readings.json")
    assert REQUESTED_AGAIN_TAG not in requested(daemon.tick())


def test_a_request_is_idempotent(daemon, landing, instance):
    land(landing, "customer/customer-1.json")
    before = daemon.cursor
    first = daemon.tick()
    # The same tick evaluated again (the daemon crashed before it kept the cursor): same key,
    # so Dagster starts one run.
    daemon.cursor = before
    assert daemon.tick().run_requests[0].run_key == first.run_requests[0].run_key
    # A request that never became a run is asked again, under its own key.
    lost = daemon.tick()
    assert [r.run_key for r in lost.run_requests] == [first.run_requests[0].run_key]
    daemon.launch(lost)
    daemon.launch(lost)
    assert instance.get_runs_count() == 1
    assert "waiting for run" in skipped(daemon.tick())


def test_the_cursor_keeps_only_the_files_listed_now(daemon, landing):
    files = [land(landing, f"accelerometer/readings-{n}.json") for n in range(500)]
    (run,) = daemon.launch(daemon.tick())
    daemon.finish(run, DagsterRunStatus.SUCCESS)
    daemon.tick()
    assert len(daemon.cursor) < 12 * len(files) + 100  # 8 bytes of base64 per file
    for path in files:
        path.unlink()
    assert skipped(daemon.tick()) == "no new landing files"
    assert len(daemon.cursor) < 100


@pytest.mark.parametrize("value, status", [
    (None, DefaultSensorStatus.STOPPED), ("false", DefaultSensorStatus.STOPPED),
    ("true", DefaultSensorStatus.RUNNING), ("1", DefaultSensorStatus.RUNNING),
])
def test_the_sensor_starts_running_only_when_the_setting_says_so(value, status):
    environ = {} if value is None else {"STEDI_SENSOR_RUNNING": value}
    defs = build_definitions(load_settings(environ))
    assert defs.resolve_sensor_def(LANDING_SENSOR).default_status == status


def test_an_unclear_sensor_setting_names_the_variable():
    with pytest.raises(SettingsError, match="STEDI_SENSOR_RUNNING='sometimes'"):
        load_settings({"STEDI_SENSOR_RUNNING": "sometimes"})


@pytest.mark.parametrize("value, seconds", [(None, 60), ("5", 5), (" 300 ", 300)])
def test_the_time_between_ticks_is_a_setting(value, seconds):
    environ = {} if value is None else {"STEDI_SENSOR_INTERVAL_SECONDS": value}
    defs = build_definitions(load_settings(environ))
    assert defs.resolve_sensor_def(LANDING_SENSOR).minimum_interval_seconds == seconds


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "soon"])
def test_an_unusable_sensor_interval_names_the_variable(value):
    with pytest.raises(SettingsError, match=f"STEDI_SENSOR_INTERVAL_SECONDS={value!r}"):
        load_settings({"STEDI_SENSOR_INTERVAL_SECONDS": value})


@pytest.mark.aws
def test_on_s3_every_object_version_is_requested_once_and_again_after_a_failed_run(
        aws_env, instance, monkeypatch):
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    s3 = test_on_s3.client("s3", aws_env)
    s3.create_bucket(Bucket="stedi-sensor")

    def put(key: str, body: str = "{}\n") -> None:
        s3.put_object(Bucket="stedi-sensor", Key=f"landing/{key}", Body=body.encode())

    daemon = Daemon(instance, "s3://stedi-sensor/landing")
    assert skipped(daemon.tick()) == "no new landing files"  # an empty prefix
    put("customer/customer-b.json")
    put("accelerometer/readings.json")
    put("accelerometer/_temporary/part-0.json")  # hidden from Spark
    put("step_trainer/notes.txt")  # not a landing file
    first = daemon.tick()
    assert requested(first) == {TRIGGER_TAG: CUSTOMER_TRIGGER, files_tag(CUSTOMER): "1",
                                files_tag(ACCELEROMETER): "1"}
    assert LandingZone(uri="s3://stedi-sensor/landing").hidden_files(ACCELEROMETER) == [
        "s3://stedi-sensor/landing/accelerometer/_temporary/part-0.json"]
    (run,) = daemon.launch(first)
    daemon.finish(run, DagsterRunStatus.SUCCESS)
    assert skipped(daemon.tick()) == "no new landing files"

    # Within the same second: an object whose key sorts first, and a re-written object of the
    # same size (S3 times have whole seconds; the ETag tells the versions apart).
    put("customer/customer-a.json")
    put("accelerometer/readings.json", "[]\n")
    second = daemon.tick()
    assert requested(second) == {TRIGGER_TAG: CUSTOMER_TRIGGER, files_tag(CUSTOMER): "1",
                                 files_tag(ACCELEROMETER): "1"}
    (run,) = daemon.launch(second)
    daemon.finish(daemon.retry(daemon.finish(run, DagsterRunStatus.FAILURE)),
                  DagsterRunStatus.FAILURE)
    again = daemon.tick()
    assert requested(again)[REQUESTED_AGAIN_TAG] == "2"
    assert again.run_requests[0].run_key != second.run_requests[0].run_key
    (run,) = daemon.launch(again)
    daemon.finish(run, DagsterRunStatus.SUCCESS)
    assert skipped(daemon.tick()) == "no new landing files"
