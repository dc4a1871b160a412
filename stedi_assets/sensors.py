"""Runs the pipeline when new files land."""


import json

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from stedi_assets.contract import SOURCES
from stedi_assets.jobs import stedi_pipeline
from stedi_assets.resources import LandingZone


@sensor(job=stedi_pipeline, minimum_interval_seconds=60,
        description="Starts stedi_pipeline when a landing file appears or changes.")
def landing_files(context: SensorEvaluationContext, landing_zone: LandingZone):
    # The cursor is each source's newest (modification time, path): newer files are new.
    seen = json.loads(context.cursor) if context.cursor else {}
    newest, new_files = {}, []
    for source in SOURCES:
        files = landing_zone.landing_files(source)
        high_water = tuple(seen.get(source.name, (0.0, "")))
        new_files += [path for path, mtime in files if (mtime, path) > high_water]
        latest = max(((mtime, path) for path, mtime in files), default=high_water)
        newest[source.name] = list(max(latest, high_water))
    if not new_files:
        return SkipReason("no new landing files")
    cursor = json.dumps(newest, sort_keys=True)
    context.update_cursor(cursor)
    return RunRequest(
        run_key=cursor,
        tags={"stedi/new_landing_files": str(len(new_files))},
    )
