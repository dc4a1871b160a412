import os

from dagster import RunRequest, SkipReason, build_sensor_context

from stedi_assets.resources import LandingZone
from stedi_assets.sensors import landing_files


def evaluate(landing_zone, cursor=None):
    context = build_sensor_context(cursor=cursor, resources={"landing_zone": landing_zone})
    return landing_files(context), context.cursor


def test_new_landing_files_start_a_run_once(tmp_path):
    for source in ("customer", "accelerometer", "step_trainer"):
        (tmp_path / source).mkdir()
    (tmp_path / "customer" / "customer-1.json").write_text("{}\n")
    zone = LandingZone(uri=str(tmp_path))

    first, cursor = evaluate(zone)
    assert isinstance(first, RunRequest)
    again, cursor = evaluate(zone, cursor)
    assert isinstance(again, SkipReason)

    newer = tmp_path / "accelerometer" / "accelerometer-2.json"
    newer.write_text("{}\n")
    os.utime(newer, (os.path.getmtime(newer) + 10,) * 2)
    (tmp_path / "accelerometer" / "readme.txt").write_text("not landing data")
    second, cursor = evaluate(zone, cursor)
    assert isinstance(second, RunRequest)
    assert second.tags["stedi/new_landing_files"] == "1"
    assert isinstance(evaluate(zone, cursor)[0], SkipReason)
