"""Geometry of a synthetic TROPOMI day-side pass: pixel centres and corners on a rotating Earth.

A circular sun-synchronous orbit (inclination 98.74 deg, period ~101 min, 824 km altitude) is propagated in an
inertial frame; the swath is the great-circle arc perpendicular to the orbit plane through the sub-satellite point,
sampled at 215 viewing angles between -54 and +54 deg, so pixels widen towards the swath edges as TROPOMI's do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0
ALTITUDE_KM = 824.0
INCLINATION_DEG = 98.74
PERIOD_S = 6059.0
EARTH_ROTATION_RAD_S = 7.2921159e-5
GROUND_PIXELS = 215
MAX_VIEW_DEG = 54.0
# TROPOMI's day-side granule spans about 200 deg of orbit arc: 4000 scanlines of 0.84 s.
ARC_DEG = 200.0
FULL_SCANLINES = 4000
LOCAL_CROSSING_HOURS = 13.5


@dataclass(frozen=True)
class Swath:
    """Pixel geolocation of one pass; ``times_s`` are seconds since the first scanline."""

    latitude: np.ndarray  # (scanline, ground_pixel)
    longitude: np.ndarray
    latitude_bounds: np.ndarray  # (scanline, ground_pixel, corner)
    longitude_bounds: np.ndarray
    satellite_latitude: np.ndarray  # (scanline,)
    satellite_longitude: np.ndarray
    times_s: np.ndarray  # (scanline,)
    scanline_seconds: float


def scanline_seconds(scanlines: int) -> float:
    """Time between scanlines so that ``scanlines`` always cover the whole day-side arc (0.84 s for 4000)."""
    return PERIOD_S * ARC_DEG / 360.0 / scanlines


def crossing_longitude(crossing_utc_hours: float) -> float:
    """Longitude of the equator crossing at 13:30 local solar time for a crossing at this UTC hour."""
    return (LOCAL_CROSSING_HOURS - crossing_utc_hours) * 15.0


def _directions(tau: np.ndarray, view: np.ndarray, node_lon: float) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (deg) seen at times ``tau`` (s from the equator crossing) and view angles (rad)."""
    inc = math.radians(INCLINATION_DEG)
    node = math.radians(node_lon)
    u = 2 * math.pi * tau / PERIOD_S
    sat = np.stack([
        math.cos(node) * np.cos(u) - math.sin(node) * np.sin(u) * math.cos(inc),
        math.sin(node) * np.cos(u) + math.cos(node) * np.sin(u) * math.cos(inc),
        np.sin(u) * math.sin(inc),
    ], axis=-1)
    normal = np.array([math.sin(node) * math.sin(inc), -math.cos(node) * math.sin(inc), math.cos(inc)])
    ratio = (EARTH_RADIUS_KM + ALTITUDE_KM) / EARTH_RADIUS_KM
    central = np.arcsin(np.clip(ratio * np.sin(view), -1, 1)) - view
    points = (np.cos(central)[None, :, None] * sat[:, None, :]
              + np.sin(central)[None, :, None] * normal[None, None, :])
    lat = np.degrees(np.arcsin(np.clip(points[..., 2], -1, 1)))
    lon = np.degrees(np.arctan2(points[..., 1], points[..., 0]) - EARTH_ROTATION_RAD_S * tau[:, None])
    return lat, (lon + 180.0) % 360.0 - 180.0


def compute(scanlines: int, node_lon: float) -> Swath:
    """The geolocation of a pass whose ascending equator crossing, at ``node_lon``, is mid-granule."""
    step = scanline_seconds(scanlines)
    times = np.arange(scanlines) * step
    tau = times - times[-1] / 2
    view = np.radians(np.linspace(-MAX_VIEW_DEG, MAX_VIEW_DEG, GROUND_PIXELS))
    lat, lon = _directions(tau, view, node_lon)
    edge_tau = np.concatenate([tau - step / 2, tau[-1:] + step / 2])
    half = (view[1] - view[0]) / 2
    edge_view = np.concatenate([view - half, view[-1:] + half])
    elat, elon = _directions(edge_tau, edge_view, node_lon)
    # corners counter-clockwise as in the product: (i, j), (i, j+1), (i+1, j+1), (i+1, j)
    lat_b = np.stack([elat[:-1, :-1], elat[:-1, 1:], elat[1:, 1:], elat[1:, :-1]], axis=-1)
    lon_b = np.stack([elon[:-1, :-1], elon[:-1, 1:], elon[1:, 1:], elon[1:, :-1]], axis=-1)
    sat_lat, sat_lon = _directions(tau, np.zeros(1), node_lon)
    return Swath(
        latitude=lat.astype(np.float32), longitude=lon.astype(np.float32),
        latitude_bounds=lat_b.astype(np.float32), longitude_bounds=lon_b.astype(np.float32),
        satellite_latitude=sat_lat[:, 0].astype(np.float32), satellite_longitude=sat_lon[:, 0].astype(np.float32),
        times_s=times, scanline_seconds=step,
    )


def solar_zenith(lat: np.ndarray, lon: np.ndarray, utc_hours: np.ndarray, day_of_year: int) -> np.ndarray:
    """Approximate solar zenith angle (deg); good to a degree, enough to mark the terminator."""
    decl = math.radians(-23.44) * math.cos(2 * math.pi * (day_of_year + 10) / 365.0)
    hour_angle = np.radians((utc_hours[:, None] - 12.0) * 15.0 + lon)
    phi = np.radians(lat)
    cos_z = np.sin(phi) * math.sin(decl) + np.cos(phi) * math.cos(decl) * np.cos(hour_angle)
    return np.degrees(np.arccos(np.clip(cos_z, -1, 1)))
