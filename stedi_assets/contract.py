"""Names and rules from ../shared/docs/data-contract.md, in one place for code and tests."""

from __future__ import annotations

from dataclasses import dataclass

LANDING, TRUSTED, CURATED = "landing", "trusted", "curated"

CUSTOMER_LANDING = "customer_landing"
ACCELEROMETER_LANDING = "accelerometer_landing"
STEP_TRAINER_LANDING = "step_trainer_landing"
LANDING_QUARANTINE = "landing_quarantine"
CUSTOMER_TRUSTED = "customer_trusted"
ACCELEROMETER_TRUSTED = "accelerometer_trusted"
CUSTOMER_CURATED = "customer_curated"
STEP_TRAINER_TRUSTED = "step_trainer_trusted"
MACHINE_LEARNING_CURATED = "machine_learning_curated"

ZONE_OF_TABLE = {
    CUSTOMER_LANDING: LANDING,
    ACCELEROMETER_LANDING: LANDING,
    STEP_TRAINER_LANDING: LANDING,
    LANDING_QUARANTINE: LANDING,
    CUSTOMER_TRUSTED: TRUSTED,
    ACCELEROMETER_TRUSTED: TRUSTED,
    STEP_TRAINER_TRUSTED: TRUSTED,
    CUSTOMER_CURATED: CURATED,
    MACHINE_LEARNING_CURATED: CURATED,
}

# Published only when their blocking checks pass (write-audit-publish); the quarantine has
# no checks and is published as soon as it is written.
AUDITED_TABLES = frozenset(t for t in ZONE_OF_TABLE if t != LANDING_QUARANTINE)

# Keys that must be unique in each published table (the dedup checks).
UNIQUE_KEYS = {
    CUSTOMER_TRUSTED: ("email",),
    ACCELEROMETER_TRUSTED: ("user", "timestamp", "x", "y", "z"),
    CUSTOMER_CURATED: ("customer_id",),
    STEP_TRAINER_TRUSTED: ("serial_number", "sensor_reading_time"),
    MACHINE_LEARNING_CURATED: (
        "serial_number", "sensor_reading_time", "customer_id", "x", "y", "z",
    ),
}

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


CUSTOMER = Source("customer", CUSTOMER_LANDING, (
    Field("customerName", "customer_name", "string", False),
    Field("email", "email", "email", True),
    Field("phone", "phone", "string", False),
    # Documented as YYYY-MM-DD, but only its type is checked: the course data has year 993.
    Field("birthDay", "birth_day", "string", False),
    Field("serialNumber", "serial_number", "string", True),
    Field("registrationDate", "registration_date", "epoch", True),
    Field("lastUpdateDate", "last_update_date", "epoch", False),
    Field("shareWithResearchAsOfDate", "share_with_research_as_of_date", "consent", False),
    Field("shareWithPublicAsOfDate", "share_with_public_as_of_date", "consent", False),
    Field("shareWithFriendsAsOfDate", "share_with_friends_as_of_date", "consent", False),
))
ACCELEROMETER = Source("accelerometer", ACCELEROMETER_LANDING, (
    Field("user", "user", "email", True),
    Field("timeStamp", "timestamp", "epoch", True, also_spelled=("timestamp",)),
    Field("x", "x", "number", True),
    Field("y", "y", "number", True),
    Field("z", "z", "number", True),
))
STEP_TRAINER = Source("step_trainer", STEP_TRAINER_LANDING, (
    Field("sensorReadingTime", "sensor_reading_time", "epoch", True),
    Field("serialNumber", "serial_number", "string", True),
    Field("distanceFromObject", "distance_from_object", "integer", True),
))
SOURCES = (CUSTOMER, ACCELEROMETER, STEP_TRAINER)
SOURCE_BY_TABLE = {source.table: source for source in SOURCES}

LANDING_FILE_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
