import hashlib
import hmac

import pytest

from stedi_assets.rules import transforms
from stedi_assets.rules.contract import CUSTOMER
from stedi_assets.rules.pseudonym import customer_id, pseudonyms
from stedi_assets_tests.helpers import customer, landing, leaked


@pytest.mark.parametrize("key", ["k", "stedi-development-key-not-secret", "é" * 40, "x" * 100])
def test_customer_id_is_hmac_sha256_of_the_email(spark, key):
    emails = ["ann.lee@test.com", "bob@test.com", "ünïcode@test.com"]
    frame = spark.createDataFrame([(e,) for e in emails + [emails[0], None]], "email string")
    got = dict(pseudonyms(frame, key).collect())
    expected = {e: hmac.new(key.encode(), e.encode(), hashlib.sha256).hexdigest() for e in emails}
    assert got == expected


def test_another_key_gives_unlinkable_ids():
    assert customer_id("ann@test.com", "key-one") != customer_id("ann@test.com", "key-two")


def test_the_key_is_in_no_plan_of_customer_trusted(spark):
    key = "plan-secret-0123456789"
    table = transforms.customer_trusted(
        landing(spark, CUSTOMER, [customer("ann@test.com", "S1")]), key)
    plan = table._jdf.queryExecution().toString()  # what explain(extended=True) prints
    assert "customer_id" in plan
    assert leaked(plan, key) == []
