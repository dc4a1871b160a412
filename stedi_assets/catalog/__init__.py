"""The table catalog: which version of each table is published, and where.

Two implementations with one behaviour: `LocalCatalog` (SQLite in the lake root, the
embedded default) and `GlueCatalog` (the AWS Glue Data Catalog, which Athena reads). Both
publish with optimistic concurrency: a writer states the version it expects to replace, and
loses (`StaleVersion`) if somebody else published in between.
"""

from stedi_assets.catalog.ddl import athena_ddl
from stedi_assets.catalog.glue import GlueCatalog
from stedi_assets.catalog.local import LocalCatalog
from stedi_assets.catalog.model import (
    DEFAULT_DATABASE, JSON, PARQUET, StaleVersion, TableVersion, expired_versions, hive_columns,
    landing_table, table_input,
)

__all__ = [
    "DEFAULT_DATABASE", "JSON", "PARQUET", "GlueCatalog", "LocalCatalog", "StaleVersion",
    "TableVersion", "athena_ddl", "expired_versions", "hive_columns", "landing_table",
    "table_input",
]
