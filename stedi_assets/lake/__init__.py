"""The lake: Iceberg tables in one catalog (SQLite locally, Glue on AWS), written through one
seam with write-audit-publish on branches, retention and consent erasure."""

from stedi_assets.lake.catalog import LakeCatalog, iceberg_name
from stedi_assets.lake.lakehouse import (
    Lakehouse, LakeRun, Retention, Snapshot, StalePublish, TableNotPublished,
)

__all__ = ["LakeCatalog", "LakeRun", "Lakehouse", "Retention", "Snapshot", "StalePublish",
           "TableNotPublished", "iceberg_name"]
