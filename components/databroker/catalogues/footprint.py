"""A product's time coverage and footprint, read from the file itself (Sentinel-5P L2 netCDF layout)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from components.common.errors import UnreadableData
from components.databroker.catalogues.common import WORLD, parse_stamp

ALONG_CELLS = 60
ACROSS_CELLS = 4
SIMPLIFY_DEG = 0.1
GRID_DEG = 0.001
MIN_AREA = 0.01


@dataclass(frozen=True)
class FileFacts:
    """What the local index keeps about one product file."""

    start: datetime
    end: datetime
    footprint_wkt: str
    product_type: str
    platform: str


def read_facts(path: Path) -> FileFacts:
    """Time coverage (global attributes) and footprint (the PRODUCT latitude/longitude border) of a file."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            start = parse_stamp(_text(h5.attrs["time_coverage_start"]))
            end = parse_stamp(_text(h5.attrs["time_coverage_end"]))
            lat = np.asarray(h5["PRODUCT/latitude"][0], dtype=np.float64)
            lon = np.asarray(h5["PRODUCT/longitude"][0], dtype=np.float64)
            granule = h5.get("METADATA/GRANULE_DESCRIPTION")
            product_type = _text(granule.attrs.get("ProductShortName", "")) if granule is not None else ""
            platform = _text(h5.attrs.get("platform", ""))
    except (OSError, KeyError, ValueError, IndexError) as err:
        raise UnreadableData(f"{path.name}: not a readable Sentinel-5P L2 product ({type(err).__name__}: {err})") \
            from err
    return FileFacts(start, end, footprint_of(lat, lon).wkt, product_type or _type_from_name(path.name), platform)


def footprint_of(lat: np.ndarray, lon: np.ndarray) -> BaseGeometry:
    """The swath outline of a (scanline, ground_pixel) grid, cut at the antimeridian.

    A swath near a pole is not a simple polygon in lon/lat (its edges cross and it may cover the pole),
    so the outline is the union of small cells of the grid, each of which is.
    """
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 360)
    rows = np.flatnonzero(valid.all(axis=1))
    if rows.size < 2:
        raise UnreadableData("no valid geolocation")
    lat, lon = lat[rows], lon[rows]
    along = _edges(lat.shape[0], ALONG_CELLS)
    across = _edges(lat.shape[1], ACROSS_CELLS)
    cells = []
    for top, bottom in itertools.pairwise(along):
        for left, right in itertools.pairwise(across):
            ring = (
                [(top, j) for j in range(left, right + 1)] + [(bottom, j) for j in range(right, left - 1, -1)]
            )
            ring_lat = np.array([lat[i, j] for i, j in ring])
            ring_lon = np.array([lon[i, j] for i, j in ring])
            cells.extend(_cell(ring_lat, ring_lon))
    if not cells:
        raise UnreadableData("geolocation outlines no area")
    merged = shapely.union_all(shapely.set_precision(cells, GRID_DEG))
    simple = shapely.make_valid(shapely.simplify(merged, SIMPLIFY_DEG))
    # Drop the slivers that cutting cells at the antimeridian and snapping leave behind.
    parts = [part for part in shapely.get_parts(simple) if part.geom_type == "Polygon" and part.area > MIN_AREA]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _edges(size: int, cells: int) -> list[int]:
    return sorted({round(k * (size - 1) / cells) for k in range(cells + 1)})


def _cell(ring_lat: np.ndarray, ring_lon: np.ndarray) -> list[BaseGeometry]:
    """Polygons of one small cell in [-180, 180], with longitudes made continuous first."""
    ring_lon = np.degrees(np.unwrap(np.radians(ring_lon)))
    points = list(zip(ring_lon, ring_lat, strict=True))
    if abs(ring_lon[-1] - ring_lon[0]) > 180:
        # This cell covers a pole: close its outline along that pole.
        pole = 90.0 if ring_lat.mean() > 0 else -90.0
        points += [(ring_lon[-1], pole), (ring_lon[0], pole)]
    shape = shapely.make_valid(shapely.Polygon(points))
    pieces = [affinity.translate(shape, xoff=shift).intersection(WORLD) for shift in (-720, -360, 0, 360, 720)]
    return [part for piece in pieces for part in shapely.get_parts(piece)
            if part.geom_type == "Polygon" and not part.is_empty]


def _text(value: object) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("ascii", "replace")
    if isinstance(value, np.ndarray):
        return _text(value.item()) if value.size == 1 else ""
    return str(value)


def _type_from_name(name: str) -> str:
    # S5P_OFFL_L2__CO_____20240101T...: the product type is the ten characters after the mode
    return name[9:19] if name.startswith("S5P_") and len(name) > 19 else ""
