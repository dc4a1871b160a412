"""Counts over several DataFrames in one Spark job (stedi_assets.rules.tally)."""

from pyspark.sql import functions as F

from stedi_assets.rules import tally


def test_every_tally_is_counted_and_the_session_s_setting_is_put_back(spark):
    frame = spark.createDataFrame([(1, "a"), (2, "b"), (3, "b")], "n int, s string")
    spark.conf.set(tally.ADAPTIVE, "true")
    counted = tally.count_all({
        "all": tally.rows(frame),
        "b": tally.tally(frame, rows=F.sum(F.when(F.col("s") == "b", 1).otherwise(0)),
                         biggest=F.max("n")),
        "per_s": tally.per_key(frame.groupBy("s").count(), "s", "count"),
    })
    assert counted == {"all": {"rows": 3}, "b": {"rows": 2, "biggest": 3},
                       "per_s": {"a": 1, "b": 2}}
    assert spark.conf.get(tally.ADAPTIVE) == "true"
    spark.conf.set(tally.ADAPTIVE, "false")  # a session that had it off keeps it off
    tally.count_all({"all": tally.rows(frame)})
    assert spark.conf.get(tally.ADAPTIVE) == "false"
    spark.conf.set(tally.ADAPTIVE, "true")
