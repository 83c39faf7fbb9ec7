"""Transformation functions a mapping can call: GeoTriples' ``rrxf:`` geometry functions (vectorised with
shapely over a batch), the GeoSPARQL topological relations, and a few GREL string functions (FnML).

GeoTriples' own ``GTransormationFunctions`` has four definitions that do not match GeoSPARQL; here they follow
GeoSPARQL 1.1 instead:

* ``is3D`` tested ``getDimension() == 3``; the topological dimension is at most 2, so it was always false.
  Here it is true when the geometry has Z coordinates.
* ``dimension`` and ``coordinateDimension`` returned ``getCoordinates().length``, the number of vertices.
  Here ``dimension`` is the topological dimension (0 point, 1 curve, 2 surface) and ``coordinateDimension`` the
  number of ordinates per vertex (2, or 3 with Z).
* ``spatialDimension`` returned the topological dimension. Here it is the number of spatial ordinates (2 or 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from components.geotriples_adapter.geometry import gml_literal
from components.geotriples_adapter.terms import crs_iri

RRXF = "http://www.w3.org/ns/r2rml-ext/functions/def/"
GEOF = "http://www.opengis.net/def/function/geosparql/"
GREL = "http://users.ugent.be/~bjdmeest/function/grel.ttl#"


@dataclass(frozen=True)
class CrsContext:
    """How asWKT/asGML name the CRS: the source's EPSG code or ``terms.CRS84`` (a geometry's own SRID wins), and
    stRDF or not."""

    epsg: int
    strdf: bool = False


GeometryFn = Callable[[np.ndarray, CrsContext], list[Any]]
RelationFn = Callable[[np.ndarray, np.ndarray], list[Any]]
ValueFn = Callable[[list[Any]], Any]


def _crs_iris(geoms: np.ndarray, ctx: CrsContext) -> list[str]:
    srids = shapely.get_srid(geoms)
    default = crs_iri(ctx.epsg)
    if not np.any(srids):
        return [default] * len(geoms)
    return [crs_iri(s) if s else default for s in srids.tolist()]


def as_wkt(geoms: np.ndarray, ctx: CrsContext) -> list[Any]:
    """``<crs IRI> WKT`` (GeoSPARQL), or ``WKT;crs IRI`` (stRDF), with full coordinate precision."""
    wkts = shapely.to_wkt(geoms, rounding_precision=-1).tolist()
    iris = _crs_iris(geoms, ctx)
    if not ctx.strdf and len(set(iris)) == 1:
        prefix = f"<{iris[0]}> "
        return [None if w is None else prefix + w for w in wkts]
    if ctx.strdf:
        return [None if w is None else f"{w};{i}" for w, i in zip(wkts, iris, strict=True)]
    return [None if w is None else f"<{i}> {w}" for w, i in zip(wkts, iris, strict=True)]


def as_gml(geoms: np.ndarray, ctx: CrsContext) -> list[Any]:
    return [None if g is None else gml_literal(g, i) for g, i in zip(geoms, _crs_iris(geoms, ctx), strict=True)]


def _masked(values: np.ndarray, geoms: np.ndarray) -> list[Any]:
    out: list[Any] = values.tolist()
    missing = shapely.is_missing(geoms)
    if missing.any():
        out = [None if m else v for v, m in zip(out, missing.tolist(), strict=True)]
    return out


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> GeometryFn:
    return lambda geoms, _ctx: _masked(fn(geoms), geoms)


def _spatial_dimension(geoms: np.ndarray) -> np.ndarray:
    return np.where(shapely.has_z(geoms), 3, 2)


def _relation(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> RelationFn:
    def apply(left: np.ndarray, right: np.ndarray) -> list[Any]:
        out: list[Any] = fn(left, right).tolist()
        return [None if a is None or b is None else v for v, a, b in zip(out, left, right, strict=True)]

    return apply


GEOMETRY_FUNCTIONS: dict[str, GeometryFn] = {
    "asWKT": as_wkt,
    "hasSerialization": as_wkt,
    "asGML": as_gml,
    "isSimple": _unary(shapely.is_simple),
    "isEmpty": _unary(shapely.is_empty),
    "is3D": _unary(shapely.has_z),
    "spatialDimension": _unary(_spatial_dimension),
    "dimension": _unary(shapely.get_dimensions),
    "coordinateDimension": _unary(shapely.get_coordinate_dimension),
    "area": _unary(shapely.area),
    "length": _unary(shapely.length),
    "centroidx": _unary(lambda g: shapely.get_x(shapely.centroid(g))),
    "centroidy": _unary(lambda g: shapely.get_y(shapely.centroid(g))),
}

RELATIONS: dict[str, RelationFn] = {
    name: _relation(fn) for name, fn in {
        "contains": shapely.contains, "crosses": shapely.crosses, "disjoint": shapely.disjoint,
        "equals": shapely.equals, "intersects": shapely.intersects, "overlaps": shapely.overlaps,
        "touches": shapely.touches, "within": shapely.within,
    }.items()
}

VALUE_FUNCTIONS: dict[str, ValueFn] = {
    GREL + "toUpperCase": lambda args: str(args[0]).upper(),
    GREL + "toLowerCase": lambda args: str(args[0]).lower(),
    GREL + "string_toUppercase": lambda args: str(args[0]).upper(),
    GREL + "string_toLowercase": lambda args: str(args[0]).lower(),
    GREL + "string_trim": lambda args: str(args[0]).strip(),
    GREL + "array_join": lambda args: "".join(str(a) for a in args),
}


def lookup(iri: str) -> tuple[str, Any] | None:
    """("geometry"|"relation"|"value", implementation) for a function IRI, None when unknown."""
    for namespace in (RRXF, GEOF):
        if iri.startswith(namespace):
            name = iri[len(namespace):]
            if name in GEOMETRY_FUNCTIONS:
                return "geometry", GEOMETRY_FUNCTIONS[name]
            relation = name[2].lower() + name[3:] if name.startswith("sf") and len(name) > 2 else name
            if relation in RELATIONS:
                return "relation", RELATIONS[relation]
    if iri in VALUE_FUNCTIONS:
        return "value", VALUE_FUNCTIONS[iri]
    return None


def known() -> list[str]:
    """Names of the supported geometry functions and relations, for error messages."""
    return sorted(GEOMETRY_FUNCTIONS) + sorted(RELATIONS)
