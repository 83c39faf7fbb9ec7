"""The core: which pixels count (AOI, QA, time window, fill values) and the maximum CO column over them.

Pure functions and small types on numpy arrays; no I/O and no transports.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from components.common.aoi import isoformat, parse_aoi, parse_time, parse_window
from components.common.errors import InvalidInput

PixelMode = Literal["centre", "footprint"]
PIXEL_MODES: tuple[str, ...] = ("centre", "footprint")
MOLECULES_PER_CM2 = 6.02214e19


@dataclass(frozen=True)
class Query:
    """What to compute: the AOI polygon, an optional time window, the QA threshold and the pixel rule."""

    aoi: BaseGeometry
    aoi_wkt: str
    start: datetime | None = None
    end: datetime | None = None
    qa_min: float = 0.5
    pixel: PixelMode = "centre"

    @classmethod
    def build(cls, aoi: str, start: str | None = None, end: str | None = None, *, qa_min: float = 0.5,
              pixel: str = "centre") -> Query:
        """Validate user input; ``InvalidInput`` says what is wrong."""
        geom = parse_aoi(aoi)
        begin = finish = None
        if start and end:
            begin, finish = parse_window(start, end)
        elif start:
            begin = parse_time(start, "start")
        elif end:
            finish = parse_time(end, "end")
        if not 0.0 <= qa_min <= 1.0 or math.isnan(qa_min):
            raise InvalidInput(f"qa_min must be between 0 and 1, got {qa_min}")
        if pixel not in PIXEL_MODES:
            raise InvalidInput(f"pixel must be one of {', '.join(PIXEL_MODES)}, got {pixel!r}")
        shapely.prepare(geom)
        return cls(geom, geom.wkt, begin, finish, qa_min, pixel)  # type: ignore[arg-type]

    @property
    def key(self) -> tuple[str, str, str, float, str]:
        """Identity of the question asked (results of different questions are not aggregated).

        The AOI counts as geometry, not text: normalized (ring start and orientation, part order) and rounded to
        1e-7 degrees, so a bbox and the same POLYGON, or the same ring written from another vertex, are one
        question.
        """
        aoi = shapely.to_wkt(shapely.normalize(self.aoi), rounding_precision=7, trim=True)
        return (aoi, _iso(self.start), _iso(self.end), self.qa_min, self.pixel)

    @property
    def question_id(self) -> str:
        """A short stable name of ``key`` (the same in every process), used for files and in the REST API."""
        return hashlib.sha256(json.dumps(self.key).encode()).hexdigest()[:16]

    @property
    def crosses_antimeridian(self) -> bool:
        return bool(self.aoi.bounds[2] > 180.0)


@dataclass(frozen=True)
class Pixels:
    """Candidate pixels of one product: rows are scanlines, columns ground pixels."""

    latitude: np.ndarray
    longitude: np.ndarray
    co: np.ndarray  # mol m-2, fill values already NaN
    qa: np.ndarray  # 0..1, NaN where missing
    times_ms: np.ndarray  # per row, ms since the Unix epoch
    latitude_bounds: np.ndarray | None = None
    longitude_bounds: np.ndarray | None = None
    molecules_factor: float = MOLECULES_PER_CM2

    @classmethod
    def empty(cls) -> Pixels:
        nothing = np.zeros((0, 0))
        return cls(nothing, nothing, nothing, nothing, np.zeros(0, dtype=np.int64))


@dataclass
class ProductResult:
    """The maximum found in one product (``valid_pixels == 0``: none qualified; ``error``: unreadable)."""

    product: str
    href: str = ""
    max_mol_m2: float | None = None
    max_molecules_cm2: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    time: str | None = None
    valid_pixels: int = 0
    bytes_read: int = 0
    error: str | None = None
    requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Summary:
    """The aggregate over products: the overall maximum and where/when/which, plus every product's result."""

    aoi_wkt: str = ""
    start: str | None = None
    end: str | None = None
    products: list[ProductResult] = field(default_factory=list)

    @property
    def best(self) -> ProductResult | None:
        found = [p for p in self.products if p.max_mol_m2 is not None and not p.error]
        return max(found, key=lambda p: p.max_mol_m2 or 0.0) if found else None

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "max_mol_m2": best.max_mol_m2 if best else None,
            "max_molecules_cm2": best.max_molecules_cm2 if best else None,
            "latitude": best.latitude if best else None,
            "longitude": best.longitude if best else None,
            "time": best.time if best else None,
            "product": best.product if best else None,
            "valid_pixels": sum(p.valid_pixels for p in self.products),
            "bytes_read": sum(p.bytes_read for p in self.products),
            "requests": sum(p.requests for p in self.products),
            "products_analyzed": len(self.products),
            "aoi_wkt": self.aoi_wkt,
            "start": self.start,
            "end": self.end,
            "products": [p.to_dict() for p in self.products],
        }


def _iso(value: datetime | None) -> str:
    return isoformat(value) if value is not None else ""


def lon_bounds_hit(lon: np.ndarray, west: float, east: float) -> np.ndarray:
    """Longitudes (in -180..180) inside [west, east], where east may exceed 180 across the antimeridian."""
    inside = (lon >= west) & (lon <= east)
    if east > 180.0:
        inside |= lon + 360.0 <= east
    return inside


def in_aoi_centres(query: Query, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Mask of pixel centres inside the AOI: a bounding-box cut, then ``shapely.contains_xy`` on the rest."""
    west, south, east, north = query.aoi.bounds
    mask = (lat >= south) & (lat <= north) & lon_bounds_hit(lon, west, east)
    idx = np.flatnonzero(mask)
    if idx.size:
        x, y = lon.ravel()[idx], lat.ravel()[idx]
        hit = shapely.contains_xy(query.aoi, x, y)
        if query.crosses_antimeridian:
            hit |= shapely.contains_xy(query.aoi, x + 360.0, y)
        mask.ravel()[idx] = hit
    return mask


def in_aoi_footprints(query: Query, lat_b: np.ndarray, lon_b: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Mask of pixels whose footprint (corner polygon) intersects the AOI, after a bounding-box cut."""
    # corners unwrapped next to the centre so a pixel astride the antimeridian stays one small polygon
    lon_b = lon[..., None] + (lon_b - lon[..., None] + 180.0) % 360.0 - 180.0
    west, south, east, north = query.aoi.bounds
    lat_ok = (lat_b.max(axis=-1) >= south) & (lat_b.min(axis=-1) <= north)
    mask = np.zeros(lat_ok.shape, dtype=bool)
    lo, hi = lon_b.min(axis=-1), lon_b.max(axis=-1)
    for shift in (0.0, 360.0, -360.0):
        cand = lat_ok & ~mask & (hi + shift >= west) & (lo + shift <= east)
        idx = np.flatnonzero(cand)
        if not idx.size:
            continue
        ring_x = lon_b.reshape(-1, 4)[idx] + shift
        ring_y = lat_b.reshape(-1, 4)[idx]
        coords = np.stack([ring_x, ring_y], axis=-1)
        polygons = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
        mask.ravel()[idx] = shapely.intersects(query.aoi, polygons)
    return mask


def valid_mask(query: Query, pixels: Pixels) -> np.ndarray:
    """Pixels that count: in the AOI, QA above the threshold, in the time window, not a fill value."""
    if pixels.co.size == 0:
        return np.zeros(pixels.co.shape, dtype=bool)
    ok = np.isfinite(pixels.co) & (pixels.qa > query.qa_min)
    rows = np.ones(pixels.times_ms.shape, dtype=bool)
    if query.start is not None:
        rows &= pixels.times_ms >= int(query.start.timestamp() * 1000)
    if query.end is not None:
        rows &= pixels.times_ms <= int(query.end.timestamp() * 1000)
    ok &= rows[:, None]
    if query.pixel == "footprint" and pixels.latitude_bounds is not None and pixels.longitude_bounds is not None:
        ok &= in_aoi_footprints(query, pixels.latitude_bounds, pixels.longitude_bounds, pixels.longitude)
    else:
        ok &= in_aoi_centres(query, pixels.latitude, pixels.longitude)
    return ok


def maximum(query: Query, pixels: Pixels, product: str, href: str = "", bytes_read: int = 0) -> ProductResult:
    """The product's result: its largest valid CO column with location and time, and the valid pixel count."""
    ok = valid_mask(query, pixels)
    count = int(ok.sum())
    result = ProductResult(product=product, href=href, valid_pixels=count, bytes_read=bytes_read)
    if count:
        values = np.where(ok, pixels.co, -np.inf)
        row, col = np.unravel_index(int(np.argmax(values)), values.shape)
        value = float(pixels.co[row, col])
        result.max_mol_m2 = value
        result.max_molecules_cm2 = value * pixels.molecules_factor
        result.latitude = float(pixels.latitude[row, col])
        result.longitude = float(pixels.longitude[row, col])
        result.time = isoformat(datetime.fromtimestamp(int(pixels.times_ms[row]) / 1000.0, UTC))
    return result
