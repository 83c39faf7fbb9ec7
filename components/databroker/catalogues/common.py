"""Small helpers shared by the backends: timestamps, footprints, ``/eodata`` paths."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from components.common.errors import InvalidInput
from components.databroker.query import ProductRecord, Query

logger = logging.getLogger(__name__)

_FRACTION = re.compile(r"(\.\d{6})\d+")
WORLD = shapely.box(-180, -90, 180, 90)


def parse_stamp(text: str) -> datetime:
    """An aware UTC datetime from a catalogue's ISO 8601 stamp (nanosecond fractions tolerated)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00"))
    zone = value.tzinfo
    if zone is UTC:
        return value
    return value.replace(tzinfo=UTC) if zone is None else value.astimezone(UTC)


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


def wkts_of_geojson(geometries: Sequence[dict[str, Any] | None]) -> list[str | None]:
    """``wkt_of_geojson`` of a whole page of geometries; ``None`` for one that cannot be read.

    One GEOS call per geometry type instead of one shapely object per product: about ten times faster,
    with the same checks and the same text. Polygons and multipolygons (all footprints) go in a batch;
    anything else, or a batch GEOS refuses, is converted one by one to find the unreadable geometry.
    """
    wkts: list[str | None] = [""] * len(geometries)
    batches: dict[str, list[int]] = {"Polygon": [], "MultiPolygon": []}
    for index, geometry in enumerate(geometries):
        if not geometry:
            continue
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        if kind in batches:
            batches[kind].append(index)
        else:
            wkts[index] = _wkt_or_none(geometry)
    for kind, indexes in batches.items():
        if not indexes:
            continue
        try:
            texts = _batch_wkt(kind, [geometries[i]["coordinates"] for i in indexes])  # type: ignore[index]
        except (KeyError, TypeError, ValueError, shapely.errors.GEOSException):
            texts = [_wkt_or_none(geometries[i]) for i in indexes]
        for index, text in zip(indexes, texts, strict=True):
            wkts[index] = text
    return wkts


def _batch_wkt(kind: str, coordinates: list[Any]) -> list[str | None]:
    polygons = coordinates if kind == "Polygon" else [polygon for multi in coordinates for polygon in multi]
    rings = [ring for polygon in polygons for ring in polygon]
    positions = [position for ring in rings for position in ring]
    if set(map(len, positions)) != {2}:
        raise ValueError("not all positions are 2D")  # 3D, or malformed: converted one by one
    # fromiter over the flat numbers is twice as fast as asarray over the nested lists
    points = np.fromiter(chain.from_iterable(positions), float, 2 * len(positions)).reshape(-1, 2)
    offsets = [np.cumsum([0] + [len(ring) for ring in rings]), np.cumsum([0] + [len(p) for p in polygons])]
    if kind == "MultiPolygon":
        offsets.append(np.cumsum([0] + [len(multi) for multi in coordinates]))
    geometries = shapely.from_ragged_array(shapely.GeometryType[kind.upper()], points, tuple(offsets))
    return list(shapely.to_wkt(geometries, rounding_precision=-1))


def _wkt_or_none(geometry: Any) -> str | None:
    try:
        return wkt_of_geojson(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as err:
        logger.debug("unreadable GeoJSON geometry (%s: %s)", type(err).__name__, err)
        return None


def eodata_href(path: str) -> str:
    """``s3://eodata/...`` for a CDSE/CREODIAS ``/eodata/...`` path."""
    return "s3://" + path.lstrip("/")


def covers_world(geometry: Any) -> bool:
    return bool(geometry.covers(WORLD))


def aoi_wkt(geometry: Any) -> str:
    return str(shapely.to_wkt(geometry, rounding_precision=6, trim=True))


def map_items(items: Iterable[Any], convert: Callable[[Any, Query], ProductRecord], query: Query,
              where: str) -> list[ProductRecord]:
    """``convert(item, query)`` for a page's raw items; an item the catalogue left incomplete is logged and skipped."""
    records: list[ProductRecord] = []
    append = records.append
    for item in items:
        try:
            append(convert(item, query))
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as err:
            logger.warning("%s: skipping a product that cannot be read (%s: %s)", where, type(err).__name__, err)
    return records


def require(condition: bool, url: str, what: str) -> None:
    """Fail with a clear message when a JSON answer is not the API response we expected."""
    if not condition:
        raise InvalidInput(f"{url} answered JSON that is not {what}; is it the right catalogue URL?")


def pages_from_links(first: Any, fetch_next: Callable[[str], Any], next_link: Callable[[Any], str | None],
                     items_of: Callable[[Any], list[Any]]) -> Iterator[list[Any]]:
    """Follow ``next`` links lazily from a first answer, yielding each answer's raw items.

    A next link already followed would only repeat a page, which ends paging (as a repeated page does).
    """
    body = first
    seen_links: set[str] = set()
    while True:
        yield items_of(body)
        link = next_link(body)
        if not link:
            return
        if link in seen_links:
            logger.warning("catalogue sent a next link it sent before; paging ends: %s", link)
            return
        seen_links.add(link)
        body = fetch_next(link)
