"""What the pipeline should produce from a landing zone, computed in plain Python.

An independent second implementation of ../shared/docs/data-contract.md (and of
docs/decisions.md where the contract leaves a choice open), for tests that compare it with
the real pipeline. It shares no code with `stedi_assets`: no Spark, no validation module,
its own reading of the contract. Small landing zones only (everything is held in memory).

    expected = reference.expected(landing_root, "as_of_date")
    expected.row_counts                 # table -> rows
    expected.quarantine                 # (source, field, category) -> invalid records
    expected.accounting                 # source -> {read, valid, quarantined, kept, ...}
    expected.unknown_fields             # source -> {field name: records}
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

CONSENT_MODES = ("any", "as_of_date")
# docs/decisions.md: the schema drift report shows an unknown field's name only when it is a
# plain identifier (letters, digits, _ and -, not starting with a digit or -, at most 64
# characters, no run of 5 digits); the other names are counted together under this one.
MASKED_FIELD_NAME = "\u2022\u2022\u2022 (field names that may be personal data)"


def shown_field_name(name: str) -> str:
    plain = (len(name) <= 64 and name[:1].isascii() and (name[:1].isalpha() or name[:1] == "_")
             and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
             and not any(name[i:i + 5].isdigit() and name[i:i + 5].isascii()
                         for i in range(len(name) - 4)))
    return name if plain else MASKED_FIELD_NAME

# --- The contract's landing zone -----------------------------------------------------------

SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")

# source -> (field as documented, kind, required). Kinds: "string", "email", "epoch" (integer
# milliseconds), "consent" (epoch ms, absent, null or 0), "number" (finite), "integer".
FIELDS = {
    "customer": (
        ("customerName", "string", False),
        ("email", "email", True),
        ("phone", "string", False),
        ("birthDay", "string", False),  # YYYY-MM-DD is documented, only the type is checked
        ("serialNumber", "string", True),
        ("registrationDate", "epoch", True),
        ("lastUpdateDate", "epoch", False),
        ("shareWithResearchAsOfDate", "consent", False),
        ("shareWithPublicAsOfDate", "consent", False),
        ("shareWithFriendsAsOfDate", "consent", False),
    ),
    "accelerometer": (
        ("user", "email", True),
        ("timeStamp", "epoch", True),
        ("x", "number", True),
        ("y", "number", True),
        ("z", "number", True),
    ),
    "step_trainer": (
        ("sensorReadingTime", "epoch", True),
        ("serialNumber", "string", True),
        ("distanceFromObject", "integer", True),
    ),
}
SOURCES = tuple(FIELDS)
LANDING_TABLE = {source: f"{source}_landing" for source in SOURCES}
TRUSTED_TABLE = {"customer": "customer_trusted", "accelerometer": "accelerometer_trusted",
                 "step_trainer": "step_trainer_trusted"}
TABLES = ("customer_landing", "accelerometer_landing", "step_trainer_landing",
          "landing_quarantine", "customer_trusted", "accelerometer_trusted", "customer_curated",
          "step_trainer_trusted", "machine_learning_curated")

# Categories of quarantine reasons: at most one per invalid field, the first that applies.
NOT_AN_OBJECT = "line is not a JSON object"
NOT_UTF8 = "line is not valid UTF-8"
# docs/decisions.md: a line of more than 1 MiB is not parsed; the quarantine keeps its start.
MAX_LINE_BYTES = 1024 * 1024
LINE_TOO_LONG = f"line is longer than {MAX_LINE_BYTES} bytes, the most one record may be"
DUPLICATE = "appears more than once"
EXPECTED_STRING = "expected a string"
EXPECTED_NUMBER = "expected a number"
EXPECTED_INTEGER = "expected an integer"
NOT_FINITE = "not a finite number"
NOT_WHOLE = "not a whole number in range"
MISSING = "required but missing"
NOT_AN_EMAIL = "not an e-mail address"
CATEGORIES = (NOT_AN_OBJECT, NOT_UTF8, DUPLICATE, EXPECTED_STRING, EXPECTED_NUMBER, EXPECTED_INTEGER,
              NOT_FINITE, NOT_WHOLE, MISSING, NOT_AN_EMAIL)
LINE = ""  # the "field" of a reason about the whole line

LONG_MIN, LONG_MAX = -(2 ** 63), 2 ** 63 - 1  # an epoch column is a 64-bit integer

TERMS = ("read", "valid", "quarantined", "kept", "excluded_no_consent", "excluded_orphans",
         "removed_duplicates")


def categorise(reason: str) -> tuple[str, str]:
    """(field, category) of a reason text such as "x: expected a number, got string"."""
    if reason in (NOT_AN_OBJECT, NOT_UTF8, LINE_TOO_LONG):
        return LINE, reason
    name, _, problem = reason.partition(": ")
    for category in CATEGORIES:
        if problem.startswith(category):
            return name, category
    raise ValueError(f"a quarantine reason of no known category: {reason!r}")


# --- Reading -------------------------------------------------------------------------------


def landing_files(root: Path, source: str) -> list[Path]:
    """Files with a landing suffix, except hidden ones: a name on the path below the source
    folder starts with _ or . (docs/decisions.md)."""
    folder = Path(root) / source
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)
                  and not any(part.startswith(("_", ".")) for part in p.relative_to(folder).parts))


def hidden_landing_files(root: Path, source: str) -> list[Path]:
    folder = Path(root) / source
    every = {p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)}
    return sorted(every - set(landing_files(root, source)))


def landing_lines(root: Path, source: str) -> list[tuple[str, str, bool, int]]:
    """(file, line, whether it is valid UTF-8, its bytes) of every non-blank line: blank lines
    are not records (docs/decisions.md). Invalid UTF-8 is decoded with U+FFFD.
    JSON Lines separate records with \\n; a \\r before it is whitespace (not counted in its
    bytes: Spark's reader ends a line at \\r\\n too)."""
    lines = []
    for path in landing_files(root, source):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        for raw in data.split(b"\n"):
            line = raw.decode("utf-8", "replace")
            if line.strip():
                lines.append((str(path), line, _is_utf8(raw), len(raw.removesuffix(b"\r"))))
    return lines


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _Object(list):
    """A JSON object as its (name, value) pairs, in order, repeated names included."""


def _constant(token: str) -> float:
    return float(token)  # NaN, Infinity, -Infinity: numbers, but not finite ones


def parse(line: str):
    """The line's JSON value (objects as `_Object`, numbers with a fraction or exponent as
    Decimal, so that 1655564376361.0000000001 is not mistaken for a whole number), or None
    when the line is not JSON at all."""
    try:
        return json.loads(line, object_pairs_hook=_Object, parse_float=Decimal,
                          parse_constant=_constant)
    except ValueError:  # json.JSONDecodeError, and the rare number Decimal rejects
        return None


# --- Validation ----------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _as_double(value) -> float:
    return float(value)  # Decimal("1E+400") -> inf: not finite as a double column


def _whole(value) -> int | None:
    """The value as a 64-bit integer when it is a whole number in range, else None."""
    if isinstance(value, float):  # only NaN and the infinities are parsed as float
        return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        value = int(value)
    return value if LONG_MIN <= value <= LONG_MAX else None


def check_field(kind: str, required: bool, present: bool, value):
    """(typed value, category or None) of one field of a JSON object."""
    if present and value is not None:
        if kind in ("string", "email"):
            if not isinstance(value, str):
                return None, EXPECTED_STRING
            if not value.strip():
                return None, MISSING if required else None
            if kind == "email" and "@" not in value:
                return None, NOT_AN_EMAIL
            return value, None
        if not _is_number(value):
            return None, EXPECTED_NUMBER if kind == "number" else EXPECTED_INTEGER
        if kind == "number":
            double = _as_double(value)
            return (double, None) if math.isfinite(double) else (None, NOT_FINITE)
        whole = _whole(value)
        return (whole, None) if whole is not None else (None, NOT_WHOLE)
    return None, MISSING if required else None


@dataclass
class Record:
    source: str
    file: str
    line: str
    values: dict = field(default_factory=dict)  # documented field name -> typed value
    reasons: list = field(default_factory=list)  # (field, category)
    unknown: list = field(default_factory=list)  # names the contract does not know

    @property
    def valid(self) -> bool:
        return not self.reasons


def validate(source: str, file: str, line: str, utf8: bool = True, size: int = 0) -> Record:
    record = Record(source, file, line)
    if size > MAX_LINE_BYTES:
        record.reasons.append((LINE, LINE_TOO_LONG))
        return record
    parsed = parse(line)
    if not isinstance(parsed, _Object):
        record.reasons.append((LINE, NOT_AN_OBJECT))
        return record
    if not utf8:  # an object, but with bytes that are not text
        record.reasons.append((LINE, NOT_UTF8))
        return record
    by_name = defaultdict(list)
    for name, value in parsed:
        by_name[name.lower()].append(value)
    known = {name.lower() for name, _, _ in FIELDS[source]}
    record.unknown = [name for name, _ in parsed if name.lower() not in known]
    for name, kind, required in FIELDS[source]:
        values = by_name.get(name.lower(), [])
        if len(values) > 1:
            record.reasons.append((name, DUPLICATE))
            continue
        typed, problem = check_field(kind, required, bool(values), values[0] if values else None)
        if problem:
            record.reasons.append((name, problem))
        record.values[name] = typed
    return record


def normalised(text: str) -> str:
    return text.strip().lower()


def consent_date(customer: dict) -> int | None:
    """The research consent date when the customer consents (> 0), else None."""
    date = customer["shareWithResearchAsOfDate"]
    return date if date is not None and date > 0 else None


# --- Landing -> trusted -> curated ---------------------------------------------------------


class AmbiguousTie(ValueError):
    """Two latest records of one customer that the contract and decisions cannot order."""


def latest_customers(valid_customers: list[dict]) -> dict[str, dict]:
    """normalised email -> the latest record: greatest lastUpdateDate (defaulting to
    registrationDate), then greatest registrationDate; on a full tie the record that does not
    consent (docs/decisions.md)."""
    by_email = defaultdict(list)
    for customer in valid_customers:
        by_email[customer["email"]].append(customer)
    latest = {}
    for email, records in by_email.items():
        def rank(c):
            return (c["lastUpdateDate"], c["registrationDate"], consent_date(c) is None)
        best = max(rank(c) for c in records)
        winners = [c for c in records if rank(c) == best]
        # Beyond that the decision is only "the other columns decide": refuse to guess where
        # it would change a count (another device or another consent date).
        if len({(c["serialNumber"], consent_date(c)) for c in winners}) > 1:
            raise AmbiguousTie(f"{email}: {winners}")
        latest[email] = winners[0]
    return latest


@dataclass
class Expected:
    consent_mode: str
    row_counts: dict
    quarantine: Counter
    accounting: dict
    unknown_fields: dict
    records: dict  # source -> [Record]


def expected(root: Path, consent_mode: str = "any") -> Expected:
    if consent_mode not in CONSENT_MODES:
        raise ValueError(f"consent mode {consent_mode!r}")
    as_of_date = consent_mode == "as_of_date"
    records = {source: [validate(source, *line) for line in landing_lines(root, source)]
               for source in SOURCES}
    valid = {source: [r.values for r in records[source] if r.valid] for source in SOURCES}

    # customer: normalised, one record per e-mail, then consent.
    customers = [{**c, "email": normalised(c["email"]),
                  "serialNumber": normalised(c["serialNumber"]),
                  "lastUpdateDate": (c["lastUpdateDate"] if c["lastUpdateDate"] is not None
                                     else c["registrationDate"])}
                 for c in valid["customer"]]
    latest = latest_customers(customers)
    trusted = {email: c for email, c in latest.items() if consent_date(c) is not None}

    # accelerometer: each valid reading meets its fate, first applicable rule first.
    accelerometer_fate = Counter()
    kept_readings = set()
    for reading in valid["accelerometer"]:
        user = normalised(reading["user"])
        key = (user, reading["timeStamp"], reading["x"], reading["y"], reading["z"])
        customer = latest.get(user)
        if customer is None:
            accelerometer_fate["excluded_orphans"] += 1
        elif consent_date(customer) is None or (
                as_of_date and reading["timeStamp"] < consent_date(customer)):
            accelerometer_fate["excluded_no_consent"] += 1
        elif key in kept_readings:
            accelerometer_fate["removed_duplicates"] += 1
        else:
            kept_readings.add(key)
    readings_at = Counter((user, at) for user, at, *_ in kept_readings)
    users_with_readings = {user for user, *_ in kept_readings}
    curated = {email: c for email, c in trusted.items() if email in users_with_readings}

    # step_trainer: a device belongs to the customers whose latest record names it; it is
    # attributable only when exactly one customer_curated customer does.
    claims = defaultdict(list)
    for customer in latest.values():
        claims[customer["serialNumber"]].append(customer)
    curated_claims = defaultdict(list)
    for customer in curated.values():
        curated_claims[customer["serialNumber"]].append(customer)
    step_fate = Counter()
    kept_steps = defaultdict(set)  # (serial, time) -> distances
    for reading in valid["step_trainer"]:
        serial, at = normalised(reading["serialNumber"]), reading["sensorReadingTime"]
        owners = curated_claims.get(serial, [])
        if serial not in claims:
            step_fate["excluded_orphans"] += 1
        elif not any(consent_date(c) is not None for c in claims[serial]):
            step_fate["excluded_no_consent"] += 1
        elif len(owners) != 1:
            step_fate["excluded_orphans"] += 1
        elif as_of_date and at < consent_date(owners[0]):
            step_fate["excluded_no_consent"] += 1
        else:
            if (serial, at) in kept_steps:
                step_fate["removed_duplicates"] += 1
            kept_steps[(serial, at)].add(reading["distanceFromObject"])
    pairs = sum(readings_at[(curated_claims[serial][0]["email"], at)]
                for serial, at in kept_steps)

    quarantine = Counter((r.source, name, category) for source in SOURCES
                         for r in records[source] for name, category in r.reasons)
    quarantined = Counter(r.source for source in SOURCES for r in records[source] if not r.valid)
    row_counts = {
        "customer_landing": len(records["customer"]),
        "accelerometer_landing": len(records["accelerometer"]),
        "step_trainer_landing": len(records["step_trainer"]),
        "landing_quarantine": sum(quarantined.values()),
        "customer_trusted": len(trusted),
        "accelerometer_trusted": len(kept_readings),
        "customer_curated": len(curated),
        "step_trainer_trusted": len(kept_steps),
        "machine_learning_curated": pairs,
    }

    def terms(source: str, kept: int, fate: Counter) -> dict:
        return {"read": len(records[source]), "valid": len(valid[source]),
                "quarantined": quarantined[source], "kept": kept,
                "excluded_no_consent": fate["excluded_no_consent"],
                "excluded_orphans": fate["excluded_orphans"],
                "removed_duplicates": fate["removed_duplicates"]}

    accounting = {
        "customer": terms("customer", len(trusted), Counter(
            excluded_no_consent=len(latest) - len(trusted),
            removed_duplicates=len(customers) - len(latest))),
        "accelerometer": terms("accelerometer", len(kept_readings), accelerometer_fate),
        "step_trainer": {**terms("step_trainer", len(kept_steps), step_fate),
                         "conflicting_distances": sum(
                             len(distances) > 1 for distances in kept_steps.values())},
    }
    unknown_fields = {source: dict(Counter(name for r in records[source]
                                           for name in {shown_field_name(n) for n in r.unknown}))
                      for source in SOURCES}
    return Expected(consent_mode, row_counts, quarantine, accounting, unknown_fields, records)


def balance_problems(terms: dict) -> list[str]:
    """The accounting identities of the contract that `terms` breaks (none, normally)."""
    problems = []
    if terms["read"] != terms["valid"] + terms["quarantined"]:
        problems.append(f"read {terms['read']} != valid {terms['valid']} + quarantined "
                        f"{terms['quarantined']}")
    accounted = sum(terms[t] for t in TERMS[3:])
    if terms["valid"] != accounted:
        problems.append(f"valid {terms['valid']} != kept + excluded + duplicates {accounted}")
    return problems
