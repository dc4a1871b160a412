"""Random and hostile landing lines through validation, for every source.

Each hypothesis example writes one landing folder of real files (bytes on disk, so invalid
UTF-8 really is there; some gzip, some nested, blank lines, mixed line endings), reads it with
`read_landing_lines` and validates it. Properties: nothing crashes, every non-blank line is
exactly one row, rows read = valid + quarantined, a record built valid stays valid with the
values written, and a record with one deliberate defect is quarantined naming that field only.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from stedi_assets.rules.contract import (
    ACCELEROMETER, CUSTOMER, LANDING_FILE_SUFFIXES, STEP_TRAINER, Field, Source,
)
from stedi_assets.rules.validation import (
    NOT_AN_OBJECT, NOT_UTF8, quarantined_records, read_landing_lines, valid_records, validate,
)
from stedi_assets_tests.helpers import T0

SOURCES = (CUSTOMER, ACCELEROMETER, STEP_TRAINER)
KNOWN_NAMES = frozenset(field.name.lower() for source in SOURCES for field in source.fields)
KIND_OF_COLUMN = {field.column: field.kind for source in SOURCES for field in source.fields}

# Spark jobs are the cost (one per example): few examples, many lines each. Derandomized so
# CI always runs the same examples. No shrinking: each step would be a Spark job, and every
# assertion already names the offending line. An example costs seconds of Spark planning
# whatever its size, so there are few of them and each holds many files and lines.
FUZZ = settings(
    max_examples=4, deadline=None, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@dataclass(frozen=True)
class Line:
    """One landing line and what validation must make of it."""

    raw: bytes  # never holds \r or \n: Spark's text reader splits on \n, \r\n and \r
    expect: str  # "valid", "defect", "invalid", "not_object", "not_utf8" or "any" (no crash,
    # no loss)
    field: str | None = None  # the one defective field, for "defect"
    values: tuple = ()  # (column, typed value) pairs, for "valid"
    unknown: tuple = ()  # unknown field names in line order, for "valid"

    def __post_init__(self):
        assert b"\r" not in self.raw and b"\n" not in self.raw, self.raw
        # read_landing_lines skips lines of whitespace only (any kind of whitespace).
        assert self.raw.decode("utf-8", "replace").strip(), "generated lines must not be blank"


@dataclass(frozen=True)
class LandingFile:
    path: str  # relative to the source folder
    lines: tuple[Line, ...]  # its non-blank lines, in order
    data: bytes  # what is written to disk


# --- JSON values ---------------------------------------------------------------------------

non_blank_text = st.text(max_size=12).filter(lambda text: text.strip() != "")
emails = st.builds(lambda name, domain: f"{name}@{domain}",
                   st.text(max_size=8), st.text(max_size=8))
not_emails = non_blank_text.filter(lambda text: "@" not in text)


@st.composite
def json_strings(draw, texts):
    """(JSON text, value) of a string, its non-ASCII characters escaped or not."""
    text = draw(texts)
    return json.dumps(text, ensure_ascii=draw(st.booleans())), text


@st.composite
def whole_numbers(draw):
    """(JSON text, value) of a non-negative integer (the contract is silent on negative epochs
    and distances): plain, or written as an integral float."""
    n = draw(st.one_of(st.integers(1_500_000_000_000, 1_800_000_000_000),
                       st.integers(0, 2**63 - 1)))
    if abs(n) > 2**53:  # past 2**53 a float form would not be exact: plain integers only
        return str(n), n
    form = draw(st.sampled_from([str(n), f"{n}.0", f"{n}.000", f"{n}e0", f"{n}E+0",
                                 f"{n * 10}e-1"]))
    return form, n


finite_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: (repr(x), x)),
    st.integers(-(10**30), 10**30).map(lambda n: (str(n), float(n))),
)

PRESENT_VALUES = {
    "string": json_strings(non_blank_text),
    "email": json_strings(emails),
    "epoch": whole_numbers(),
    "integer": whole_numbers(),
    "consent": st.one_of(st.just(("0", 0)), whole_numbers()),
    "number": finite_numbers,
}
ABSENT = (None, None)  # no key at all


def valid_values(field: Field):
    """(JSON text or None for an absent key, typed value) that the field accepts."""
    present = PRESENT_VALUES[field.kind]
    if field.required:
        return present
    empty = [ABSENT, ("null", None)]
    if field.kind == "string":  # an empty optional string is no value, not an error
        empty += [('""', None), ('"  "', None)]
    return st.one_of(st.sampled_from(empty), present)


json_scalars = (st.none() | st.booleans() | st.integers(-(2**80), 2**80)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
json_values = st.recursive(
    json_scalars,
    lambda inner: (st.lists(inner, max_size=3)
                   | st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def deep_values(draw, low=1, high=200):
    """[[[...]]] or {"a":{"a":...}}: Jackson refuses documents nested over 1000 levels."""
    depth = draw(st.integers(low, high))
    if draw(st.booleans()):
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


unknown_names = st.text(max_size=10).filter(
    lambda name: name.lower() not in KNOWN_NAMES and name.casefold() not in KNOWN_NAMES)
unknown_fields = st.tuples(unknown_names, st.one_of(json_values.map(json.dumps), deep_values()))


# --- records -------------------------------------------------------------------------------

@st.composite
def spellings(draw, name: str) -> str:
    """The field name as a JSON key: random case (timeStamp, TIMESTAMP, ...), sometimes with
    characters written as \\u escapes, which still decode to the same name."""
    cased = "".join(char.upper() if draw(st.booleans()) else char.lower() for char in name)
    if draw(st.integers(0, 5)):
        return json.dumps(cased)
    escaped = (f"\\u{ord(char):04x}" if draw(st.booleans()) else char for char in cased)
    return '"' + "".join(escaped) + '"'


@st.composite
def valid_record_triples(draw, source: Source):
    """Shuffled (field name or None, key JSON, value JSON) triples and the typed values."""
    triples, values = [], {}
    for field in source.fields:
        text, typed = draw(valid_values(field))
        values[field.column] = typed
        if text is not None:
            triples.append((field.name, draw(spellings(field.name)), text))
    for name, text in draw(st.lists(unknown_fields, max_size=3)):
        triples.append((None, json.dumps(name, ensure_ascii=draw(st.booleans())), text))
    return draw(st.permutations(triples)), values


@st.composite
def render(draw, triples) -> str:
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return "{" + ",".join(f"{pad}{key}{pad}:{pad}{value}" for _, key, value in triples) + pad + "}"


@st.composite
def valid_lines(draw, source: Source) -> Line:
    triples, values = draw(valid_record_triples(source))
    unknown = tuple(json.loads(key) for name, key, _ in triples if name is None)
    return Line(draw(render(triples)).encode(), "valid",
                values=tuple(values.items()), unknown=unknown)


NOT_STRINGS = ["0", "-2.5", "1e400", "true", "false", "{}", '{"a":"x@y"}', "[]", '["x@y"]']
NOT_NUMBERS = ['""', '"1"', '"1.5"', '"NaN"', "true", "false", "{}", '{"a":1}', "[]", "[1]"]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400]
OUT_OF_LONG_RANGE = [str(2**70), str(-(2**70)), str(2**63), str(-(2**63) - 1), "9.3e18", "-9.3e18"]


@st.composite
def fractions(draw) -> str:
    """A non-integral number of up to 38 digits (the exact limit; see the probes for more)."""
    n = draw(st.integers(-(2**53), 2**53))
    if draw(st.booleans()):
        return f"{n * 10 + draw(st.integers(1, 9))}e-1"  # a non-integral float in exponent form
    decimals = draw(st.text("0123456789", max_size=20)) + draw(st.sampled_from("123456789"))
    return f"{n}.{decimals}"


WRONG_VALUES = {
    "string": st.sampled_from(NOT_STRINGS),
    "email": st.one_of(st.sampled_from(NOT_STRINGS),
                       json_strings(not_emails).map(lambda pair: pair[0])),
    "epoch": st.one_of(st.sampled_from(NOT_NUMBERS + NON_FINITE + OUT_OF_LONG_RANGE), fractions()),
    "number": st.sampled_from(NOT_NUMBERS + NON_FINITE),
}
WRONG_VALUES["integer"] = WRONG_VALUES["consent"] = WRONG_VALUES["epoch"]
MISSING = st.sampled_from([None, "null", '""', '"   "'])  # None: the key is absent
DUPLICATE = "duplicate"


@st.composite
def defect_lines(draw, source: Source) -> Line:
    """A valid record with exactly one defect: a required field missing, null or empty, any
    field of the wrong type, or any field twice under names differing only in case."""
    triples, _ = draw(valid_record_triples(source))
    field = draw(st.sampled_from(source.fields))
    options = [WRONG_VALUES[field.kind], st.just(DUPLICATE)]
    if field.required:
        options.append(MISSING)
    mutation = draw(st.one_of(options))
    others = [triple for triple in triples if triple[0] != field.name]
    if mutation == DUPLICATE:
        others += [(field.name, draw(spellings(field.name)), draw(PRESENT_VALUES[field.kind])[0])
                   for _ in range(2)]
    elif mutation is not None:  # None: the key is left out
        others.append((field.name, draw(spellings(field.name)), mutation))
    line = draw(render(draw(st.permutations(others))))
    return Line(line.encode(), "defect", field=field.name)


@st.composite
def hostile_lines(draw, source: Source) -> Line:
    """Lines that are not records: what they must become where the contract says, else "any"."""
    kind = draw(st.sampled_from([
        "json_not_object", "truncated", "deep_array", "deep_object", "empty_object",
        "text", "bytes", "spliced", "non_json_tokens",
    ]))
    if kind == "json_not_object":  # a scalar, string or array as the whole line
        text = draw(st.one_of(
            st.one_of(json_scalars, st.lists(json_values, max_size=3)).map(json.dumps),
            st.sampled_from(["NaN", "-Infinity", " [1, 2] "]),
        ))
        return Line(text.encode(), "not_object")
    if kind == "truncated":  # cut at a random byte, possibly inside a UTF-8 sequence
        whole = draw(valid_lines(source)).raw
        return Line(whole[:draw(st.integers(1, len(whole) - 1))], "not_object")
    if kind == "deep_array":  # not an object at any depth; unparsable past 1000 levels
        depth = draw(st.integers(200, 1100))
        return Line(("[" * depth + "]" * depth).encode(), "not_object")
    if kind == "deep_object":  # an object without required fields; unparsable past 1000 levels
        depth = draw(st.integers(200, 1100))
        return Line(('{"a":' * depth + "1" + "}" * depth).encode(), "invalid")
    if kind == "empty_object":
        return Line(b"{}", "invalid")
    if kind == "text":
        characters = st.characters(codec="utf-8", exclude_characters="\r\n")
        text = draw(st.text(characters, min_size=1, max_size=40)
                    .filter(lambda text: text.strip() != ""))
        return Line(text.encode(), "any")
    if kind == "bytes":
        raw = draw(st.binary(min_size=1, max_size=40).filter(_non_blank_one_line))
        return Line(raw, "any")
    whole = draw(valid_lines(source)).raw
    if kind == "spliced":  # random bytes, maybe invalid UTF-8, inserted anywhere
        at = draw(st.integers(0, len(whole)))
        junk = draw(st.binary(min_size=1, max_size=6)
                    .filter(lambda raw: b"\r" not in raw and b"\n" not in raw))
        return Line(whole[:at] + junk + whole[at:], "any")
    # NaN / Infinity written raw into an unknown field: Spark accepts them, JSON does not
    token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "+INF"]))
    return Line(whole[:-1] + f',"extra":{token}}}'.encode(), "any")


def _non_blank_one_line(raw: bytes) -> bool:
    return b"\r" not in raw and b"\n" not in raw and raw.decode("utf-8", "replace").strip() != ""


def any_lines(source: Source):
    return st.one_of(valid_lines(source), defect_lines(source), hostile_lines(source))


BLANK_LINES = [b"", b" ", b"    ", b"\t", b" \t \xc2\xa0"]
LINE_ENDINGS = [b"\n", b"\r\n", b"\r"]


@st.composite
def landing_folders(draw, source: Source) -> list[LandingFile]:
    files = []
    for index in range(draw(st.integers(1, 5))):
        lines = draw(st.lists(any_lines(source), min_size=5, max_size=60))
        chunks = []
        for line in lines:
            chunks += draw(st.lists(st.sampled_from(BLANK_LINES), max_size=2))
            chunks.append(line.raw)
        chunks += draw(st.lists(st.sampled_from(BLANK_LINES), max_size=2))
        data = b"".join(chunk + draw(st.sampled_from(LINE_ENDINGS)) for chunk in chunks)
        if draw(st.booleans()):  # no line ending after the last line
            data = data.rstrip(b"\r\n")
        suffix = draw(st.sampled_from(LANDING_FILE_SUFFIXES))
        if suffix.endswith(".gz"):
            data = gzip.compress(data)
        folder = draw(st.sampled_from(["", "nested/", "nested/deeper/"]))
        files.append(LandingFile(f"{folder}part-{index}{suffix}", tuple(lines), data))
    if draw(st.booleans()):  # not a landing file name: never read
        files.append(LandingFile("notes.txt", (), draw(valid_lines(source)).raw + b"\n"))
    return files


# --- running and checking ------------------------------------------------------------------

_REPLACEMENTS = re.compile("\ufffd+")


def as_text(line: str | bytes) -> str:
    """A line as text. Spark keeps the bytes of a line and decodes invalid UTF-8 with U+FFFD
    when handing it to Python, but the JVM and Python disagree on how many U+FFFD some broken
    sequences become (an encoded surrogate ED A0 80: one or three), so runs of U+FFFD are
    collapsed to one on both sides before comparing."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    return _REPLACEMENTS.sub("\ufffd", line)


def local_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


@dataclass
class Outcome:
    pairs: list  # (Line, validated row) for every non-blank line written
    valid: list
    quarantine: list


def run(spark, source: Source, files: list[LandingFile]) -> Outcome:
    """Writes the files, reads and validates them, and checks the row accounting."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve() / source.name
        for landing_file in files:
            (root / landing_file.path).parent.mkdir(parents=True, exist_ok=True)
            (root / landing_file.path).write_bytes(landing_file.data)
        validated = validate(read_landing_lines(spark, str(root)), source)
        rows = validated.collect()
    # Within a file, rows come in line order (small files are one split each).
    rows_by_file = defaultdict(list)
    for row in rows:
        rows_by_file[local_path(row["source_file"])].append(row)
    written = {root / f.path: f.lines for f in files if f.lines and not f.path.endswith(".txt")}
    assert {path: len(found) for path, found in rows_by_file.items()} == {
        path: len(lines) for path, lines in written.items()}, "a line was lost or invented"
    pairs = [pair for path, lines in written.items() for pair in zip(lines, rows_by_file[path])]

    # The quarantine is computed on a local copy, as the pipeline reads landing back from
    # Parquet; that keeps it to one Spark job per example.
    table = spark.createDataFrame(rows, validated.schema)
    outcome = Outcome(pairs, valid_records(table).collect(),
                      quarantined_records(table, source).collect())
    assert len(outcome.valid) + len(outcome.quarantine) == len(rows)
    for row in outcome.quarantine:
        assert row["source"] == source.name
        assert local_path(row["source_file"]) in written
        assert row["raw_line"] and row["reasons"] and all(row["reasons"])
        assert isinstance(row["quarantined_at"], datetime)
    assert Counter(as_text(row["raw_line"]) for row in outcome.quarantine) == Counter(
        as_text(line.raw) for line, row in pairs if row["invalid_reasons"])
    return outcome


def check_row(source: Source, line: Line, row) -> None:
    """What the contract says of this line's validated row."""
    reasons = row["invalid_reasons"]
    context = f"{line.raw[:300]!r} -> {reasons}"
    if reasons:
        assert as_text(row["raw_line"]) == as_text(line.raw), context
    else:
        assert row["raw_line"] is None, context
        required = [field.column for field in source.fields if field.required]
        assert all(row[column] is not None for column in required), context
    if line.expect == "valid":
        assert reasons == [], context
        for column, value in line.values:
            if column == "last_update_date" and value is None:
                continue  # absent: may default to registration_date here or downstream
            if KIND_OF_COLUMN[column] == "number":  # decimal -> double may differ in the last bit
                assert math.isclose(row[column], value, rel_tol=1e-15), (context, column)
            else:
                assert row[column] == value, (context, column)
        assert row["unknown_fields"] == list(line.unknown), context
    elif line.expect == "defect":
        assert reasons and all(reason.startswith(f"{line.field}:") for reason in reasons), context
    elif line.expect == "not_object":
        assert reasons == [NOT_AN_OBJECT], context
    elif line.expect == "not_utf8":
        assert reasons == [NOT_UTF8], context
    elif line.expect == "invalid":
        assert reasons, context


def write_and_check(spark, source: Source, files: list[LandingFile]) -> Outcome:
    outcome = run(spark, source, files)
    for line, row in outcome.pairs:
        check_row(source, line, row)
    return outcome


# --- properties ----------------------------------------------------------------------------

@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.name)
@FUZZ
@given(data=st.data())
def test_every_line_is_accounted_for_and_judged_by_the_contract(spark, source, data):
    """No crash, no lost line, valid + quarantined = read, valid stays valid, one defect is
    quarantined naming its field, hostile lines are quarantined with the raw line."""
    outcome = write_and_check(spark, source, data.draw(landing_folders(source), label="files"))
    for line, row in outcome.pairs:  # what was covered: pytest --hypothesis-show-statistics
        event(f"{line.expect} line {'quarantined' if row['invalid_reasons'] else 'valid'}")


# --- fixed lines: the brief's hostile cases and the bugs found -----------------------------

DEFAULTS = {
    CUSTOMER: {"email": '"a@test.com"', "serialNumber": '"s1"', "registrationDate": str(T0)},
    ACCELEROMETER: {"user": '"a@test.com"', "timeStamp": str(T0), "x": "1", "y": "-1.5", "z": "0"},
    STEP_TRAINER: {"sensorReadingTime": str(T0), "serialNumber": '"s1"', "distanceFromObject": "2"},
}
STEP, ACC, CUST = STEP_TRAINER, ACCELEROMETER, CUSTOMER


def record(source: Source, **values: str) -> str:
    """A valid record of `source` with some values replaced by raw JSON text."""
    fields = {**DEFAULTS[source], **values}
    return "{" + ",".join(f'"{name}":{value}' for name, value in fields.items()) + "}"


def fixed(source: Source, text: str | bytes, expect: str, unknown: tuple = ()):
    raw = text if isinstance(text, bytes) else text.encode()
    return source, Line(raw, expect, unknown=unknown)


def defect(source: Source, field: str, value: str):
    """The source's valid record with `field` set to `value`: quarantined for `field`."""
    return source, Line(record(source, **{field: value}).encode(), "defect", field)


PROBES = {  # id -> (source, line): what the contract says of it
    "integral_float_epoch": fixed(ACC, record(ACC, timeStamp=f"{T0}.0"), "valid"),
    "upper_case_names": fixed(ACC, record(ACC, user='"A@TEST.COM"').upper(), "valid"),
    "unknown_field_200_deep": fixed(STEP, record(STEP, extra="[" * 199 + "]" * 199), "valid",
                                    unknown=("extra",)),
    "huge_float_distance": defect(STEP, "distanceFromObject", "1e400"),
    "2**70_distance": defect(STEP, "distanceFromObject", str(2**70)),
    "-2**70_epoch": defect(STEP, "sensorReadingTime", str(-(2**70))),
    "nan_x": defect(ACC, "x", "NaN"),
    "infinity_y": defect(ACC, "y", "Infinity"),
    "huge_z": defect(ACC, "z", "-1e400"),
    "string_epoch": defect(CUST, "registrationDate", f'"{T0}"'),
    "boolean_serial": defect(CUST, "serialNumber", "true"),
    "object_email": defect(CUST, "email", '{"a":"x@y"}'),
    "array_user": defect(ACC, "user", '["a@test.com"]'),
    "email_without_at": defect(CUST, "email", '"nobody"'),
    "null_serial": defect(STEP, "serialNumber", "null"),
    "empty_email": defect(CUST, "email", '""'),
    "non_integral_consent": defect(CUST, "shareWithResearchAsOfDate", "0.5"),
    "names_differing_in_case": (ACC, Line(record(ACC, timestamp=str(T0)).encode(), "defect",
                                          "timeStamp")),
    "empty_object": fixed(STEP, "{}", "invalid"),
    "1000_deep_array": fixed(STEP, "[" * 1000 + "]" * 1000, "not_object"),
    "1000_deep_object": fixed(CUST, '{"a":' * 1000 + "1" + "}" * 1000, "invalid"),
    "json_array": fixed(CUST, "[1, 2]", "not_object"),
    "json_string": fixed(ACC, '"just a string"', "not_object"),
    "json_null": fixed(STEP, "null", "not_object"),
    "invalid_utf8_line": fixed(STEP, b"\xff\xfe{\xed\xa0\x80}", "not_object"),
    "truncated": fixed(ACC, record(ACC)[:-9], "not_object"),
}

# Once accepted by Spark's lenient parsing and rounding; now each is quarantined.
PROBES.update({
    "epoch_with_11_decimals": defect(STEP, "sensorReadingTime", f"{T0}.00000000001"),
    "distance_with_11_decimals": defect(STEP, "distanceFromObject", "2.00000000001"),
    "registration_with_12_decimals": defect(CUST, "registrationDate", f"{T0}.000000000009"),
    "epoch_with_39_digits": defect(ACC, "timeStamp", f"{T0}.{'0' * 30}1"),
    "epoch_in_exponent_form": defect(ACC, "timeStamp", f"{T0}0001e-4"),
    "whole_epoch_in_exponent_form": fixed(ACC, record(ACC, timeStamp=f"{T0}0000e-4"), "valid"),
    "two_objects_on_one_line": fixed(STEP, record(STEP) + record(STEP, serialNumber='"s2"'),
                                     "not_object"),
    "text_after_the_object": fixed(STEP, record(STEP) + " trailing", "not_object"),
    "bracket_after_the_object": fixed(ACC, record(ACC) + "]", "not_object"),
    "brace_after_the_object": fixed(ACC, record(ACC) + "}", "not_object"),
    "nan_after_the_object": fixed(ACC, record(ACC) + "NaN", "not_object"),
    "spaces_after_the_object": fixed(ACC, record(ACC) + " \t ", "valid"),
    "single_quoted_json": fixed(STEP, record(STEP).replace('"', "'"), "not_object"),
    "invalid_utf8_inside_a_value": fixed(
        STEP, record(STEP).encode().replace(b'"s1"', b'"s\xff1"'), "not_utf8"),
    "tab_only_serial": defect(STEP, "serialNumber", '"\\t"'),
})


@pytest.fixture(scope="module")
def probed(spark) -> dict:
    """Every fixed line, one file and one Spark job per source: id -> (source, line, row)."""
    cases = dict(PROBES)
    found = {}
    for source in SOURCES:
        ids = [case for case, (of, _) in cases.items() if of is source]
        # Accounting only here: each test below judges its own line.
        lines = tuple(Line(cases[case][1].raw, "any") for case in ids)
        data = b"\n".join(probe.raw for probe in lines) + b"\n"
        outcome = run(spark, source, [LandingFile("probes.json", lines, data)])
        for case, (_, row) in zip(ids, outcome.pairs):
            found[case] = (source, cases[case][1], row)
    return found


@pytest.mark.parametrize("case", PROBES)
def test_hostile_line_is_judged_by_the_contract(probed, case):
    check_row(*probed[case])


def test_whitespace_only_lines_are_blank_whatever_the_whitespace(spark):
    valid = Line(record(STEP).encode(), "valid")
    outcome = run(spark, STEP, [LandingFile("tabs.json", (valid,),
                                            valid.raw + "\n   \n\t\n \t \n\u00a0\n".encode())])
    assert len(outcome.pairs) == 1


def test_truncated_gzip_file_fails_loudly_instead_of_losing_lines(spark, tmp_path):
    """A cut-off gzip file cannot be read to its end: the read must fail, not drop the rest."""
    whole = gzip.compress((record(STEP) + "\n").encode() * 200)
    (tmp_path / "cut.json.gz").write_bytes(whole[:-20])
    with pytest.raises(Exception, match="(?i)end of input|FAILED_READ_FILE"):
        validate(read_landing_lines(spark, str(tmp_path)), STEP).collect()
