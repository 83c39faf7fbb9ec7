"""Synthetic Sentinel-5P TROPOMI L2 CO products in the real file layout (netCDF-4 written with h5py).

The files follow the S5P L2 CO product: group ``PRODUCT`` with dimensions ``time`` (1), ``scanline``,
``ground_pixel`` (215), ``corner`` (4), ``layer`` (50); the CO column in mol m-2 with its conversion factor,
``qa_value`` as uint8 scaled by 0.01, geolocation of a day-side pass, pixel corners in
``PRODUCT/SUPPORT_DATA/GEOLOCATIONS``, and the bulky ``SUPPORT_DATA/DETAILED_RESULTS`` and ``INPUT_DATA`` groups,
chunked along scanlines and zlib-compressed. The values are made up; the global attributes say so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from components.comax import swath

FILL_FLOAT = np.float32(9.96921e36)
MOLECULES_PER_CM2 = 6.02214e19
REFERENCE_EPOCH = datetime(2010, 1, 1, tzinfo=UTC)
FIRST_ORBIT_TIME = datetime(2017, 10, 13, tzinfo=UTC)
LAYERS = 50
PRODUCT_MODES = ("OFFL", "NRTI", "RPRO")
_PROCESSING_DELAY = {"OFFL": timedelta(days=4), "RPRO": timedelta(days=900), "NRTI": timedelta(hours=2)}
_COMPRESSION: dict[str, Any] = {"compression": "gzip", "compression_opts": 3, "shuffle": True}


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
    start = _utc(start)
    end = start + timedelta(seconds=swath.scanline_seconds(scanlines) * scanlines)
    processed = end + _PROCESSING_DELAY.get(mode, timedelta(days=4))
    fmt = "%Y%m%dT%H%M%S"
    return (f"S5P_{mode}_L2__CO_____{start.strftime(fmt)}_{end.strftime(fmt)}_{orbit:05d}_03_020400_"
            f"{processed.strftime(fmt)}.nc")


def write_product(path: Path, start: datetime, *, orbit: int = 1, scanlines: int = 4000, seed: int = 0,
                  mode: str = "OFFL", support_data: bool = True, plant: Sequence[Plant] = ()) -> Path:
    """Write one synthetic S5P L2 CO product and return its path.

    ``path`` may be a directory, in which case the file gets the real naming convention. ``scanlines`` scales the
    product (4000 is a full day-side granule of some tens of MB); the granule always spans the whole day-side arc.
    The file is written under a temporary name and renamed, so a partial file never appears.
    """
    if mode not in PRODUCT_MODES:
        raise ValueError(f"mode must be one of {PRODUCT_MODES}, got {mode!r}")
    if scanlines < 2:
        raise ValueError("scanlines must be at least 2")
    start = _utc(start)
    path = Path(path)
    if path.is_dir():
        path = path / product_name(start, scanlines, orbit, mode)
    step = swath.scanline_seconds(scanlines)
    crossing = start + timedelta(seconds=step * (scanlines - 1) / 2)
    hours = crossing.hour + crossing.minute / 60 + crossing.second / 3600
    geo = swath.compute(scanlines, swath.crossing_longitude(hours))
    rng = np.random.default_rng([seed, orbit])
    fields = _fields(geo, start, rng)
    for item in plant:
        _plant(fields, geo, start, item)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as h5:
            _write(h5, path.name, start, orbit, mode, geo, fields, rng, support_data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def generate_products(folder: Path, start: datetime, days: int, per_day: int = 1, *, scanlines: int = 4000,
                      seed: int = 0) -> list[Path]:
    """Write ``per_day`` consecutive orbits per day for ``days`` days from ``start``; existing files are kept.

    Deterministic: the same arguments give the same files (and names), so callers can cache them.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = _utc(start)
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
    line, pix = _nearest(lat, lon, offsets, start, latitude, longitude, time)
    return Pixel(line, pix, float(lat[line, pix]), float(lon[line, pix]),
                 ref + timedelta(milliseconds=int(delta_ms[line])))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _nearest(lat: np.ndarray, lon: np.ndarray, times_s: np.ndarray, start: datetime, latitude: float,
             longitude: float, time: datetime | None) -> tuple[int, int]:
    dlon = (lon - longitude + 180.0) % 360.0 - 180.0
    dist = (lat - latitude) ** 2 + (dlon * math.cos(math.radians(latitude))) ** 2
    if time is not None:
        line = int(np.argmin(np.abs(times_s - (_utc(time) - start).total_seconds())))
        pix = int(np.argmin(dist[line]))
    else:
        line, pix = (int(i) for i in np.unravel_index(np.argmin(dist), dist.shape))
    # within 2 deg, or 5 deg when the time fixed the scanline (coarse products have long pixels)
    if dist[line, pix] > (25.0 if time is not None else 4.0):
        raise ValueError(f"({latitude}, {longitude}) is not covered by this product's swath")
    return line, pix


def _plant(fields: dict[str, np.ndarray], geo: swath.Swath, start: datetime, item: Plant) -> None:
    line, pix = _nearest(geo.latitude.astype(np.float64), geo.longitude.astype(np.float64), geo.times_s, start,
                         item.latitude, item.longitude, item.time)
    fields["co"][line, pix] = FILL_FLOAT if item.fill else np.float32(item.value)
    fields["precision"][line, pix] = FILL_FLOAT if item.fill else np.float32(0.002)
    fields["qa"][line, pix] = np.uint8(round(item.qa * 100))


def _smooth(lat: np.ndarray, lon: np.ndarray, rng: np.random.Generator, waves: int = 3) -> np.ndarray:
    """A smooth random field in [-1, 1] over the swath (a few random plane waves on the sphere)."""
    out = np.zeros(lat.shape, dtype=np.float64)
    rlat, rlon = np.radians(lat), np.radians(lon)
    for _ in range(waves):
        k_lat, k_lon = rng.uniform(2, 12, 2)
        out += np.sin(k_lat * rlat + rng.uniform(0, 2 * np.pi)) * np.cos(k_lon * rlon + rng.uniform(0, 2 * np.pi))
    return out / waves


def _fields(geo: swath.Swath, start: datetime, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """CO column, precision, QA and cloud fields: background, fire-like plumes, noise, terminator and clouds."""
    lat, lon = geo.latitude.astype(np.float64), geo.longitude.astype(np.float64)
    co = 0.027 + 0.006 * np.tanh(lat / 25.0) + 0.004 * _smooth(lat, lon, rng)
    n_plumes = int(rng.integers(6, 14))
    centres = rng.integers(0, lat.size, n_plumes)
    for centre, amp, sigma in zip(centres, rng.uniform(0.01, 0.09, n_plumes), rng.uniform(80, 400, n_plumes),
                                  strict=True):
        clat, clon = lat.flat[centre], lon.flat[centre]
        dlon = (lon - clon + 180.0) % 360.0 - 180.0
        d2 = ((lat - clat) * 111.2) ** 2 + (dlon * 111.2 * math.cos(math.radians(clat))) ** 2
        co += amp * np.exp(-d2 / (2 * sigma**2))
    co += rng.normal(0.0, 0.0015, lat.shape)
    cloud = 0.5 + 0.35 * _smooth(lat, lon, rng, waves=4) + rng.normal(0.0, 0.12, lat.shape)
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


def _text(value: str) -> np.bytes_:
    # fixed-length ASCII attributes, as netCDF-C writes them (read back as text, not NC_STRING)
    return np.bytes_(value.encode("ascii"))


def _attrs(obj: h5py.HLObject, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        obj.attrs[key] = _text(value) if isinstance(value, str) else value


class _Writer:
    """Creates netCDF-4 variables (HDF5 datasets with dimension scales) chunked along the scanline.

    Like netCDF-C (define mode, then data), every variable is defined before any data is written, so the
    file's metadata sits together near its start and the data chunks follow.
    """

    def __init__(self, dims: dict[str, h5py.Dataset], chunk_lines: int):
        self.dims = dims
        self.chunk_lines = chunk_lines
        self.pending: list[tuple[h5py.Dataset, np.ndarray]] = []

    def write_data(self) -> None:
        for ds, data in self.pending:
            ds[...] = data.reshape(ds.shape)
        self.pending.clear()

    def var(self, group: h5py.Group, name: str, data: np.ndarray, dims: Sequence[str], attrs: dict[str, Any],
            fill: Any = None, *, defer: bool = False) -> h5py.Dataset:
        """A variable over ``dims`` holding ``data`` (only its dtype when ``defer``: the caller fills it)."""
        shape = tuple(self.dims[d].shape[0] for d in dims)
        chunks = tuple(self.chunk_lines if d == "scanline" else self.dims[d].shape[0] for d in dims)
        extra: dict[str, Any] = dict(_COMPRESSION)
        if fill is not None:
            extra["fillvalue"] = fill
        ds = group.create_dataset(name, shape=shape, dtype=data.dtype, chunks=chunks, **extra)
        if not defer:
            self.pending.append((ds, data))
        if fill is not None:
            ds.attrs["_FillValue"] = np.array(fill, dtype=data.dtype)
        _attrs(ds, attrs)
        for i, dim in enumerate(dims):
            ds.dims[i].attach_scale(self.dims[dim])
        return ds


def _write(h5: h5py.File, name: str, start: datetime, orbit: int, mode: str, geo: swath.Swath,
           fields: dict[str, np.ndarray], rng: np.random.Generator, support_data: bool) -> None:
    lines = geo.latitude.shape[0]
    end = start + timedelta(seconds=geo.scanline_seconds * lines)
    ref_day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    _attrs(h5, {
        "Conventions": "CF-1.7", "institution": "ai4cop (synthetic test data, not from KNMI/SRON/ESA)",
        "source": "SYNTHETIC: generated by components.comax.sample; values are made up",
        "title": "SYNTHETIC TROPOMI/S5P Carbon Monoxide Total Column L2 product (not real data)",
        "summary": "Synthetic data in the Sentinel-5P L2 CO layout for testing and demonstrations.",
        "synthetic": "true", "platform": "S5P", "sensor": "TROPOMI", "product_name": name, "id": name,
        "processing_mode": mode, "processor_version": "2.4.0", "orbit": np.int32(orbit),
        "time_reference": ref_day.strftime(fmt), "time_coverage_start": start.strftime(fmt),
        "time_coverage_end": end.strftime(fmt), "geospatial_lat_min": float(geo.latitude.min()),
        "geospatial_lat_max": float(geo.latitude.max()), "geospatial_lon_min": float(geo.longitude.min()),
        "geospatial_lon_max": float(geo.longitude.max()),
    })
    prod = h5.create_group("PRODUCT")
    dims: dict[str, h5py.Dataset] = {}
    for dim, values, dtype in (("scanline", np.arange(lines), np.int32),
                               ("ground_pixel", np.arange(swath.GROUND_PIXELS), np.int32),
                               ("time", np.array([(ref_day - REFERENCE_EPOCH).total_seconds()]), np.int32),
                               ("corner", np.arange(4), np.int32), ("layer", np.arange(LAYERS), np.float32)):
        ds = prod.create_dataset(dim, data=values.astype(dtype))
        ds.make_scale(dim)
        dims[dim] = ds
    _attrs(dims["time"], {"units": "seconds since 2010-01-01 00:00:00", "standard_name": "time",
                          "axis": "T", "long_name": "reference time for the measurements"})
    _attrs(dims["scanline"], {"units": "1", "axis": "Y", "long_name": "along-track dimension index"})
    _attrs(dims["ground_pixel"], {"units": "1", "axis": "X", "long_name": "across-track dimension index"})
    _attrs(dims["corner"], {"units": "1", "long_name": "pixel corner index"})
    _attrs(dims["layer"], {"units": "1", "long_name": "layer index"})
    chunk = max(1, min(200, max(25, lines // 20), lines))
    w = _Writer(dims, chunk)
    pix = ("time", "scanline", "ground_pixel")
    line_dims = ("time", "scanline")
    coords = "longitude latitude"
    bounds = "/PRODUCT/SUPPORT_DATA/GEOLOCATIONS/"
    w.var(prod, "latitude", geo.latitude, pix, {"units": "degrees_north", "standard_name": "latitude",
                                                 "long_name": "pixel center latitude", "valid_min": -90.0,
                                                 "valid_max": 90.0, "bounds": bounds + "latitude_bounds"},
          FILL_FLOAT)
    w.var(prod, "longitude", geo.longitude, pix, {"units": "degrees_east", "standard_name": "longitude",
                                                   "long_name": "pixel center longitude", "valid_min": -180.0,
                                                   "valid_max": 180.0, "bounds": bounds + "longitude_bounds"},
          FILL_FLOAT)
    delta_ms = ((start - ref_day).total_seconds() + geo.times_s) * 1000.0
    w.var(prod, "delta_time", np.round(delta_ms).astype(np.int32), line_dims,
          {"units": f"milliseconds since {ref_day.strftime('%Y-%m-%d %H:%M:%S')}",
           "long_name": "offset from reference start time of measurement"}, np.int32(-2147483647))
    stamps = np.datetime64(ref_day.replace(tzinfo=None), "ms") + np.round(delta_ms).astype("timedelta64[ms]")
    utc = np.char.add(np.datetime_as_string(stamps, unit="us"), "Z").astype(object)
    w.var(prod, "time_utc", utc.astype(h5py.string_dtype()), line_dims,
          {"long_name": "Time of observation as ISO 8601 date-time string"})
    w.var(prod, "qa_value", fields["qa"], pix, {"units": "1", "scale_factor": np.float32(0.01),
                                                "add_offset": np.float32(0.0), "valid_min": np.uint8(0),
                                                "valid_max": np.uint8(100), "coordinates": coords,
                                                "long_name": "data quality value",
                                                "comment": "A continuous quality descriptor, varying between 0 "
                                                           "(no data) and 1 (full quality data). Recommend to "
                                                           "ignore data with qa_value < 0.5"},
          np.uint8(255))
    w.var(prod, "carbonmonoxide_total_column", fields["co"], pix,
          {"units": "mol m-2", "coordinates": coords,
           "standard_name": "atmosphere_mole_content_of_carbon_monoxide",
           "long_name": "Vertically integrated CO column",
           "multiplication_factor_to_convert_to_molecules_percm2": np.float32(MOLECULES_PER_CM2),
           "ancillary_variables": "carbonmonoxide_total_column_precision"}, FILL_FLOAT)
    w.var(prod, "carbonmonoxide_total_column_precision", fields["precision"], pix,
          {"units": "mol m-2", "coordinates": coords,
           "standard_name": "atmosphere_mole_content_of_carbon_monoxide standard_error",
           "long_name": "Standard error of vertically integrated CO column",
           "multiplication_factor_to_convert_to_molecules_percm2": np.float32(MOLECULES_PER_CM2)}, FILL_FLOAT)
    support = prod.create_group("SUPPORT_DATA")
    _geolocations(w, support.create_group("GEOLOCATIONS"), geo, fields, rng)
    kernel = None
    if support_data:
        detailed = support.create_group("DETAILED_RESULTS")
        kernel = _detailed_results(w, detailed, geo, fields, rng)
        _input_data(w, support.create_group("INPUT_DATA"), geo, rng)
    meta = h5.create_group("METADATA")
    _attrs(meta.create_group("GRANULE_DESCRIPTION"), {"ProductShortName": "L2__CO____",
                                                       "ProcessingMode": mode, "synthetic": "true"})
    meta.create_group("ALGORITHM_SETTINGS")
    meta.create_group("QA_STATISTICS")
    w.write_data()
    if kernel is not None:
        _write_kernel(detailed["column_averaging_kernel"], *kernel, w.chunk_lines)


def _noisy(base: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    return (base + rng.normal(0.0, scale, base.shape)).astype(np.float32)


def _geolocations(w: _Writer, grp: h5py.Group, geo: swath.Swath, fields: dict[str, np.ndarray],
                  rng: np.random.Generator) -> None:
    pix = ("time", "scanline", "ground_pixel")
    corners = ("time", "scanline", "ground_pixel", "corner")
    w.var(grp, "latitude_bounds", geo.latitude_bounds, corners, {"units": "degrees_north"}, FILL_FLOAT)
    w.var(grp, "longitude_bounds", geo.longitude_bounds, corners, {"units": "degrees_east"}, FILL_FLOAT)
    w.var(grp, "satellite_latitude", geo.satellite_latitude, ("time", "scanline"),
          {"units": "degrees_north", "long_name": "sub satellite latitude"}, FILL_FLOAT)
    w.var(grp, "satellite_longitude", geo.satellite_longitude, ("time", "scanline"),
          {"units": "degrees_east", "long_name": "sub satellite longitude"}, FILL_FLOAT)
    w.var(grp, "satellite_altitude", np.full(geo.times_s.shape, swath.ALTITUDE_KM * 1000, np.float32),
          ("time", "scanline"), {"units": "m"}, FILL_FLOAT)
    view = np.abs(np.linspace(-swath.MAX_VIEW_DEG, swath.MAX_VIEW_DEG, swath.GROUND_PIXELS))
    vza = np.broadcast_to(view * 1.1, geo.latitude.shape)
    w.var(grp, "solar_zenith_angle", fields["sza"], pix, {"units": "degree"}, FILL_FLOAT)
    w.var(grp, "viewing_zenith_angle", _noisy(vza, rng, 0.01), pix, {"units": "degree"}, FILL_FLOAT)
    w.var(grp, "solar_azimuth_angle", _noisy(120 + 0.3 * geo.latitude, rng, 0.05), pix, {"units": "degree"},
          FILL_FLOAT)
    w.var(grp, "viewing_azimuth_angle", _noisy(np.where(np.arange(swath.GROUND_PIXELS) < 107, 80.0, -100.0)
                                               * np.ones(geo.latitude.shape), rng, 0.05), pix,
          {"units": "degree"}, FILL_FLOAT)


def _detailed_results(w: _Writer, grp: h5py.Group, geo: swath.Swath, fields: dict[str, np.ndarray],
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pix = ("time", "scanline", "ground_pixel")
    lat = geo.latitude
    cloud = fields["cloud"]
    w.var(grp, "water_total_column", _noisy(800 * np.cos(np.radians(lat)) ** 2 + 50, rng, 5.0), pix,
          {"units": "mol m-2"}, FILL_FLOAT)
    w.var(grp, "water_total_column_precision", _noisy(np.full(lat.shape, 3.0), rng, 0.3), pix,
          {"units": "mol m-2"}, FILL_FLOAT)
    w.var(grp, "height_scattering_layer", _noisy(2000 + 3000 * cloud, rng, 100.0), pix, {"units": "m"},
          FILL_FLOAT)
    w.var(grp, "scattering_optical_thickness_SWIR", _noisy(np.abs(cloud) * 5, rng, 0.05), pix, {"units": "1"},
          FILL_FLOAT)
    for band in ("2325", "2335"):
        w.var(grp, f"surface_albedo_{band}", _noisy(0.05 + 0.2 * (cloud < 0.4), rng, 0.01), pix,
              {"units": "1"}, FILL_FLOAT)
    w.var(grp, "processing_quality_flags", (fields["qa"] == 0).astype(np.uint32) * np.uint32(3), pix,
          {"long_name": "Processing quality flags"}, np.uint32(4294967295))
    w.var(grp, "number_of_iterations", rng.integers(3, 12, lat.shape).astype(np.int32), pix, {"units": "1"},
          np.int32(-2147483647))
    w.var(grp, "chi_square", _noisy(np.ones(lat.shape), rng, 0.2), pix, {"units": "1"}, FILL_FLOAT)
    # The averaging kernel (scanline x pixel x 50 layers) is most of a real product's bytes; float16 precision
    # keeps it compressible enough to write quickly while its size stays realistic.
    profile = np.linspace(1.1, 0.6, LAYERS, dtype=np.float32) ** 2 * 8000.0
    scale = (1.0 + 0.3 * cloud + rng.normal(0, 0.02, lat.shape)).astype(np.float32)
    w.var(grp, "column_averaging_kernel", np.zeros(0, np.float32), ("time", "scanline", "ground_pixel", "layer"),
          {"units": "m"}, FILL_FLOAT, defer=True)
    return profile, scale


def _write_kernel(kernel: h5py.Dataset, profile: np.ndarray, scale: np.ndarray, lines: int) -> None:
    for begin in range(0, scale.shape[0], lines):
        block = scale[begin:begin + lines, :, None] * profile
        kernel[0, begin:begin + lines] = block.astype(np.float16).astype(np.float32)


def _input_data(w: _Writer, grp: h5py.Group, geo: swath.Swath, rng: np.random.Generator) -> None:
    pix = ("time", "scanline", "ground_pixel")
    lat, lon = geo.latitude.astype(np.float64), geo.longitude.astype(np.float64)
    altitude = np.clip(1500 * _smooth(lat, lon, rng, waves=5), 0, None)
    w.var(grp, "surface_altitude", _noisy(altitude, rng, 2.0), pix, {"units": "m"}, FILL_FLOAT)
    w.var(grp, "surface_altitude_precision", _noisy(np.full(lat.shape, 20.0), rng, 2.0), pix, {"units": "m"},
          FILL_FLOAT)
    w.var(grp, "surface_pressure", _noisy(101325 * np.exp(-altitude / 8400), rng, 30.0), pix, {"units": "Pa"},
          FILL_FLOAT)
    w.var(grp, "surface_classification", (altitude > 0).astype(np.uint8), pix, {"long_name": "land/water"},
          np.uint8(255))
