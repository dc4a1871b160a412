"""Landing records against the contract."""

import gzip

import pytest

from stedi_assets.rules import validation
from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, STEP_TRAINER
from stedi_assets_tests.helpers import T0, customer, landing, step


def reasons(spark, source, line):
    return landing(spark, source, [line]).first()["invalid_reasons"]


VALID = f'{{"user":"a@test.com","timestamp":{T0},"x":1,"y":-1.5,"z":0}}'


@pytest.mark.parametrize("line", [
    VALID,
    f'{{"user":"a@test.com","timeStamp":{T0},"x":1,"y":2,"z":3}}',  # documented spelling
    f'{{"USER":"a@test.com","TIMESTAMP":{T0}.0,"X":1,"Y":2,"Z":3}}',  # integral float epoch
    f'{{"user":"a@test.com","timestamp":{T0},"x":1,"y":2,"z":3,"extra":[1]}}',  # unknown field
])
def test_valid_accelerometer_lines(spark, line):
    assert reasons(spark, ACCELEROMETER, line) == []


@pytest.mark.parametrize("line, reason", [
    ('{"user":"a@test.com","timestamp":16555', validation.NOT_AN_OBJECT),  # truncated
    ("[1, 2]", validation.NOT_AN_OBJECT),
    ('"just a string"', validation.NOT_AN_OBJECT),
    (f'{{"timestamp":{T0},"x":1,"y":2,"z":3}}', "user: required but missing"),
    (f'{{"user":"","timestamp":{T0},"x":1,"y":2,"z":3}}', "user: required but missing"),
    (f'{{"user":null,"timestamp":{T0},"x":1,"y":2,"z":3}}', "user: required but missing"),
    (f'{{"user":"nobody","timestamp":{T0},"x":1,"y":2,"z":3}}', "user: not an e-mail address (no @)"),
    (f'{{"user":"a@test.com","timestamp":"{T0}","x":1,"y":2,"z":3}}',
     "timeStamp: expected an integer, got string"),
    (f'{{"user":"a@test.com","timestamp":{T0}.5,"x":1,"y":2,"z":3}}',
     f"timeStamp: not a whole number in range ({T0}.5)"),
    (f'{{"user":"a@test.com","timestamp":{T0},"x":"1","y":2,"z":3}}', "x: expected a number, got string"),
    (f'{{"user":"a@test.com","timestamp":{T0},"x":NaN,"y":2,"z":3}}', 'x: not a finite number ("NaN")'),
    (f'{{"user":"a@test.com","timestamp":{T0},"timeStamp":{T0},"x":1,"y":2,"z":3}}',
     "timeStamp: appears more than once (names are case-insensitive)"),
])
def test_invalid_accelerometer_lines_say_why(spark, line, reason):
    assert reason in reasons(spark, ACCELEROMETER, line)


def test_every_invalid_field_of_a_record_is_listed_once(spark):
    got = reasons(spark, STEP_TRAINER, '{"serialNumber": 7, "distanceFromObject": 1.5}')
    assert got == [
        "sensorReadingTime: required but missing",
        "serialNumber: expected a string, got bigint",
        "distanceFromObject: not a whole number in range (1.5)",
    ]


def test_consent_fields_may_be_absent_null_or_zero(spark):
    table = landing(spark, CUSTOMER, [
        customer("a@test.com", "S1", consent=None),
        customer("b@test.com", "S2", consent=0),
        customer("c@test.com", "S3", consent=None, shareWithResearchAsOfDate=None),
    ])
    assert [row["invalid_reasons"] for row in table.collect()] == [[], [], []]


def test_raw_line_is_kept_only_for_invalid_records(spark):
    table = landing(spark, STEP_TRAINER, [step("S1", T0), "{not json"])
    assert [row["raw_line"] for row in table.collect()] == [None, "{not json"]


def test_unknown_fields_are_listed_by_name(spark):
    table = landing(spark, STEP_TRAINER, ['{"sensorReadingTime": 1, "serialNumber": "s", '
                                          '"distanceFromObject": 2, "firmware": "1.2"}'])
    assert table.first()["unknown_fields"] == ["firmware"]


def test_quarantine_has_source_file_line_reasons_and_time(spark):
    table = landing(spark, STEP_TRAINER, [step("S1", T0), "{not json"])
    quarantine = validation.landing_quarantine([(STEP_TRAINER, table)]).collect()
    assert len(quarantine) == 1
    row = quarantine[0]
    assert (row["source"], row["source_file"], row["raw_line"], row["reasons"]) == (
        "step_trainer", "test.json", "{not json", [validation.NOT_AN_OBJECT])
    assert row["quarantined_at"] is not None


def test_landing_files_are_read_recursively_gzip_included_and_blank_lines_skipped(spark, tmp_path):
    nested = tmp_path / "step_trainer" / "landing"
    nested.mkdir(parents=True)
    (nested / "a.json").write_text('{"sensorReadingTime": 1}\n\n{"sensorReadingTime": 2}\n')
    with gzip.open(nested / "b.jsonl.gz", "wt") as handle:
        handle.write('{"sensorReadingTime": 3}\n')
    (nested / "notes.txt").write_text("not a landing file\n")
    lines = validation.read_landing_lines(spark, str(tmp_path / "step_trainer"))
    assert sorted(row["raw_line"] for row in lines.collect()) == [
        '{"sensorReadingTime": 1}', '{"sensorReadingTime": 2}', '{"sensorReadingTime": 3}']


# An exponent too long for a bigint (or at its edge) decides nothing by overflowing: the
# whole-number test once coalesced the overflow to "whole" and took 1.5e-99999999999999999999
# as 0, and an exponent of -2**63 made Spark's ANSI arithmetic fail the whole run.
@pytest.mark.parametrize("epoch", [
    "1.5e-99999999999999999999", "1.5e-9223372036854775808", "1.0e-9223372036854775808",
    "1.5e-9223372036854775807", "15e99999999999999999999", "10e9223372036854775807",
])
def test_an_epoch_with_a_huge_exponent_is_not_a_whole_number(spark, epoch):
    line = f'{{"user":"a@test.com","timestamp":{epoch},"x":1,"y":2,"z":3}}'
    assert reasons(spark, ACCELEROMETER, line) == [
        f"timeStamp: not a whole number in range ({epoch})"]


def test_zero_with_a_huge_exponent_is_zero(spark):
    line = '{"user":"a@test.com","timestamp":0e-99999999999999999999,"x":1,"y":2,"z":3}'
    row = landing(spark, ACCELEROMETER, [line]).first()
    assert (row["invalid_reasons"], row["timestamp"]) == ([], 0)
