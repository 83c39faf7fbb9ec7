"""Generated datasets holding every geometry edge case, writers for each input format, and a brute-force oracle
(every pair through ``shapely.relate``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

from components.interlinking.engine import geodesic_distance
from components.interlinking.relations import RELATIONS, relations_of

SQUARE = "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"

# (source WKT, target WKT) edge cases; each side also gets random features around them
SOURCE_CASES = [
    SQUARE,  # identical to a target
    "POLYGON ((1 0, 2 0, 2 1, 1 1, 1 0))",  # shares an edge with the square
    "POLYGON ((2 2, 3 2, 3 3, 2 3, 2 2))",  # touches a target at one corner (2 2)
    "POLYGON ((10 10, 14 10, 14 14, 10 14, 10 10), (11 11, 13 11, 13 13, 11 13, 11 11))",  # with a hole
    "MULTIPOLYGON (((20 0, 21 0, 21 1, 20 1, 20 0)), ((22 0, 23 0, 23 1, 22 1, 22 0)))",
    "LINESTRING (-1 0.5, 2 0.5)",  # crosses polygons
    "LINESTRING (0 0, 1 0)",  # on a polygon's boundary
    "LINESTRING (5 5, 6 6)",
    "POINT (0.5 0.5)",
    "POINT (1 1)",
    "POINT Z (12 12 100)",  # in the hole of a target; Z ignored
    "POLYGON Z ((30 0 1, 31 0 2, 31 1 3, 30 1 4, 30 0 1))",
    "POLYGON ((40 0, 41 1, 41 0, 40 1, 40 0))",  # bow-tie: invalid, repaired
    "POLYGON EMPTY",  # dropped, reported
    # the antimeridian: split at 180 as RFC 7946 asks
    "MULTIPOLYGON (((179 -1, 180 -1, 180 1, 179 1, 179 -1)), ((-180 -1, -179 -1, -179 1, -180 1, -180 -1)))",
    "POLYGON ((50 50, 52 50, 52 52, 50 52, 50 50))",
    "GEOMETRYCOLLECTION (POINT (60 60), LINESTRING (60 61, 61 61))",
]
TARGET_CASES = [
    SQUARE,
    "POLYGON ((1 1, 2 1, 2 2, 1 2, 1 1))",
    "POLYGON ((10 10, 14 10, 14 14, 10 14, 10 10), (11 11, 13 11, 13 13, 11 13, 11 11))",
    "POLYGON ((10.5 10.5, 11.5 10.5, 11.5 11.5, 10.5 11.5, 10.5 10.5))",
    "MULTIPOLYGON (((20 0, 21 0, 21 1, 20 1, 20 0)), ((22 0, 23 0, 23 1, 22 1, 22 0)))",
    "POLYGON ((20.5 0.5, 22.5 0.5, 22.5 2, 20.5 2, 20.5 0.5))",
    "LINESTRING (5 6, 6 5)",  # crosses a line
    "LINESTRING (5 5, 5.5 5.5)",  # within a line
    "POINT (0.5 0.5)",
    "POLYGON ((30 0, 31 0, 31 1, 30 1, 30 0))",
    "POLYGON ((40 0, 41 0, 41 1, 40 1, 40 0))",
    "LINESTRING EMPTY",
    "POLYGON ((179.5 -0.5, 180 -0.5, 180 0.5, 179.5 0.5, 179.5 -0.5))",
    "POLYGON ((-180 -0.5, -179.5 -0.5, -179.5 0.5, -180 0.5, -180 -0.5))",
    "POLYGON ((51 51, 53 51, 53 53, 51 53, 51 51))",
    "POINT (60 60)",
    "POLYGON ((52 50, 54 50, 54 52, 52 52, 52 50))",  # shares an edge with a source
]


def generated(cases: list[str], extra: int, seed: int) -> list[str]:
    """``cases`` and ``extra`` random small polygons, lines and points around them (seeded)."""
    rng = np.random.default_rng(seed)
    out = list(cases)
    for k in range(extra):
        x, y = rng.uniform(-2, 24, 2)
        size = rng.uniform(0.1, 3)
        kind = k % 3
        if kind == 0:
            out.append(shapely.box(x, y, x + size, y + rng.uniform(0.1, 3)).wkt)
        elif kind == 1:
            out.append(shapely.LineString([(x, y), (x + size, y + rng.uniform(-2, 2)), (x, y + size)]).wkt)
        else:
            # on a 0.5 grid so that some fall exactly on edges and corners
            out.append(shapely.Point(round(x * 2) / 2, round(y * 2) / 2).wkt)
    return out


def cleaned(wkts: list[str]) -> list[shapely.Geometry | None]:
    """What the component compares: 2-D, repaired, empty ones out (None)."""
    out: list[shapely.Geometry | None] = []
    for text in wkts:
        geom = shapely.force_2d(shapely.from_wkt(text))
        out.append(None if geom.is_empty else shapely.make_valid(geom) if not geom.is_valid else geom)
    return out


def oracle(source: list[str], target: list[str], relations: tuple[str, ...] = RELATIONS,
           distance: float | None = None) -> set[tuple[int, int, str]]:
    """Every pair through ``shapely.relate`` (and the geodesic distance): (source n, target n, relation), 1-based."""
    a, b = cleaned(source), cleaned(target)
    found: set[tuple[int, int, str]] = set()
    for i, ga in enumerate(a):
        for j, gb in enumerate(b):
            if ga is None or gb is None:
                continue
            names = relations_of(shapely.relate(ga, gb), shapely.get_dimensions(ga), shapely.get_dimensions(gb))
            found.update((i + 1, j + 1, name) for name in names if name in relations)
            if distance is not None and geodesic_distance(np.array([ga]), np.array([gb]))[0] <= distance:
                found.add((i + 1, j + 1, "withinDistance"))
    return found


def write_geojson(path: Path, wkts: list[str]) -> Path:
    features = [{"type": "Feature", "properties": {"n": n},
                 "geometry": None if shapely.from_wkt(w).is_empty else mapping(shapely.from_wkt(w))}
                for n, w in enumerate(wkts)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def write_csv(path: Path, wkts: list[str], column: str = "wkt", delimiter: str = ",") -> Path:
    lines = [f"id{delimiter}{column}"] + [f'{n}{delimiter}"{w}"' for n, w in enumerate(wkts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_ntriples(path: Path, wkts: list[str], base: str = "http://data.example.org/f/") -> Path:
    geo = "http://www.opengis.net/ont/geosparql#"
    lines = []
    for n, w in enumerate(wkts, start=1):
        lines.append(f"<{base}{n}> <{geo}hasGeometry> <{base}{n}/geom> .")
        lines.append(f'<{base}{n}/geom> <{geo}asWKT> "{w}"^^<{geo}wktLiteral> .')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_ogr(path: Path, wkts: list[str], crs: str = "EPSG:4326", driver: str = "GPKG") -> Path:
    import pyogrio.raw

    geoms = shapely.from_wkt(wkts)
    types = set(shapely.get_type_id(geoms[~shapely.is_empty(geoms)]))
    kind = {0: "Point", 1: "LineString", 3: "Polygon", 6: "MultiPolygon"}.get(next(iter(types))) \
        if len(types) == 1 else "Unknown"
    pyogrio.raw.write(path, shapely.to_wkb(geoms), field_data=[np.arange(len(wkts))], fields=["n"], crs=crs,
                      driver=driver, geometry_type=kind)
    return path


def links_of(text: str, base: str) -> set[tuple[int, int, str]]:
    """N-Triples links back to (source n, target n, relation) for ``{base}/{layer}/id/{n}`` IRIs."""
    from components.interlinking.output import DISTANCE_PREDICATE

    out = set()
    for line in text.splitlines():
        s, p, o, _ = line.split(" ")
        name = "withinDistance" if p[1:-1] == DISTANCE_PREDICATE else _relation(p[1:-1])
        out.add((int(s[1:-1].rsplit("/", 1)[1]), int(o[1:-1].rsplit("/", 1)[1]), name))
    return out


def _relation(predicate: str) -> str:
    from components.interlinking.relations import PREDICATES

    return next(name for name, iri in PREDICATES.items() if iri == predicate)
