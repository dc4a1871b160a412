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
NOT_UTF8 = "line is not valid UTF-8"


def missing_reason(field: Field) -> str:
    return f"{field.name}: required but missing"


def stripped(column: Column) -> Column:
    """`column` without leading and trailing whitespace of any kind (Spark's trim() removes
    spaces only, so a tab or a no-break space would make a different e-mail)."""
    return F.regexp_replace(column, r"(?U)^\s+|\s+$", "")


def _is_blank(column: Column) -> Column:
    return ~column.rlike(r"(?U)\S")


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
    ).where(~_is_blank(F.col("raw_line")))


def validate(lines: DataFrame, source: Source) -> DataFrame:
    """Typed columns of `source` plus `invalid_reasons`, `unknown_fields` and, for invalid
    records only, `raw_line`."""
    # Built in stages, each naming what the next one reuses: Spark keeps an expensive
    # expression that is referenced more than once as one column instead of repeating it.
    # Spark's parser stops after the first value; parsed inside [ ], any text after the first
    # object makes a second element or breaks the array (see _ends_after_one_value).
    raw = F.col("raw_line")
    values = F.from_json(F.concat(F.lit("["), raw, F.lit("]")), "array<map<string,variant>>",
                         {"allowSingleQuotes": "false"})
    read = lines.select("source_file", "raw_line", values.alias("_values"))
    is_object = (F.size("_values") == 1) & F.get("_values", 0).isNotNull() & _ends_after_one_value(raw)
    line_problem = (
        F.when(~F.coalesce(is_object, F.lit(False)), F.lit(NOT_AN_OBJECT))
        .when(~F.is_valid_utf8(raw), F.lit(NOT_UTF8))
    )
    checked_line = read.select("source_file", "raw_line", "_values",
                               line_problem.alias("_line_problem"))
    parsed = checked_line.select(
        "source_file",
        F.when(F.col("_line_problem").isNull(), raw).otherwise(F.make_valid_utf8(raw)).alias("raw_line"),
        F.when(F.col("_line_problem").isNull(), F.get("_values", 0)).alias("_fields"),
        "_line_problem",
    )
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
    numbers = kinds.select("*", *(
        column
        for index, field in enumerate(source.fields)
        for column in _numbers(field, index)
    ))
    typed = numbers.select("*", *(
        _typed(field, index).alias(f"_typed{index}") for index, field in enumerate(source.fields)
    ))
    converted = typed.select("*", *(
        _wrong_type(field, index).alias(f"_wrong{index}")
        for index, field in enumerate(source.fields)
    ))
    reasons = [_reason(field, index) for index, field in enumerate(source.fields)]
    invalid_reasons = F.when(
        F.col("_line_problem").isNull(), F.array_compact(F.array(*reasons))
    ).otherwise(F.array(F.col("_line_problem")))
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


_NON_NUMBERS = r"[+-]?(NaN|Infinity|INF)"  # JSON has none; Spark's reader takes them


def _ends_after_one_value(raw: Column) -> Column:
    """Parsed inside [ ], a line with text after its first value fails or has two elements,
    unless that text starts with ], closing the array early. Only a line containing ] can do
    that; such a line is parsed once more inside an object, where a ] cannot close it."""
    tokens = F.when(raw.rlike(_NON_NUMBERS), F.regexp_replace(raw, _NON_NUMBERS, "0")).otherwise(raw)
    in_object = F.json_object_keys(F.concat(F.lit('{"v":'), tokens, F.lit("}"))).isNotNull()
    return ~raw.contains("]") | in_object


def _matches(fields: Column, field: Field) -> Column:
    """Every value whose key is the field's name, compared case-insensitively."""
    name = field.name.lower()
    return F.map_values(F.map_filter(fields, lambda key, _: F.lower(key) == name))


_INTEGER_KINDS = ("epoch", "integer", "consent")


def _numbers(field: Field, index: int) -> list[Column]:
    """The value read as double and, for whole-number fields, as decimal: once each."""
    if field.kind not in (*_INTEGER_KINDS, "number"):
        return []
    value, kind = F.col(f"_value{index}"), F.col(f"_kind{index}")
    columns = [F.try_variant_get(value, "$", "double").alias(f"_double{index}")]
    if field.kind in _INTEGER_KINDS:
        decimal = F.when(kind.startswith("DECIMAL"), F.try_variant_get(value, "$", "decimal(38,10)"))
        columns.append(decimal.alias(f"_decimal{index}"))
        columns.append(_number_text(field, value, kind).alias(f"_text{index}"))
    return columns


def _number_text(field: Field, value: Column, kind: Column) -> Column:
    """The number as written, where its value alone cannot say whether it is whole: a decimal
    keeps its digits; a double (exponent form, over 38 digits) has rounded them, so its text
    is taken from the line when the field's name occurs there exactly once."""
    written = F.regexp_extract_all(
        F.col("raw_line"), F.lit(rf'"(?i:{field.name})"\s*:\s*(-?[0-9][0-9.eE+-]*)'), 1)
    return (
        F.when(kind.startswith("DECIMAL"), F.try_variant_get(value, "$", "string"))
        .when(kind.isin(*_FLOAT_TYPES) & (F.size(written) == 1), F.get(written, 0))
    )


def _is_whole_text(text: Column) -> Column:
    """A number's text (digits, fraction, exponent) denotes a whole number, exactly."""
    fraction = F.regexp_extract(text, r"\.(\d+)", 1)
    digits = F.concat(F.regexp_extract(text, r"^-?(\d*)", 1), fraction)
    significant = F.regexp_replace(digits, "0+$", "")
    exponent_text = F.regexp_extract(text, r"[eE]([+-]?\d+)$", 1)
    exponent = F.when(exponent_text == "", 0).otherwise(exponent_text.try_cast("bigint"))
    trailing_zeros = F.length(digits) - F.length(significant)
    return (significant == "") | (exponent - F.length(fraction) + trailing_zeros >= 0)


def _typed(field: Field, index: int) -> Column:
    value, kind = F.col(f"_value{index}"), F.col(f"_kind{index}")
    if field.kind in ("string", "email"):
        text = F.when(kind == "STRING", F.try_variant_get(value, "$", "string"))
        typed = F.when(~_is_blank(text), text)
    elif field.kind == "number":
        double = F.col(f"_double{index}")
        finite = double.isNotNull() & ~F.isnan(double) & (F.abs(double) < float("inf"))
        typed = F.when(_is_number(kind) & finite, double)
    else:
        typed = _whole_number(value, kind, F.col(f"_decimal{index}"), F.col(f"_double{index}"),
                              F.col(f"_text{index}"))
    present = value.isNotNull() & (kind != "VOID")
    return F.when(present, typed)


def _is_number(kind: Column) -> Column:
    return kind.isin(*_INTEGER_TYPES, *_FLOAT_TYPES) | kind.startswith("DECIMAL")


def _whole_number(value: Column, kind: Column, decimal: Column, double: Column,
                  text: Column) -> Column:
    is_decimal = kind.startswith("DECIMAL")
    in_range = F.when(is_decimal, F.abs(decimal) < _LONG_LIMIT).otherwise(
        ~F.isnan(double) & (F.abs(double) < _LONG_LIMIT) & (double == F.floor(double)))
    as_long = F.when(is_decimal, decimal.cast("bigint")).otherwise(double.cast("bigint"))
    # The text is looked at last, and only here: it is the expensive part.
    written_whole = F.coalesce(_is_whole_text(text), F.lit(True))  # no text: the double decides
    return (
        F.when(kind.isin(*_INTEGER_TYPES), F.try_variant_get(value, "$", "bigint"))
        .when((is_decimal | kind.isin(*_FLOAT_TYPES)) & in_range & written_whole, as_long)
    )


def _wrong_type(field: Field, index: int) -> Column:
    """Why a present value does not have the field's type (null when it does)."""
    value, kind, typed = F.col(f"_value{index}"), F.col(f"_kind{index}"), F.col(f"_typed{index}")
    name = field.name
    if field.kind in ("string", "email"):
        return F.when(kind != "STRING", F.concat(F.lit(f"{name}: expected a string, got "), F.lower(kind)))
    expected = "a number" if field.kind == "number" else "an integer"
    problem = "not a finite number" if field.kind == "number" else "not a whole number in range"
    return (
        F.when(~_is_number(kind), F.concat(F.lit(f"{name}: expected {expected}, got "), F.lower(kind)))
        .when(typed.isNull(), F.concat(F.lit(f"{name}: {problem} ("), _written(field, index), F.lit(")")))
    )


def _written(field: Field, index: int) -> Column:
    value = F.to_json(F.col(f"_value{index}"))
    return F.coalesce(F.col(f"_text{index}"), value) if field.kind in _INTEGER_KINDS else value


def _reason(field: Field, index: int) -> Column:
    value, kind, typed = F.col(f"_value{index}"), F.col(f"_kind{index}"), F.col(f"_typed{index}")
    present = value.isNotNull() & (kind != "VOID")
    problems = [
        (F.col(f"_count{index}") > 1,
         F.lit(f"{field.name}: appears more than once (names are case-insensitive)")),
        (present & F.col(f"_wrong{index}").isNotNull(), F.col(f"_wrong{index}")),
    ]
    if field.required:
        problems.append((~present | typed.isNull(), F.lit(missing_reason(field))))
    if field.kind == "email":
        problems.append((~typed.contains("@"), F.lit(f"{field.name}: not an e-mail address (no @)")))
    reason = F.lit(None).cast("string")
    for condition, message in reversed(problems):
        reason = F.when(F.coalesce(condition, F.lit(False)), message).otherwise(reason)
    return reason


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
