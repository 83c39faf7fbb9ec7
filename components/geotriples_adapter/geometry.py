"""Turn source values into shapely geometries: WKT (optionally CRS-prefixed), GeoJSON, GML and KML elements.

Also the one writer shapely lacks, GML 3 (for ``asGML``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from components.common.errors import InvalidInput
from components.geotriples_adapter.geojson import from_dicts
from components.geotriples_adapter.terms import CRS84

GML32_NS = "http://www.opengis.net/gml/3.2"
_CRS_PREFIX = re.compile(r"\s*<([^>]*)>\s*")
_EPSG = re.compile(r"(?:EPSG(?:/0/|::?|:)|epsg\.xml#)(\d+)", re.IGNORECASE)
_CRS84 = re.compile(r"CRS:?84\Z", re.IGNORECASE)
# GML srsName forms whose coordinates are x/y = longitude/latitude by convention (WFS 1.0, GeoServer), unlike
# EPSG:4326's own latitude/longitude order that the URN and http IRI forms mean
_LEGACY_4326 = re.compile(r"(?:EPSG:4326|http://www\.opengis\.net/gml/srs/epsg\.xml#4326)\Z", re.IGNORECASE)


def epsg_of(crs: str | None) -> int | None:
    """The SRID a CRS IRI/URN/name means: its EPSG code (``.../EPSG/0/4326``, ``EPSG:4326``,
    ``urn:ogc:def:crs:EPSG::4326``), or ``CRS84`` for OGC CRS84 in any of its forms."""
    if not crs:
        return None
    crs = crs.strip()
    if _CRS84.search(crs):
        return CRS84
    match = _EPSG.search(crs)
    return int(match.group(1)) if match else None


def gml_srid(srs_name: str | None) -> int | None:
    """The SRID of a GML ``srsName``; the legacy longitude/latitude forms of EPSG:4326 mean CRS84."""
    if srs_name and _LEGACY_4326.match(srs_name.strip()):
        return CRS84
    return epsg_of(srs_name)


def to_geometry(value: Any) -> BaseGeometry:
    """One geometry from a raw source value; ``InvalidInput`` saying why when it is not one."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, dict):
        try:
            return shape(value)
        except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as err:
            raise InvalidInput(f"not a GeoJSON geometry: {err}") from err
    if isinstance(value, str):
        return _from_text(value)
    if hasattr(value, "tag"):
        return from_xml(value)
    raise InvalidInput(f"cannot read a geometry from {type(value).__name__} {str(value)[:60]!r}")


def _from_text(text: str) -> BaseGeometry:
    srid = None
    match = _CRS_PREFIX.match(text)
    if match:
        srid = epsg_of(match.group(1))
        text = text[match.end():]
    text = text.strip()
    try:
        geom = shapely.from_geojson(text) if text.startswith("{") else shapely.from_wkt(text)
    except shapely.errors.GEOSException as err:
        raise InvalidInput(f"not a WKT/GeoJSON geometry: {err}") from err
    if geom is None:
        raise InvalidInput("empty geometry text")
    if srid:
        geom = shapely.set_srid(geom, srid)
    return geom


def point(x: Any, y: Any) -> BaseGeometry:
    """A point from longitude/x and latitude/y values."""
    try:
        return shapely.Point(float(x), float(y))
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"not a coordinate pair: {x!r}, {y!r}") from err


def coerce(values: list[Any]) -> tuple[np.ndarray, list[str | None]]:
    """Geometries for a column of raw values (None stays None) and, per value, why it is invalid (or None)."""
    if values and all(isinstance(v, str) and v[:1].isalpha() for v in values):
        try:
            geoms = shapely.from_wkt(values)
        except shapely.errors.GEOSException:
            pass
        else:
            return geoms, _reasons(geoms)
    if values and any(type(v) is dict for v in values):
        built = from_dicts(values)
        if built is not None:
            return built, _reasons(built)
    if values and all(type(v) is dict for v in values):
        try:
            geoms = shapely.from_geojson([json.dumps(v) for v in values])
        except (shapely.errors.GEOSException, TypeError, ValueError):
            pass
        else:
            return geoms, _reasons(geoms)
    out = np.empty(len(values), dtype=object)
    problems: list[str | None] = [None] * len(values)
    for i, value in enumerate(values):
        if value is None:
            continue
        try:
            out[i] = to_geometry(value)
        except InvalidInput as err:
            problems[i] = str(err)
    reasons = _reasons(out)
    return out, [p or r for p, r in zip(problems, reasons, strict=True)]


def _reasons(geoms: np.ndarray) -> list[str | None]:
    present = np.array([g is not None for g in geoms], dtype=bool)
    valid = shapely.is_valid(geoms)
    if bool(np.all(valid | ~present)):
        return [None] * len(geoms)
    bad = shapely.is_valid_reason(geoms)
    return [None if (ok or not here) else str(reason) for ok, here, reason in zip(valid, present, bad, strict=True)]


# ---- GML and KML ----------------------------------------------------------------------------------------------

def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _coords(element: Any, dims: int) -> list[tuple[float, ...]]:
    """Coordinates of gml:posList / gml:pos / gml:coordinates / kml:coordinates children of ``element``."""
    points: list[tuple[float, ...]] = []
    for child in element.iter():
        name = _local(child.tag)
        text = (child.text or "").strip()
        if name == "posList":
            numbers = [float(n) for n in text.split()]
            d = int(child.get("srsDimension") or child.get("dimension") or dims)
            points.extend(tuple(numbers[i:i + d]) for i in range(0, len(numbers), d))
        elif name == "pos":
            points.append(tuple(float(n) for n in text.split()))
        elif name == "coordinates":
            points.extend(tuple(float(n) for n in tup.split(",")) for tup in text.split())
    return points


def from_xml(element: Any) -> BaseGeometry:
    """A GML (2, 3, 3.2) or KML geometry element, or an element that contains one."""
    try:
        geom = _xml_geometry(element)
    except (ValueError, IndexError, shapely.errors.GEOSException) as err:
        raise InvalidInput(f"invalid {_local(element.tag)} geometry: {err}") from err
    if geom is None:
        raise InvalidInput(f"no geometry in element {_local(element.tag)}")
    srid = gml_srid(element.get("srsName"))
    return shapely.set_srid(geom, srid) if srid else geom


_SIMPLE = {"Point", "LineString", "LinearRing", "Polygon", "Envelope", "Box", "Curve", "Surface"}
_MULTI = {"MultiPoint", "MultiLineString", "MultiCurve", "MultiPolygon", "MultiSurface", "MultiGeometry",
          "GeometryCollection"}


def _xml_geometry(element: Any) -> BaseGeometry | None:
    name = _local(element.tag)
    dims = int(element.get("srsDimension") or 2)
    if name == "Point":
        return shapely.Point(_coords(element, dims)[0])
    if name in {"LineString", "Curve", "LinearRing"}:
        return shapely.LineString(_coords(element, dims))
    if name in {"Envelope", "Box"}:
        (x1, y1, *_), (x2, y2, *_) = _corners(element, dims)
        return shapely.box(x1, y1, x2, y2)
    if name in {"Polygon", "Surface"}:
        outer, inner = [], []
        for child in element.iter():
            local = _local(child.tag)
            if local in {"exterior", "outerBoundaryIs"}:
                outer = _coords(child, dims)
            elif local in {"interior", "innerBoundaryIs"}:
                inner.append(_coords(child, dims))
        return shapely.Polygon(outer, inner)
    if name in _MULTI:
        parts = [g for g in (_xml_geometry(c) for c in _members(element)) if g is not None]
        kinds = {p.geom_type for p in parts}
        if kinds == {"Point"} and name != "MultiGeometry":
            return shapely.MultiPoint(parts)
        if kinds == {"LineString"} and name != "MultiGeometry":
            return shapely.MultiLineString(parts)
        if kinds == {"Polygon"} and name != "MultiGeometry":
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts)
    for child in element:
        if hasattr(child, "tag") and isinstance(child.tag, str):
            found = _xml_geometry(child)
            if found is not None:
                return found
    return None


def _members(element: Any) -> list[Any]:
    members = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if _local(child.tag) in _SIMPLE | _MULTI:
            members.append(child)
        else:
            members.extend(c for c in child if isinstance(c.tag, str))
    return members


def _corners(element: Any, dims: int) -> list[tuple[float, ...]]:
    corners = []
    for child in element:
        if _local(child.tag) in {"lowerCorner", "upperCorner"}:
            corners.append(tuple(float(n) for n in (child.text or "").split()))
    return corners or _coords(element, dims)


def to_gml(geom: BaseGeometry, srs: str | None) -> str:
    """GML 3.2 text of a geometry, on one line."""
    attr = f' srsName="{srs}"' if srs else ""
    return _gml(geom, attr)


def _pos_list(coords: Any) -> str:
    return " ".join(" ".join(repr(float(c)) for c in xy) for xy in coords)


def _gml(geom: BaseGeometry, attr: str) -> str:
    kind = geom.geom_type
    if kind == "Point":
        if geom.is_empty:
            return f"<gml:Point{attr}/>"
        return f"<gml:Point{attr}><gml:pos>{_pos_list(geom.coords)}</gml:pos></gml:Point>"
    if kind in {"LineString", "LinearRing"}:
        return f"<gml:LineString{attr}><gml:posList>{_pos_list(geom.coords)}</gml:posList></gml:LineString>"
    if kind == "Polygon":
        rings = f"<gml:exterior><gml:LinearRing><gml:posList>{_pos_list(geom.exterior.coords)}</gml:posList>" \
                "</gml:LinearRing></gml:exterior>"
        for ring in geom.interiors:
            rings += f"<gml:interior><gml:LinearRing><gml:posList>{_pos_list(ring.coords)}</gml:posList>" \
                     "</gml:LinearRing></gml:interior>"
        return f"<gml:Polygon{attr}>{rings}</gml:Polygon>"
    tags = {"MultiPoint": ("MultiPoint", "pointMember"), "MultiLineString": ("MultiCurve", "curveMember"),
            "MultiPolygon": ("MultiSurface", "surfaceMember")}
    tag, member = tags.get(kind, ("MultiGeometry", "geometryMember"))
    inner = "".join(f"<gml:{member}>{_gml(g, '')}</gml:{member}>" for g in geom.geoms)
    return f"<gml:{tag}{attr}>{inner}</gml:{tag}>"


def gml_literal(geom: BaseGeometry, srs: str | None) -> str:
    """``to_gml`` with the GML namespace declared on the root element, as a gmlLiteral needs."""
    text = to_gml(geom, srs)
    end = text.index(">") if not text.endswith("/>") or text.count("<") > 1 else len(text) - 2
    return text[:end] + f' xmlns:gml="{GML32_NS}"' + text[end:]
