"""Data providers by name: where their catalogues and S3 archive are, and the archive's limits.

A user picks a provider (``DATABROKER_PROVIDER``, ``COMAX_PROVIDER``), not URLs; a URL or endpoint set
explicitly still wins over the preset. CREODIAS serves the same OData/OpenSearch/STAC APIs as CDSE at
``datahub.creodias.eu`` (its old EO Finder at ``finder.creodias.eu`` is retired).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.common.errors import InvalidInput

__all__ = ["PROVIDERS", "Provider", "provider"]


@dataclass(frozen=True)
class Provider:
    """One provider's catalogue URLs (by catalogue kind) and S3 archive (the ``eodata`` bucket)."""

    name: str
    title: str
    catalogues: dict[str, str]
    s3_endpoint: str
    s3_region: str
    # per-user limits of the S3 archive; 0 = none published
    s3_max_connections: int = 0
    s3_requests_per_minute: int = 0


PROVIDERS: dict[str, Provider] = {
    "cdse": Provider(
        name="cdse", title="Copernicus Data Space Ecosystem",
        catalogues={
            "cdse": "https://catalogue.dataspace.copernicus.eu/odata/v1",
            "opensearch": "https://catalogue.dataspace.copernicus.eu/resto/api/collections/Sentinel5P/search.json",
            "stac": "https://stac.dataspace.copernicus.eu/v1",
        },
        # CDSE's S3 wants the region name 'default'; its quotas for general users: 4 concurrent connections
        # and 2000 requests per minute
        s3_endpoint="https://eodata.dataspace.copernicus.eu", s3_region="default",
        s3_max_connections=4, s3_requests_per_minute=2000,
    ),
    "creodias": Provider(
        name="creodias", title="CREODIAS",
        catalogues={
            "cdse": "https://datahub.creodias.eu/odata/v1",
            "opensearch": "https://datahub.creodias.eu/resto/api/collections/Sentinel5P/search.json",
            "stac": "https://datahub.creodias.eu/stac",
        },
        s3_endpoint="https://eodata.cloudferro.com", s3_region="default",
    ),
}


def provider(name: str) -> Provider:
    """The provider called ``name`` (case-insensitive); ``InvalidInput`` listing the known ones otherwise."""
    found = PROVIDERS.get(name.strip().lower())
    if found is None:
        raise InvalidInput(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}")
    return found
