"""The fast test of validation changes what a verdict costs, never the verdict.

`validate` takes a clean line through Spark's typed JSON reader and every other line through
the exhaustive rules; `validate_exhaustively` takes every line through the exhaustive rules.
Both must give the same rows, value for value, on random and hostile lines of every source.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, STEP_TRAINER, Source
from stedi_assets.rules.validation import (
    canonical_record, read_landing_lines, validate, validate_exhaustively, validate_in_parts,
)
from stedi_assets_tests.helpers import T0
from stedi_assets_tests.test_validation_fuzz import (
    FUZZ, PROBES, SOURCES, LandingFile, landing_folders, record,
)

ACC, STEP, CUST = ACCELEROMETER, STEP_TRAINER, CUSTOMER

# Lines made to look clean to a careless fast test: (source, line, takes the fast path).
NEAR_MISSES = [
    (ACC, record(ACC, timeStamp=str(T0), x="1.5", z="0.0"), True),
    (ACC, json.dumps({"user": "a@test.com", "timestamp": T0, "x": 0.5, "y": -1.25, "z": 2.0}),
     True),
    (STEP, json.dumps({"sensorReadingTime": T0, "serialNumber": "s1",
                       "distanceFromObject": 2}), True),
    (CUST, json.dumps({"customerName": "A B", "email": "a@test.com", "serialNumber": "s1",
                       "registrationDate": T0}), True),
    # Spark's reader takes these; the contract does not, or not with these values.
    (ACC, record(ACC, x='"NaN"'), False),
    (ACC, record(ACC, y='"Infinity"'), False),
    (ACC, record(ACC, z="NaN"), False),
    (ACC, record(ACC, x="1"), False),  # written back as 1.0: judged exhaustively
    (ACC, record(ACC, timestamp=str(T0)), False),  # timeStamp and timestamp: given twice
    (ACC, record(ACC, user='"a@test.com"', extra="1"), False),
    (ACC, record(ACC, user='"a, b@test.com"'), False),  # ", " vanishes from the comparison
    (ACC, record(ACC, user='"a@test.com: x"'), False),
    (ACC, record(ACC, user='"nobody"'), False),
    (ACC, record(ACC, user='"   "'), False),
    (ACC, record(ACC, user='"\\u0061@test.com"'), False),
    (ACC, record(ACC, user='"a@test.com", "user":"b@test.com"'), False),
    (STEP, record(STEP, distanceFromObject="2.0"), False),
    (STEP, record(STEP, distanceFromObject=f'"{2}"'), False),
    (STEP, record(STEP, distanceFromObject=str(2**64)), False),
    (STEP, record(STEP, serialNumber="null"), False),
    (STEP, record(STEP, serialNumber="7"), False),
    (STEP, record(STEP) + " ", False),
    (STEP, " " + record(STEP), False),
    (STEP, record(STEP) + record(STEP), False),
    (STEP, record(STEP).replace('"', "'"), False),
    (CUST, record(CUST, lastUpdateDate="null"), False),
    (CUST, record(CUST).replace("}", f',"registrationDate":{T0}}}'), False),  # twice
]


def judged(spark, source: Source, files: list[LandingFile]) -> dict[str, Counter]:
    """Rows of `validate`, of `validate_in_parts` (both parts) and of `validate_exhaustively`
    on the same files, as multisets."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / source.name
        for landing_file in files:
            (root / landing_file.path).parent.mkdir(parents=True, exist_ok=True)
            (root / landing_file.path).write_bytes(landing_file.data)
        lines = read_landing_lines(spark, str(root))
        parts = validate_in_parts(lines, source)
        ways = {"one pass": validate(lines, source), "clean part": parts.clean,
                "other part": parts.rest(), "exhaustive": validate_exhaustively(lines, source)}
        every_way = None
        for name, frame in ways.items():
            labelled = frame.selectExpr(f"'{name}' AS way", "*")
            every_way = labelled if every_way is None else every_way.unionByName(labelled)
        rows = every_way.collect()
    by_way = {name: Counter() for name in ways}
    for row in rows:
        values = row.asDict()
        by_way[values.pop("way")][repr(sorted(values.items()))] += 1
    by_way["in parts"] = by_way.pop("clean part") + by_way.pop("other part")
    return by_way


def assert_same_verdicts(by_way: dict[str, Counter]) -> None:
    assert by_way["one pass"] == by_way["exhaustive"]
    assert by_way["in parts"] == by_way["exhaustive"]


def one_file(lines: list[str | bytes]) -> list[LandingFile]:
    data = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    return [LandingFile("lines.json", (), data + b"\n")]


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.name)
@FUZZ
@given(data=st.data())
def test_random_lines_get_the_same_verdicts_both_ways(spark, source, data):
    assert_same_verdicts(judged(spark, source, data.draw(landing_folders(source), label="files")))


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.name)
def test_hostile_lines_and_near_misses_get_the_same_verdicts_both_ways(spark, source):
    lines = [line.raw for of, line in PROBES.values() if of is source]
    lines += [line for of, line, _ in NEAR_MISSES if of is source]
    by_way = judged(spark, source, one_file(lines))
    assert sum(by_way["exhaustive"].values()) == len(lines)
    assert_same_verdicts(by_way)


def test_only_clean_lines_take_the_fast_path(spark):
    rows = [(source.name, line, clean) for source, line, clean in NEAR_MISSES]
    frame = spark.createDataFrame(rows, "source string, raw_line string, clean boolean")
    taken = {}
    for source in SOURCES:
        of_source = frame.where(frame.source == source.name)
        for row in of_source.select("raw_line", "clean", canonical_record(source).alias("fast")
                                    ).collect():
            taken[row["raw_line"]] = (row["fast"] is not None, row["clean"])
    assert {line: took for line, (took, _) in taken.items()} == {
        line: clean for line, (_, clean) in taken.items()}


def test_every_course_sample_reading_takes_the_fast_path(spark, course_sample):
    for source in (ACCELEROMETER, STEP_TRAINER):
        lines = read_landing_lines(spark, str(course_sample / source.name))
        counts = lines.select(canonical_record(source).isNotNull().alias("fast")).groupBy(
            "fast").count().collect()
        assert {row["fast"]: row["count"] for row in counts} == {True: lines.count()}


def test_the_other_lines_are_written_only_when_the_clean_part_counted_some(spark):
    clean, unclean = record(STEP), record(STEP, distanceFromObject="2.0")
    for lines, parts_expected in (([clean, clean], 1), ([clean, unclean], 2), ([unclean], 2)):
        frame = spark.createDataFrame([("f.json", line) for line in lines],
                                      "source_file string, raw_line string")
        written = [part.collect() for part in validate_in_parts(frame, STEP).parts()]
        assert len(written) == parts_expected
        assert sum(len(rows) for rows in written) == len(lines)


def test_the_other_lines_are_judged_when_the_count_of_them_is_missing():
    from types import SimpleNamespace

    from stedi_assets.rules.validation import ValidatedLanding

    def parts(observed: dict) -> list[str]:
        return list(ValidatedLanding("clean", SimpleNamespace(get=observed), lambda: "rest").parts())

    assert parts({"lines": 0}) == ["clean"]
    assert parts({"lines": 2}) == ["clean", "rest"]
    assert parts({}) == ["clean", "rest"]  # no metric came back: judged anyway
