"""Synthetic Sentinel-5P TROPOMI L2 CO products in the real file layout (netCDF-4 written through netCDF4).

The files follow the S5P L2 CO product: group ``PRODUCT`` with dimensions ``time`` (1), ``scanline``,
``ground_pixel`` (215), ``corner`` (4), ``layer`` (50); the CO column in mol m-2 with its conversion factor,
``qa_value`` as uint8 scaled by 0.01, geolocation of a day-side pass, pixel corners in
``PRODUCT/SUPPORT_DATA/GEOLOCATIONS``, and the bulky ``SUPPORT_DATA/DETAILED_RESULTS`` and ``INPUT_DATA`` groups,
chunked along scanlines and zlib-compressed. The values are made up; the global attributes say so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h5py
import netCDF4
import numpy as np

from components.comax import swath
from components.comax.sample_fields import Plant, fields, nearest, plant_value, utc
from components.comax.sample_layout import REFERENCE_EPOCH, write

__all__ = ["PRODUCT_MODES", "Pixel", "Plant", "generate_products", "orbit_number", "pixel_at", "product_name",
           "write_product"]

FIRST_ORBIT_TIME = datetime(2017, 10, 13, tzinfo=UTC)
PRODUCT_MODES = ("OFFL", "NRTI", "RPRO")
_PROCESSING_DELAY = {"OFFL": timedelta(days=4), "RPRO": timedelta(days=900), "NRTI": timedelta(hours=2)}


@dataclass(frozen=True)
class Pixel:
    """Where a pixel is in a product and when it was observed."""

    scanline: int
    ground_pixel: int
    latitude: float
    longitude: float
    time: datetime


def orbit_number(when: datetime) -> int:
    """A plausible absolute S5P orbit number for a time (orbit 1 on 2017-10-13)."""
    return int((when - FIRST_ORBIT_TIME).total_seconds() // swath.PERIOD_S) + 1


def product_name(start: datetime, scanlines: int, orbit: int, mode: str = "OFFL") -> str:
    """The real S5P naming convention, for a product starting at ``start``."""
    start = utc(start)
    end = start + timedelta(seconds=swath.scanline_seconds(scanlines) * scanlines)
    processed = end + _PROCESSING_DELAY.get(mode, timedelta(days=4))
    fmt = "%Y%m%dT%H%M%S"
    return (f"S5P_{mode}_L2__CO_____{start.strftime(fmt)}_{end.strftime(fmt)}_{orbit:05d}_03_020400_"
            f"{processed.strftime(fmt)}.nc")


def write_product(path: Path, start: datetime, *, orbit: int = 1, scanlines: int = swath.FULL_SCANLINES,
                  seed: int = 0, mode: str = "OFFL", support_data: bool = True, plant: Sequence[Plant] = ()) -> Path:
    """Write one synthetic S5P L2 CO product and return its path.

    ``path`` may be a directory, in which case the file gets the real naming convention. ``scanlines`` scales the
    product (4000 is a full day-side granule of some tens of MB); the granule always spans the whole day-side arc.
    The file is written under a temporary name and renamed, so a partial file never appears.
    """
    if mode not in PRODUCT_MODES:
        raise ValueError(f"mode must be one of {PRODUCT_MODES}, got {mode!r}")
    if scanlines < 2:
        raise ValueError("scanlines must be at least 2")
    start = utc(start)
    path = Path(path)
    if path.is_dir():
        path = path / product_name(start, scanlines, orbit, mode)
    step = swath.scanline_seconds(scanlines)
    crossing = start + timedelta(seconds=step * (scanlines - 1) / 2)
    hours = crossing.hour + crossing.minute / 60 + crossing.second / 3600
    geo = swath.compute(scanlines, swath.crossing_longitude(hours))
    rng = np.random.default_rng([seed, orbit])
    values = fields(geo, start, rng)
    for item in plant:
        plant_value(values, geo, start, item)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
            write(nc, path.name, start, orbit, mode, geo, values, rng, support_data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def generate_products(folder: Path, start: datetime, days: int, per_day: int = 1, *,
                      scanlines: int = swath.FULL_SCANLINES, seed: int = 0) -> list[Path]:
    """Write ``per_day`` consecutive orbits per day for ``days`` days from ``start``; existing files are kept.

    Deterministic: the same arguments give the same files (and names), so callers can cache them.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = utc(start)
    paths = []
    for day in range(days):
        for k in range(per_day):
            when = start + timedelta(days=day, seconds=k * swath.PERIOD_S)
            orbit = orbit_number(when)
            path = folder / product_name(when, scanlines, orbit)
            if not path.exists():
                write_product(path, when, orbit=orbit, scanlines=scanlines, seed=seed)
            paths.append(path)
    return paths


def pixel_at(path: Path, latitude: float, longitude: float, time: datetime | None = None) -> Pixel:
    """The pixel of a product nearest a location (as ``Plant`` chooses it), with its observation time."""
    with h5py.File(path, "r") as h5:
        prod = h5["PRODUCT"]
        lat = prod["latitude"][0].astype(np.float64)
        lon = prod["longitude"][0].astype(np.float64)
        ref = datetime.fromtimestamp(REFERENCE_EPOCH.timestamp() + int(prod["time"][0]), UTC)
        delta_ms = prod["delta_time"][0].astype(np.int64)
    offsets = (delta_ms - delta_ms[0]) / 1000.0
    start = ref + timedelta(milliseconds=int(delta_ms[0]))
    line, pix = nearest(lat, lon, offsets, start, latitude, longitude, time)
    return Pixel(line, pix, float(lat[line, pix]), float(lon[line, pix]),
                 ref + timedelta(milliseconds=int(delta_ms[line])))
