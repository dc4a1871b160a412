"""The project's Dagster instance: one folder of run history, sensor state and configuration
that `make ui` (the webserver and daemon) and `stedi run` share; with
STEDI_INSTANCE_STORAGE=postgres the history and the sensor's state are in PostgreSQL instead."""

from __future__ import annotations

import sys
from pathlib import Path

from stedi_assets.operations.settings import (
    INSTANCE_STORAGE_SETTING, POSTGRES_URL_FORM, POSTGRES_URL_SETTING, Settings, SettingsError,
    load_settings,
)

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
INSTANCE_CONFIG = "dagster.yaml"
# Added to the template for STEDI_INSTANCE_STORAGE=postgres. Dagster reads the URL from the
# environment each time it loads the instance: it is never in the file, nor in the UI's
# view of the configuration (which shows the storage classes only).
POSTGRES_STORAGE = f"""
# {INSTANCE_STORAGE_SETTING}=postgres: runs, event logs, schedules' and sensors' state and
# cursors in PostgreSQL, at the URL in the environment variable {POSTGRES_URL_SETTING}
# ({POSTGRES_URL_FORM}) of every process that loads this instance.
# Compute logs stay in files beside this one.
storage:
  postgres:
    postgres_url:
      env: {POSTGRES_URL_SETTING}
"""


def instance_config(settings: Settings) -> str:
    """The project's dagster.yaml for `settings`' storage."""
    template = INSTANCE_TEMPLATE.read_text()
    return template + POSTGRES_STORAGE if settings.instance_storage == "postgres" else template


def prepare_dagster_home(settings: Settings) -> Path:
    """The instance folder, created with the project's dagster.yaml. A DAGSTER_HOME a person
    set is theirs: used as it is."""
    home = Path(settings.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    if settings.owns_dagster_home:
        config, template = home / INSTANCE_CONFIG, instance_config(settings)
        # Rewritten when the template or the storage changed, unless someone replaced it by a
        # file of their own.
        current = config.read_text() if config.exists() else None
        if current != template and (current is None or _written_from_template(current, template)):
            config.write_text(template)
    return home


def project_instance(settings: Settings):
    """The DagsterInstance in `settings.dagster_home` (a context manager)."""
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(prepare_dagster_home(settings)))


def _written_from_template(config: str, template: str) -> bool:
    return config.partition("\n")[0] == template.partition("\n")[0]


def main() -> int:
    """Prints the instance folder, ready, for
    `DAGSTER_HOME=$(python -m stedi_assets.operations.instance)`."""
    try:
        print(prepare_dagster_home(load_settings()))
    except (SettingsError, OSError) as problem:
        print(f"stedi: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
