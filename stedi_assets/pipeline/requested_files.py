"""What the landing sensor has requested, kept in its cursor.

A landing file version is its fingerprint: 8 bytes of a hash of (path, size, ETag or
modification time), so a version is known whatever its timestamp says and a re-written file is
a new version. Dagster stores the cursor with every tick, so it holds only fingerprints of the
files listed now (a removed file is forgotten), plus the requests whose runs have not
succeeded yet.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from stedi_assets.lake.landing_files import LandingFile

CURSOR_FORMAT = 1
FINGERPRINT_BYTES = 8  # a collision among a million files: about 1 in 36 million


def fingerprint(file: LandingFile) -> bytes:
    identity = f"{file.path}\0{file.size}\0{file.version}".encode()
    return hashlib.blake2b(identity, digest_size=FINGERPRINT_BYTES).digest()


@dataclass(frozen=True)
class Request:
    """One run request of the sensor: its run key, how many times the sensor has asked for
    these files (1: the first), and their fingerprints."""

    run_key: str
    attempt: int
    files: frozenset[bytes]


@dataclass(frozen=True)
class RequestedFiles:
    requests_made: int = 0  # numbers the run keys: the same files asked again get a new key
    seen: frozenset[bytes] = frozenset()  # every listed version the sensor has requested
    open: tuple[Request, ...] = ()  # requests without a successful run (yet)

    def encode(self) -> str:
        return json.dumps({
            "format": CURSOR_FORMAT,
            "requests": self.requests_made,
            "seen": _pack(self.seen),
            "open": [[r.run_key, r.attempt, _pack(r.files)] for r in self.open],
        }, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> RequestedFiles:
        """The cursor's state; none for no cursor or another format (such as the older sensor's
        high-water marks): then every file listed is requested once."""
        try:
            state = json.loads(cursor or "{}")
            if state.get("format") != CURSOR_FORMAT:
                return cls()
            return cls(state["requests"], _unpack(state["seen"]), tuple(
                Request(key, attempt, _unpack(files)) for key, attempt, files in state["open"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()


def _pack(fingerprints: Iterable[bytes]) -> str:
    return base64.b64encode(b"".join(sorted(fingerprints))).decode("ascii")


def _unpack(packed: str) -> frozenset[bytes]:
    raw = base64.b64decode(packed)
    if len(raw) % FINGERPRINT_BYTES:
        raise ValueError("not a list of fingerprints")
    return frozenset(raw[i:i + FINGERPRINT_BYTES] for i in range(0, len(raw), FINGERPRINT_BYTES))
