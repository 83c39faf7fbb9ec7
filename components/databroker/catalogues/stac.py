"""Any STAC API, through pystac-client (item search with ``intersects`` and ``datetime``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from urllib3.util.retry import Retry

from components.common.errors import Ai4copError, InvalidInput, PermissionDenied, Unavailable
from components.databroker.catalogues.base import PagedCatalogue
from components.databroker.catalogues.common import covers_world, map_items, parse_stamp, wkts_of_geojson
from components.databroker.http import Credentials, HttpPolicy, one_line, use_credentials
from components.databroker.query import ProductRecord, Query, isoformat

DEFAULT_URL = "https://stac.dataspace.copernicus.eu/v1"
_TRANSIENT = (429, 500, 502, 503, 504)
_DATA_ROLES = ("data", "product")
_TYPE_KEYS = ("product:type", "s5p:product_type", "sentinel:product_type", "productType")


class StacCatalogue(PagedCatalogue):
    """Item search of a STAC API; pages stream through pystac-client's own paging."""

    name = "stac"

    def __init__(self, url: str = DEFAULT_URL, policy: HttpPolicy | None = None,
                 credentials: Credentials | None = None):
        self.url = url or DEFAULT_URL
        self.policy = policy or HttpPolicy()
        self.credentials = credentials
        self._client: Any = None

    def _open(self) -> Any:
        from pystac_client import Client
        from pystac_client.stac_api_io import StacApiIO

        if self._client is None:
            retry = Retry(total=self.policy.retries, backoff_factor=self.policy.backoff,
                          backoff_max=self.policy.backoff_cap, status_forcelist=_TRANSIENT, allowed_methods=None,
                          respect_retry_after_header=True, raise_on_status=False)
            io = StacApiIO(timeout=self.policy.timeout, max_retries=retry)
            # pystac-client follows next links to any host and logs each request's headers at debug level
            use_credentials(io.session, self.credentials, max_retries=retry)
            self._client = _mapped(lambda: Client.open(self.url, stac_io=io), self.url)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client._stac_io.session.close()

    def pages(self, query: Query) -> Iterator[list[Any]]:
        client = self._open()
        search = client.search(
            collections=[query.collection], datetime=(isoformat(query.start), isoformat(query.end)),
            intersects=None if covers_world(query.search_area) else query.search_area.__geo_interface__,
            limit=self.page_size_for(query),
        )
        pages = _mapped(search.pages_as_dicts, self.url)
        while True:
            page = _mapped(lambda: next(pages, None), self.url)
            if page is None:
                return
            yield page.get("features") or []

    def records(self, items: list[Any], query: Query) -> list[ProductRecord]:
        footprints = wkts_of_geojson([item.get("geometry") if isinstance(item, dict) else None for item in items])
        return map_items(zip(items, footprints, strict=True), self._record, query, self.name)

    def record_filter(self, query: Query) -> Callable[[ProductRecord], bool] | None:
        """STAC item search has no portable product-type filter: match it here."""
        wanted = ("", query.product_type)
        mode = super().record_filter(query)
        if mode is None:
            return lambda record: record.product_type in wanted
        return lambda record: record.product_type in wanted and mode(record)

    def _record(self, pair: tuple[dict[str, Any], str | None], query: Query) -> ProductRecord:
        item, footprint = pair
        if footprint is None:
            raise ValueError(f"unreadable geometry {str(item.get('geometry'))[:80]}")
        props = item["properties"]
        start = props.get("start_datetime") or props["datetime"]
        end = props.get("end_datetime") or props["datetime"]
        asset = _data_asset(item.get("assets") or {})
        product_type = next((str(props[key]) for key in _TYPE_KEYS if props.get(key)), "")
        if not product_type and query.product_type in item["id"]:
            product_type = query.product_type
        return ProductRecord._make((
            item["id"],
            props.get("title") or item["id"],
            asset.get("href", ""),
            parse_stamp(start),
            parse_stamp(end),
            footprint,
            int(asset.get("file:size") or 0),
            product_type,
            item.get("collection") or query.collection,
            str(asset.get("file:checksum") or ""),
            self.name,
        ))


def _data_asset(assets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    for asset in assets.values():
        if any(role in _DATA_ROLES for role in asset.get("roles") or []):
            return asset
    for key in _DATA_ROLES:
        if key in assets:
            return assets[key]
    return next(iter(assets.values()), {})


def _mapped(call: Any, url: str) -> Any:
    """Run a pystac-client call, turning its errors into the domain's (one place for this backend)."""
    from pystac_client.exceptions import APIError

    try:
        return call()
    except Ai4copError:
        raise
    except APIError as err:
        status = getattr(err, "status_code", None)
        message = one_line(str(err)) or type(err).__name__
        if status is None or status in _TRANSIENT:
            raise Unavailable(f"STAC API {url} failed: {message}") from err
        if status in (401, 403):
            raise PermissionDenied(f"STAC API {url} answered HTTP {status}: {message}") from err
        raise InvalidInput(f"STAC API {url} answered HTTP {status}: {message}") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidInput(f"{url} did not answer JSON: {one_line(str(err))}; is it a STAC API URL?") from err
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidInput(f"{url} is not a STAC API ({type(err).__name__}: {one_line(str(err))})") from err
