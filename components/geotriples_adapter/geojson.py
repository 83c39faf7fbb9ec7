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


def _build(kind: str, depth: int, coordinates: list[Any]) -> np.ndarray | None:
    flat: list[Any]
    offsets: list[list[int]] = []
    if depth == 0:
        flat = coordinates
    elif depth == 1:
        flat, (o1,) = _flatten1(coordinates)
        offsets = [o1]
    elif depth == 2:
        flat, o1, o2 = _flatten2(coordinates)
        offsets = [o1, o2]
    else:
        flat, o1, o2, o3 = _flatten3(coordinates)
        offsets = [o1, o2, o3]
    array = _coordinates(flat)
    if array is None:
        return None
    arrays = [np.asarray(o, dtype=np.int64) for o in offsets]
    if any(not np.all(np.diff(o) > 0) for o in arrays):
        return None  # an empty ring or part: leave such edge cases to GEOS' own GeoJSON reader
    if kind.endswith("Polygon") and not np.all(np.diff(arrays[0]) >= 4):
        return None  # a ring too short to be one, even once closed: the general reader says why
    return shapely.from_ragged_array(_TYPES[kind], array, tuple(arrays) or None)


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


def _flatten1(items: list[Any]) -> tuple[list[Any], tuple[list[int]]]:
    flat: list[Any] = []
    o1 = [0]
    for coords in items:
        if type(coords) is not list:
            raise TypeError("coordinates are not a list")
        flat.extend(coords)
        o1.append(len(flat))
    return flat, (o1,)


def _flatten2(items: list[Any]) -> tuple[list[Any], list[int], list[int]]:
    flat: list[Any] = []
    o1, o2 = [0], [0]
    for parts in items:
        if type(parts) is not list:
            raise TypeError("coordinates are not a list")
        for coords in parts:
            if type(coords) is not list:
                raise TypeError("coordinates are not a list")
            flat.extend(coords)
            o1.append(len(flat))
        o2.append(len(o1) - 1)
    return flat, o1, o2


def _flatten3(items: list[Any]) -> tuple[list[Any], list[int], list[int], list[int]]:
    flat: list[Any] = []
    o1, o2, o3 = [0], [0], [0]
    for polygons in items:
        if type(polygons) is not list:
            raise TypeError("coordinates are not a list")
        for parts in polygons:
            if type(parts) is not list:
                raise TypeError("coordinates are not a list")
            for coords in parts:
                if type(coords) is not list:
                    raise TypeError("coordinates are not a list")
                flat.extend(coords)
                o1.append(len(flat))
            o2.append(len(o1) - 1)
        o3.append(len(o2) - 1)
    return flat, o1, o2, o3
