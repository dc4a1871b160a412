"""`stedi`: run the pipeline and look at what it made: tables, SQL, DDL, retention."""

from __future__ import annotations

import argparse
import os
import sys

from botocore.exceptions import BotoCoreError, ClientError

from stedi_assets.java import JavaMissing, find_java
from stedi_assets.query import FORMATS, QueryError
from stedi_assets.settings import SettingsError, load_settings


def run_pipeline(_: argparse.Namespace) -> int:
    """Materializes every table and check in this process; prints what is published."""
    from dagster import DagsterInstance

    from stedi_assets.definitions import build_definitions
    from stedi_assets.jobs import stedi_pipeline
    from stedi_assets.lakehouse import open_lakehouse

    settings = load_settings()
    find_java()
    defs = build_definitions(settings)
    job = defs.resolve_job_def(stedi_pipeline.name)
    # A DAGSTER_HOME keeps the run's history for the UI; without one, nothing is left behind.
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    with instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    print(f"landing: {settings.landing_uri}"
          + ("  (generated sample)" if settings.uses_generated_sample else ""))
    print(f"consent mode: {settings.consent_mode}")
    print(published_tables(open_lakehouse(settings), "table"))
    failed = [evaluation for evaluation in result.get_asset_check_evaluations()
              if not evaluation.passed]
    for evaluation in failed:
        print(f"check failed: {evaluation.asset_key.path[-1]}.{evaluation.check_name} "
              f"({evaluation.metadata.get('violations', '')})", file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            cause = error.cause or error
            message = (cause.message or error.message).strip().splitlines()[0]
            print(f"step {event.step_key} failed: {message}", file=sys.stderr)
    if not result.success or failed:
        print("pipeline failed: see the messages above", file=sys.stderr)
        return 1
    return 0


class NoCatalog(LookupError):
    """There is no catalog to read yet."""


def lakehouse():
    from pathlib import Path

    from stedi_assets.lakehouse import open_lakehouse

    settings = load_settings()
    if settings.catalog == "local" and not Path(settings.local_catalog_path).is_file():
        raise NoCatalog(f"no catalog at {settings.local_catalog_path}: nothing is published "
                        "yet (run `stedi run`, or set STEDI_LAKE_URI)")
    return settings, open_lakehouse(settings)


def published_tables(lake, fmt: str) -> str:
    from stedi_assets.contract import ZONE_OF_TABLE
    from stedi_assets.query import render

    lineage = list(ZONE_OF_TABLE)  # landing -> trusted -> curated
    ordered = sorted(lake.tables(), key=lambda t: (t.name not in lineage,
                                                   lineage.index(t.name) if t.name in lineage else 0,
                                                   t.name))
    rows = [(t.name, t.zone, t.version, t.row_count, t.location) for t in ordered]
    return render(["table", "zone", "version", "rows", "location"], rows, fmt)


def tables(args: argparse.Namespace) -> int:
    _, lake = lakehouse()
    print(published_tables(lake, args.format))
    return 0


def sql(args: argparse.Namespace) -> int:
    from stedi_assets.query import athena_query, duckdb_query, render

    settings, lake = lakehouse()
    if settings.catalog == "glue":
        names, rows = athena_query(args.query, settings.catalog_database,
                                   settings.athena_output, settings.athena_workgroup)
    else:
        names, rows = duckdb_query(lake.tables(), args.query)
    print(render(names, rows, args.format))
    return 0


def vacuum(args: argparse.Namespace) -> int:
    _, lake = lakehouse()
    removed = lake.vacuum(keep=args.keep)
    for location in removed:
        print(f"removed {location}")
    print(f"{len(removed)} old versions removed; the newest {args.keep or lake.keep_versions} "
          "of every table are kept")
    return 0


def ddl(_: argparse.Namespace) -> int:
    from stedi_assets.catalog import athena_ddl

    settings, lake = lakehouse()
    published = lake.tables()
    if not published:
        raise NoCatalog("the catalog has no published tables yet (run `stedi run`)")
    print("\n\n".join(athena_ddl(t, settings.catalog_database) for t in published))
    return 0


def generate(args: argparse.Namespace) -> int:
    from stedi_assets.sample_data import SampleSize, generate_landing

    counts = generate_landing(args.root, SampleSize(customers=args.customers), args.seed)
    print(" ".join(f"{source}={count}" for source, count in counts.items()))
    return 0


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def parser() -> argparse.ArgumentParser:
    from pathlib import Path

    top = argparse.ArgumentParser(prog="stedi", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="materialize every table and check").set_defaults(
        handler=run_pipeline)
    listing = commands.add_parser("tables", help="list the published tables")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=tables)
    query = commands.add_parser("sql", help="query the published tables by name")
    query.add_argument("query")
    query.add_argument("--format", choices=FORMATS, default="table")
    query.set_defaults(handler=sql)
    clean = commands.add_parser("vacuum", help="delete versions older than the retention")
    clean.add_argument("--keep", type=positive, default=None,
                       help="versions to keep per table (default: STEDI_KEEP_VERSIONS, 3)")
    clean.set_defaults(handler=vacuum)
    commands.add_parser("ddl", help="print Athena DDL for every published table").set_defaults(
        handler=ddl)
    gen = commands.add_parser("generate", help="write a generated landing zone")
    gen.add_argument("root", type=Path)
    gen.add_argument("--customers", type=int, default=200)
    gen.add_argument("--seed", type=int, default=20220618)
    gen.set_defaults(handler=generate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (SettingsError, JavaMissing, FileNotFoundError, NoCatalog) as problem:
        print(f"stedi: {problem}", file=sys.stderr)
        return 2
    except QueryError as problem:
        print(f"stedi {args.command}: {problem}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as problem:  # messages name the call, never secrets
        print(f"stedi {args.command}: AWS: {problem}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
