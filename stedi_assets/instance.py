"""The project's Dagster instance: one folder of run history, sensor state and configuration
that `make ui` (the webserver and daemon) and `stedi run` share."""

from __future__ import annotations

import sys
from pathlib import Path

from stedi_assets.settings import Settings, SettingsError, load_settings

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
INSTANCE_CONFIG = "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """The instance folder, created with the project's dagster.yaml. A DAGSTER_HOME a person
    set is theirs: used as it is."""
    home = Path(settings.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    if settings.owns_dagster_home:
        config, template = home / INSTANCE_CONFIG, INSTANCE_TEMPLATE.read_text()
        # Rewritten when the template changed, unless someone replaced it by a file of their own.
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
    """Prints the instance folder, ready, for `DAGSTER_HOME=$(python -m stedi_assets.instance)`."""
    try:
        print(prepare_dagster_home(load_settings()))
    except (SettingsError, OSError) as problem:
        print(f"stedi: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
