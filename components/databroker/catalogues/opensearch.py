"""resto OpenSearch catalogue (CDSE and CREODIAS ``.../resto/api/collections/<C>/search.json``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components.databroker.catalogues.base import PagedCatalogue
from components.databroker.catalogues.common import (
    aoi_wkt,
    covers_world,
    eodata_href,
    map_items,
    pages_from_links,
    parse_stamp,
    require,
    wkts_of_geojson,
)
from components.databroker.http import JsonHttp
from components.databroker.query import ProductRecord, Query, isoformat

DEFAULT_URL = "https://catalogue.dataspace.copernicus.eu/resto/api/collections/Sentinel5P/search.json"


def resto_params(query: Query, page_size: int) -> dict[str, Any]:
    """Query parameters of a resto search (the first page; later pages follow the ``next`` link)."""
    params: dict[str, Any] = {
        "productType": query.product_type, "startDate": isoformat(query.start),
        "completionDate": isoformat(query.end), "maxRecords": page_size, "page": 1,
        "sortParam": "startDate", "sortOrder": "ascending",
    }
    if not covers_world(query.search_area):
        params["geometry"] = aoi_wkt(query.search_area)
    return params


class OpenSearchCatalogue(PagedCatalogue):
    """Products from a resto ``search.json`` GeoJSON answer, following ``properties.links[rel=next]``."""

    name = "opensearch"

    def __init__(self, http: JsonHttp, url: str = DEFAULT_URL):
        self.http = http
        self.url = url or DEFAULT_URL

    def close(self) -> None:
        self.http.close()

    def pages(self, query: Query) -> Iterator[list[Any]]:
        first = self.http.get(self.url, resto_params(query, self.page_size_for(query)))
        yield from pages_from_links(first, self.http.get, self._next_link, self._items)

    def _next_link(self, body: dict[str, Any]) -> str | None:
        links = (body.get("properties") or {}).get("links") or []
        return next((link.get("href") for link in links if link.get("rel") == "next"), None)

    def _items(self, body: Any) -> list[Any]:
        require(isinstance(body, dict) and body.get("type") == "FeatureCollection"
                and isinstance(body.get("features"), list), self.url, "a resto FeatureCollection")
        return body["features"]

    def records(self, items: list[Any], query: Query) -> list[ProductRecord]:
        footprints = wkts_of_geojson([item.get("geometry") if isinstance(item, dict) else None for item in items])
        return map_items(zip(items, footprints, strict=True), self._record, query, self.name)

    def _record(self, pair: tuple[dict[str, Any], str | None], query: Query) -> ProductRecord:
        feature, footprint = pair
        if footprint is None:
            raise ValueError(f"unreadable geometry {str(feature.get('geometry'))[:80]}")
        props = feature["properties"]
        download = (props.get("services") or {}).get("download") or {}
        identifier = props.get("productIdentifier") or ""
        return ProductRecord._make((
            str(feature["id"]),
            props["title"],
            eodata_href(identifier) if identifier.startswith("/eodata/") else download.get("url", ""),
            parse_stamp(props["startDate"]),
            parse_stamp(props["completionDate"]),
            footprint,
            int(download.get("size") or 0),
            props.get("productType") or query.product_type,
            props.get("collection") or query.collection,
            "",
            self.name,
        ))
