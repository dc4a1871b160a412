"""Tiny hand-made landing tables for unit tests."""

from __future__ import annotations

import json

from pyspark.sql import DataFrame, SparkSession

from stedi_assets.rules.contract import Source
from stedi_assets.rules.validation import validate, validate_in_parts

KEY = "test-key"
T0 = 1_655_564_376_361


def landing(spark: SparkSession, source: Source, records: list) -> DataFrame:
    """`records` are dicts (written as JSON) or raw strings (written as they are)."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    rows = [("test.json", line) for line in lines]
    frame = spark.createDataFrame(rows, "source_file string, raw_line string")
    # As the pipeline validates: when every line passes the fast test, the exhaustive rules'
    # plan (seconds to build and optimize in a local session) is never built.
    parts = validate_in_parts(frame, source)
    validated = parts.clean
    found = validated.collect()
    if parts.others.get.get("lines", 1):
        validated = validate(frame, source)  # every line in its order, as `records` has them
        found = validated.collect()
    # Cut the lineage, as the pipeline does by reading each table back from Parquet: plans
    # that stack validation under several joins take the optimizer far longer than the data.
    return spark.createDataFrame(found, validated.schema)


def customer(email: str, serial: str, registered: int = T0, updated: int | None = None,
             consent: int | None = T0, **extra) -> dict:
    record = {"customerName": "Test Person", "email": email, "phone": "8015551212",
              "birthDay": "1990-01-01", "serialNumber": serial, "registrationDate": registered}
    if updated is not None:
        record["lastUpdateDate"] = updated
    if consent is not None:
        record["shareWithResearchAsOfDate"] = consent
    record.update(extra)
    return record


def reading(user: str, at: int, x: float = 0.0, y: float = 0.0, z: float = 0.0) -> dict:
    return {"user": user, "timestamp": at, "x": x, "y": y, "z": z}


def step(serial: str, at: int, distance: int = 200) -> dict:
    return {"sensorReadingTime": at, "serialNumber": serial, "distanceFromObject": distance}


def rows(frame: DataFrame, *columns: str) -> list[tuple]:
    return sorted(tuple(row) for row in frame.select(*columns).collect())


def secret_forms(key: str) -> list[str]:
    """The key as it could leak: itself, its hex, and its two HMAC pads in hex (RFC 2104)."""
    padded = key.encode().ljust(64, b"\0")
    pads = [bytes(b ^ pad for b in padded) for pad in (0x36, 0x5C)]
    return [key.lower(), key.encode().hex()] + [p.hex() for p in pads]


def leaked(text: str, key: str) -> list[str]:
    return [form for form in secret_forms(key) if form in text.lower()]
