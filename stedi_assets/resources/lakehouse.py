"""The lakehouse (lake folders plus catalog) as a Dagster resource."""

from dagster import ConfigurableResource

from stedi_assets.lakehouse import CatalogConfig, Lakehouse


class LakehouseResource(ConfigurableResource):
    """Where tables are written (`lake_uri`) and published (`catalog`: `local` SQLite in the
    lake, or `glue`). Keeps the newest `keep_versions` versions of every table."""

    lake_uri: str
    landing_uri: str
    catalog: str = "local"
    catalog_database: str = "stedi"
    local_catalog_path: str = ""
    keep_versions: int = 3

    def open(self) -> Lakehouse:
        catalog = CatalogConfig(self.catalog, self.catalog_database, self.local_catalog_path)
        return Lakehouse(self.lake_uri, self.landing_uri, catalog.open(), self.keep_versions)
