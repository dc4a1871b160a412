"""A deterministic generator of STEDI-like landing data.

It reproduces the quirks of the real feeds: consent fields that are absent rather than null,
several different phone readings in one millisecond, e-mails in mixed case, customers with
no device or no phone readings, phone readings of people who are not customers, device
readings of serial numbers nobody owns, and readings taken before a customer consented.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

FIRST_NAMES = ("Santosh", "Ben", "Frank", "Jerry", "Sarah", "Liz", "Danny", "Trevor", "Chris",
               "Bobby", "Jacob", "Gail", "Edward", "Kate", "Lyn", "Larry", "Don", "Eric")
LAST_NAMES = ("Clayton", "Khatib", "Doshi", "Wu", "Lincoln", "Jones", "Mitra", "Anandh",
              "Hansen", "Staples", "Miller", "Fibonnaci", "Abram", "Aristotle", "Habschied")
FIRST_REGISTRATION = 1_655_564_376_361  # the course sample's first registration (June 2022)
LINES_PER_FILE = 10_000


@dataclass(frozen=True)
class SampleSize:
    customers: int = 200
    readings_per_device: int = 30
    max_readings_per_millisecond: int = 5


COURSE_LIKE = SampleSize(customers=956)


def generate_landing(root: Path, size: SampleSize = SampleSize(), seed: int = 20220618) -> dict:
    """Writes `<root>/{customer,accelerometer,step_trainer}/*.json`; returns line counts."""
    rng = random.Random(seed)
    customers, accelerometer, step_trainer = [], [], []
    for index in range(size.customers):
        customer = _customer(rng, index)
        customers.append(customer)
        has_phone = rng.random() < 0.9
        has_device = rng.random() < 0.9
        if not (has_phone or has_device):
            continue
        _readings(rng, customer, size, has_phone, has_device, accelerometer, step_trainer)
    # Not everybody who sends data is a customer.
    for index in range(max(1, size.customers // 50)):
        stranger = _customer(rng, size.customers + index)
        _readings(rng, stranger, size, True, True, accelerometer, step_trainer)
    counts = {}
    for source, records in (("customer", customers), ("accelerometer", accelerometer),
                            ("step_trainer", step_trainer)):
        counts[source] = _write(root / source, source, records)
    return counts


def _customer(rng: random.Random, index: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    registered = FIRST_REGISTRATION + index * 37_000 + rng.randrange(30_000)
    record = {
        "customerName": f"{first} {last}",
        "email": f"{first}.{last}{index}@test.com",
        "phone": "8015551212",
        "birthDay": f"{rng.randrange(1930, 2005)}-01-01",
        "serialNumber": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "registrationDate": registered,
        "lastUpdateDate": registered,
    }
    if rng.random() < 0.5:  # the others have no consent fields at all, as in the course data
        consented = registered + rng.choice((0, 0, 60_000, 3_600_000))
        record.update(shareWithResearchAsOfDate=consented, shareWithPublicAsOfDate=consented,
                      shareWithFriendsAsOfDate=consented)
    return record


def _readings(rng, customer, size, has_phone, has_device, accelerometer, step_trainer):
    start = customer["registrationDate"] + rng.randrange(1_000, 120_000)
    user = customer["email"]
    if rng.random() < 0.1:
        user = user.upper()  # phones do not always send the e-mail as it was registered
    for step in range(size.readings_per_device):
        at = start + step * rng.randrange(200, 40_000)
        if has_device:
            step_trainer.append({"sensorReadingTime": at,
                                 "serialNumber": customer["serialNumber"],
                                 "distanceFromObject": rng.randrange(180, 300)})
        if has_phone:
            for _ in range(rng.randint(1, size.max_readings_per_millisecond)):
                accelerometer.append({"user": user, "timestamp": at,
                                      "x": float(rng.randint(-9, 9)),
                                      "y": float(rng.randint(-9, 9)),
                                      "z": float(rng.randint(-9, 9))})
    if has_device:  # a device whose owner never registered
        step_trainer.append({"sensorReadingTime": start - 1,
                             "serialNumber": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                             "distanceFromObject": 250})


def _write(folder: Path, source: str, records: list[dict]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for number, first in enumerate(range(0, max(len(records), 1), LINES_PER_FILE)):
        chunk = records[first:first + LINES_PER_FILE]
        path = folder / f"{source}-{number:04d}.json"
        path.write_text("".join(json.dumps(record) + "\n" for record in chunk), encoding="utf-8")
    return len(records)
