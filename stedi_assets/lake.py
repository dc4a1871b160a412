"""Where tables live: `<lake>/<zone>/<table>/`, for local folders and s3:// alike."""

from __future__ import annotations

from stedi_assets.contract import ZONE_OF_TABLE


def table_location(lake_uri: str, table: str) -> str:
    return f"{lake_uri.rstrip('/')}/{ZONE_OF_TABLE[table]}/{table}"


def spark_uri(uri: str) -> str:
    """Spark reads S3 through the s3a connector; catalogs and people say s3://."""
    if uri.startswith("s3://"):
        return "s3a://" + uri[len("s3://"):]
    return uri
