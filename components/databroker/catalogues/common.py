"""Small helpers shared by the backends: timestamps, footprints, ``/eodata`` paths."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry import shape

from components.common.errors import InvalidInput, UpstreamError
from components.databroker.query import ProductRecord

logger = logging.getLogger(__name__)

_FRACTION = re.compile(r"(\.\d{6})\d+")
WORLD = shapely.box(-180, -90, 180, 90)


def parse_stamp(text: str) -> datetime:
    """An aware UTC datetime from a catalogue's ISO 8601 stamp (nanosecond fractions tolerated)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def odata_time(value: datetime) -> str:
    """OData literal of a UTC instant (millisecond precision, as CDSE documents it)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def wkt_of_ewkt(text: str) -> str:
    """``POLYGON (...)`` out of CDSE's ``geography'SRID=4326;POLYGON (...)'`` (or plain WKT)."""
    if text.startswith("geography'") and text.endswith("'"):
        body = text[10:-1]
        return body[body.index(";") + 1:] if body.startswith("SRID=") else body
    return text.strip()


def wkt_of_geojson(geometry: dict[str, Any] | None) -> str:
    return str(shape(geometry).wkt) if geometry else ""


def eodata_href(path: str) -> str:
    """``s3://eodata/...`` for a CDSE/CREODIAS ``/eodata/...`` path."""
    return "s3://" + path.lstrip("/")


def covers_world(geometry: Any) -> bool:
    return bool(geometry.covers(WORLD))


def aoi_wkt(geometry: Any) -> str:
    return str(shapely.to_wkt(geometry, rounding_precision=6, trim=True))


def map_items(items: Iterable[Any], convert: Callable[[Any], ProductRecord], where: str) -> list[ProductRecord]:
    """Convert a page's raw items; an item the catalogue left incomplete is logged and skipped."""
    records = []
    for item in items:
        try:
            records.append(convert(item))
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as err:
            logger.warning("%s: skipping a product that cannot be read (%s: %s)", where, type(err).__name__, err)
    return records


def require(condition: bool, url: str, what: str) -> None:
    """Fail with a clear message when a JSON answer is not the API response we expected."""
    if not condition:
        raise InvalidInput(f"{url} answered JSON that is not {what}; is it the right catalogue URL?")


def pages_from_links(first: Any, fetch_next: Callable[[str], Any], next_link: Callable[[Any], str | None],
                     items_of: Callable[[Any], list[ProductRecord]]) -> Iterator[list[ProductRecord]]:
    """Follow ``next`` links lazily from a first answer, yielding converted pages."""
    body = first
    seen_links: set[str] = set()
    while True:
        yield items_of(body)
        link = next_link(body)
        if not link:
            return
        if link in seen_links:
            raise UpstreamError(f"catalogue sent the same next link twice: {link}")
        seen_links.add(link)
        body = fetch_next(link)
