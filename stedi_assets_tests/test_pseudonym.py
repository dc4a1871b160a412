import hashlib
import hmac

import pytest
from pyspark.sql import functions as F

from stedi_assets.pseudonym import customer_id


@pytest.mark.parametrize("key", ["k", "stedi-development-key-not-secret", "é" * 40, "x" * 100])
def test_customer_id_is_hmac_sha256_of_the_email(spark, key):
    emails = ["ann.lee@test.com", "bob@test.com", "ünïcode@test.com"]
    frame = spark.createDataFrame([(e,) for e in emails], "email string")
    got = [row[0] for row in frame.select(customer_id(F.col("email"), key)).collect()]
    expected = [hmac.new(key.encode(), e.encode(), hashlib.sha256).hexdigest() for e in emails]
    assert got == expected


def test_another_key_gives_unlinkable_ids(spark):
    frame = spark.createDataFrame([("ann@test.com",)], "email string")
    one = frame.select(customer_id(F.col("email"), "key-one")).first()[0]
    two = frame.select(customer_id(F.col("email"), "key-two")).first()[0]
    assert one != two
