"""customer_id: HMAC-SHA256 of the normalised email, computed in Python and joined as data.

The key never enters a Spark expression: a literal in a plan is printed by `explain`, the SQL
tab of the Spark UI and the event log, and sent over the wire by Spark Connect. So the
distinct emails (one per customer: the small table) come to the driver, are hashed here, and
go back as a two-column table of email and pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

PSEUDONYM_SCHEMA = "email string, customer_id string"


def customer_id(email: str, key: str) -> str:
    """Hex HMAC-SHA256(key, email): stable per key, unlinkable without it."""
    return hmac.new(key.encode("utf-8"), email.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonyms(emails: DataFrame, key: str) -> DataFrame:
    """email -> customer_id for every distinct non-null `email` of `emails`."""
    distinct_emails = emails.select("email").where(F.col("email").isNotNull()).dropDuplicates()
    pairs = [(row.email, customer_id(row.email, key)) for row in distinct_emails.collect()]
    return emails.sparkSession.createDataFrame(pairs, PSEUDONYM_SCHEMA)
