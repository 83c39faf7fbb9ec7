"""GeoJSON geometry objects (parsed dicts) to shapely, a batch at a time.

The coordinates of all geometries of one type are flattened into one array with offsets and built in a single
``shapely.from_ragged_array`` call: no JSON re-encoding, no per-geometry GEOS parse. Anything unusual (another
geometry type, empty parts, non-numeric or mixed 2D/3D coordinates) returns None so that the caller falls back
to the general per-value reader, which also says what is wrong.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import shapely
from shapely import GeometryType

# nesting depth of "coordinates" above the coordinate tuples
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
_TYPES = {"Point": GeometryType.POINT, "MultiPoint": GeometryType.MULTIPOINT,
          "LineString": GeometryType.LINESTRING, "MultiLineString": GeometryType.MULTILINESTRING,
          "Polygon": GeometryType.POLYGON, "MultiPolygon": GeometryType.MULTIPOLYGON}


def from_dicts(values: list[Any]) -> np.ndarray | None:
    """Geometries for GeoJSON geometry dicts (None stays None), or None when some value needs the general reader."""
    groups: dict[Any, list[int]] = {}
    for i, value in enumerate(values):
        if value is None:
            continue
        if type(value) is not dict:
            return None
        groups.setdefault(value.get("type"), []).append(i)
    out = np.empty(len(values), dtype=object)
    for kind, indices in groups.items():
        depth = _DEPTH.get(kind)
        if depth is None:
            return None
        try:
            built = _build(kind, depth, [values[i]["coordinates"] for i in indices])
        except (KeyError, TypeError, ValueError, shapely.errors.GEOSException):
            return None
        if built is None:
            return None
        out[indices] = built
    return out


def unclosed_rings(values: list[Any]) -> list[int]:
    """Indices of the GeoJSON Polygon/MultiPolygon dicts with a ring that does not end on its first position.

    RFC 7946 requires closed rings; shapely (and so the conversion) closes them silently, so callers say so.
    """
    found = []
    for i, value in enumerate(values):
        if type(value) is not dict or value.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons: Any = value.get("coordinates")
        if value["type"] == "Polygon":
            polygons = [polygons]
        try:
            if any(ring and ring[0] != ring[-1] for polygon in polygons for ring in polygon):
                found.append(i)
        except (TypeError, IndexError, KeyError):
            continue  # malformed: the geometry reader says why
    return found


def _build(kind: str, depth: int, coordinates: list[Any]) -> np.ndarray | None:
    # Flatten level by level with C-level iteration (chain, map): no Python loop over parts or coordinates.
    levels = [coordinates]
    for _ in range(depth):
        if set(map(type, levels[-1])) != {list}:
            return None
        levels.append(list(itertools.chain.from_iterable(levels[-1])))
    counts = [np.fromiter(map(len, level), dtype=np.int64, count=len(level)) for level in levels[:-1]]
    if any(not np.all(c > 0) for c in counts):
        return None  # an empty ring or part: leave such edge cases to GEOS' own GeoJSON reader
    if kind.endswith("Polygon") and not np.all(counts[-1] >= 4):
        return None  # a ring too short to be one, even once closed: the general reader says why
    array = _coordinates(levels[-1])
    if array is None:
        return None
    offsets = tuple(np.concatenate(([0], np.cumsum(c))) for c in reversed(counts))
    return shapely.from_ragged_array(_TYPES[kind], array, offsets or None)


def _coordinates(flat: list[Any]) -> np.ndarray | None:
    """An (n, 2|3) float array of coordinate lists, None unless all are lists of one length, 2 or 3."""
    if not flat or set(map(type, flat)) != {list}:
        return None
    lengths = set(map(len, flat))
    if len(lengths) != 1 or not lengths & {2, 3}:
        return None
    width = lengths.pop()
    # fromiter over the chained numbers is several times faster than np.array on a list of small lists
    numbers = np.fromiter(itertools.chain.from_iterable(flat), dtype=np.float64, count=width * len(flat))
    return numbers.reshape(-1, width)
