"""Each transformation on tiny hand-made tables."""


from stedi_assets.rules import transforms
from stedi_assets.rules.contract import ACCELEROMETER, CUSTOMER, STEP_TRAINER
from stedi_assets.rules.pseudonym import customer_id
from stedi_assets_tests.helpers import KEY, T0, customer, landing, reading, rows, step


def trusted_customers(spark, records):
    return transforms.customer_trusted(landing(spark, CUSTOMER, records), KEY)


def test_emails_differing_in_case_and_spaces_are_one_customer(spark):
    table = trusted_customers(spark, [
        customer(" Ann.Lee@Test.com", "S1", updated=T0),
        customer("ann.lee@test.com ", "S1", updated=T0 + 5),
    ])
    assert rows(table, "email", "last_update_date") == [("ann.lee@test.com", T0 + 5)]


def test_latest_record_wins_and_can_withdraw_consent(spark):
    table = trusted_customers(spark, [
        customer("a@test.com", "S1", updated=T0, consent=T0),
        customer("A@test.com", "S1", updated=T0 + 1, consent=0),  # withdraws
        customer("b@test.com", "S2", updated=T0, consent=None),
        customer("b@test.com", "S2", updated=T0 + 1, consent=T0 + 1),  # grants
    ])
    assert rows(table, "email") == [("b@test.com",)]


def test_last_update_defaults_to_registration_then_registration_breaks_ties(spark):
    table = trusted_customers(spark, [
        customer("a@test.com", "OLD", registered=T0, updated=None),
        customer("a@test.com", "NEW", registered=T0 + 9, updated=None),
        customer("b@test.com", "FIRST", registered=T0, updated=T0 + 9),
        customer("b@test.com", "SECOND", registered=T0 + 1, updated=T0 + 9),
    ])
    assert rows(table, "email", "serial_number") == [("a@test.com", "new"), ("b@test.com", "second")]


def test_a_full_tie_resolves_to_the_record_without_consent(spark):
    records = [customer("a@test.com", "S1", consent=T0), customer("a@test.com", "S1", consent=None)]
    assert rows(trusted_customers(spark, records), "email") == []
    assert rows(trusted_customers(spark, list(reversed(records))), "email") == []


def test_records_tied_on_everything_else_resolve_the_same_whatever_their_order(spark):
    """Every published column takes part in the tie-break: a rerun publishes the same row."""
    records = [customer("a@test.com", "S1", shareWithPublicAsOfDate=T0 + 1,
                        shareWithFriendsAsOfDate=T0),
               customer("a@test.com", "S1", shareWithPublicAsOfDate=T0,
                        shareWithFriendsAsOfDate=T0 + 1),
               customer("a@test.com", "S1", shareWithPublicAsOfDate=T0,
                        shareWithFriendsAsOfDate=T0)]
    columns = transforms.CUSTOMER_TRUSTED_COLUMNS
    chosen = {tuple(rows(trusted_customers(spark, order), *columns))
              for order in (records, records[::-1], records[1:] + records[:1])}
    assert len(chosen) == 1


def test_customers_without_research_consent_are_out(spark):
    table = trusted_customers(spark, [
        customer("absent@test.com", "S1", consent=None),
        customer("zero@test.com", "S2", consent=0),
        customer("null@test.com", "S3", consent=None, shareWithResearchAsOfDate=None),
        customer("yes@test.com", "S4", consent=T0),
    ])
    assert rows(table, "email") == [("yes@test.com",)]


def test_customer_id_is_the_keyed_hash_of_the_normalised_email(spark):
    table = trusted_customers(spark, [customer(" Ann@Test.com ", "S1")])
    assert rows(table, "customer_id") == [(customer_id("ann@test.com", KEY),)]


def accelerometer(spark, customers, readings, consent_mode="any"):
    owners = trusted_customers(spark, customers)
    return transforms.accelerometer_trusted(
        landing(spark, ACCELEROMETER, readings), owners, consent_mode
    )


def test_several_readings_in_one_millisecond_are_kept_and_exact_repeats_collapse(spark):
    table = accelerometer(spark, [customer("a@test.com", "S1")], [
        reading("a@test.com", T0, 1, 2, 3),
        reading("A@TEST.COM", T0, 1, 2, 3),  # the same reading, sent with another case
        reading("a@test.com", T0, 1, 2, 4),
        reading("a@test.com", T0, 0, 0, 0),
    ])
    assert rows(table, "timestamp", "x", "y", "z") == [
        (T0, 0.0, 0.0, 0.0), (T0, 1.0, 2.0, 3.0), (T0, 1.0, 2.0, 4.0)]


def test_readings_of_non_consenting_or_unknown_people_are_out(spark):
    table = accelerometer(spark, [
        customer("yes@test.com", "S1"), customer("no@test.com", "S2", consent=None)
    ], [reading("yes@test.com", T0), reading("no@test.com", T0), reading("who@test.com", T0)])
    assert rows(table, "user") == [("yes@test.com",)]


def test_as_of_date_keeps_only_readings_from_the_consent_date_on(spark):
    customers = [customer("a@test.com", "S1", consent=T0 + 10)]
    readings = [reading("a@test.com", T0 + 9), reading("a@test.com", T0 + 10),
                reading("a@test.com", T0 + 11)]
    assert len(rows(accelerometer(spark, customers, readings, "any"), "timestamp")) == 3
    assert rows(accelerometer(spark, customers, readings, "as_of_date"), "timestamp") == [
        (T0 + 10,), (T0 + 11,)]


def curated(spark, customers, readings):
    owners = trusted_customers(spark, customers)
    phone = transforms.accelerometer_trusted(landing(spark, ACCELEROMETER, readings), owners, "any")
    return owners, phone, transforms.customer_curated(owners, phone)


def test_customer_curated_needs_a_reading_and_has_no_direct_identifiers(spark):
    _, _, table = curated(spark, [customer("a@test.com", "S1"), customer("b@test.com", "S2")],
                          [reading("a@test.com", T0), reading("a@test.com", T0 + 1)])
    assert rows(table, "serial_number") == [("s1",)]
    assert not {"email", "customer_name", "phone", "birth_day"} & set(table.columns)


def test_step_trainer_keeps_one_reading_per_key_and_only_owned_devices(spark):
    _, _, owners = curated(spark, [customer("a@test.com", " S1 ")], [reading("a@test.com", T0)])
    readings = landing(spark, STEP_TRAINER, [
        step("s1", T0, 200), step("S1", T0, 200),  # exact repeat, other case
        step("s1", T0 + 1, 250), step("s1", T0 + 1, 240),  # conflicting distances
        step("nobody", T0, 100),
    ])
    table = transforms.step_trainer_trusted(readings, owners, "any")
    assert rows(table, "serial_number", "sensor_reading_time", "distance_from_object") == [
        ("s1", T0, 200), ("s1", T0 + 1, 240)]


def test_a_serial_number_claimed_by_two_customers_is_left_out(spark):
    _, _, owners = curated(spark, [customer("a@test.com", "S1"), customer("b@test.com", "S1")],
                           [reading("a@test.com", T0), reading("b@test.com", T0)])
    table = transforms.step_trainer_trusted(landing(spark, STEP_TRAINER, [step("S1", T0)]), owners, "any")
    assert table.count() == 0


def test_machine_learning_pairs_only_readings_of_the_same_customer(spark):
    customers = [customer("a@test.com", "SA"), customer("b@test.com", "SB")]
    readings = [reading("a@test.com", T0, 1, 1, 1), reading("a@test.com", T0, 2, 2, 2),
                reading("b@test.com", T0, 9, 9, 9)]  # b's phone, same millisecond
    trusted, phone, owners = curated(spark, customers, readings)
    steps = transforms.step_trainer_trusted(
        landing(spark, STEP_TRAINER, [step("SA", T0, 100)]), owners, "any")
    table = transforms.machine_learning_curated(steps, owners, phone)
    a_id = rows(trusted.where("email = 'a@test.com'"), "customer_id")[0][0]
    assert rows(table, "customer_id", "serial_number", "sensor_reading_time", "x") == [
        (a_id, "sa", T0, 1.0), (a_id, "sa", T0, 2.0)]
    assert not {"email", "user", "customer_name", "phone", "birth_day"} & set(table.columns)


def test_readings_within_keeps_the_stored_rows_of_the_new_readings_times(spark):
    stored = spark.createDataFrame([(at,) for at in range(10)], "timestamp bigint")
    new = spark.createDataFrame([(6, "b"), (3, "a")], "sensor_reading_time bigint, s string")
    none = new.where("false")

    within = transforms.readings_within(stored, "timestamp", new, "sensor_reading_time")

    assert rows(within, "timestamp") == [(3,), (4,), (5,), (6,)]
    assert transforms.readings_within(stored, "timestamp", none, "sensor_reading_time").count() == 0
