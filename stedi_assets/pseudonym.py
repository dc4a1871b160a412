"""customer_id: HMAC-SHA256 of the normalised email, computed with Spark SQL functions.

Spark has no HMAC function, but HMAC is two SHA-256 passes over the key padded with two
constants (RFC 2104). The padded keys are derived here in Python, so the per-row work stays
inside Spark and runs unchanged through Spark Connect.
"""

from __future__ import annotations

import hashlib

from pyspark.sql import Column
from pyspark.sql import functions as F

_BLOCK = 64  # SHA-256 block size in bytes


def _padded_keys(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def customer_id(normalised_email: Column, key: str) -> Column:
    """Hex HMAC-SHA256(key, email): stable per key, unlinkable without it."""
    inner_key, outer_key = _padded_keys(key.encode("utf-8"))
    inner = F.sha2(F.concat(F.lit(inner_key), F.encode(normalised_email, "UTF-8")), 256)
    return F.sha2(F.concat(F.lit(outer_key), F.unhex(inner)), 256)
