"""Counts over several DataFrames in one Spark job.

A table's checks need a dozen numbers from as many plans (violations, accounting terms,
unknown fields). Counted one `collect()` at a time, each pays a job's fixed cost; counted as
one union of one-row aggregates, they are planned and scheduled once, and Spark reuses a
shuffle that two plans share.
"""

from __future__ import annotations

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
    return {row["tally"]: dict(row["counts"]) for row in union.collect()}
