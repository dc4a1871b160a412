"""Who consent erasure removes, on tiny hand-made tables."""

from stedi_assets.lake.erasure import withdrawn_keys


def test_only_published_customers_who_no_longer_consent_are_withdrawn(spark):
    published = spark.createDataFrame(
        [("id-ann", "s1"), ("id-bob", "s2"), ("id-cat", "s3")], "customer_id string, serial_number string")
    consenting = spark.createDataFrame(
        [("id-ann", "s1"), ("id-dan", "s3")], "customer_id string, serial_number string")

    keys = withdrawn_keys(published, consenting)

    assert sorted(r[0] for r in keys["customer_id"].collect()) == ["id-bob", "id-cat"]
    # s3 is Cat's, who left, but also Dan's, who consents: its readings are not Cat's alone.
    assert sorted(r[0] for r in keys["serial_number"].collect()) == ["s2"]
