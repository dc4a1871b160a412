"""The AWS Glue Data Catalog, which Athena reads."""

from __future__ import annotations

from stedi_assets.catalog.model import (
    DEFAULT_DATABASE, PARQUET, StaleVersion, TableVersion, table_input,
)


class GlueCatalog:
    """The AWS Glue Data Catalog. Credentials come from the standard AWS chain and are never
    logged; updates carry the table's VersionId so a concurrent writer cannot be overwritten."""

    def __init__(self, database: str = DEFAULT_DATABASE, client=None):
        from stedi_assets import aws

        self.database = database
        self.glue = client or aws.client("glue")
        self._ensure_database()

    def _ensure_database(self) -> None:
        errors = self.glue.exceptions
        try:
            self.glue.get_database(Name=self.database)
        except errors.EntityNotFoundException:
            try:
                self.glue.create_database(DatabaseInput={
                    "Name": self.database,
                    "Description": "STEDI lakehouse: landing, trusted and curated tables"})
            except errors.AlreadyExistsException:
                pass

    def published(self, name: str) -> TableVersion | None:
        try:
            table = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None
        return _from_glue(table)

    def tables(self) -> list[TableVersion]:
        pages = self.glue.get_paginator("get_tables").paginate(DatabaseName=self.database)
        return sorted((_from_glue(t) for page in pages for t in page["TableList"]),
                      key=lambda t: t.name)

    def publish(self, table: TableVersion, expected_version: str | None) -> TableVersion:
        errors = self.glue.exceptions
        try:
            if expected_version is None:
                self.glue.create_table(DatabaseName=self.database, TableInput=table_input(table))
            else:
                self.glue.update_table(DatabaseName=self.database, TableInput=table_input(table),
                                       VersionId=expected_version)
        except (errors.AlreadyExistsException, errors.ConcurrentModificationException) as lost:
            raise StaleVersion(f"{table.name}: somebody else published first ({lost})") from None
        return self.published(table.name)

    def history(self, name: str) -> list[TableVersion]:
        pages = self.glue.get_paginator("get_table_versions").paginate(
            DatabaseName=self.database, TableName=name)
        versions = [_from_glue(v["Table"], v["VersionId"]) for page in pages
                    for v in page["TableVersions"]]
        return sorted(versions, key=lambda v: int(v.version), reverse=True)

    def forget(self, name: str, versions: list[str]) -> None:
        current = self.published(name)
        doomed = [v for v in versions if current is None or v != current.version]
        for version in doomed:  # retention keeps few versions: one call each is fine
            self.glue.delete_table_version(
                DatabaseName=self.database, TableName=name, VersionId=version)


def _from_glue(table: dict, version: str | None = None) -> TableVersion:
    storage = table["StorageDescriptor"]
    parameters = table.get("Parameters", {})
    rows = parameters.get("stedi.row_count")
    return TableVersion(
        name=table["Name"],
        zone=parameters.get("stedi.zone", ""),
        location=storage["Location"].rstrip("/"),
        columns=tuple((c["Name"], c["Type"]) for c in storage["Columns"]),
        format=parameters.get("classification", PARQUET),
        row_count=int(rows) if rows is not None else None,
        version=str(version or table.get("VersionId", "")),
        published_at=_timestamp(table.get("UpdateTime") or table.get("CreateTime")),
        snapshot=parameters.get("stedi.snapshot"),
    )


def _timestamp(moment) -> float:
    return moment.timestamp() if moment is not None else 0.0
