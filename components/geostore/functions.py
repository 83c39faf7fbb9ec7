"""GeoSPARQL 1.0/1.1 and stSPARQL functions as pyoxigraph ``custom_functions`` (they override the native ones).

A function returns ``None`` for an error (SPARQL's semantics: the FILTER is false); every literal that could not
be read or transformed is also counted (``geometry.note_failure``) so the query can report it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from pyoxigraph import Literal, NamedNode
from pyproj import Geod
from shapely.ops import nearest_points

from components.geostore.geometry import (
    CRS84,
    GEO,
    GEOJSON,
    GEOMETRY_DATATYPES,
    STRDF,
    WKT,
    Geom,
    GeometryError,
    axis_units,
    crs_iri,
    is_geographic,
    note_failure,
    parse,
    to_geojson,
    to_wkt,
)

GEOF = "http://www.opengis.net/def/function/geosparql/"
UOM = "http://www.opengis.net/def/uom/OGC/1.0/"
XSD = "http://www.w3.org/2001/XMLSchema#"
_GEOD = Geod(ellps="WGS84")
Term = object
Function = Callable[..., Any]

# DE-9IM patterns of GeoSPARQL 1.0 tables 7-9 (Egenhofer and RCC8 relations)
EH: dict[str, str | tuple[str, ...]] = {
    "ehEquals": "TFFFTFFFT", "ehDisjoint": "FF*FF****", "ehMeet": ("FT*******", "F**T*****", "F***T****"),
    "ehOverlap": "T*T***T**", "ehCovers": "T*TFT*FF*", "ehCoveredBy": "TFF*TFT**", "ehInside": "TFF*FFT**",
    "ehContains": "T*TFF*FF*"}
RCC8: dict[str, str | tuple[str, ...]] = {
    "rcc8eq": "TFFFTFFFT", "rcc8dc": "FFTFFTTTT", "rcc8ec": "FFTFTTTTT", "rcc8po": "TTTTTTTTT",
    "rcc8tppi": "TTTFTTFFT", "rcc8tpp": "TFFTTFTTT", "rcc8ntpp": "TFFTFFTTT", "rcc8ntppi": "TTTFFTFFT"}
SF: dict[str, Callable[[object, object], Any]] = {
    "sfEquals": shapely.equals, "sfDisjoint": shapely.disjoint, "sfIntersects": shapely.intersects,
    "sfTouches": shapely.touches, "sfCrosses": shapely.crosses, "sfWithin": shapely.within,
    "sfContains": shapely.contains, "sfOverlaps": shapely.overlaps,
}
# the topological relations (simple features, Egenhofer, RCC8) by local name
RELATIONS: dict[str, Callable[[object, object], Any]] = dict(SF)


def _pattern_relation(patterns: str | tuple[str, ...]) -> Callable[[object, object], Any]:
    """A DE-9IM relation that works on single geometries and element-wise on arrays (the planner refines so)."""
    alternatives = (patterns,) if isinstance(patterns, str) else patterns
    return lambda a, b: functools.reduce(np.logical_or, [shapely.relate_pattern(a, b, p) for p in alternatives])


for _name, _patterns in (*EH.items(), *RCC8.items()):
    RELATIONS[_name] = _pattern_relation(_patterns)


def boolean(value: bool) -> Literal:
    return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))


def double(value: float) -> Literal | None:
    return Literal(repr(float(value)), datatype=NamedNode(XSD + "double")) if math.isfinite(value) else None


def integer(value: int) -> Literal:
    return Literal(str(int(value)), datatype=NamedNode(XSD + "integer"))


def wkt(geom: Geom) -> Literal:
    return Literal(to_wkt(geom), datatype=NamedNode(WKT))


def geometry(term: Term) -> Geom | None:
    """The geometry of a literal term, or ``None`` (counted) when it is not one we can read."""
    if not isinstance(term, Literal):
        return None
    datatype = term.datatype.value
    if datatype not in GEOMETRY_DATATYPES:
        note_failure(f"not a geometry literal: {term.value} ^^{datatype}")
        return None
    try:
        return parse(term.value, datatype)
    except GeometryError as err:
        note_failure(str(err))
        return None


def _pair(a: Term, b: Term) -> tuple[Geom, Geom] | None:
    ga, gb = geometry(a), geometry(b)
    if ga is None or gb is None:
        return None
    try:
        return (ga, gb) if ga.crs == gb.crs else (ga.crs84(), gb.crs84())
    except GeometryError as err:
        note_failure(str(err))
        return None


def relation(test: Callable[[object, object], Any]) -> Function:
    def evaluate(a: Term, b: Term) -> Literal | None:
        pair = _pair(a, b)
        if pair is None:
            return None
        try:
            return boolean(bool(test(pair[0].shape, pair[1].shape)))
        except shapely.errors.GEOSException:
            return None
    return evaluate


def _relate(a: Term, b: Term, pattern: Term) -> Literal | None:
    pair = _pair(a, b)
    if pair is None or not isinstance(pattern, Literal):
        return None
    try:
        return boolean(bool(shapely.relate_pattern(pair[0].shape, pair[1].shape, pattern.value)))
    except shapely.errors.GEOSException:
        return None


def _unit(term: Term | None) -> str:
    if term is None:
        return ""
    name = term.value if isinstance(term, (NamedNode, Literal)) else str(term)
    return name.rsplit("/", 1)[-1].lower().replace("meter", "metre").replace("degrees", "degree")


def _geodesic_distance(a: Geom, b: Geom) -> float:
    sa, sb = a.crs84().shape, b.crs84().shape
    if shapely.intersects(sa, sb):
        return 0.0
    pa, pb = nearest_points(sa, sb)
    return float(_GEOD.inv(pa.x, pa.y, pb.x, pb.y)[2])


def _distance(a: Term, b: Term, unit: Term | None = None) -> Literal | None:
    pair = _pair(a, b)
    if pair is None:
        return None
    ga, gb = pair
    wanted = _unit(unit) or axis_units(ga.crs)
    if wanted == "metre" and is_geographic(ga.crs):
        return double(_geodesic_distance(ga, gb))
    if wanted == "degree" and not is_geographic(ga.crs):
        ga, gb = ga.crs84(), gb.crs84()
    if wanted in ("metre", "degree", "radian"):
        value = float(shapely.distance(ga.shape, gb.shape))
        return double(math.radians(value) if wanted == "radian" else value)
    return None


def _metric_buffer(geom: Geom, metres: float) -> Geom:
    centre = geom.crs84().shape.centroid
    local = f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m"
    from pyproj import Transformer

    forward = Transformer.from_crs("OGC:CRS84", local, always_xy=True)
    back = Transformer.from_crs(local, "OGC:CRS84", always_xy=True)
    shape = shapely.transform(geom.crs84().shape, lambda xy: _xy(forward, xy)).buffer(metres)
    return Geom(shapely.transform(shape, lambda xy: _xy(back, xy)), CRS84).to(geom.crs)


def _xy(transformer: object, xy: object) -> object:
    import numpy as np

    arr = np.asarray(xy)
    x, y = transformer.transform(arr[:, 0], arr[:, 1])  # type: ignore[attr-defined]
    return np.column_stack([x, y])


def _buffer(a: Term, radius: Term, unit: Term | None = None) -> Literal | None:
    geom = geometry(a)
    if geom is None or not isinstance(radius, Literal):
        return None
    try:
        distance = float(radius.value)
    except ValueError:
        return None
    wanted = _unit(unit) or axis_units(geom.crs)
    if wanted == "metre" and is_geographic(geom.crs):
        return wkt(_metric_buffer(geom, distance))
    if wanted in ("metre", "degree"):
        return wkt(Geom(geom.shape.buffer(distance), geom.crs))
    return None


def unary(op: Callable[[Geom], Literal | None]) -> Function:
    def evaluate(a: Term) -> Literal | None:
        geom = geometry(a)
        if geom is None:
            return None
        try:
            return op(geom)
        except (shapely.errors.GEOSException, GeometryError, ValueError) as err:
            note_failure(str(err))
            return None
    return evaluate


def binary(op: Callable[[object, object], object]) -> Function:
    def evaluate(a: Term, b: Term) -> Literal | None:
        pair = _pair(a, b)
        if pair is None:
            return None
        try:
            return wkt(Geom(shapely.set_precision(op(pair[0].shape, pair[1].shape), 0), pair[0].crs))
        except shapely.errors.GEOSException:
            return None
    return evaluate


def _dimension(geom: Geom) -> Literal:
    return integer(-1 if geom.shape.is_empty else shapely.get_dimensions(geom.shape))


def _coordinate_dimension(geom: Geom) -> Literal:
    return integer(shapely.get_coordinate_dimension(geom.shape))


def _transform(a: Term, crs: Term) -> Literal | None:
    geom = geometry(a)
    if geom is None or not isinstance(crs, (NamedNode, Literal)):
        return None
    try:
        return wkt(geom.to(crs_iri(crs.value)))
    except GeometryError as err:
        note_failure(str(err))
        return None


def _metric_area(geom: Geom) -> Literal | None:
    area, _ = _GEOD.geometry_area_perimeter(geom.crs84().shape)
    return double(abs(area))


def _metric_length(geom: Geom) -> Literal | None:
    return double(_GEOD.geometry_length(geom.crs84().shape))


def _bounds(index: int) -> Callable[[Geom], Literal | None]:
    return lambda geom: None if geom.shape.is_empty else double(geom.shape.bounds[index])


UNARY: dict[str, Callable[[Geom], Literal | None]] = {
    "convexHull": lambda g: wkt(Geom(g.shape.convex_hull, g.crs)),
    "envelope": lambda g: wkt(Geom(g.shape.envelope, g.crs)),
    "boundary": lambda g: wkt(Geom(g.shape.boundary, g.crs)),
    "centroid": lambda g: wkt(Geom(g.shape.centroid, g.crs)),
    "getSRID": lambda g: Literal(g.crs, datatype=NamedNode(XSD + "anyURI")),
    "asWKT": wkt, "asText": lambda g: Literal(to_wkt(g)),
    "asGeoJSON": lambda g: Literal(to_geojson(g), datatype=NamedNode(GEOJSON)),
    "dimension": _dimension, "spatialDimension": _dimension, "coordinateDimension": _coordinate_dimension,
    "isEmpty": lambda g: boolean(g.shape.is_empty), "isSimple": lambda g: boolean(g.shape.is_simple),
    "is3D": lambda g: boolean(g.shape.has_z), "isMeasured": lambda g: boolean(False),
    "numGeometries": lambda g: integer(shapely.get_num_geometries(g.shape)),
    "area": lambda g: _metric_area(g) if is_geographic(g.crs) else double(g.shape.area),
    "length": lambda g: _metric_length(g) if is_geographic(g.crs) else double(g.shape.length),
    "metricArea": _metric_area, "metricLength": _metric_length,
    "minX": _bounds(0), "minY": _bounds(1), "maxX": _bounds(2), "maxY": _bounds(3),
}
BINARY = {"intersection": shapely.intersection, "union": shapely.union, "difference": shapely.difference,
          "symDifference": shapely.symmetric_difference}


def _metric_distance(a: Term, b: Term) -> Literal | None:
    return _distance(a, b, NamedNode(UOM + "metre"))


def _metric_buffer_fn(a: Term, radius: Term) -> Literal | None:
    return _buffer(a, radius, NamedNode(UOM + "metre"))


def _strdf_functions() -> dict[str, Function]:
    """stSPARQL's names (Strabon) for the same operations."""
    names = {"contains": "sfContains", "within": "sfWithin", "intersects": "sfIntersects", "touches": "sfTouches",
             "crosses": "sfCrosses", "overlaps": "sfOverlaps", "equals": "sfEquals", "disjoint": "sfDisjoint",
             "mbbIntersects": None}
    table: dict[str, Function] = {name: relation(RELATIONS[target]) for name, target in names.items() if target}
    table["mbbIntersects"] = relation(lambda a, b: shapely.intersects(shapely.envelope(a), shapely.envelope(b)))
    table["relate"] = _relate
    table["distance"] = _distance
    table["buffer"] = _buffer
    for name, op in UNARY.items():
        table[name] = unary(op)
    for name, op in BINARY.items():
        table[name] = binary(op)
    table["transform"] = _transform
    return table


def _guarded(fn: Function) -> Function:
    """An unexpected failure inside a function is a SPARQL error (unbound), counted, never a crashed query."""
    @functools.wraps(fn)
    def call(*args: Term) -> Any:
        try:
            return fn(*args)
        except Exception as err:  # shapely, pyproj and numpy raise many types; all mean "no value" here
            note_failure(f"{getattr(fn, '__name__', 'function')}: {type(err).__name__}: {err}")
            return None
    return call


def functions() -> dict[NamedNode, Function]:
    """Every function this store evaluates, keyed by IRI, ready for ``custom_functions``."""
    return {iri: _guarded(fn) for iri, fn in _table().items()}


def _table() -> dict[NamedNode, Function]:
    table: dict[NamedNode, Function] = {}
    for name, test in RELATIONS.items():
        table[NamedNode(GEOF + name)] = relation(test)
    for name, op in UNARY.items():
        table[NamedNode(GEOF + name)] = unary(op)
    for name, bop in BINARY.items():
        table[NamedNode(GEOF + name)] = binary(bop)
    extra: dict[str, Function] = {"relate": _relate, "distance": _distance, "buffer": _buffer,
                                  "transform": _transform, "metricDistance": _metric_distance,
                                  "metricBuffer": _metric_buffer_fn}
    for name, fn in extra.items():
        table[NamedNode(GEOF + name)] = fn
    for name, fn in _strdf_functions().items():
        table[NamedNode(STRDF + name)] = fn
    return table


__all__ = ["GEO", "GEOF", "RELATIONS", "functions"]
