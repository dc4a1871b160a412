"""New landing files for the benchmarks: readings that must each add one training row.

Phone readings of customer_curated customers who have a Step Trainer of their own, at new
times (now: every landing reading is older), and their Step Trainer's readings at the same
times: each new phone reading pairs with exactly one new Step Trainer reading, so
machine_learning_curated grows by exactly the number of readings dropped.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
import types
from collections import Counter
from pathlib import Path

# Only the plain modules, not the Dagster definitions (see plain_pyspark.py).
ROOT = Path(__file__).resolve().parents[1]
_package = types.ModuleType("stedi_assets")
_package.__path__ = [str(ROOT / "stedi_assets")]
sys.modules.setdefault("stedi_assets", _package)

from stedi_assets.rules.contract import (  # noqa: E402
    ACCELEROMETER, CUSTOMER_CURATED, CUSTOMER_TRUSTED, MACHINE_LEARNING_CURATED, STEP_TRAINER,
)
from stedi_assets.lake import Lakehouse  # noqa: E402
from stedi_assets.operations.settings import load_settings  # noqa: E402
from stedi_assets.operations.spark_config import lake_catalog  # noqa: E402

SHARE = 0.01  # of the accelerometer landing's records


def open_lake(landing: Path, lake: Path) -> Lakehouse:
    """The lake as `stedi` sees it (metadata and reads through pyiceberg, no JVM)."""
    settings = load_settings({**os.environ, "STEDI_LANDING_URI": str(landing),
                              "STEDI_LAKE_URI": str(lake)})
    return Lakehouse(lake_catalog(settings))


def training_rows(lake: Lakehouse) -> int:
    """machine_learning_curated's published rows (from its snapshot summary)."""
    return lake.require_published(MACHINE_LEARNING_CURATED).rows


def readings_to_add(lake: Lakehouse, share: float = SHARE) -> int:
    """`share` of the accelerometer landing's published records, at least one."""
    return max(1, math.ceil(lake.require_published(ACCELEROMETER.table).rows * share))


def owners(lake: Lakehouse) -> list[tuple[str, str]]:
    """(e-mail, serial number) of every customer whose new readings become training rows."""
    found = attributable(_rows(lake, CUSTOMER_CURATED, "customer_id", "serial_number"),
                         _rows(lake, CUSTOMER_TRUSTED, "customer_id", "email"))
    if not found:
        raise SystemExit("no customer in machine_learning_curated to add readings for")
    return found


def attributable(curated: list[dict], trusted: list[dict]) -> list[tuple[str, str]]:
    """The customer_curated customers (with their e-mails from customer_trusted) whose serial
    number no other customer there claims: a shared one is attributed to nobody."""
    claims = Counter(row["serial_number"] for row in curated)
    serial_of = {row["customer_id"]: row["serial_number"] for row in curated
                 if row["serial_number"] and claims[row["serial_number"]] == 1}
    return sorted((row["email"], serial_of[row["customer_id"]])
                  for row in trusted if row["customer_id"] in serial_of)


def _rows(lake: Lakehouse, table: str, *columns: str) -> list[dict]:
    return lake.iceberg_table(table).scan(selected_fields=columns).to_arrow().to_pylist()


def drop(landing: Path, name: str, owners: list[tuple[str, str]], count: int, first_ms: int,
         seed: int = 14) -> float:
    """Writes `count` phone readings, owners in turn, one per millisecond from `first_ms`, to
    accelerometer/<name>.json and their devices' readings at the same times to
    step_trainer/<name>.json. Each is written under a hidden name and renamed, so no reader
    sees half a file. Returns the time (time.time()) both were in place."""
    rng = random.Random(seed)
    phone, device = [], []
    for index in range(count):
        email, serial = owners[index % len(owners)]
        at = first_ms + index
        phone.append({"user": email, "timestamp": at, "x": float(rng.randint(-9, 9)),
                      "y": float(rng.randint(-9, 9)), "z": float(rng.randint(-9, 9))})
        device.append({"sensorReadingTime": at, "serialNumber": serial,
                       "distanceFromObject": rng.randrange(180, 300)})
    written = [_write_hidden(landing / source.name, name, records)
               for source, records in ((STEP_TRAINER, device), (ACCELEROMETER, phone))]
    # Renamed one right after the other: a sensor tick between them is unlikely, and harmless
    # (two runs; the second one adds the training rows).
    for hidden in written:
        hidden.rename(hidden.with_name(f"{name}.json"))
    return time.time()


def _write_hidden(folder: Path, name: str, records: list[dict]) -> Path:
    # A name starting with "." is read by neither Spark nor the sensor.
    hidden = folder / f".{name}.json.tmp"
    hidden.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return hidden


def first_ms(after: int = 0) -> int:
    """Where new reading times start: now (every landing reading is older), or `after` if
    later (the end of the previous drop), so no two drops share a time."""
    return max(int(time.time() * 1000), after)
