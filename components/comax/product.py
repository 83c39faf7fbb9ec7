"""Read from an S5P L2 CO product only the pixels that can count for a query.

Order of reads, cheapest first: scanline times (tiny) cut the window; the sub-satellite track (tiny) bounds the
scanlines whose across-track line can meet the AOI; latitude/longitude of just those scanlines refine the range
(extended if the AOI touches its edges); only then CO, QA (and corners in footprint mode) of the final range.
Before h5py decodes a range, the byte ranges of its chunks are prefetched concurrently.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from datetime import UTC, datetime

import h5py
import numpy as np
import shapely

from components.comax.analysis import MOLECULES_PER_CM2, Pixels, Query, lon_bounds_hit
from components.comax.sources import OpenProduct
from components.common.errors import UnreadableData
from components.common.ncattrs import attr_float, attr_text, attr_value

logger = logging.getLogger(__name__)

CO_VAR = "carbonmonoxide_total_column"
REQUIRED = ("latitude", "longitude", CO_VAR, "qa_value", "delta_time", "time")
GEOLOCATIONS = "SUPPORT_DATA/GEOLOCATIONS"
EARTH_ROTATION_RAD_S = 7.2921159e-5
# TROPOMI's swath is about 2600 km wide; a little more, in radians of the Earth's surface.
SWATH_HALF_RAD = 1500.0 / 6371.0
_SINCE = re.compile(r"(\w+) since (\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}))?")


def read_pixels(opened: OpenProduct, query: Query) -> Pixels:
    """The candidate pixels of a product for ``query`` (a superset of the valid ones; may be empty)."""
    prod = opened.h5.get("PRODUCT")
    if not isinstance(prod, h5py.Group):
        raise UnreadableData("not an S5P L2 product: no PRODUCT group")
    missing = [name for name in REQUIRED if not isinstance(prod.get(name), h5py.Dataset)]
    if missing:
        raise UnreadableData(f"not an S5P L2 CO product: PRODUCT lacks {', '.join(missing)}")
    lat_ds, lon_ds = prod["latitude"], prod["longitude"]
    lines = lat_ds.shape[1]
    geo = prod.get(GEOLOCATIONS)
    geo = geo if isinstance(geo, h5py.Group) else None
    # the per-scanline variables are tiny: fetch them all in one round of requests
    per_scanline = [prod["time"], prod["delta_time"], *_satellite_track(geo)]
    opened.prefetch(r for ds in per_scanline for r in _chunk_ranges(ds, 0, lines - 1))
    times_ms = scanline_times(prod)
    in_window = np.ones(lines, dtype=bool)
    if query.start is not None:
        in_window &= times_ms >= int(query.start.timestamp() * 1000)
    if query.end is not None:
        in_window &= times_ms <= int(query.end.timestamp() * 1000)
    if not in_window.any():
        return Pixels.empty()
    window = _span(in_window)
    track = _track_rows(opened, geo, query, times_ms)
    rows = in_window & track if track is not None else in_window
    if not rows.any():
        return Pixels.empty()
    lo, hi = _span(rows)
    step = lat_ds.chunks[1] if lat_ds.chunks else lines
    co_ds, qa_ds = prod[CO_VAR], prod["qa_value"]
    datasets = [co_ds, qa_ds]
    footprint = query.pixel == "footprint" and geo is not None and "latitude_bounds" in geo
    if footprint and geo is not None:
        datasets += [geo["latitude_bounds"], geo["longitude_bounds"]]
    if track is not None:
        # the track estimate is tight, so fetch the values with the geolocation in one round of requests
        opened.prefetch(r for ds in [lat_ds, lon_ds, *datasets] for r in _chunk_ranges(ds, lo, hi))
    margin = 1.0 if query.pixel == "footprint" else 0.0
    while True:
        lat, lon = _read_rows(opened, [lat_ds, lon_ds], lo, hi)
        near = _rows_near_aoi(query, lat, lon, margin)
        grow_lo = track is not None and near[0] and lo > window[0]
        grow_hi = track is not None and near[-1] and hi < window[1]
        if not (grow_lo or grow_hi):
            break
        # the track estimate was too tight: the AOI reaches the edge of what was read
        lo = max(window[0], lo - step) if grow_lo else lo
        hi = min(window[1], hi + step) if grow_hi else hi
    if not near.any():
        return Pixels.empty()
    first, last = _span(near)
    sel = slice(first, last + 1)
    lo2, hi2 = lo + first, lo + last
    arrays = _read_rows(opened, datasets, lo2, hi2)
    co = _fill_to_nan(co_ds, arrays[0])
    qa = _scaled(qa_ds, arrays[1])
    row_times = times_ms[lo2:hi2 + 1]
    co[row_times == np.iinfo(np.int64).min] = np.nan
    factor = attr_float(co_ds.attrs, "multiplication_factor_to_convert_to_molecules_percm2", MOLECULES_PER_CM2)
    return Pixels(
        latitude=lat[sel], longitude=lon[sel], co=co, qa=qa, times_ms=row_times,
        latitude_bounds=arrays[2] if footprint else None, longitude_bounds=arrays[3] if footprint else None,
        molecules_factor=factor,
    )


def scanline_times(prod: h5py.Group) -> np.ndarray:
    """Observation time of each scanline in ms since the Unix epoch (int64 min where missing)."""
    time_ds, delta_ds = prod["time"], prod["delta_time"]
    reference = _since(time_ds, datetime(2010, 1, 1, tzinfo=UTC))
    seconds = float(np.asarray(time_ds[...]).ravel()[0])
    ref_ms = int(reference.timestamp() * 1000) + round(seconds * _unit_ms(time_ds, "seconds"))
    delta = np.asarray(delta_ds[...]).reshape(-1).astype(np.int64)
    if delta.size != prod["latitude"].shape[1]:
        raise UnreadableData(f"delta_time has {delta.size} values for {prod['latitude'].shape[1]} scanlines")
    fill = attr_value(delta_ds.attrs, "_FillValue")
    times = ref_ms + delta * _unit_ms(delta_ds, "milliseconds")
    if fill is not None:
        times[delta == int(fill)] = np.iinfo(np.int64).min
    return times


def _since(ds: h5py.Dataset, default: datetime) -> datetime:
    match = _SINCE.search(attr_text(ds.attrs, "units"))
    if not match:
        return default
    return datetime.fromisoformat(f"{match.group(2)}T{match.group(3) or '00:00:00'}").replace(tzinfo=UTC)


def _unit_ms(ds: h5py.Dataset, default: str) -> int:
    match = _SINCE.search(attr_text(ds.attrs, "units"))
    unit = match.group(1) if match else default
    return {"milliseconds": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}.get(
        unit, 1 if default == "milliseconds" else 1000)


def _span(mask: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(mask)
    return int(idx[0]), int(idx[-1])


def _satellite_track(geo: h5py.Group | None) -> list[h5py.Dataset]:
    if geo is None:
        return []
    return [geo[n] for n in ("satellite_latitude", "satellite_longitude") if isinstance(geo.get(n), h5py.Dataset)]


def _chunk_ranges(ds: h5py.Dataset, lo: int, hi: int) -> list[tuple[int, int]]:
    """Byte ranges of the chunks of ``ds`` holding scanlines ``lo..hi`` (axis 1)."""
    if ds.chunks is None:
        offset = ds.id.get_offset()
        return [] if offset is None else [(offset, offset + ds.id.get_storage_size())]
    axes = []
    for axis, (size, chunk) in enumerate(zip(ds.shape, ds.chunks, strict=True)):
        if axis == 1:
            axes.append(range(lo - lo % chunk, hi + 1, chunk))
        else:
            axes.append(range(0, size, chunk))
    ranges = []
    for coord in itertools.product(*axes):
        info = ds.id.get_chunk_info_by_coord(coord)
        if info.byte_offset is not None:
            ranges.append((int(info.byte_offset), int(info.byte_offset) + int(info.size)))
    return ranges


def _read_rows(opened: OpenProduct, datasets: list[h5py.Dataset], lo: int, hi: int) -> list[np.ndarray]:
    """Scanlines ``lo..hi`` of the first time step of each dataset, after prefetching their chunks."""
    opened.prefetch(r for ds in datasets for r in _chunk_ranges(ds, lo, hi))
    return [np.asarray(ds[0, lo:hi + 1]) for ds in datasets]


def _fill_to_nan(ds: h5py.Dataset, raw: np.ndarray) -> np.ndarray:
    values = raw.astype(np.float64)
    fill = attr_value(ds.attrs, "_FillValue")
    bad = ~np.isfinite(values) | (np.abs(values) > 1e30)
    if fill is not None:
        bad |= raw == fill
    values[bad] = np.nan
    return values


def _scaled(ds: h5py.Dataset, raw: np.ndarray) -> np.ndarray:
    scale = attr_float(ds.attrs, "scale_factor", 1.0)
    offset = attr_float(ds.attrs, "add_offset", 0.0)
    # rounded so that 0.01 stored as float32 does not push a qa of exactly the threshold across it
    values = np.round(raw.astype(np.float64) * scale + offset, 6)
    fill = attr_value(ds.attrs, "_FillValue")
    if fill is not None:
        values[raw == fill] = np.nan
    return values


def _rows_near_aoi(query: Query, lat: np.ndarray, lon: np.ndarray, margin_deg: float) -> np.ndarray:
    """Per scanline: does any pixel centre fall in the AOI's bounding box (grown by ``margin_deg``)?"""
    west, south, east, north = query.aoi.bounds
    lon_margin = margin_deg / max(math.cos(math.radians(min(max(abs(south), abs(north)), 89.0))), 0.02)
    hit = (lat >= south - margin_deg) & (lat <= north + margin_deg)
    hit &= lon_bounds_hit(lon, west - lon_margin, east + lon_margin)
    if west - lon_margin < -180.0:
        hit |= (lat >= south - margin_deg) & (lat <= north + margin_deg) & (lon - 360.0 >= west - lon_margin)
    return np.asarray(hit.any(axis=1))


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=-1)


def _track_rows(opened: OpenProduct, geo: h5py.Group | None, query: Query,
                times_ms: np.ndarray) -> np.ndarray | None:
    """Scanlines whose across-track line can reach the AOI, from the sub-satellite track; None if unknown.

    TROPOMI images a line perpendicular to the orbit plane: in Earth-fixed coordinates the plane through the
    sub-satellite point whose normal is the inertial velocity (ground velocity plus Earth rotation).
    """
    if geo is None or "satellite_latitude" not in geo or "satellite_longitude" not in geo:
        return None
    lat_ds, lon_ds = geo["satellite_latitude"], geo["satellite_longitude"]
    lines = times_ms.size
    if lat_ds.shape[-1] != lines or lines < 3 or (times_ms == np.iinfo(np.int64).min).any():
        return None
    slat, slon = (a.reshape(-1).astype(np.float64) for a in _read_rows(opened, [lat_ds, lon_ds], 0, lines - 1))
    if not (np.isfinite(slat).all() and np.isfinite(slon).all()) or np.abs(slat).max() > 90:
        return None
    sat = _unit(slat, slon)
    seconds = times_ms / 1000.0
    if np.any(np.diff(seconds) <= 0):
        return None
    velocity = np.gradient(sat, seconds, axis=0)
    velocity += EARTH_ROTATION_RAD_S * np.stack([-sat[:, 1], sat[:, 0], np.zeros(lines)], axis=-1)
    along = velocity - np.sum(velocity * sat, axis=1)[:, None] * sat
    along /= np.linalg.norm(along, axis=1)[:, None]
    boundary = query.aoi.boundary
    spacing = max(0.1, boundary.length / 2000.0)
    verts = shapely.get_coordinates(shapely.segmentize(boundary, spacing))
    points = _unit(verts[:, 1], verts[:, 0])
    step = float(np.median(np.arccos(np.clip(np.sum(sat[1:] * sat[:-1], axis=1), -1, 1))))
    margin = math.radians(spacing + 0.5) + 2 * step
    reach = SWATH_HALF_RAD + margin
    # only scanlines within reach of the AOI's bounding cap can see a vertex: test just those
    cand = np.arange(lines)
    centre = points.sum(axis=0)
    if np.linalg.norm(centre) > 1e-6 * len(points):
        centre /= np.linalg.norm(centre)
        radius = float(np.arccos(np.clip(points @ centre, -1.0, 1.0)).max())
        cand = np.flatnonzero(sat @ centre >= math.cos(min(math.pi, reach + radius)))
    near_plane = np.abs(points @ along[cand].T) <= math.sin(margin)
    within_swath = points @ sat[cand].T >= math.cos(reach)
    rows = np.zeros(lines, dtype=bool)
    rows[cand] = (near_plane & within_swath).any(axis=0)
    rows |= shapely.contains_xy(query.aoi, slon, slat)
    if query.crosses_antimeridian:
        rows |= shapely.contains_xy(query.aoi, slon + 360.0, slat)
    return rows
