"""Names and rules from ../shared/docs/data-contract.md, in one place for code and tests."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256

CONTRACT_VERSION = "v1"
LANDING, TRUSTED, CURATED = "landing", "trusted", "curated"
# Who answers for every table (shown in the UI, which can filter by owner).
OWNERS = ("team:data-engineering",)

CUSTOMER_LANDING = "customer_landing"
ACCELEROMETER_LANDING = "accelerometer_landing"
STEP_TRAINER_LANDING = "step_trainer_landing"
LANDING_QUARANTINE = "landing_quarantine"
CUSTOMER_TRUSTED = "customer_trusted"
ACCELEROMETER_TRUSTED = "accelerometer_trusted"
CUSTOMER_CURATED = "customer_curated"
STEP_TRAINER_TRUSTED = "step_trainer_trusted"
MACHINE_LEARNING_CURATED = "machine_learning_curated"

# Direct identifiers in their landing and published spellings; curated tables carry none.
DIRECT_IDENTIFIERS = frozenset(
    {"customername", "customer_name", "email", "phone", "birthday", "birth_day", "user"}
)


@dataclass(frozen=True)
class Field:
    name: str  # landing spelling, matched case-insensitively
    column: str  # published snake_case name
    kind: str  # "string", "email", "epoch", "number", "integer", "consent"
    required: bool
    about: str  # what the value means, in plain words (the column's description in the UI)
    # Other spellings seen in the feeds. Names match case-insensitively anyway; these are
    # only the spellings the fast test of validation knows.
    also_spelled: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.also_spelled)


@dataclass(frozen=True)
class Source:
    name: str  # folder under the landing root
    table: str
    fields: tuple[Field, ...]


_EPOCH = "in milliseconds since 1970-01-01 UTC"
_IDENTIFIER = "A direct identifier."
_NO_CONSENT = "absent, null or 0: no consent"

CUSTOMER = Source("customer", CUSTOMER_LANDING, (
    Field("customerName", "customer_name", "string", False, f"The customer's name. {_IDENTIFIER}"),
    Field("email", "email", "email", True,
          f"The customer's e-mail address: who the customer is. {_IDENTIFIER}"),
    Field("phone", "phone", "string", False, f"The customer's phone number. {_IDENTIFIER}"),
    # Documented as YYYY-MM-DD, but only its type is checked: the course data has year 993.
    Field("birthDay", "birth_day", "string", False,
          f"The customer's date of birth as written (documented as YYYY-MM-DD). {_IDENTIFIER}"),
    Field("serialNumber", "serial_number", "string", True,
          "Serial number of the customer's Step Trainer."),
    Field("registrationDate", "registration_date", "epoch", True,
          f"When the customer registered, {_EPOCH}."),
    Field("lastUpdateDate", "last_update_date", "epoch", False,
          f"When the customer's record last changed, {_EPOCH}."),
    Field("shareWithResearchAsOfDate", "share_with_research_as_of_date", "consent", False,
          f"Since when the customer shares their data for research, {_EPOCH}; {_NO_CONSENT}."),
    Field("shareWithPublicAsOfDate", "share_with_public_as_of_date", "consent", False,
          f"Since when the customer shares their data with the public, {_EPOCH}; {_NO_CONSENT}."),
    Field("shareWithFriendsAsOfDate", "share_with_friends_as_of_date", "consent", False,
          f"Since when the customer shares their data with friends, {_EPOCH}; {_NO_CONSENT}."),
))
ACCELEROMETER = Source("accelerometer", ACCELEROMETER_LANDING, (
    Field("user", "user", "email", True,
          f"E-mail address of the customer whose phone took the reading. {_IDENTIFIER}"),
    Field("timeStamp", "timestamp", "epoch", True, f"When the phone took the reading, {_EPOCH}.",
          also_spelled=("timestamp",)),
    Field("x", "x", "number", True, "Acceleration the phone measured along its x axis."),
    Field("y", "y", "number", True, "Acceleration the phone measured along its y axis."),
    Field("z", "z", "number", True, "Acceleration the phone measured along its z axis."),
))
STEP_TRAINER = Source("step_trainer", STEP_TRAINER_LANDING, (
    Field("sensorReadingTime", "sensor_reading_time", "epoch", True,
          f"When the Step Trainer took the reading, {_EPOCH}."),
    Field("serialNumber", "serial_number", "string", True,
          "Serial number of the Step Trainer that took the reading."),
    Field("distanceFromObject", "distance_from_object", "integer", True,
          "Distance from the Step Trainer to the object in front of it, as the device reports it."),
))
SOURCES = (CUSTOMER, ACCELEROMETER, STEP_TRAINER)
SOURCE_BY_TABLE = {source.table: source for source in SOURCES}

# The Spark type a landing field is published as.
SPARK_TYPE_OF_KIND = {"string": "string", "email": "string", "epoch": "bigint",
                      "consent": "bigint", "integer": "bigint", "number": "double"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the Spark type, as Spark prints it (DataType.simpleString)
    about: str


@dataclass(frozen=True)
class Table:
    """One table of the contract: what it holds, in plain words, its columns, its key."""

    name: str
    zone: str
    about: str
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...] = ()  # no two published rows share it (the dedup check)
    # Whose row it is, and when its reading was taken (the consent check's columns). Data
    # files are written in `reading_time` order, so that a read of a time window (what an
    # incremental run compares new readings with) skips the files outside it.
    owner: str | None = None
    reading_time: str | None = None
    # Identity partitions: the landing tables' files, so that which landing files a table
    # holds (its ledger) is read from Iceberg's metadata, not from its rows.
    partitioned_by: tuple[str, ...] = ()
    # Raised when what the table holds changes while its columns stay the same (a new rule);
    # a change of the columns changes the code version by itself.
    revision: int = 1

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def code_version(self) -> str:
        """Changes with the contract's version, the table's columns, types and key, and its
        revision (not with a description): the UI marks a table built by other rules as out
        of date."""
        schema = [(column.name, column.type) for column in self.columns]
        layout = (self.unique_key, self.partitioned_by) if self.partitioned_by else self.unique_key
        digest = sha256(repr((schema, layout)).encode()).hexdigest()[:8]
        return f"{CONTRACT_VERSION}.{self.revision}-{digest}"


def _field_column(field: Field, about: str | None = None) -> Column:
    return Column(field.column, SPARK_TYPE_OF_KIND[field.kind], about or field.about)


def _fields(source: Source) -> dict[str, Column]:
    return {field.column: _field_column(field) for field in source.fields}


_SOURCE_FILE = Column("source_file", "string", "The landing file the line was read from.")
# What identifies the landing file a line was read from: its path, and its size and
# modification time as read (a file re-written under the same path is told apart).
FILE_COLUMNS = ("source_file", "source_file_size", "source_file_modified")
_FILE_IDENTITY = (
    Column("source_file_size", "bigint", "The landing file's size in bytes when it was read."),
    Column("source_file_modified", "timestamp", "When the landing file was last modified, as "
           "read. With its size, tells a file re-written under the same name apart."),
)
_NORMALISED = "trimmed and lower-cased"


def _landing(source: Source) -> Table:
    return Table(
        source.table, LANDING,
        f"Every {source.name} record of the landing zone, read with the contract's types, with "
        "the reasons it breaks the data contract when it does. Invalid records also go to "
        "landing_quarantine.",
        (_SOURCE_FILE, *_FILE_IDENTITY,
         Column("raw_line", "string", "The line as written in the landing file, kept for lines "
                "the full validation rules had to judge (every invalid one); empty for clean "
                "records."),
         *_fields(source).values(),
         Column("invalid_reasons", "array<string>", "Why the record breaks the data contract, "
                "one reason per bad field; empty when the record is valid."),
         Column("unknown_fields", "array<string>", "Fields of the record the contract does not "
                "know: ignored, and counted by the schema drift check.")),
        partitioned_by=FILE_COLUMNS)


_customer, _phone, _step = _fields(CUSTOMER), _fields(ACCELEROMETER), _fields(STEP_TRAINER)
_CUSTOMER_ID = Column(
    "customer_id", "string", "The customer's pseudonym: a keyed hash (HMAC-SHA256) of their "
    "normalised e-mail address. The same customer has the same id in every table; without "
    "the key it cannot be turned back into the address.")
_CUSTOMER_DETAILS = (
    Column("serial_number", "string",
           f"Serial number of the customer's Step Trainer, {_NORMALISED}."),
    _customer["registration_date"],
    Column("last_update_date", "bigint", f"When the customer's record last changed, {_EPOCH} "
           "(the registration date when the feed gives none)."),
    _customer["share_with_research_as_of_date"],
    _customer["share_with_public_as_of_date"],
    _customer["share_with_friends_as_of_date"],
)
_STEP_READING = (
    Column("serial_number", "string",
           f"Serial number of the Step Trainer that took the reading, {_NORMALISED}."),
    _step["sensor_reading_time"],
    Column("distance_from_object", "bigint", "Distance from the Step Trainer to the object in "
           "front of it (the smallest when the feed reports several for one reading)."),
)
_CONSENT_MODE = "within the consent mode (STEDI_CONSENT_MODE)"

TABLES = (
    *(_landing(source) for source in SOURCES),
    Table(LANDING_QUARANTINE, LANDING,
          "Every invalid landing record and why it is invalid: nothing is dropped silently. "
          "For every source and run, rows read = valid rows + quarantined rows.",
          (Column("source", "string", "The feed the record came from: customer, accelerometer "
                  "or step_trainer."),
           _SOURCE_FILE,
           Column("raw_line", "string", "The line as written in the landing file (bytes that "
                  "are not UTF-8 shown as U+FFFD). May hold personal data: masked in the UI."),
           Column("reasons", "array<string>", "Why the record is invalid: one reason per bad "
                  "field, or one for the whole line."),
           Column("quarantined_at", "timestamp", "When the run that found the record "
                  "quarantined it."))),
    Table(CUSTOMER_TRUSTED, TRUSTED,
          "Customers who consent to research: one row per e-mail address, from their latest "
          "valid record (a later record withdrawing consent wins). Holds personal data: the "
          "trusted zone is access-restricted.",
          (_CUSTOMER_ID,
           _customer["customer_name"],
           Column("email", "string",
                  f"The customer's e-mail address, {_NORMALISED}. {_IDENTIFIER}"),
           _customer["phone"], _customer["birth_day"], *_CUSTOMER_DETAILS),
          unique_key=("email",), owner="email"),
    Table(ACCELEROMETER_TRUSTED, TRUSTED,
          f"Phone readings of customer_trusted customers, {_CONSENT_MODE}, each distinct "
          "reading once. Holds personal data (the e-mail address).",
          (_CUSTOMER_ID,
           Column("user", "string", "E-mail address of the customer whose phone took the "
                  f"reading, {_NORMALISED}. {_IDENTIFIER}"),
           _phone["timestamp"], _phone["x"], _phone["y"], _phone["z"]),
          unique_key=("user", "timestamp", "x", "y", "z"), owner="user", reading_time="timestamp"),
    Table(STEP_TRAINER_TRUSTED, TRUSTED,
          "Step Trainer readings of devices that belong to exactly one customer_curated "
          f"customer, {_CONSENT_MODE}: one row per device and millisecond.",
          _STEP_READING,
          unique_key=("serial_number", "sensor_reading_time"), owner="serial_number",
          reading_time="sensor_reading_time"),
    Table(CUSTOMER_CURATED, CURATED,
          "customer_trusted customers with at least one phone reading in "
          "accelerometer_trusted, without direct identifiers (customer_id instead).",
          (_CUSTOMER_ID, *_CUSTOMER_DETAILS),
          unique_key=("customer_id",), owner="customer_id"),
    Table(MACHINE_LEARNING_CURATED, CURATED,
          "The table step-detection models are trained on: each Step Trainer reading paired "
          "with its owner's phone readings of the same millisecond, never another customer's. "
          "No direct identifiers.",
          (_CUSTOMER_ID, _STEP_READING[0],
           Column("sensor_reading_time", "bigint", "When both readings were taken, "
                  f"{_EPOCH}: the Step Trainer's reading time, equal to the phone's timestamp."),
           _STEP_READING[2], _phone["x"], _phone["y"], _phone["z"]),
          unique_key=("serial_number", "sensor_reading_time", "customer_id", "x", "y", "z"),
          owner="customer_id", reading_time="sensor_reading_time"),
)
TABLE_BY_NAME = {table.name: table for table in TABLES}
ZONE_OF_TABLE = {table.name: table.zone for table in TABLES}
UNIQUE_KEYS = {table.name: table.unique_key for table in TABLES if table.unique_key}

# Published only when their blocking checks pass (write-audit-publish); the quarantine has
# no checks and is published as soon as it is written.
AUDITED_TABLES = frozenset(t for t in ZONE_OF_TABLE if t != LANDING_QUARANTINE)

LANDING_FILE_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
