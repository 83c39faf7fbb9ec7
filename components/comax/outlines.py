"""Country outlines for the page's map: the simplified Natural Earth polygons shipped in ``countryinfo``.

The data is package data (about 170 countries, some 11,000 points), read once per process; nothing is
downloaded, so the map works offline.
"""

from __future__ import annotations

import functools

import numpy as np
import shapely
from countryinfo import CountryInfo


@functools.cache
def _countries() -> np.ndarray:
    shapes = [shapely.geometry.shape(feature["geometry"])
              for info in CountryInfo.all().values()
              for feature in (info.get("geoJSON") or {}).get("features", [])]
    return np.array(shapes, dtype=object)


def outlines(west: float, south: float, east: float, north: float) -> list[shapely.Polygon]:
    """The land polygons inside the box, cut at its edges (none when the box holds no land)."""
    clipped = shapely.clip_by_rect(_countries(), west, south, east, north)
    polygons: list[shapely.Polygon] = []
    for geometry in clipped:
        polygons.extend(part for part in shapely.get_parts(geometry)
                        if isinstance(part, shapely.Polygon) and not part.is_empty)
    return polygons
