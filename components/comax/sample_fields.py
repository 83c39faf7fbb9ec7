"""The values of the synthetic products: CO background and plumes, QA from clouds and the terminator, fill
values, and known values planted at chosen pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from components.comax import swath

# the product's _FillValue for float variables
FILL_FLOAT = np.float32(9.96921e36)


@dataclass(frozen=True)
class Plant:
    """A known CO value put into a product at the pixel nearest (``latitude``, ``longitude``).

    ``time``, when given, picks the scanline observed nearest that time first (the location then picks the
    ground pixel across track). ``fill`` writes the fill value instead of ``value``.
    """

    latitude: float
    longitude: float
    value: float
    qa: float = 1.0
    time: datetime | None = None
    fill: bool = False


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive means UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def nearest(lat: np.ndarray, lon: np.ndarray, times_s: np.ndarray, start: datetime, latitude: float,
             longitude: float, time: datetime | None) -> tuple[int, int]:
    """(scanline, ground pixel) nearest a location, on the scanline nearest ``time`` when given."""
    dlon = (lon - longitude + 180.0) % 360.0 - 180.0
    dist = (lat - latitude) ** 2 + (dlon * math.cos(math.radians(latitude))) ** 2
    if time is not None:
        line = int(np.argmin(np.abs(times_s - (utc(time) - start).total_seconds())))
        pix = int(np.argmin(dist[line]))
    else:
        line, pix = (int(i) for i in np.unravel_index(np.argmin(dist), dist.shape))
    # within 2 deg, or 5 deg when the time fixed the scanline (coarse products have long pixels)
    if dist[line, pix] > (25.0 if time is not None else 4.0):
        raise ValueError(f"({latitude}, {longitude}) is not covered by this product's swath")
    return line, pix


def plant_value(fields: dict[str, np.ndarray], geo: swath.Swath, start: datetime, item: Plant) -> None:
    """Put ``item``'s value (or the fill value), a small precision and its QA at its pixel."""
    line, pix = nearest(geo.latitude.astype(np.float64), geo.longitude.astype(np.float64), geo.times_s, start,
                         item.latitude, item.longitude, item.time)
    fields["co"][line, pix] = FILL_FLOAT if item.fill else np.float32(item.value)
    fields["precision"][line, pix] = FILL_FLOAT if item.fill else np.float32(0.002)
    fields["qa"][line, pix] = np.uint8(round(item.qa * 100))


def smooth(lat: np.ndarray, lon: np.ndarray, rng: np.random.Generator, waves: int = 3) -> np.ndarray:
    """A smooth random field in [-1, 1] over the swath (a few random plane waves on the sphere)."""
    out = np.zeros(lat.shape, dtype=np.float64)
    rlat, rlon = np.radians(lat), np.radians(lon)
    for _ in range(waves):
        k_lat, k_lon = rng.uniform(2, 12, 2)
        out += np.sin(k_lat * rlat + rng.uniform(0, 2 * np.pi)) * np.cos(k_lon * rlon + rng.uniform(0, 2 * np.pi))
    return out / waves


def fields(geo: swath.Swath, start: datetime, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """CO column, precision, QA and cloud fields: background, fire-like plumes, noise, terminator and clouds."""
    lat, lon = geo.latitude.astype(np.float64), geo.longitude.astype(np.float64)
    co = 0.027 + 0.006 * np.tanh(lat / 25.0) + 0.004 * smooth(lat, lon, rng)
    n_plumes = int(rng.integers(6, 14))
    centres = rng.integers(0, lat.size, n_plumes)
    for centre, amp, sigma in zip(centres, rng.uniform(0.01, 0.09, n_plumes), rng.uniform(80, 400, n_plumes),
                                  strict=True):
        clat, clon = lat.flat[centre], lon.flat[centre]
        dlon = (lon - clon + 180.0) % 360.0 - 180.0
        d2 = ((lat - clat) * 111.2) ** 2 + (dlon * 111.2 * math.cos(math.radians(clat))) ** 2
        co += amp * np.exp(-d2 / (2 * sigma**2))
    co += rng.normal(0.0, 0.0015, lat.shape)
    cloud = 0.5 + 0.35 * smooth(lat, lon, rng, waves=4) + rng.normal(0.0, 0.12, lat.shape)
    qa = np.select([cloud < 0.45, cloud < 0.7, cloud < 0.85], [100, 70, 40], 0).astype(np.uint8)
    utc_hours = start.hour + start.minute / 60 + start.second / 3600 + geo.times_s / 3600.0
    sza = swath.solar_zenith(lat, lon, utc_hours, start.timetuple().tm_yday)
    failed = (sza > 80.0) | (rng.random(lat.shape) < 0.01) | ((qa == 0) & (rng.random(lat.shape) < 0.6))
    qa[failed] = 0
    co_out = co.astype(np.float32)
    co_out[failed] = FILL_FLOAT
    precision = (0.0015 + 0.05 * np.abs(co) * (1 + cloud)).astype(np.float32)
    precision[failed] = FILL_FLOAT
    return {"co": co_out, "precision": precision, "qa": qa, "cloud": cloud.astype(np.float32),
            "sza": sza.astype(np.float32)}
