"""`stedi`: run the pipeline and look at what it made: tables, history, SQL, DDL, retention."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import uuid
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import SQLAlchemyError

from stedi_assets.operations.engine import DEFAULT_PORT, EngineError
from stedi_assets.operations.java import JavaMissing, find_java
from stedi_assets.cli.query import FORMATS, QueryError
from stedi_assets.operations.settings import DEFAULT_HOME, SettingsError, load_settings


def run_pipeline(args: argparse.Namespace) -> int:
    """Materializes every table and check in this process, saying each table as it is built,
    then prints what is published. What Spark, the JVM and Dagster print goes to a log file
    (the terminal with --verbose); errors come to the terminal in one line each."""
    settings = load_settings()
    lake = open_lakehouse(settings)
    if not args.full and nothing_new(settings, lake):
        print(run_header(settings))
        print("nothing new: no landing file was added, changed or removed, and every table "
              "is built from its inputs as they are; no run started (--full rebuilds)")
        print(published_tables(lake, "table"))
        return 0
    # Dagster and the run's modules only for a run (about 2.5 s of imports).
    from stedi_assets.pipeline.definitions import build_definitions
    from stedi_assets.lake.incremental import FULL_TAG
    from stedi_assets.operations.instance import project_instance
    from stedi_assets.pipeline.jobs import stedi_pipeline
    from stedi_assets.operations.run_output import Progress, log_path, quiet
    from stedi_assets.operations.spark_config import start_in_background

    find_java()
    run_id = str(uuid.uuid4())  # a Dagster run id, known before the run to listen to it
    log = None if args.verbose else log_path(state_home(), run_id)
    # Before anything starts the JVM: it inherits the process's stdout and stderr.
    with quiet(log) as terminal:
        start_in_background(settings)
        terminal.say(run_header(settings))
        defs = build_definitions(settings)
        job = defs.resolve_job_def(stedi_pipeline.name)
        # Recorded in the project's instance, so the UI (`make ui`) shows it in the run history.
        with project_instance(settings) as instance:
            progress = Progress(defs, terminal)
            instance.add_event_listener(run_id, progress)
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                tags={FULL_TAG: "true"} if args.full else None,
                raise_on_error=False,
                # The log file gets every event (a failure's traceback among them).
                run_config={"loggers": {"console": {"config": {
                    "log_level": "INFO" if args.verbose else "DEBUG"}}}},
            )
        progress.finish()
        terminal.say(published_tables(lake, "table"))
        failed = report_problems(result, terminal)
    if log:
        print(f"log (Spark, JVM, Dagster): {log}")
    if not result.success or failed:
        print("pipeline failed: see the messages above", file=sys.stderr)
        return 1
    return 0


def run_header(settings) -> str:
    """What a run says first: where it reads and which consent mode it applies."""
    sample = "  (generated sample)" if settings.uses_generated_sample else ""
    return f"landing: {settings.landing_uri}{sample}\nconsent mode: {settings.consent_mode}"


def nothing_new(settings, lake=None) -> bool:
    """Whether an incremental run would leave every table unchanged, known from the lake's
    metadata and the landing listing alone: then no Dagster run, no JVM, no Spark job."""
    from stedi_assets.lake import incremental
    from stedi_assets.rules.contract import SOURCE_BY_TABLE, ZONE_OF_TABLE
    from stedi_assets.lake.landing_files import readable_files
    from stedi_assets.operations.settings import DEVELOPMENT_PSEUDONYM_KEY

    key = (os.environ.get(settings.pseudonym_key_env) if settings.pseudonym_key_env
           else DEVELOPMENT_PSEUDONYM_KEY)
    if not settings.incremental or not key:
        return False  # a run rebuilds everything, or says the key is missing
    rules = {table: incremental.rules(table, settings.consent_mode, key)
             for table in ZONE_OF_TABLE}
    plans = incremental.planned_without_running(
        lake or open_lakehouse(settings), rules, list(SOURCE_BY_TABLE),
        lambda table: readable_files(settings.landing_uri, SOURCE_BY_TABLE[table]))
    return all(plan.mode == incremental.UNCHANGED for plan in plans)


CHECKS_FAILED = "DagsterAssetCheckFailedError"


def report_problems(result, terminal) -> list:
    """Says every failed or warning check and failed step on stderr; returns the failed
    blocking checks."""
    from dagster import AssetCheckSeverity

    failed = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        # A warning (schema drift) is reported, never a failure of the run.
        warning = evaluation.severity == AssetCheckSeverity.WARN
        if not warning:
            failed.append(evaluation)
        counted = evaluation.metadata.get("violations", evaluation.metadata.get("unknown_fields"))
        details = evaluation.description or (counted.value if counted else "")
        terminal.say(f"{'warning' if warning else 'check failed'}: "
                     f"{evaluation.asset_key.path[-1]}.{evaluation.check_name} ({details})",
                     error=True)
    for event in result.all_events:
        # A step that failed by its blocking checks failed as said above.
        if event.is_step_failure and event.step_failure_data.error.cls_name != CHECKS_FAILED:
            error = event.step_failure_data.error
            cause = error.cause or error
            line = JVM_GONE if jvm_gone(cause) else failure_line(cause.message or error.message)
            terminal.say(f"step {event.step_key} failed: {line}", error=True)
    return failed


JVM_GONE = ("Spark's JVM is no longer running (it crashed or was killed, for example for "
            "lack of memory): the log says why, if the JVM could")
# What Python sees when the JVM behind Py4J is gone: a refused or broken connection.
_LOST_CONNECTION = {"ConnectionRefusedError", "ConnectionResetError", "BrokenPipeError",
                    "Py4JNetworkError"}


def jvm_gone(error) -> bool:
    """Whether a step's error (Dagster's SerializableErrorInfo) is a lost Py4J connection."""
    return error.cls_name in _LOST_CONNECTION and any("py4j" in frame for frame in error.stack)


def failure_line(message: str) -> str:
    """One line for a failure: a JVM error's first line only names the Java call
    ("An error occurred while calling o3744.collectToPython"), so its innermost cause is said
    instead, which names what went wrong (a missing file, a refused request)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "no message"
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    if causes:
        return f"{lines[0]} {causes[-1]}"[:600]
    java = next((line.lstrip(": ") for line in lines[1:] if line.startswith(": ")), None)
    return f"{lines[0]} {java}"[:600] if java else lines[0]


def state_home() -> Path:
    """The local state folder (STEDI_HOME, default .stedi), as load_settings reads it."""
    return Path(os.environ.get("STEDI_HOME", str(DEFAULT_HOME)))


class NoCatalog(LookupError):
    """There is no catalog to read yet."""


def open_lakehouse(settings, spark: bool = False):
    """The lake `settings` describe; `spark`: with a SparkSession for what needs one."""
    from stedi_assets.lake import Lakehouse, Retention
    from stedi_assets.operations.spark_config import lake_catalog, spark_session

    retention = Retention(settings.keep_versions, settings.max_snapshot_age_hours,
                          settings.grace_hours)
    return Lakehouse(lake_catalog(settings), retention,
                     (lambda: spark_session(settings)) if spark else None)


def lakehouse(spark: bool = False):
    settings = load_settings()
    lake = open_lakehouse(settings, spark)
    if not lake.catalog.exists():
        raise NoCatalog(f"no catalog at {lake.catalog.describe()}: nothing is published "
                        "yet (run `stedi run`, or set STEDI_LAKE_URI)")
    return settings, lake


def published_tables(lake, fmt: str) -> str:
    from stedi_assets.rules.contract import ZONE_OF_TABLE
    from stedi_assets.cli.query import render

    rows = [(t.table, ZONE_OF_TABLE[t.table], t.snapshot_id, t.rows,
             f"{t.committed_at:%Y-%m-%dT%H:%M:%SZ}", t.location) for t in lake.tables()]
    return render(["table", "zone", "snapshot", "rows", "committed_at", "location"], rows, fmt)


def tables(args: argparse.Namespace) -> int:
    _, lake = lakehouse()
    print(published_tables(lake, args.format))
    return 0


def report(args: argparse.Namespace) -> int:
    from stedi_assets.operations.instance import project_instance
    from stedi_assets.operations.run_report import NoRun, write_report

    settings = load_settings()
    folder = args.output_dir or state_home() / "reports"
    with project_instance(settings) as instance:
        try:
            path = write_report(instance, folder, args.run)
        except NoRun as problem:
            print(f"stedi report: {problem} (`stedi run` makes one)", file=sys.stderr)
            return 1
    print(path)
    return 0


def history(args: argparse.Namespace) -> int:
    from stedi_assets.cli.query import render

    _, lake = lakehouse()
    rows = [(f"{s.committed_at:%Y-%m-%dT%H:%M:%S.%fZ}", s.snapshot_id, s.run_id or "", s.rows,
             s.operation) for s in lake.history(args.table)]
    print(render(["published_at", "snapshot", "run_id", "rows", "operation"], rows, args.format))
    return 0


def sql(args: argparse.Namespace) -> int:
    from stedi_assets.cli.query import athena_query, duckdb_query, render

    settings, lake = lakehouse()
    if settings.catalog == "glue":
        if args.as_of:
            raise QueryError("--as-of reads the local catalog; in Athena write "
                             "FOR TIMESTAMP AS OF or FOR VERSION AS OF after the table name")
        names, rows = athena_query(args.query, settings.catalog_database,
                                   settings.athena_output, settings.athena_workgroup)
    else:
        names, rows = duckdb_query(lake, args.query, args.as_of)
    print(render(names, rows, args.format))
    return 0


def vacuum(args: argparse.Namespace) -> int:
    _, lake = lakehouse(spark=True)
    for line in lake.vacuum(keep=args.keep):
        print(line)
    print(f"kept the newest {args.keep or lake.retention.keep} snapshots of every table, those "
          f"younger than {lake.retention.max_snapshot_age_hours:g} h, and every file younger than "
          f"{lake.retention.grace_hours:g} h")
    return 0


def ddl(_: argparse.Namespace) -> int:
    from stedi_assets.rules.contract import SOURCE_BY_TABLE
    from stedi_assets.lake.raw_landing import iceberg_ddl, raw_ddl

    settings, lake = lakehouse()
    published = lake.tables()
    if not published:
        raise NoCatalog("the catalog has no published tables yet (run `stedi run`)")
    database = settings.catalog_database
    statements = [raw_ddl(t.table, lake.catalog.raw_landing_location(t.table), database)
                  for t in published if t.table in SOURCE_BY_TABLE]
    for snapshot in published:
        loaded = lake.iceberg_table(snapshot.table)
        statements.append(iceberg_ddl(loaded.name()[-1], lake.hive_columns(snapshot.table),
                                      snapshot.location, database))
    print("\n\n".join(statements))
    return 0


def generate(args: argparse.Namespace) -> int:
    from stedi_assets.rules.sample_data import SampleSize, generate_landing

    counts = generate_landing(args.root, SampleSize(customers=args.customers), args.seed)
    print(" ".join(f"{source}={count}" for source, count in counts.items()))
    return 0


def engine(args: argparse.Namespace) -> int:
    from stedi_assets.operations.engine import command

    return command(args.action, state_home() / "engine", args.port)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="stedi", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialize every table and check")
    run.add_argument("--full", action="store_true",
                     help="rebuild every table from every landing file (not only what is new)")
    run.add_argument("--verbose", action="store_true",
                     help="show Spark's, the JVM's and Dagster's output instead of logging it")
    run.set_defaults(handler=run_pipeline)
    listing = commands.add_parser("tables", help="list the published tables")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=tables)
    past = commands.add_parser("history", help="the snapshots a table has published")
    past.add_argument("table")
    past.add_argument("--format", choices=FORMATS, default="table")
    past.set_defaults(handler=history)
    query = commands.add_parser("sql", help="query the published tables by name")
    query.add_argument("query")
    query.add_argument("--format", choices=FORMATS, default="table")
    query.add_argument("--as-of", metavar="TIME|SNAPSHOT",
                       help="time travel: the tables as of a UTC time, or a table at a snapshot id")
    query.set_defaults(handler=sql)
    clean = commands.add_parser("vacuum", help="expire old snapshots, remove orphan files")
    clean.add_argument("--keep", type=positive, default=None,
                       help="snapshots to keep per table (default: STEDI_KEEP_VERSIONS, 3)")
    clean.set_defaults(handler=vacuum)
    commands.add_parser("ddl", help="print Athena DDL for every published table").set_defaults(
        handler=ddl)
    warm = commands.add_parser("engine", help="a Spark Connect server that outlives runs "
                               "(STEDI_SPARK_REMOTE=sc://127.0.0.1:PORT)")
    warm.add_argument("action", choices=("start", "stop", "status"))
    warm.add_argument("--port", type=positive, default=DEFAULT_PORT,
                      help=f"start: the port to listen on, of 127.0.0.1 ({DEFAULT_PORT})")
    warm.set_defaults(handler=engine)
    page = commands.add_parser("report", help="the last run's row accounting as an HTML page")
    page.add_argument("--run", metavar="RUN_ID", help="another run of the instance than the last")
    page.add_argument("--output-dir", type=Path,
                      help="where the page is written (default: <STEDI_HOME>/reports)")
    page.set_defaults(handler=report)
    gen = commands.add_parser("generate", help="write a generated landing zone")
    gen.add_argument("root", type=Path)
    gen.add_argument("--customers", type=int, default=200)
    gen.add_argument("--seed", type=int, default=20220618)
    gen.set_defaults(handler=generate)
    return top


def main(argv: list[str] | None = None) -> int:
    from stedi_assets.lake import StalePublish, TableNotPublished

    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (SettingsError, JavaMissing, FileNotFoundError, NoCatalog) as problem:
        print(f"stedi: {problem}", file=sys.stderr)
        return 2
    except (QueryError, TableNotPublished, StalePublish, EngineError) as problem:
        print(f"stedi {args.command}: {problem}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as problem:  # messages name the call, never secrets
        print(f"stedi {args.command}: AWS: {problem}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error, SQLAlchemyError) as problem:  # disk, permissions, catalog
        print(f"stedi {args.command}: {first_line(problem)}", file=sys.stderr)
        return 1


def first_line(problem: Exception) -> str:
    """The message's first line (SQLAlchemy adds the statement and a link below it)."""
    lines = str(problem).strip().splitlines()
    return f"{type(problem).__name__}: {lines[0] if lines else ''}"


if __name__ == "__main__":
    sys.exit(main())
