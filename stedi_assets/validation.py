"""Landing records against the contract: typed values, or reasons they are invalid.

The only module that decides what a valid landing record is. Each line is parsed once into a
map of field name -> VARIANT, so that field names can be matched case-insensitively and a
JSON string can be told apart from a JSON number (Spark's typed JSON reader can do neither).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from stedi_assets.contract import LANDING_FILE_SUFFIXES, Field, Source

NOT_AN_OBJECT = "line is not a JSON object"
_LONG_LIMIT = 9.2e18  # a little under 2**63: larger integers do not fit an epoch column
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INT", "BIGINT")
_FLOAT_TYPES = ("FLOAT", "DOUBLE")


def read_landing_lines(spark: SparkSession, source_uri: str) -> DataFrame:
    """Every non-blank line of every landing file below `source_uri`, with its file."""
    suffixes = ",".join(suffix.lstrip(".") for suffix in LANDING_FILE_SUFFIXES)
    lines = (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", f"*.{{{suffixes}}}")
        .text(source_uri)
    )
    return lines.select(
        F.col("_metadata.file_path").alias("source_file"),
        F.col("value").alias("raw_line"),
    ).where(F.trim(F.col("raw_line")) != "")


def validate(lines: DataFrame, source: Source) -> DataFrame:
    """Typed columns of `source` plus `invalid_reasons`, `unknown_fields` and, for invalid
    records only, `raw_line`."""
    # Built in stages, each naming what the next one reuses: Spark keeps an expensive
    # expression that is referenced more than once as one column instead of repeating it.
    fields = F.from_json(F.col("raw_line"), "map<string,variant>")
    parsed = lines.select("source_file", "raw_line", fields.alias("_fields"))
    matches = parsed.select("*", *(
        _matches(F.col("_fields"), field).alias(f"_matches{index}")
        for index, field in enumerate(source.fields)
    ))
    matched = matches.select("*", *(
        column
        for index in range(len(source.fields))
        for column in (F.get(f"_matches{index}", 0).alias(f"_value{index}"),
                       F.size(f"_matches{index}").alias(f"_count{index}"))
    ))
    kinds = matched.select("*", *(
        F.schema_of_variant(F.col(f"_value{index}")).alias(f"_kind{index}")
        for index in range(len(source.fields))
    ))
    converted = kinds.select("*", *(
        column
        for index, field in enumerate(source.fields)
        for column in _converted(field, index)
    ))
    reasons = [_reason(field, index) for index, field in enumerate(source.fields)]
    is_object = F.col("_fields").isNotNull()
    invalid_reasons = F.when(
        is_object, F.array_compact(F.array(*reasons))).otherwise(F.array(F.lit(NOT_AN_OBJECT)))
    known = [field.name.lower() for field in source.fields]
    unknown_fields = F.coalesce(
        F.filter(F.map_keys("_fields"), lambda key: ~F.lower(key).isin(known)),
        F.array().cast("array<string>"),
    )
    checked = converted.select(
        "source_file", "raw_line",
        *(F.col(f"_typed{index}").alias(field.column) for index, field in enumerate(source.fields)),
        invalid_reasons.alias("invalid_reasons"), unknown_fields.alias("unknown_fields"),
    )
    # The raw line is only worth its bytes where someone has to look at it.
    is_valid = F.size("invalid_reasons") == 0
    return checked.select(
        "source_file", F.when(~is_valid, F.col("raw_line")).alias("raw_line"),
        *(field.column for field in source.fields), "invalid_reasons", "unknown_fields",
    )


def _matches(fields: Column, field: Field) -> Column:
    """Every value whose key is the field's name, compared case-insensitively."""
    name = field.name.lower()
    return F.map_values(F.map_filter(fields, lambda key, _: F.lower(key) == name))


_CONVERTERS = {}  # filled below, once the converters exist


def _converted(field: Field, index: int) -> tuple[Column, Column]:
    value, kind = F.col(f"_value{index}"), F.col(f"_kind{index}")
    typed, wrong_type = _CONVERTERS[field.kind](value, kind, field.name)
    if field.kind in ("string", "email"):
        typed = F.when(F.trim(typed) != "", typed)
    present = value.isNotNull() & (kind != "VOID")
    return F.when(present, typed).alias(f"_typed{index}"), wrong_type.alias(f"_wrong{index}")


def _reason(field: Field, index: int) -> Column:
    value, kind, typed = F.col(f"_value{index}"), F.col(f"_kind{index}"), F.col(f"_typed{index}")
    present = value.isNotNull() & (kind != "VOID")
    problems = [
        (F.col(f"_count{index}") > 1,
         F.lit(f"{field.name}: appears more than once (names are case-insensitive)")),
        (present & F.col(f"_wrong{index}").isNotNull(), F.col(f"_wrong{index}")),
    ]
    if field.required:
        problems.append((~present | typed.isNull(), F.lit(f"{field.name}: required but missing")))
    if field.kind == "email":
        problems.append((~typed.contains("@"), F.lit(f"{field.name}: not an e-mail address (no @)")))
    reason = F.lit(None).cast("string")
    for condition, message in reversed(problems):
        reason = F.when(F.coalesce(condition, F.lit(False)), message).otherwise(reason)
    return reason


def _string(value: Column, kind: Column, name: str) -> tuple[Column, Column]:
    is_string = kind == "STRING"
    wrong = F.when(~is_string, F.concat(F.lit(f"{name}: expected a string, got "), F.lower(kind)))
    return F.when(is_string, F.try_variant_get(value, "$", "string")), wrong


def _integer(value: Column, kind: Column, name: str) -> tuple[Column, Column]:
    decimal = F.try_variant_get(value, "$", "decimal(38,10)")
    double = F.try_variant_get(value, "$", "double")
    whole_decimal = decimal.isNotNull() & (decimal == F.floor(decimal)) & (F.abs(decimal) < _LONG_LIMIT)
    whole_double = (~F.isnan(double)) & (F.abs(double) < _LONG_LIMIT) & (double == F.floor(double))
    typed = (
        F.when(kind.isin(*_INTEGER_TYPES), F.try_variant_get(value, "$", "bigint"))
        .when(kind.startswith("DECIMAL") & whole_decimal, decimal.cast("bigint"))
        .when(kind.isin(*_FLOAT_TYPES) & whole_double, double.cast("bigint"))
    )
    is_number = kind.isin(*_INTEGER_TYPES, *_FLOAT_TYPES) | kind.startswith("DECIMAL")
    wrong = (
        F.when(~is_number, F.concat(F.lit(f"{name}: expected an integer, got "), F.lower(kind)))
        .when(typed.isNull(), F.concat(
            F.lit(f"{name}: not a whole number in range ("), F.to_json(value), F.lit(")")))
    )
    return typed, wrong


def _number(value: Column, kind: Column, name: str) -> tuple[Column, Column]:
    double = F.try_variant_get(value, "$", "double")
    is_number = kind.isin(*_INTEGER_TYPES, *_FLOAT_TYPES) | kind.startswith("DECIMAL")
    finite = double.isNotNull() & ~F.isnan(double) & (F.abs(double) < float("inf"))
    wrong = (
        F.when(~is_number, F.concat(F.lit(f"{name}: expected a number, got "), F.lower(kind)))
        .when(~finite, F.concat(F.lit(f"{name}: not a finite number ("), F.to_json(value), F.lit(")")))
    )
    return F.when(is_number & finite, double), wrong


_CONVERTERS.update({
    "string": _string, "email": _string,
    "epoch": _integer, "integer": _integer, "consent": _integer, "number": _number,
})


def valid_records(landing: DataFrame) -> DataFrame:
    return landing.where(F.size("invalid_reasons") == 0)


def quarantined_records(landing: DataFrame, source: Source) -> DataFrame:
    """The contract's quarantine row: source, file, raw line, reasons, time."""
    return landing.where(F.size("invalid_reasons") > 0).select(
        F.lit(source.name).alias("source"),
        F.col("source_file"),
        F.col("raw_line"),
        F.col("invalid_reasons").alias("reasons"),
        F.current_timestamp().alias("quarantined_at"),
    )


def landing_quarantine(landings: list[tuple[Source, DataFrame]]) -> DataFrame:
    """Every invalid record of every source, in one table."""
    quarantined = [quarantined_records(landing, source) for source, landing in landings]
    table = quarantined[0]
    for more in quarantined[1:]:
        table = table.unionByName(more)
    return table
