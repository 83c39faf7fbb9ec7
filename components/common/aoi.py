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
    elif not text.isascii():
        # WKT is ASCII; GEOS cuts its message about other text mid-character, and decoding that message fails
        raise InvalidInput("AOI is not valid WKT: it holds non-ASCII characters")
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
    if miny < -90 or maxy > 90 or minx < -360 or maxx > 360 or maxx - minx > 360:
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
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features") or []
        if not isinstance(features, list) or len(features) != 1:
            raise InvalidInput("AOI FeatureCollection must hold exactly one feature")
        obj = features[0]
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry") or {}
    if not isinstance(obj, dict) or "type" not in obj:
        raise InvalidInput("AOI GeoJSON must be a geometry, a Feature or a FeatureCollection of one Feature")
    try:
        return shapely.from_geojson(json.dumps(obj))
    except shapely.errors.GEOSException as err:
        raise InvalidInput(f"AOI is not a valid GeoJSON geometry: {err}") from err


def split_antimeridian(geom: BaseGeometry) -> BaseGeometry:
    """The same area with every part inside longitudes [-180, 180]: parts beyond are cut and shifted by 360.

    ``parse_aoi`` accepts AOIs that cross the antimeridian written with longitudes beyond 180 (a bbox with
    west > east becomes one); catalogues and footprint tests need the split form.
    """
    minx, _, maxx, _ = geom.bounds
    if minx >= -180 and maxx <= 180:
        return geom
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        window = shapely.box(-180 + shift, -90, 180 + shift, 90)
        part = shapely.intersection(geom, window)
        if not part.is_empty:
            parts.append(shapely.transform(part, lambda xy, dx=shift: xy - [dx, 0]))
    merged = shapely.union_all(parts)
    polygons = [g for g in getattr(merged, "geoms", [merged]) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]


def parse_time(text: str, name: str = "time") -> datetime:
    """An aware UTC datetime from ISO 8601 (a date alone means midnight UTC; no zone means UTC)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidInput(f"{name} is not an ISO 8601 date/time: {text!r}") from err
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as err:  # e.g. 9999-12-31T23:59:59-23:59 is in year 10000 in UTC
        raise InvalidInput(f"{name} is outside the years 1 to 9999 in UTC: {text!r}") from err


def parse_window(start: str, end: str) -> tuple[datetime, datetime]:
    """The (start, end) window, checking that end is not before start."""
    begin, finish = parse_time(start, "start"), parse_time(end, "end")
    if finish < begin:
        raise InvalidInput(f"end {isoformat(finish)} is before start {isoformat(begin)}")
    return begin, finish


def isoformat(value: datetime) -> str:
    """ISO 8601 UTC with a Z suffix, milliseconds only when present."""
    value = value.astimezone(UTC)
    text = value.replace(tzinfo=None, microsecond=0).isoformat()  # strftime's %Y writes year 1 as "1"
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"
