"""Parse and validate what users give as an area of interest and a time window."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import shapely
from shapely.geometry.base import BaseGeometry

from components.common.errors import InvalidInput


def parse_aoi(text: str) -> BaseGeometry:
    """A polygon (or multipolygon) in EPSG:4326 from WKT, GeoJSON (geometry, Feature) or a bbox ``W,S,E,N``.

    Raises ``InvalidInput`` saying what is wrong (unparsable, not an area, self-intersecting...).
    """
    text = text.strip()
    if not text:
        raise InvalidInput("AOI is empty: give WKT, GeoJSON or a bbox 'west,south,east,north'")
    if text.startswith("{"):
        geom = _from_geojson(text)
    elif _looks_like_bbox(text):
        geom = _from_bbox(text)
    else:
        try:
            geom = shapely.from_wkt(text)
        except shapely.errors.GEOSException as err:
            raise InvalidInput(f"AOI is not valid WKT: {err}") from err
    if geom is None or geom.is_empty:
        raise InvalidInput("AOI is empty")
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        raise InvalidInput(f"AOI must be a Polygon or MultiPolygon, got {geom.geom_type}")
    if not geom.is_valid:
        raise InvalidInput(f"AOI polygon is invalid: {shapely.is_valid_reason(geom)}")
    minx, miny, maxx, maxy = geom.bounds
    if miny < -90 or maxy > 90 or minx < -180 or maxx > 360:
        raise InvalidInput(f"AOI is outside lon/lat ranges: bounds {geom.bounds}")
    return geom


def _looks_like_bbox(text: str) -> bool:
    parts = text.replace(" ", "").split(",")
    if len(parts) != 4:
        return False
    try:
        [float(p) for p in parts]
    except ValueError:
        return False
    return True


def _from_bbox(text: str) -> BaseGeometry:
    west, south, east, north = (float(p) for p in text.replace(" ", "").split(","))
    if south >= north:
        raise InvalidInput(f"bbox south {south} must be less than north {north}")
    if west == east:
        raise InvalidInput("bbox has zero width")
    if west > east:
        # crosses the antimeridian: express it with longitudes beyond 180
        east += 360
    return shapely.box(west, south, east, north)


def _from_geojson(text: str) -> BaseGeometry:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"AOI is not valid GeoJSON: {err}") from err
    if obj.get("type") == "FeatureCollection":
        features = obj.get("features") or []
        if len(features) != 1:
            raise InvalidInput("AOI FeatureCollection must hold exactly one feature")
        obj = features[0]
    if obj.get("type") == "Feature":
        obj = obj.get("geometry") or {}
    try:
        return shapely.from_geojson(json.dumps(obj))
    except shapely.errors.GEOSException as err:
        raise InvalidInput(f"AOI is not a valid GeoJSON geometry: {err}") from err


def parse_time(text: str, name: str = "time") -> datetime:
    """An aware UTC datetime from ISO 8601 (a date alone means midnight UTC; no zone means UTC)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidInput(f"{name} is not an ISO 8601 date/time: {text!r}") from err
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_window(start: str, end: str) -> tuple[datetime, datetime]:
    """The (start, end) window, checking that end is not before start."""
    begin, finish = parse_time(start, "start"), parse_time(end, "end")
    if finish < begin:
        raise InvalidInput(f"end {isoformat(finish)} is before start {isoformat(begin)}")
    return begin, finish


def isoformat(value: datetime) -> str:
    """ISO 8601 UTC with a Z suffix, milliseconds only when present."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"
