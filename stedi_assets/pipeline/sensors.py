"""Runs the pipeline once for every new landing file version, and again when its run fails.

Each tick lists the landing root and requests a run for the file versions it has not requested
yet, whatever their modification times. It follows every request by its run key until a run
of it succeeds: the daemon's retries carry the run key, and a re-execution from the UI does
too. When a request's runs have all failed (or were canceled) and no retry is coming, its
files are requested again under a new run key, up to `SENSOR_ATTEMPTS` times; after that they
wait, still owed, until a successful re-execution of their run takes them in or they join the
request the next new file starts.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from enum import Enum

from dagster import (
    DagsterRunStatus, DefaultSensorStatus, RunRequest, RunsFilter, SensorDefinition,
    SensorEvaluationContext, SensorResult, sensor,
)

from stedi_assets.rules.contract import CUSTOMER, SOURCES, Source
from stedi_assets.pipeline.jobs import stedi_pipeline
from stedi_assets.pipeline.requested_files import Request, RequestedFiles, fingerprint
from stedi_assets.pipeline.resources import LandingZone
from stedi_assets.lake.landing_files import LandingFile

LANDING_SENSOR = "landing_files"
# How many times the sensor asks for the same files (each run with the job's own retries).
SENSOR_ATTEMPTS = 2
TRIGGER_TAG = "stedi/trigger"  # why the run started:
CUSTOMER_TRIGGER = "customer"  # customer files: consent may have changed
READINGS_TRIGGER = "readings"  # only accelerometer or Step Trainer readings
REQUESTED_AGAIN_TAG = "stedi/requested_again"  # files of a failed run among them
RUN_KEY_TAG = "dagster/run_key"  # Dagster's tag of a sensor's runs, kept by their retries
LOGGED_PATHS = 5


def files_tag(source: Source) -> str:
    """The tag counting `source`'s files among those a run was requested for."""
    return f"stedi/{source.name}_files"


class Outcome(Enum):
    RUNNING = "running"  # queued, running, or failed with the daemon's retry on its way
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every run failed or was canceled and no retry is coming
    MISSING = "missing"  # no run has the key: the request never became a run


def outcome(context: SensorEvaluationContext, run_key: str) -> Outcome:
    runs = context.instance.get_runs(RunsFilter(tags={RUN_KEY_TAG: run_key}))
    if not runs:
        return Outcome.MISSING
    if any(run.status == DagsterRunStatus.SUCCESS for run in runs):
        return Outcome.SUCCEEDED
    if any(not run.is_finished or run.is_complete_and_waiting_to_retry for run in runs):
        return Outcome.RUNNING
    return Outcome.FAILED


def build_landing_sensor(running: bool = False, interval_seconds: int = 60) -> SensorDefinition:
    """The sensor; `running`: it starts running rather than stopped (STEDI_SENSOR_RUNNING);
    `interval_seconds`: the least time between its ticks (STEDI_SENSOR_INTERVAL_SECONDS)."""

    @sensor(
        name=LANDING_SENSOR,
        job=stedi_pipeline,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
        description="Starts stedi_pipeline once for every landing file that appears or is "
                    "re-written, and again when its run fails.",
    )
    def landing_files(context: SensorEvaluationContext, landing_zone: LandingZone):
        return request_runs(context, landing_zone)

    return landing_files


def request_runs(context: SensorEvaluationContext, landing_zone: LandingZone) -> SensorResult:
    # Files Spark never reads (hidden) change no table: no run for them.
    listed = {fingerprint(file): (source, file) for source in SOURCES
              for file in landing_zone.landing_files(source) if not file.hidden}
    current = frozenset(listed)
    before = RequestedFiles.decode(context.cursor)
    new = current - before.seen
    waiting, failed, given_up, lost = [], [], [], []
    for request in before.open:
        # Versions removed or re-written since are owed nothing (a new version is new).
        request = replace(request, files=request.files & current)
        if not request.files:
            continue
        state = outcome(context, request.run_key)
        if state is Outcome.SUCCEEDED:
            continue
        if state is Outcome.FAILED:
            (failed if request.attempt < SENSOR_ATTEMPTS else given_up).append(request)
        else:
            waiting.append(request)
            if state is Outcome.MISSING:
                lost.append(request)

    # The same run key again: Dagster starts it only if no run has it.
    run_requests = [_run_request(context, r, listed) for r in lost]
    again = frozenset().union(*(r.files for r in failed))
    if new:  # a new file gives the files that wait another chance
        again |= frozenset().union(*(r.files for r in given_up))
        given_up = []
    requests_made = before.requests_made
    if new or again:
        requests_made += 1
        files = new | again
        attempt = 1 if new else 1 + max(r.attempt for r in failed)
        request = Request(_run_key(requests_made, files), attempt, files)
        waiting.append(request)
        run_requests.append(_run_request(context, request, listed, requested_again=len(again)))
    cursor = RequestedFiles(requests_made, (before.seen & current) | new,
                            tuple(waiting + given_up)).encode()
    if run_requests:
        return SensorResult(run_requests=run_requests, cursor=cursor)
    return SensorResult(skip_reason=_why_no_run(waiting, given_up), cursor=cursor)


def _run_key(number: int, files: frozenset[bytes]) -> str:
    # Numbered so that the same files asked again make a new run; the digest tells apart two
    # evaluations of one cursor that listed different files (a tick retried after a crash).
    digest = hashlib.blake2b(b"".join(sorted(files)), digest_size=4).hexdigest()
    return f"landing-{number}-{digest}"


def _run_request(context: SensorEvaluationContext, request: Request,
                 listed: dict[bytes, tuple[Source, LandingFile]],
                 requested_again: int = 0) -> RunRequest:
    files = sorted((listed[f] for f in request.files), key=lambda listing: listing[1].path)
    counts = Counter(source.name for source, _ in files)
    tags = {TRIGGER_TAG: CUSTOMER_TRIGGER if counts[CUSTOMER.name] else READINGS_TRIGGER}
    tags |= {files_tag(source): str(counts[source.name]) for source in SOURCES
             if counts[source.name]}
    if requested_again:
        tags[REQUESTED_AGAIN_TAG] = str(requested_again)
    paths = [file.path for _, file in files]
    more = f" and {len(paths) - LOGGED_PATHS} more" if len(paths) > LOGGED_PATHS else ""
    context.log.info(f"run {request.run_key} (attempt {request.attempt}) for {len(paths)} "
                     f"file(s): {', '.join(paths[:LOGGED_PATHS])}{more}")
    return RunRequest(run_key=request.run_key, tags=tags)


def _why_no_run(waiting: list[Request], given_up: list[Request]) -> str:
    reason = "no new landing files"
    if waiting:
        reason += f"; waiting for run {', '.join(r.run_key for r in waiting)}"
    if given_up:
        count = sum(len(r.files) for r in given_up)
        keys = ", ".join(r.run_key for r in given_up)
        reason += (f"; {count} file(s) wait: every run of {keys} failed, the last of "
                   f"{SENSOR_ATTEMPTS} requests; the next new landing file requests them again, "
                   "or re-execute that run")
    return reason
