"""Parse and validate what users give as an area of interest and a time window."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime

import shapely
from shapely.geometry.base import BaseGeometry

from components.common.errors import InvalidInput

FORMS = "WKT, GeoJSON or a bbox 'west,south,east,north'"
MAX_CROSSING = 180.0  # degrees of longitude a bbox across the antimeridian may span
_NUMBERS = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([\s,]+[-+]?(\d+\.?\d*|\.\d+))*$")
# What argparse must take as the value of --aoi rather than as an option: a bbox may start with a minus sign.
_NEGATIVE_VALUE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\.?\d[\d.]*(,\s*-?\.?\d[\d.]*)+$")


def parse_aoi(text: str) -> BaseGeometry:
    """A polygon (or multipolygon) in EPSG:4326 from WKT, GeoJSON (geometry, Feature) or a bbox ``W,S,E,N``.

    The one AOI parser of every component, setting and command. Raises ``InvalidInput`` saying what is wrong
    (unparsable, not an area, self-intersecting, a bbox with its numbers out of order...).
    """
    text = text.strip()
    if not text:
        raise InvalidInput(f"AOI is empty: give {FORMS}")
    if text.startswith("{"):
        geom = _from_geojson(text)
    elif _NUMBERS.match(text):
        geom = _from_bbox(text)
    elif not text.isascii():
        # WKT is ASCII; GEOS cuts its message about other text mid-character, and decoding that message fails
        raise InvalidInput("AOI is not valid WKT: it holds non-ASCII characters")
    else:
        try:
            geom = shapely.from_wkt(text)
        except shapely.errors.GEOSException as err:
            raise InvalidInput(f"AOI is not valid WKT ({err}); give {FORMS}") from err
    if geom is None or geom.is_empty:
        raise InvalidInput("AOI is empty")
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        raise InvalidInput(f"AOI must be a Polygon or MultiPolygon, got {geom.geom_type}")
    if not geom.is_valid:
        raise InvalidInput(f"AOI polygon is invalid: {shapely.is_valid_reason(geom)}")
    minx, miny, maxx, maxy = geom.bounds
    if miny < -90 or maxy > 90 or minx < -360 or maxx > 360 or maxx - minx > 360:
        raise InvalidInput(f"AOI is outside lon/lat ranges (longitude -360..360, at most 360 wide; latitude "
                           f"-90..90): west {minx:g}, south {miny:g}, east {maxx:g}, north {maxy:g}")
    return geom


def _from_bbox(text: str) -> BaseGeometry:
    numbers = [float(n) for n in re.split(r"[\s,]+", text) if n]
    if len(numbers) != 4 or "," not in text:
        raise InvalidInput(f"AOI {text!r} has {len(numbers)} number{'s' if len(numbers) != 1 else ''}; a bbox is "
                           "'west,south,east,north' (4 numbers, comma-separated)")
    west, south, east, north = numbers
    if south >= north:
        raise InvalidInput(f"bbox south {south:g} must be less than north {north:g} (a bbox is "
                           "'west,south,east,north')")
    if south < -90 or north > 90:
        raise InvalidInput(f"bbox latitudes must lie within -90..90, got south {south:g}, north {north:g}")
    if west == east:
        raise InvalidInput("bbox has zero width")
    if west > east:
        # crosses the antimeridian: express it with longitudes beyond 180. Wider than a hemisphere, it is far
        # more likely a bbox written east first than a real area.
        if east + 360 - west > MAX_CROSSING:
            raise InvalidInput(
                f"bbox west {west:g} is east of east {east:g}: that would cross the antimeridian and span "
                f"{east + 360 - west:g} degrees of longitude; if you meant {east:g} to {west:g}, give "
                f"'{east:g},{south:g},{west:g},{north:g}' (west,south,east,north); a bbox across the antimeridian "
                f"spans at most {MAX_CROSSING:g} degrees (give WKT for a wider area)")
        east += 360
    return shapely.box(west, south, east, north)


def accept_bbox_values(parser: argparse.ArgumentParser) -> None:
    """Let ``parser`` take a bbox that starts with a minus sign (``--aoi -10,35,5,45``) as an option's value;
    argparse only takes plain negative numbers for values and would read it as an unknown option."""
    parser._negative_number_matcher = _NEGATIVE_VALUE


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
