"""Counts over several DataFrames in one Spark job.

A table's checks need a dozen numbers from as many plans (violations, accounting terms,
unknown fields). Counted one `collect()` at a time, each pays a job's fixed cost; counted as
one union of one-row aggregates, they are planned and scheduled once, and Spark reuses a
shuffle that two plans share.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


@dataclass(frozen=True)
class Tally:
    """Named counts over one DataFrame: `counts` aggregates it to a map<string, bigint>."""

    frame: DataFrame
    counts: Column


def tally(frame: DataFrame, **aggregates: Column) -> Tally:
    """Each keyword is a count (an aggregate over `frame`)."""
    pairs = chain.from_iterable((F.lit(name), value.cast("bigint"))
                                for name, value in aggregates.items())
    return Tally(frame, F.create_map(*pairs))


def rows(frame: DataFrame) -> Tally:
    """How many rows `frame` has, as `rows`."""
    return tally(frame, rows=F.count(F.lit(1)))


def per_key(frame: DataFrame, key: str, count: str) -> Tally:
    """`frame`'s `count` column by its `key` column (one row per key)."""
    return Tally(frame, F.map_from_entries(F.collect_list(F.struct(F.col(key), F.col(count)))))


def count_all(tallies: dict[str, Tally]) -> dict[str, dict[str, int]]:
    """Every tally's counts, from one Spark job."""
    if not tallies:
        return {}
    counted = [t.frame.agg(t.counts.alias("counts")).select(F.lit(name).alias("tally"), "counts")
               for name, t in tallies.items()]
    union = counted[0]
    for more in counted[1:]:
        union = union.unionByName(more)
    with adaptive_execution_off(union.sparkSession):
        return {row["tally"]: dict(row["counts"]) for row in union.collect()}


ADAPTIVE = "spark.sql.adaptive.enabled"


@contextmanager
def adaptive_execution_off(spark) -> Iterator[None]:
    """Adaptive execution runs each shuffle of a plan as a Spark job of its own: for a union of
    a dozen small aggregates, some fifteen jobs whose fixed costs outweigh what re-planning
    could save (measured: the checks of a course-sample run took about 1 s less without it).
    Only this query's: the session's setting is put back after it."""
    before = spark.conf.get(ADAPTIVE, "true")
    spark.conf.set(ADAPTIVE, "false")
    try:
        yield
    finally:
        spark.conf.set(ADAPTIVE, before)
