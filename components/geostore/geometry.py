"""Geometry literals (WKT, GML, GeoJSON, stRDF) to shapely geometries with their CRS, and back.

GeoSPARQL 1.0 §8.5: a ``geo:wktLiteral`` may start with ``<crs-iri>``; without one it is CRS84 (lon, lat).
EPSG:4326 has latitude first, as the standard says. stSPARQL's ``strdf:WKT`` puts the CRS after a ``;``
and Strabon reads EPSG:4326 coordinates as lon, lat: kept so Strabon's queries answer as they did there.
"""

from __future__ import annotations

import functools
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

GEO = "http://www.opengis.net/ont/geosparql#"
STRDF = "http://strdf.di.uoa.gr/ontology#"
WKT = GEO + "wktLiteral"
GML = GEO + "gmlLiteral"
GEOJSON = GEO + "geoJSONLiteral"
KML = GEO + "kmlLiteral"
STRDF_WKT = STRDF + "WKT"
STRDF_GML = STRDF + "GML"
GEOMETRY_DATATYPES = frozenset({WKT, GML, GEOJSON, STRDF_WKT, STRDF_GML})
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = re.compile(r"(?:https?://www\.opengis\.net/def/crs/EPSG/0/|EPSG:|urn:ogc:def:crs:EPSG::?)(\d+)$", re.I)
_GML_NS = "{http://www.opengis.net/gml}"
_GML32_NS = "{http://www.opengis.net/gml/3.2}"


class GeometryError(ValueError):
    """A literal that is not a readable geometry, or a CRS that cannot be used."""


@dataclass(frozen=True)
class Geom:
    """A geometry in the axis order of its CRS (``xy`` = the order shapely computes in)."""

    shape: BaseGeometry
    crs: str = CRS84

    def to(self, crs: str) -> Geom:
        """The same geometry in another CRS (EPSG:4326 kept lat, lon as the standard says)."""
        if crs == self.crs:
            return self
        transform = _transformer(self.crs, crs)
        return Geom(shapely.transform(self.shape, lambda xy: _apply(transform, xy)), crs)

    def crs84(self) -> Geom:
        return self.to(CRS84)


class _Failures(threading.local):
    count = 0
    examples: list[str]

    def __init__(self) -> None:
        self.examples = []


_failures = _Failures()


@contextmanager
def counting_failures() -> Iterator[_Failures]:
    """Count the geometries this thread could not read or transform while the block runs (no silent nulls)."""
    _failures.count = 0
    _failures.examples = []
    yield _failures


def note_failure(what: str) -> None:
    _failures.count += 1
    if len(_failures.examples) < 5:
        _failures.examples.append(what[:200])


def _apply(transform: Transformer, xy: object) -> object:
    import numpy as np

    arr = np.asarray(xy)
    x, y = transform.transform(arr[:, 0], arr[:, 1])
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise GeometryError("coordinates outside the target CRS")
    return np.column_stack([x, y])


def crs_iri(text: str) -> str:
    """The canonical IRI of a CRS name (CRS84, EPSG codes in any usual spelling)."""
    text = text.strip()
    match = _EPSG.match(text)
    if match:
        return f"http://www.opengis.net/def/crs/EPSG/0/{match.group(1)}"
    if text.rstrip("/").endswith("CRS84"):
        return CRS84
    return text


@functools.lru_cache(maxsize=256)
def _pyproj(iri: str) -> CRS:
    if iri == CRS84:
        return CRS.from_user_input("OGC:CRS84")
    match = _EPSG.match(iri)
    if not match:
        raise GeometryError(f"unknown CRS {iri}")
    return CRS.from_epsg(int(match.group(1)))


@functools.lru_cache(maxsize=256)
def _transformer(source: str, target: str) -> Transformer:
    try:
        return Transformer.from_crs(_pyproj(source), _pyproj(target))
    except Exception as err:  # pyproj raises its own CRSError and plain exceptions for unknown codes
        raise GeometryError(f"cannot transform {source} to {target}: {err}") from err


def is_geographic(crs: str) -> bool:
    return bool(_pyproj(crs).is_geographic)


def axis_units(crs: str) -> str:
    """``degree`` or ``metre`` (the unit of the CRS's first axis)."""
    unit = _pyproj(crs).axis_info[0].unit_name.lower()
    return "metre" if unit in ("metre", "meter") else "degree" if "degree" in unit else unit


def parse(value: str, datatype: str) -> Geom:
    """Read one literal; raises ``GeometryError`` naming what is wrong."""
    try:
        if datatype == WKT:
            return _wkt(value)
        if datatype == STRDF_WKT:
            return _strdf(value)
        if datatype in (GML, STRDF_GML):
            return _gml(value)
        if datatype == GEOJSON:
            return Geom(shapely.from_geojson(value), CRS84)
    except (shapely.errors.GEOSException, ValueError, ET.ParseError) as err:
        raise GeometryError(f"not a geometry literal: {value[:80]!r} ({err})") from err
    raise GeometryError(f"not a geometry datatype: {datatype}")


def _wkt(value: str) -> Geom:
    text = value.strip()
    crs = CRS84
    if text.startswith("<"):
        end = text.index(">")
        crs = crs_iri(text[1:end])
        text = text[end + 1:].strip()
    if not text:
        return Geom(shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"), crs)
    return Geom(shapely.from_wkt(text), crs)


def _strdf(value: str) -> Geom:
    text, _, crs = value.partition(";")
    geom = shapely.from_wkt(text.strip())
    if not crs.strip():
        return Geom(geom, CRS84)
    iri = crs_iri(crs)
    # Strabon reads EPSG:4326 as lon, lat
    return Geom(geom, CRS84 if iri.endswith("/EPSG/0/4326") else iri)


def _gml(value: str) -> Geom:
    if not value.strip():
        return Geom(shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"), CRS84)
    root = ET.fromstring(value)
    srs = root.get("srsName")
    crs = crs_iri(srs) if srs else CRS84
    return Geom(_gml_shape(root), crs)


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def _coords(element: ET.Element) -> list[tuple[float, ...]]:
    for child in element.iter():
        name = _local(child.tag)
        if name in ("posList", "pos", "coordinates") and child.text:
            if name == "coordinates":
                return [tuple(float(v) for v in pair.split(",")) for pair in child.text.split()]
            dim = int(child.get("srsDimension") or element.get("srsDimension") or 2)
            numbers = [float(v) for v in child.text.split()]
            return [tuple(numbers[i:i + dim]) for i in range(0, len(numbers), dim)]
    return []


def _rings(element: ET.Element, which: str) -> list[list[tuple[float, ...]]]:
    return [_coords(ring) for ring in element.iter() if _local(ring.tag) == which]


def _gml_shape(element: ET.Element) -> BaseGeometry:
    from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon

    name = _local(element.tag)
    if name == "Point":
        coords = _coords(element)
        return Point(coords[0]) if coords else Point()
    if name in ("LineString", "Curve", "LinearRing"):
        return LineString(_coords(element))
    if name in ("Polygon", "Surface"):
        exterior = _rings(element, "exterior")
        return Polygon(exterior[0], _rings(element, "interior")) if exterior else Polygon()
    members = [child for child in element if _local(child.tag).endswith("Member")
               or _local(child.tag).endswith("Members")]
    parts = [_gml_shape(grand) for member in members for grand in member]
    if name == "MultiPoint":
        return MultiPoint(parts)
    if name in ("MultiCurve", "MultiLineString"):
        return MultiLineString(parts)
    if name in ("MultiSurface", "MultiPolygon"):
        return MultiPolygon(parts)
    if name in ("MultiGeometry",):
        return shapely.GeometryCollection(parts)
    raise GeometryError(f"unsupported GML element {name}")


def to_wkt(geom: Geom) -> str:
    """A ``geo:wktLiteral`` lexical form (the CRS IRI first unless it is CRS84)."""
    text = shapely.to_wkt(geom.shape, rounding_precision=-1, trim=True)
    return text if geom.crs == CRS84 else f"<{geom.crs}> {text}"


def to_geojson(geom: Geom) -> str:
    return str(shapely.to_geojson(geom.crs84().shape))
