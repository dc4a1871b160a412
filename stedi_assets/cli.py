"""`stedi`: run the pipeline and look at what it made."""

from __future__ import annotations

import argparse
import os
import sys

from stedi_assets.java import JavaMissing, find_java
from stedi_assets.settings import SettingsError, load_settings


def run_pipeline(_: argparse.Namespace) -> int:
    """Materializes every table and check in this process; prints where each table is."""
    from dagster import DagsterInstance

    from stedi_assets.definitions import build_definitions
    from stedi_assets.jobs import stedi_pipeline

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
    print(f"{'table':<26} {'rows':>9}  location")
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = materialization.metadata
        print(f"{materialization.asset_key.path[-1]:<26} "
              f"{metadata['dagster/row_count'].value:>9}  {metadata['location'].value}")
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


def generate(args: argparse.Namespace) -> int:
    from stedi_assets.sample_data import SampleSize, generate_landing

    counts = generate_landing(args.root, SampleSize(customers=args.customers), args.seed)
    print(" ".join(f"{source}={count}" for source, count in counts.items()))
    return 0


def parser() -> argparse.ArgumentParser:
    from pathlib import Path

    top = argparse.ArgumentParser(prog="stedi", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="materialize every table and check").set_defaults(
        handler=run_pipeline)
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
    except (SettingsError, JavaMissing, FileNotFoundError) as problem:
        print(f"stedi: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
