"""The generator is deterministic and has the real feeds' quirks."""

import json
from collections import Counter

from stedi_assets.rules.sample_data import SampleSize, generate_landing


def read(root, source):
    return [json.loads(line) for path in sorted((root / source).glob("*.json"))
            for line in path.read_text().splitlines()]


def test_same_seed_same_files(tmp_path):
    generate_landing(tmp_path / "a", SampleSize(customers=30))
    generate_landing(tmp_path / "b", SampleSize(customers=30))
    for source in ("customer", "accelerometer", "step_trainer"):
        assert read(tmp_path / "a", source) == read(tmp_path / "b", source)


def test_the_quirks_of_the_real_feeds_are_there(tmp_path):
    counts = generate_landing(tmp_path, SampleSize(customers=100))
    customers = read(tmp_path, "customer")
    readings = read(tmp_path, "accelerometer")
    steps = read(tmp_path, "step_trainer")
    assert counts == {"customer": 100, "accelerometer": len(readings), "step_trainer": len(steps)}
    emails = {c["email"].lower() for c in customers}
    serials = {c["serialNumber"] for c in customers}
    assert any("shareWithResearchAsOfDate" not in c for c in customers)  # absent, not null
    assert any(c.get("shareWithResearchAsOfDate", 0) > c["registrationDate"] for c in customers)
    assert max(Counter((r["user"], r["timestamp"]) for r in readings).values()) > 1
    assert any(r["user"] != r["user"].lower() for r in readings)
    assert {r["user"].lower() for r in readings} - emails  # phones of non-customers
    assert {s["serialNumber"] for s in steps} - serials  # devices nobody owns
    assert serials - {s["serialNumber"] for s in steps}  # customers without a device
