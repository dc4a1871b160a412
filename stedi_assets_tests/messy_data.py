"""A deterministic messy landing zone: besides good data, every kind of bad or tricky
record the data contract names (invalid lines of every sort, truncated last lines, gzip,
CRLF, `timeStamp`, integral floats, duplicates spelled differently, consent granted and
withdrawn by later records, shared serial numbers, unknown fields).

Test code: the pipeline never needs it; `test_messy_landing.py` and
`benchmarks/validation_profile.py` do."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from pathlib import Path

from stedi_assets.rules.sample_data import FIRST_NAMES, FIRST_REGISTRATION, LAST_NAMES

MESSY_SEED = 20220619


class _Raw:
    """A JSON token written as it is (NaN, 1e400, 1655564376361.0, a duplicated key...)."""

    def __init__(self, text: str):
        self.text = text


_DROP = object()  # in `_line` overrides: leave the field out


def _line(record: dict, *extra_pairs: tuple[str, object], **overrides) -> str:
    """One JSON object per line, written by hand so that it can hold what `json.dumps` cannot:
    raw tokens (`_Raw`), repeated names (`extra_pairs`) and fields left out (`_DROP`)."""
    pairs = [(key, overrides.get(key, value)) for key, value in record.items()]
    pairs += [(key, value) for key, value in overrides.items() if key not in record]
    pairs += list(extra_pairs)
    cells = [f"{json.dumps(key)}: {value.text if isinstance(value, _Raw) else json.dumps(value)}"
             for key, value in pairs if value is not _DROP]
    return "{" + ", ".join(cells) + "}"


class _MessyFeeds:
    """The lines of the three feeds, built person by person."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.customer: list[str] = []
        self.accelerometer: list[str] = []
        self.step_trainer: list[str] = []
        self.people = 0

    def serial(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def person(self, consent: str = "at_registration", phone: bool = True, device: bool = True,
               serial: str | None = None, readings: int | None = None) -> dict:
        """A customer record (not yet written) and, unless told otherwise, its readings.

        consent: "absent", "null", "zero", "at_registration", "mid_readings" (the middle
        reading is taken exactly at the consent date), "after_readings"."""
        rng, index = self.rng, self.people
        self.people += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        registered = FIRST_REGISTRATION + index * 600_000 + rng.randrange(60_000)
        times, at = [], registered + rng.randrange(1_000, 60_000)
        for _ in range(readings if readings is not None else rng.randint(3, 7)):
            at += rng.randrange(500, 20_000)
            times.append(at)
        record = {
            "customerName": f"{first} {last}",
            "email": f"{first}.{last}{index}@stedi.test",
            "phone": "8015551212",
            "birthDay": f"{rng.randrange(1930, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "serialNumber": serial or self.serial(),
            "registrationDate": registered,
            "lastUpdateDate": registered,
        }
        consented = {"at_registration": registered,
                     "mid_readings": times[len(times) // 2] if times else registered,
                     "after_readings": (times[-1] if times else registered) + 1_000}
        if consent in consented:
            record.update(shareWithResearchAsOfDate=consented[consent],
                          shareWithPublicAsOfDate=consented[consent],
                          shareWithFriendsAsOfDate=consented[consent])
        elif consent in ("null", "zero"):
            value = None if consent == "null" else 0
            record.update(shareWithResearchAsOfDate=value, shareWithPublicAsOfDate=value,
                          shareWithFriendsAsOfDate=value)
        elif consent != "absent":
            raise ValueError(f"unknown consent {consent!r}")
        self.readings(record["email"], record["serialNumber"] if device else None,
                      times if phone else [], times if device else [])
        return record

    def readings(self, email: str, serial: str | None, phone_times, device_times):
        rng = self.rng
        for at in phone_times:
            for _ in range(rng.choice((1, 1, 1, 2, 3))):  # several readings in one millisecond
                user = rng.choice((email, email, email, email.upper(), f"  {email.lower()} "))
                time_field = "timeStamp" if rng.random() < 0.3 else "timestamp"
                self.accelerometer.append(json.dumps({
                    "user": user, time_field: at,
                    "x": float(rng.randint(-9, 9)), "y": float(rng.randint(-9, 9)),
                    "z": rng.randint(-9, 9)}))
        for at in device_times:
            spelled = rng.choice((serial, serial, serial, serial.upper(), f" {serial} "))
            self.step_trainer.append(json.dumps({
                "sensorReadingTime": at, "serialNumber": spelled,
                "distanceFromObject": rng.randrange(180, 300)}))

    def add(self, *records: dict):
        self.customer.extend(json.dumps(record) for record in records)


def generate_messy_landing(root: Path, seed: int = MESSY_SEED, customers: int = 60) -> None:
    """Writes a small landing zone under `root` with, besides good data, every kind of bad
    or tricky record the data contract names (same seed, same bytes).

    Every defect is mixed into files that also hold good records, so that no file of 10 or
    more records lacks a required field in all of them (a separate, blocking check).
    Test expectations come from `stedi_assets_tests/reference.py`, not from here."""
    rng = random.Random(seed)
    feeds = _MessyFeeds(rng)
    consents = ("absent", "null", "zero", "at_registration", "at_registration",
                "mid_readings", "mid_readings", "after_readings")
    for _ in range(customers):
        feeds.add(feeds.person(rng.choice(consents), phone=rng.random() < 0.85,
                               device=rng.random() < 0.85))
    _tricky_customers(feeds)
    _tricky_readings(feeds)
    _invalid_records(feeds)
    _write_messy(root, rng, feeds)


def _tricky_customers(feeds: _MessyFeeds) -> None:
    """Valid records that only deduplication, normalisation and consent tell apart."""
    # The latest record (greater lastUpdateDate) withdraws consent: the customer is out.
    withdraws = feeds.person("at_registration")
    feeds.add(withdraws, {**withdraws, "email": f" {withdraws['email'].upper()}",
                          "lastUpdateDate": withdraws["lastUpdateDate"] + 86_400_000,
                          "shareWithResearchAsOfDate": 0})
    # The latest record grants consent (as an integral float: accepted).
    grants = feeds.person("absent")
    later = grants["registrationDate"] + 1_000
    feeds.add(grants, {**grants, "email": grants["email"].lower() + "  ",
                       "lastUpdateDate": later, "shareWithResearchAsOfDate": float(later)})
    # Same lastUpdateDate: the greater registrationDate wins, and it withdraws (null).
    tie = feeds.person("at_registration")
    feeds.add({**tie, "lastUpdateDate": tie["registrationDate"] + 5_000},
              {**tie, "registrationDate": tie["registrationDate"] + 1,
               "lastUpdateDate": tie["registrationDate"] + 5_000,
               "shareWithResearchAsOfDate": None})
    # lastUpdateDate absent (defaults to registrationDate) against a later update: the update
    # wins and grants consent, with another device: readings of the old one are orphans.
    moved = feeds.person("absent", readings=4)
    new_serial = feeds.serial()
    feeds.add({key: value for key, value in moved.items() if key != "lastUpdateDate"},
              {**moved, "registrationDate": moved["registrationDate"] - 10,
               "lastUpdateDate": moved["registrationDate"] + 50, "serialNumber": new_serial,
               "shareWithResearchAsOfDate": moved["registrationDate"]})
    feeds.readings(moved["email"], new_serial, [], [moved["registrationDate"] + 70_000 + k
                                                    for k in range(0, 4_000, 1_000)])
    # A full tie on both dates: the record that does not consent wins (docs/decisions.md).
    full_tie = feeds.person("at_registration")
    feeds.add(full_tie, {**full_tie, "shareWithResearchAsOfDate": 0})
    # The same e-mail and serial number spelled with other case and spaces.
    spelled = feeds.person("at_registration")
    feeds.add({**spelled, "email": f"  {spelled['email'].upper()} ",
               "serialNumber": f" {spelled['serialNumber'].upper()}  "})
    feeds.add({**spelled, "email": f"\t{spelled['email']}\u00a0",
               "lastUpdateDate": spelled["lastUpdateDate"] + 1})
    # A later record that is invalid (non-integral lastUpdateDate) cannot withdraw consent.
    kept = feeds.person("at_registration")
    feeds.add(kept)
    feeds.customer.append(_line(kept, lastUpdateDate=_Raw(f"{kept['lastUpdateDate'] + 9}.5"),
                                shareWithResearchAsOfDate=0))
    # Phone readings of an e-mail that appears only in an invalid customer record: orphans.
    invalid_only = feeds.person("at_registration", device=False)
    feeds.customer.append(_line(invalid_only,
                                registrationDate=str(invalid_only["registrationDate"])))
    # One serial number, two consenting customers with phone readings: it cannot be
    # attributed to one person, so its readings are left out (docs/decisions.md).
    shared = feeds.serial()
    feeds.add(feeds.person("at_registration", serial=shared),
              feeds.person("at_registration", serial=shared.upper(), device=False))
    # One serial number, a consenting and a non-consenting customer: it is the consenting one's.
    half_shared = feeds.serial()
    feeds.add(feeds.person("at_registration", serial=half_shared),
              feeds.person("zero", serial=half_shared, device=False))
    # One serial number, two customers, neither consenting.
    nobody = feeds.serial()
    feeds.add(feeds.person("absent", serial=nobody), feeds.person("null", serial=nobody))
    # A consenting device owner without phone readings is not in customer_curated.
    feeds.add(feeds.person("at_registration", phone=False))
    # Consent given as an integral float, optional fields null or odd, a negative consent
    # date (not > 0: no consent), unknown extra fields (schema drift, still valid).
    odd = feeds.person("at_registration")
    feeds.customer.append(_line(odd, registrationDate=_Raw(f"{odd['registrationDate']}.0"),
                                shareWithResearchAsOfDate=_Raw(f"{odd['registrationDate']}.000"),
                                customerName=None, phone="", birthDay="993-01-01",
                                loyaltyTier="gold"))
    negative = feeds.person("at_registration", device=False)
    feeds.customer.append(_line(negative, shareWithResearchAsOfDate=-1, lastUpdateDate=None,
                                marketingOptIn=True))


def _tricky_readings(feeds: _MessyFeeds) -> None:
    """Valid readings that only deduplication and normalisation tell apart."""
    rng = feeds.rng
    owner = feeds.person("at_registration", readings=2)
    feeds.add(owner)
    email, serial, at = owner["email"], owner["serialNumber"], owner["registrationDate"] + 300_000
    # Exact duplicates, however they are spelled; and different readings in one millisecond.
    for user, time, x in ((email, at, 1), (email.upper(), at, 1.0),
                          (f" {email} ", _Raw(f"{at}.0"), _Raw("1.00")),
                          (email, at, 2), (email, at, -0.0), (email, at, 0)):
        feeds.accelerometer.append(_line({"user": user, "timeStamp": time, "x": x, "y": 3.5,
                                          "z": -4}))
    # Exact duplicate step-trainer readings, and conflicting distances for one key.
    for time, distance in ((at, 200), (at, 200.0), (at + 1, 210), (at + 1, 211), (at + 1, 210)):
        feeds.step_trainer.append(_line({"sensorReadingTime": time,
                                         "serialNumber": rng.choice((serial, serial.upper())),
                                         "distanceFromObject": distance}))
    feeds.accelerometer.append(json.dumps({"user": email, "timestamp": at + 1, "x": 0, "y": 0,
                                           "z": 0}))
    # Conflicting distances of a device nobody owns (not counted as a conflict of kept rows).
    stray = feeds.serial()
    feeds.step_trainer += [json.dumps({"sensorReadingTime": at, "serialNumber": stray,
                                       "distanceFromObject": d}) for d in (190, 191)]
    # Readings of people who are not customers, and of devices nobody owns.
    for _ in range(3):
        feeds.person("at_registration")  # never written to the customer feed
    # Unknown extra fields on valid readings (schema drift).
    feeds.accelerometer.append(_line({"user": email, "timestamp": at + 2, "x": 1, "y": 1,
                                      "z": 1}, deviceModel="Pixel 6"))
    feeds.step_trainer.append(_line({"sensorReadingTime": at + 2, "serialNumber": serial,
                                     "distanceFromObject": 222}, firmware="1.2.3"))


def _invalid_records(feeds: _MessyFeeds) -> None:
    """Records the contract calls invalid, one defect (or a few) each."""
    template = feeds.person("at_registration", readings=0)  # never written as it is
    bad_customers = [
        _line(template, email="nobody.stedi.test"),
        _line(template, email=""),
        _line(template, email="   "),
        _line(template, email=None),
        _line(template, email=_DROP),
        _line(template, email=42),
        _line(template, ("Email", "other@stedi.test")),
        _line(template, serialNumber="  "),
        _line(template, serialNumber=_DROP, registrationDate=_DROP),
        _line(template, registrationDate=str(template["registrationDate"])),
        _line(template, registrationDate=_Raw(f"{template['registrationDate']}.25")),
        _line(template, registrationDate=_Raw("NaN")),
        _line(template, registrationDate=_Raw("1e400")),
        _line(template, lastUpdateDate=True),
        _line(template, shareWithResearchAsOfDate="yes"),
        _line(template, shareWithPublicAsOfDate=_Raw("0.5")),
        _line(template, shareWithFriendsAsOfDate=""),
        _line(template, phone=8015551212, birthDay=["1990", "01", "01"]),
        _line(template, customerName={"first": "Ann"}, email="no-at-sign", serialNumber=7),
        '["not", "an", "object"]',
        '"just a string"',
        "null",
        "42",
        _line(template).replace('"', "'"),  # single quotes are not JSON
        _line(template) + _line(template, email="second@stedi.test"),  # two objects, one line
        _line(template) + " and then some",
        # Bytes that are not UTF-8 inside a value (written through surrogateescape).
        _line(template, customerName=_Raw('"Ann\udcff\udcfeLee"')),
        _line(template, registrationDate=_Raw(f"{template['registrationDate']}.000000000009")),
    ]
    user, at = template["email"], template["registrationDate"] + 5_000
    good = {"user": user, "timestamp": at, "x": 1.0, "y": 2.0, "z": 3.0}
    bad_readings = [
        _line(good, user="nobody"),
        _line(good, user=""),
        _line(good, user="  "),
        _line(good, user=None),
        _line(good, user=_DROP),
        _line(good, user=7),
        _line(good, ("timeStamp", at)),  # both spellings: which one is meant?
        _line(good, ("TIMESTAMP", str(at))),
        _line(good, timestamp=str(at)),
        _line(good, timestamp=_Raw(f"{at}.5")),
        _line(good, timestamp=_Raw("-Infinity")),
        _line(good, timestamp=None),
        _line(good, timestamp=_DROP),
        _line(good, x="1.0"),
        _line(good, x=""),
        _line(good, x=_Raw("NaN")),
        _line(good, y=_Raw("1e400")),
        _line(good, z=_Raw("-Infinity"), y=_Raw("Infinity")),
        _line(good, x=True),
        _line(good, x=None),
        _line(good, z=_DROP),
        _line(good, x=[1]),
        _line(good, ("X", 2.0), ("y", 3.0)),
        _line(good, user="no-at", timestamp="soon", x=None, y="", z={"v": 1}),
        "[1655564376361, 1.0, 2.0, 3.0]",
        "3.14",
        "true",
        _line(good, user="\t"),
        _line(good, timestamp=_Raw(f"{at}0001e-4")),  # a fraction a double would round away
        _line(good) + "]",
    ]
    serial = template["serialNumber"]
    step = {"sensorReadingTime": at, "serialNumber": serial, "distanceFromObject": 250}
    bad_steps = [
        _line(step, sensorReadingTime=_Raw(f"{at}.75")),
        _line(step, sensorReadingTime=str(at)),
        _line(step, sensorReadingTime=None),
        _line(step, sensorReadingTime=_DROP),
        _line(step, ("SensorReadingTime", at)),
        _line(step, serialNumber=""),
        _line(step, serialNumber=None),
        _line(step, serialNumber=_DROP),
        _line(step, serialNumber=12345),
        _line(step, distanceFromObject=_Raw("250.5")),
        _line(step, distanceFromObject="250"),
        _line(step, distanceFromObject=None),
        _line(step, distanceFromObject=_DROP),
        _line(step, distanceFromObject=_Raw("NaN")),
        _line(step, distanceFromObject=_Raw("99999999999999999999")),
        _line(step, serialNumber=7, distanceFromObject=_Raw("1.5"), sensorReadingTime=_DROP),
        "[]",
        '"step"',
        _line(step, sensorReadingTime=_Raw(f"{at}.00000000001")),
        _line(step, distanceFromObject=_Raw("250.000000000000000000000000000000000001")),
        _line(step) + "}",
    ]
    feeds.customer += bad_customers
    feeds.accelerometer += bad_readings
    feeds.step_trainer += bad_steps


# Where each feed's lines go: (relative path, share of the lines). The last file of each feed
# also gets a truncated last line; `.gz` files are gzip-compressed.
_MESSY_FILES = {
    "customer": (("customer-0001.json", 0.5), ("2022/06/customer-0002.json.gz", 0.3),
                 ("customer-0003.jsonl", 0.2)),
    "accelerometer": (("accelerometer-0001.json", 0.4), ("accelerometer-0002.jsonl", 0.3),
                      ("late/accelerometer-0003.jsonl.gz", 0.3)),
    "step_trainer": (("step_trainer-0001.json", 0.4), ("step_trainer-0002.json.gz", 0.3),
                     ("step_trainer-0003.jsonl", 0.3)),
}


def _encoded(text: str) -> bytes:
    """UTF-8, except that lone surrogates U+DC80..U+DCFF stand for invalid bytes."""
    return text.encode("utf-8", "surrogateescape")


def _write_messy(root: Path, rng: random.Random, feeds: _MessyFeeds) -> None:
    for source, files in _MESSY_FILES.items():
        lines = list(getattr(feeds, source))
        rng.shuffle(lines)
        first = 0
        for number, (name, share) in enumerate(files):
            last = len(lines) if number == len(files) - 1 else first + round(share * len(lines))
            chunk = lines[first:last]
            first = last
            # Blank lines are not records (docs/decisions.md): empty, spaces, tabs, CRLF, NBSP.
            for blank in ("", "   ", "", "\t", " \u00a0"):
                chunk.insert(rng.randrange(len(chunk) + 1), blank)
            newline = "\r\n" if number == 1 else "\n"
            text = "".join(line + newline for line in chunk)
            # Every file ends with a line cut short, as when a writer dies mid-record.
            whole = rng.choice([line for line in chunk if line.startswith("{")])
            text += whole[:len(whole) // 2]
            path = root / source / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = _encoded(text)
            path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        # Not landing files: ignored (the contract names the suffixes).
        (root / source / "README.txt").write_bytes(_encoded(lines[0] + "\n"))
        (root / source / "empty.json").write_bytes(b"")
        # Hidden from Spark (Hadoop's temporary and marker files): not read, reported.
        (root / source / "_in_progress").mkdir()
        (root / source / "_in_progress" / f"{source}-0004.json").write_bytes(_encoded(lines[1] + "\n"))
        (root / source / f".{source}-0005.json").write_bytes(_encoded(lines[2] + "\n"))
