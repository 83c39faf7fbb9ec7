"""A product's time coverage, footprint and identity, read from the file itself (Sentinel-5P L2 netCDF layout).

The footprint comes from the pixel geolocation when the file has it, else from the orbit footprint in the
product's own metadata (``METADATA/EOP_METADATA``, a GML ring), so a product reduced to its metadata, like the
real one the tests use, is indexed too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from components.common.errors import UnreadableData
from components.common.ncattrs import attr_int, attr_text
from components.databroker.catalogues.common import WORLD, parse_stamp
from components.databroker.query import processing_mode_of

ALONG_CELLS = 60
ACROSS_CELLS = 4
SIMPLIFY_DEG = 0.1
GRID_DEG = 0.001
MIN_AREA = 0.01
EOP_FOOTPRINT = "METADATA/EOP_METADATA/om:featureOfInterest"


@dataclass(frozen=True)
class FileFacts:
    """What the local index keeps about one product file."""

    start: datetime
    end: datetime
    footprint_wkt: str
    product_type: str
    platform: str
    orbit: int = 0
    processor_version: str = ""
    processing_mode: str = ""


def read_facts(path: Path) -> FileFacts:
    """Time coverage, footprint, product type, orbit and processor version of a product file."""
    try:
        with h5py.File(path, "r") as h5:
            attrs = h5.attrs
            granule = h5.get("METADATA/GRANULE_DESCRIPTION")
            described: Any = granule.attrs if isinstance(granule, h5py.Group) else {}
            start = parse_stamp(attr_text(attrs, "time_coverage_start") or attr_text(described, "GranuleStart"))
            end = parse_stamp(attr_text(attrs, "time_coverage_end") or attr_text(described, "GranuleEnd"))
            footprint = _footprint(h5)
            facts = FileFacts(
                start, end, footprint.wkt, attr_text(described, "ProductShortName") or _type_from_name(path.name),
                attr_text(attrs, "platform"), attr_int(attrs, "orbit", 0),
                attr_text(attrs, "processor_version") or attr_text(described, "ProcessorVersion"),
                processing_mode_of(path.name),
            )
    except (OSError, KeyError, ValueError, IndexError, UnreadableData) as err:
        raise UnreadableData(f"{path.name}: not a readable Sentinel-5P L2 product ({type(err).__name__}: {err})") \
            from err
    return facts


def _footprint(h5: h5py.File) -> BaseGeometry:
    """From the pixel geolocation if the file has it, else from the metadata's orbit footprint."""
    lat, lon = h5.get("PRODUCT/latitude"), h5.get("PRODUCT/longitude")
    if isinstance(lat, h5py.Dataset) and isinstance(lon, h5py.Dataset):
        return footprint_of(np.asarray(lat[0], dtype=np.float64), np.asarray(lon[0], dtype=np.float64))
    feature = h5.get(EOP_FOOTPRINT)
    rings: list[str] = []
    if isinstance(feature, h5py.Group):
        feature.visititems(lambda _, obj: rings.append(attr_text(obj.attrs, "gml:posList"))
                           if "gml:posList" in obj.attrs else None)
    if not rings:
        raise UnreadableData("neither PRODUCT/latitude and longitude nor a footprint in METADATA/EOP_METADATA")
    areas = [footprint_of_ring(*parse_pos_list(text)) for text in rings]
    return areas[0] if len(areas) == 1 else shapely.union_all(areas)


def parse_pos_list(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of a GML ``posList`` in EPSG:4326 axis order (latitude first)."""
    try:
        values = np.array(text.split(), dtype=np.float64)
    except ValueError as err:
        raise UnreadableData(f"footprint posList is not a list of numbers ({err})") from err
    if values.size % 2 or values.size < 8:
        raise UnreadableData(f"footprint posList has {values.size} numbers: not a ring of latitude/longitude pairs")
    pairs = values.reshape(-1, 2)
    if np.abs(pairs[:, 0]).max() > 90 or np.abs(pairs[:, 1]).max() > 360:
        raise UnreadableData("footprint posList holds coordinates outside latitude/longitude range")
    return pairs[:, 0], pairs[:, 1]


def footprint_of_ring(lat: np.ndarray, lon: np.ndarray) -> BaseGeometry:
    """The area a closed latitude/longitude ring outlines on the sphere, cut at the antimeridian.

    A ring parts the sphere in two; a ring drawn around a swath that passes near both poles, unwrapped in
    longitude, outlines the outside as often as the inside. A product sees less than half the Earth, so the
    smaller of the two parts (by area on the sphere) is the footprint.
    """
    inside = shapely.union_all(_cell(lat, lon))
    outside = WORLD.difference(inside)
    chosen = inside if _sphere_share(inside) <= _sphere_share(outside) else outside
    return _tidy(list(shapely.get_parts(chosen)))


def _sphere_share(geometry: BaseGeometry) -> float:
    # Lambert's cylindrical projection (x = longitude, y = sin latitude) keeps areas
    dense = shapely.segmentize(geometry, 1.0)
    return float(shapely.transform(dense, lambda xy: np.stack(
        [np.radians(xy[:, 0]), np.sin(np.radians(xy[:, 1]))], axis=1)).area / (4 * np.pi))


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
    return _tidy(cells)


def _tidy(cells: list[BaseGeometry]) -> BaseGeometry:
    """The union of polygons, snapped and simplified, without slivers."""
    if not cells:
        raise UnreadableData("geolocation outlines no area")
    merged = shapely.union_all(shapely.set_precision(cells, GRID_DEG))
    simple = shapely.make_valid(shapely.simplify(merged, SIMPLIFY_DEG))
    # Drop the slivers that cutting cells at the antimeridian and snapping leave behind.
    parts = [part for part in shapely.get_parts(simple) if part.geom_type == "Polygon" and part.area > MIN_AREA]
    if not parts:
        raise UnreadableData("footprint outlines no area")
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


def _type_from_name(name: str) -> str:
    # S5P_OFFL_L2__CO_____20240101T...: the product type is the ten characters after the mode
    return name[9:19] if name.startswith("S5P_") and len(name) > 19 else ""
