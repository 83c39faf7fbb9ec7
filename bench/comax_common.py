"""Shared pieces of the comax benchmarks: a cached full-orbit product, the AOI, and the baseline analysis
("download the whole object, open it with netCDF4, mask the full arrays")."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import shapely

from components.comax.sample import generate_products

CACHE = Path("/tmp/ai4cop-bench-comax")
START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
# about 500 km x 500 km over northern Italy (4.5 deg of latitude, 6.3 deg of longitude at 44.5 N)
AOI = "POLYGON ((7.85 42.25, 14.15 42.25, 14.15 46.75, 7.85 46.75, 7.85 42.25))"
BUCKET = "bench"


def full_orbit_product() -> Path:
    """One 4000-scanline product (generated once, then cached)."""
    return generate_products(CACHE, START, days=1, scanlines=4000, seed=7)[0]


def baseline_from_bytes(data: bytes, aoi: str = AOI, qa_min: float = 0.5) -> tuple[float, int]:
    """Open the whole object with netCDF4 and mask the full arrays (vectorised): (max, valid pixels)."""
    import netCDF4

    geom = shapely.from_wkt(aoi)
    with netCDF4.Dataset("inmemory.nc", memory=data) as nc:
        prod = nc["PRODUCT"]
        co = prod["carbonmonoxide_total_column"][0].filled(np.nan)
        qa = prod["qa_value"][0].filled(-1)
        lat = prod["latitude"][0].filled(np.nan)
        lon = prod["longitude"][0].filled(np.nan)
        ref = datetime(2010, 1, 1, tzinfo=UTC) + timedelta(seconds=int(prod["time"][0]))
        delta = prod["delta_time"][0]
    assert ref and delta.size == co.shape[0]
    ok = shapely.contains_xy(geom, lon, lat) & (qa > qa_min) & np.isfinite(co)
    return float(np.where(ok, co, -np.inf).max()), int(ok.sum())


def interleaved(fns: list[Callable[[], Any]], rounds: int) -> list[tuple[list[float], Any]]:
    """Wall times of ``rounds`` calls of each function, taken in turns (so load from other processes on the
    machine falls on all of them alike), and each function's last result."""
    times: list[list[float]] = [[] for _ in fns]
    results: list[Any] = [None for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            begin = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - begin)
    return list(zip(times, results, strict=True))


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """Median wall time of ``rounds`` calls and the last result."""
    times, result = [], None
    for _ in range(rounds):
        begin = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - begin)
    return statistics.median(times), result
