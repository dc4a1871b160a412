"""Landing records against the contract: typed values, or reasons they are invalid.

The only module that decides what a valid landing record is. A clean line costs one parse
with Spark's typed JSON reader; the exhaustive rules (case-insensitive names, strings told
from numbers, every reason listed) run on the other lines only.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterator

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from stedi_assets.rules.contract import FILE_COLUMNS, LANDING_FILE_SUFFIXES, Field, Source

NOT_AN_OBJECT = "line is not a JSON object"
NOT_UTF8 = "line is not valid UTF-8"
# A record of the contract is a few hundred bytes. A longer line (a JSON array, or a whole
# file, on one line) is read by the task that reads its file, but never parsed, and the
# quarantine keeps its start: the line itself stays in the landing file.
MAX_LINE_BYTES = 1024 * 1024
KEPT_OF_A_LONG_LINE = 1024  # characters
LINE_TOO_LONG = f"line is longer than {MAX_LINE_BYTES} bytes, the most one record may be"


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


def read_landing_lines(spark: SparkSession, source_uri: str | list[str]) -> DataFrame:
    """Every non-blank line of every landing file below `source_uri` (or of the files listed),
    with its file."""
    suffixes = ",".join(suffix.lstrip(".") for suffix in LANDING_FILE_SUFFIXES)
    reader = spark.read
    if isinstance(source_uri, str):
        reader = (reader.option("recursiveFileLookup", "true")
                  .option("pathGlobFilter", f"*.{{{suffixes}}}"))
    lines = reader.text(source_uri)
    return lines.select(
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_size").alias("source_file_size"),
        F.col("_metadata.file_modification_time").alias("source_file_modified"),
        F.col("value").alias("raw_line"),
    ).where(~_is_blank(F.col("raw_line")))


def _file_columns(lines: DataFrame) -> list[str]:
    """The file columns `lines` has (hand-made test lines may have only the path)."""
    return [name for name in FILE_COLUMNS if name in lines.columns]


def validate(lines: DataFrame, source: Source) -> DataFrame:
    """Typed columns of `source` plus `invalid_reasons`, `unknown_fields` and, for invalid
    records only, `raw_line`; one row per line, in the lines' order.

    A line that passes the fast test (`canonical_record`) is valid with the values Spark's
    typed JSON reader gives it; every other line is judged by the exhaustive rules
    (`_exhaustive`), which alone say why a line is invalid. The fast test accepts only lines
    the exhaustive rules accept with the same values (a test compares the two on the fuzz and
    messy data), so it changes the cost of a verdict, never the verdict."""
    rules = _rules(source)
    checked = _fast_tested(lines, source)
    # The exhaustive rules see only the lines the fast test did not take; for the others
    # every expression below is evaluated on nulls.
    files = _file_columns(lines)
    judged = _exhaustive(checked.select(
        *files, F.when(~_is_fast(), F.col("raw_line")).alias("raw_line"), "_canonical"),
        source)
    no_reasons = _no_reasons()
    return judged.select(
        *files, F.col("raw_line"),
        *(F.when(_is_fast(), rule.fast_value()).otherwise(F.col(rule.field.column))
          .alias(rule.field.column) for rule in rules),
        F.when(_is_fast(), no_reasons).otherwise(F.col("invalid_reasons")).alias("invalid_reasons"),
        F.when(_is_fast(), no_reasons).otherwise(F.col("unknown_fields")).alias("unknown_fields"),
    )


@dataclass(frozen=True)
class ValidatedLanding:
    """A validated landing table in the parts it is written in: the lines the fast test took,
    then the others through the exhaustive rules, only when writing the first part counted
    any. Clean feeds cost one pass and never compile the exhaustive rules; even a few
    unclean lines in a large feed cost less than running every line past those rules."""

    clean: DataFrame  # counts the other lines into `others` while it is written
    others: Observation
    rest: Callable[[], DataFrame]  # built only when needed: the exhaustive plan is large

    def parts(self) -> Iterator[DataFrame]:
        yield self.clean
        # Without the count (seen through Spark Connect on a loaded machine: the write's
        # observed metrics missing), the other lines are judged anyway: the count only spares
        # that pass, and their part is empty when there are none.
        if self.others.get.get("lines", 1):
            yield self.rest()


def validate_in_parts(lines: DataFrame, source: Source) -> ValidatedLanding:
    """`validate`'s rows, in two parts (see ValidatedLanding); written, both parts together
    are the landing table."""
    rules = _rules(source)
    checked = _fast_tested(lines, source)
    others = Observation()
    counted = checked.observe(others, F.count(F.when(~_is_fast(), F.lit(1))).alias("lines"))
    files = _file_columns(lines)
    clean = counted.where(_is_fast()).select(
        *files, F.lit(None).cast("string").alias("raw_line"),
        *(rule.fast_value().alias(rule.field.column) for rule in rules),
        _no_reasons().alias("invalid_reasons"),
        _no_reasons().alias("unknown_fields"),
    )
    return ValidatedLanding(clean, others, lambda: _exhaustive(
        checked.where(~_is_fast()).select(*files, "raw_line"), source))


def validate_exhaustively(lines: DataFrame, source: Source) -> DataFrame:
    """`validate` without the fast test: every line through the exhaustive rules."""
    return _exhaustive(lines.select(*_file_columns(lines), "raw_line"), source)


def _no_reasons() -> Column:
    return F.array().cast("array<string>")


def _is_fast() -> Column:
    return F.col("_canonical").isNotNull()


def _rules(source: Source) -> list[FieldRule]:
    return [rule_for(field, index) for index, field in enumerate(source.fields)]


def _fast_tested(lines: DataFrame, source: Source) -> DataFrame:
    return lines.select(*_file_columns(lines), "raw_line",
                        canonical_record(source).alias("_canonical"))


# -- the fast test ----------------------------------------------------------------------------

def canonical_record(source: Source) -> Column:
    """The line parsed with the source's typed schema, when the line is that record written
    canonically and every value obeys its field's rule; null otherwise.

    Canonical: Spark writes the parsed record back (`to_json`) exactly as the line is, up to
    one space after each colon and comma (as Python's json.dumps writes). That proves a single
    JSON object with each field at most once, spelled as the schema spells it, no unknown
    field, no null, no escape Spark would write differently, nothing after the object. The
    spaces are removed from the whole line, strings included, so a string value holding ", "
    or ": " would make the comparison meaningless: such lines take the exhaustive path."""
    rules = _rules(source)
    raw = _parsable(F.col("raw_line"))
    schema = ", ".join(f"`{spelling}` {rule.spark_type}"
                       for rule in rules for spelling in rule.field.spellings)
    record = F.from_json(raw, schema, {"allowSingleQuotes": "false"})
    compact = F.replace(F.replace(raw, F.lit(": "), F.lit(":")), F.lit(", "), F.lit(","))
    # Names that differ only in case are ambiguous to Spark: fields are taken by position.
    positional = record.cast("struct<" + ", ".join(
        f"{name}: {rule.spark_type}" for rule in rules for name in rule.spelled_columns) + ">")
    accepted = F.is_valid_utf8(raw) & (F.to_json(record) == compact)
    for rule in rules:
        accepted = accepted & rule.fast_accepts(positional)
    return F.when(F.coalesce(accepted, F.lit(False)), positional)


# -- the exhaustive rules ---------------------------------------------------------------------

def _exhaustive(lines: DataFrame, source: Source) -> DataFrame:
    """Each line parsed into a map of field name -> VARIANT, so that names can be matched
    case-insensitively and a JSON string told from a JSON number; every reason listed."""
    judged = lines
    for columns in _exhaustive_stages(source, tuple(lines.columns), _column_kind()):
        judged = judged.select(*columns)
    return judged


def _column_kind() -> tuple:
    """What a built Column belongs to: Spark Connect's client, or this process's JVM (its
    gateway itself, which the cache then keeps: an id could be reused by a later one)."""
    from pyspark import SparkContext
    from pyspark.sql.utils import is_remote

    return ("connect",) if is_remote() else ("jvm", SparkContext._gateway)


# Built once per source and input columns (and per JVM): expressions are unresolved, so the
# same ones serve every DataFrame with those columns. In a local session each function call
# is several calls into the JVM: the stages took thousands of them (seconds) to build.
@functools.lru_cache(maxsize=32)
def _exhaustive_stages(source: Source, columns: tuple[str, ...], kind: tuple) -> list[list]:
    """The column lists `_exhaustive` selects, one stage after another."""
    rules = _rules(source)
    kept = [name for name in columns if name != "raw_line"]
    # Built in stages, each naming what the next one reuses: Spark keeps an expensive
    # expression that is referenced more than once as one column instead of repeating it.
    # Spark's parser stops after the first value; parsed inside [ ], any text after the first
    # object makes a second element or breaks the array (see _ends_after_one_value).
    raw = F.col("raw_line")
    parsable = _parsable(raw)
    values = F.from_json(F.concat(F.lit("["), parsable, F.lit("]")), "array<map<string,variant>>",
                         {"allowSingleQuotes": "false"})
    stages = [["*", values.alias("_values")]]
    is_object = ((F.size("_values") == 1) & F.get("_values", 0).isNotNull()
                 & _ends_after_one_value(parsable))
    too_long = _too_long(raw)
    line_problem = (
        F.when(too_long, F.lit(LINE_TOO_LONG))
        .when(~F.coalesce(is_object, F.lit(False)), F.lit(NOT_AN_OBJECT))
        .when(~F.is_valid_utf8(raw), F.lit(NOT_UTF8))
    )
    stages.append(["*", line_problem.alias("_line_problem")])
    stages.append([
        *kept,
        F.when(F.col("_line_problem").isNull(), raw).when(too_long, _start_of(raw))
        .otherwise(F.make_valid_utf8(raw)).alias("raw_line"),
        F.when(F.col("_line_problem").isNull(), F.get("_values", 0)).alias("_fields"),
        "_line_problem",
    ])
    stages += [["*", *(rule.matches(F.col("_fields")) for rule in rules)],
               ["*", *(column for rule in rules for column in rule.found())],
               ["*", *(rule.kind_of_value() for rule in rules)],
               ["*", *(column for rule in rules for column in rule.numbers())],
               ["*", *(rule.typed_column() for rule in rules)],
               ["*", *(rule.wrong_type_column() for rule in rules)]]
    invalid_reasons = F.when(
        F.col("_line_problem").isNull(), F.array_compact(F.array(*(rule.reason() for rule in rules)))
    ).otherwise(F.array(F.col("_line_problem")))
    known = [field.name.lower() for field in source.fields]
    unknown_fields = F.coalesce(
        F.filter(F.map_keys("_fields"), lambda key: ~F.lower(key).isin(known)),
        F.array().cast("array<string>"),
    )
    stages.append([
        *kept, "raw_line",
        *(rule.typed.alias(rule.field.column) for rule in rules),
        invalid_reasons.alias("invalid_reasons"), unknown_fields.alias("unknown_fields"),
    ])
    # The raw line is only worth its bytes where someone has to look at it.
    is_valid = F.size("invalid_reasons") == 0
    stages.append([
        *kept,
        F.when(~is_valid, F.col("raw_line")).alias("raw_line"),
        *(field.column for field in source.fields), "invalid_reasons", "unknown_fields",
    ])
    return stages


def _too_long(raw: Column) -> Column:
    return F.octet_length(raw) > MAX_LINE_BYTES  # the byte count is known without a scan


def _parsable(raw: Column) -> Column:
    """The line, unless it is too long to be a record (then null: no parser copies it)."""
    return F.when(~_too_long(raw), raw)


def _start_of(raw: Column) -> Column:
    """What the quarantine keeps of a line too long to be a record: its start, and its size."""
    start = F.make_valid_utf8(F.substring(raw, 1, KEPT_OF_A_LONG_LINE))
    return F.concat(start, F.lit(" … ["), F.octet_length(raw).cast("string"),
                    F.lit(" bytes in all]"))


_NON_NUMBERS = r"[+-]?(NaN|Infinity|INF)"  # JSON has none; Spark's reader takes them


def _ends_after_one_value(raw: Column) -> Column:
    """Parsed inside [ ], a line with text after its first value fails or has two elements,
    unless that text starts with ], closing the array early. Only a line containing ] can do
    that; such a line is parsed once more inside an object, where a ] cannot close it."""
    tokens = F.when(raw.rlike(_NON_NUMBERS), F.regexp_replace(raw, _NON_NUMBERS, "0")).otherwise(raw)
    in_object = F.json_object_keys(F.concat(F.lit('{"v":'), tokens, F.lit("}"))).isNotNull()
    return ~raw.contains("]") | in_object


def _is_whole_text(text: Column) -> Column:
    """A number's text (digits, fraction, exponent) denotes a whole number, exactly."""
    fraction = F.regexp_extract(text, r"\.(\d+)", 1)
    digits = F.concat(F.regexp_extract(text, r"^-?(\d*)", 1), fraction)
    significant = F.regexp_replace(digits, "0+$", "")
    exponent = _bounded_exponent(F.regexp_extract(text, r"[eE]([+-]?\d+)$", 1))
    trailing_zeros = F.length(digits) - F.length(significant)
    return (significant == "") | (exponent - F.length(fraction) + trailing_zeros >= 0)


# Further from 0 than a line's digits can move the point (a Spark string holds fewer than
# 2**31 characters), and near enough that _is_whole_text's sum cannot overflow a bigint.
_EXPONENT_BOUND = 2**40


def _bounded_exponent(exponent_text: Column) -> Column:
    """The exponent's value, held within ±_EXPONENT_BOUND: beyond it only its sign decides
    whether the number is whole. Unbounded, an exponent too long for a bigint was null (and
    the number taken for whole) and one at a bigint's edge overflowed Spark's arithmetic."""
    beyond = F.when(exponent_text.startswith("-"), -_EXPONENT_BOUND).otherwise(_EXPONENT_BOUND)
    exponent = F.coalesce(exponent_text.try_cast("bigint"), beyond)
    bounded = F.least(F.greatest(exponent, F.lit(-_EXPONENT_BOUND)), F.lit(_EXPONENT_BOUND))
    return F.when(exponent_text == "", 0).otherwise(bounded)


def _is_number(kind: Column) -> Column:
    return kind.isin(*_INTEGER_TYPES, *_FLOAT_TYPES) | kind.startswith("DECIMAL")


# -- one field's rule -------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRule(ABC):
    """What one field's value must be, for both paths. In the exhaustive path the field's
    intermediate values are columns of the stages; this object names them."""

    field: Field
    index: int  # the field's position in its source: names its intermediate columns
    spark_type: ClassVar[str] = "string"  # how the fast test's schema reads the field

    def _part(self, name: str) -> str:
        return f"_{name}{self.index}"

    @property
    def value(self) -> Column:
        return F.col(self._part("value"))  # the (first) value under the field's name

    @property
    def kind(self) -> Column:
        return F.col(self._part("kind"))  # its variant type: STRING, BIGINT, DECIMAL(3,1)...

    @property
    def typed(self) -> Column:
        return F.col(self._part("typed"))  # the value as the field's type, or null

    @property
    def present(self) -> Column:
        return self.value.isNotNull() & (self.kind != "VOID")

    # -- the fast test --
    @property
    def spelled_columns(self) -> list[str]:
        """The fast test's name for each spelling of the field."""
        return [f"f{self.index}_{n}" for n in range(len(self.field.spellings))]

    def fast_value(self, record: Column | None = None) -> Column:
        """The field's value in the fast test's record (by default the `_canonical` column),
        whichever spelling it came under."""
        values = self._spelled_values(record)
        return F.coalesce(*values) if len(values) > 1 else values[0]

    def _spelled_values(self, record: Column | None) -> list[Column]:
        record = F.col("_canonical") if record is None else record
        return [record[name] for name in self.spelled_columns]

    def fast_accepts(self, record: Column) -> Column:
        """The canonical record's value obeys this field's rule."""
        values, value = self._spelled_values(record), self.fast_value(record)
        accepted = self._fast_value_accepted(value)
        if self.field.required:
            accepted = accepted & value.isNotNull()
        if len(values) > 1:  # two spellings of one name are one field given twice
            accepted = accepted & (sum(v.isNotNull().cast("int") for v in values) <= 1)
        return F.coalesce(accepted, value.isNull())

    @abstractmethod
    def _fast_value_accepted(self, value: Column) -> Column:
        """The value, as Spark's typed reader gave it, obeys the field's rule."""

    # -- the exhaustive rules, stage by stage --
    def matches(self, fields: Column) -> Column:
        """Every value whose key is the field's name, compared case-insensitively."""
        name = self.field.name.lower()
        return F.map_values(F.map_filter(fields, lambda key, _: F.lower(key) == name)).alias(
            self._part("matches"))

    def found(self) -> list[Column]:
        matches = F.col(self._part("matches"))
        return [F.get(matches, 0).alias(self._part("value")),
                F.size(matches).alias(self._part("count"))]

    def kind_of_value(self) -> Column:
        return F.schema_of_variant(self.value).alias(self._part("kind"))

    def numbers(self) -> list[Column]:
        return []

    def typed_column(self) -> Column:
        return F.when(self.present, self._typed()).alias(self._part("typed"))

    @abstractmethod
    def _typed(self) -> Column:
        """The present value as the field's type, or null."""

    def wrong_type_column(self) -> Column:
        return self._wrong_type().alias(self._part("wrong"))

    @abstractmethod
    def _wrong_type(self) -> Column:
        """Why a present value does not have the field's type (null when it does)."""

    def _problems(self) -> list[tuple[Column, Column]]:
        problems = [
            (F.col(self._part("count")) > 1,
             F.lit(f"{self.field.name}: appears more than once (names are case-insensitive)")),
            (self.present & F.col(self._part("wrong")).isNotNull(), F.col(self._part("wrong"))),
        ]
        if self.field.required:
            problems.append((~self.present | self.typed.isNull(), F.lit(missing_reason(self.field))))
        return problems

    def reason(self) -> Column:
        """The first problem of the field's value, or null."""
        reason = F.lit(None).cast("string")
        for condition, message in reversed(self._problems()):
            reason = F.when(F.coalesce(condition, F.lit(False)), message).otherwise(reason)
        return reason


class TextRule(FieldRule):
    """A JSON string that is not blank."""

    def _fast_value_accepted(self, value: Column) -> Column:
        # See canonical_record: ", " or ": " inside a value hides from the comparison.
        return ~_is_blank(value) & ~value.contains(", ") & ~value.contains(": ")

    def _typed(self) -> Column:
        text = F.when(self.kind == "STRING", F.try_variant_get(self.value, "$", "string"))
        return F.when(~_is_blank(text), text)

    def _wrong_type(self) -> Column:
        return F.when(self.kind != "STRING",
                      F.concat(F.lit(f"{self.field.name}: expected a string, got "), F.lower(self.kind)))


class EmailRule(TextRule):
    """A string with an @."""

    def _fast_value_accepted(self, value: Column) -> Column:
        return super()._fast_value_accepted(value) & value.contains("@")

    def _problems(self) -> list[tuple[Column, Column]]:
        return [*super()._problems(),
                (~self.typed.contains("@"), F.lit(f"{self.field.name}: not an e-mail address (no @)"))]


class NumberRule(FieldRule):
    """A finite JSON number."""

    spark_type: ClassVar[str] = "double"

    def _fast_value_accepted(self, value: Column) -> Column:
        # Spark's reader takes "NaN" and "Infinity" (quoted), and writes them back quoted.
        return ~F.isnan(value) & (F.abs(value) < float("inf"))

    def numbers(self) -> list[Column]:
        return [F.try_variant_get(self.value, "$", "double").alias(self._part("double"))]

    def _typed(self) -> Column:
        double = F.col(self._part("double"))
        finite = double.isNotNull() & ~F.isnan(double) & (F.abs(double) < float("inf"))
        return F.when(_is_number(self.kind) & finite, double)

    def _wrong_type(self) -> Column:
        name = self.field.name
        return (
            F.when(~_is_number(self.kind),
                   F.concat(F.lit(f"{name}: expected a number, got "), F.lower(self.kind)))
            .when(self.typed.isNull(), F.concat(F.lit(f"{name}: not a finite number ("),
                                                F.to_json(self.value), F.lit(")")))
        )


class WholeNumberRule(FieldRule):
    """A whole number that fits a bigint, written as an integer or as an exact decimal."""

    spark_type: ClassVar[str] = "bigint"

    def _fast_value_accepted(self, value: Column) -> Column:
        return F.lit(True)  # Spark's reader gives a bigint only for an integer that fits

    def numbers(self) -> list[Column]:
        """The value read as double and as decimal, and its text: once each."""
        decimal = F.when(self.kind.startswith("DECIMAL"),
                         F.try_variant_get(self.value, "$", "decimal(38,10)"))
        return [F.try_variant_get(self.value, "$", "double").alias(self._part("double")),
                decimal.alias(self._part("decimal")),
                self._number_text().alias(self._part("text"))]

    def _number_text(self) -> Column:
        """The number as written, where its value alone cannot say whether it is whole: a
        decimal keeps its digits; a double (exponent form, over 38 digits) has rounded them,
        so its text is taken from the line when the field's name occurs there exactly once."""
        written = F.regexp_extract_all(
            F.col("raw_line"), F.lit(rf'"(?i:{self.field.name})"\s*:\s*(-?[0-9][0-9.eE+-]*)'), 1)
        return (
            F.when(self.kind.startswith("DECIMAL"), F.try_variant_get(self.value, "$", "string"))
            .when(self.kind.isin(*_FLOAT_TYPES) & (F.size(written) == 1), F.get(written, 0))
        )

    def _typed(self) -> Column:
        kind, double = self.kind, F.col(self._part("double"))
        decimal, text = F.col(self._part("decimal")), F.col(self._part("text"))
        is_decimal = kind.startswith("DECIMAL")
        in_range = F.when(is_decimal, F.abs(decimal) < _LONG_LIMIT).otherwise(
            ~F.isnan(double) & (F.abs(double) < _LONG_LIMIT) & (double == F.floor(double)))
        as_long = F.when(is_decimal, decimal.cast("bigint")).otherwise(double.cast("bigint"))
        # The text is looked at last, and only here: it is the expensive part.
        written_whole = F.coalesce(_is_whole_text(text), F.lit(True))  # no text: the double decides
        return (
            F.when(kind.isin(*_INTEGER_TYPES), F.try_variant_get(self.value, "$", "bigint"))
            .when((is_decimal | kind.isin(*_FLOAT_TYPES)) & in_range & written_whole, as_long)
        )

    def _wrong_type(self) -> Column:
        name = self.field.name
        written = F.coalesce(F.col(self._part("text")), F.to_json(self.value))
        return (
            F.when(~_is_number(self.kind),
                   F.concat(F.lit(f"{name}: expected an integer, got "), F.lower(self.kind)))
            .when(self.typed.isNull(), F.concat(F.lit(f"{name}: not a whole number in range ("),
                                                written, F.lit(")")))
        )


_RULE_OF_KIND = {"string": TextRule, "email": EmailRule, "number": NumberRule,
                 "epoch": WholeNumberRule, "integer": WholeNumberRule, "consent": WholeNumberRule}


def rule_for(field: Field, index: int) -> FieldRule:
    return _RULE_OF_KIND[field.kind](field, index)


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
