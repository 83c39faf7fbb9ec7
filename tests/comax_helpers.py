"""Shared fixtures of the comax tests: small synthetic products with planted traps, a loopback S3 server
(moto server mode) and a loopback HTTP server with Range support, an independent brute-force answer, and served
analyzers (real gRPC and HTTP servers on port 0)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pytest
import shapely

from components.comax.app import Settings, build
from components.comax.sample import Pixel, Plant, pixel_at, write_product
from components.common import contract
from components.common.aoi import isoformat
from components.common.server import create_server
from components.common.web import WebServer, create_web_app

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
AOI = "POLYGON ((8 42, 14 42, 14 47, 8 47, 8 42))"
SCANLINES = 300
KNOWN_MAX = 0.5
BUCKET = "comax-test"


@dataclass
class Products:
    folder: Path
    main: Path  # day 1, planted max and traps
    second: Path  # day 2, a smaller planted max
    antimeridian: Path  # a pass over the date line
    truncated: Path
    junk: Path
    known: Pixel  # the planted maximum of ``main``
    late: Pixel  # a larger value inside the AOI, observed after the window used in the tests
    # constants and helpers travel with the fixture: test modules load this file as a plugin, not by import
    aoi: str = AOI
    known_max: float = KNOWN_MAX
    bucket: str = BUCKET
    start: datetime = START

    @staticmethod
    def brute_force(path: Path, aoi: str, start: datetime | None = None, end: datetime | None = None,
                    qa_min: float = 0.5) -> tuple[float | None, int, float | None, float | None]:
        return brute_force(path, aoi, start, end, qa_min)

    @staticmethod
    def brute_force_footprints_360(path: Path, box: tuple[float, float, float, float],
                                   qa_min: float = 0.5) -> tuple[float | None, int]:
        return brute_force_footprints_360(path, box, qa_min)

    @property
    def window(self) -> tuple[datetime, datetime]:
        """Covers the planted maximum but not ``late``."""
        return START - timedelta(minutes=1), self.late.time - timedelta(milliseconds=1)


def _traps() -> list[Plant]:
    return [
        Plant(44.5, 11.0, KNOWN_MAX, qa=1.0),
        Plant(39.0, 11.0, 0.9, qa=1.0),  # outside the AOI
        Plant(45.5, 9.0, 0.8, qa=0.4),  # low QA
        Plant(43.0, 12.5, 0.85, qa=0.5),  # QA exactly at the threshold (must be strictly above)
        Plant(43.2, 9.5, 0.0, qa=1.0, fill=True),  # fill value with good QA
        Plant(46.6, 10.0, 0.95, qa=1.0),  # inside, but later than the window the tests use
    ]


@pytest.fixture(scope="session")
def products(tmp_path_factory: pytest.TempPathFactory) -> Products:
    folder = tmp_path_factory.mktemp("comax-products")
    main = write_product(folder, START, orbit=33000, scanlines=SCANLINES, seed=1, plant=_traps())
    second = write_product(folder, START + timedelta(days=1), orbit=33014, scanlines=SCANLINES, seed=2,
                           plant=[Plant(45.0, 12.0, 0.3, qa=0.7)])
    # equator crossing at 01:30 UTC is at 13:30 local time on the antimeridian
    anti = write_product(folder, datetime(2024, 3, 1, 1, 2, tzinfo=UTC), orbit=32993, scanlines=SCANLINES,
                         seed=3, plant=[Plant(2.0, 179.9, 0.6), Plant(-2.0, -179.8, 0.65)])
    data = main.read_bytes()
    truncated = folder / "truncated.nc"
    truncated.write_bytes(data[: len(data) // 2])
    junk = folder / "junk.nc"
    junk.write_bytes(b"this is not a netCDF file\n" * 100)
    return Products(folder, main, second, anti, truncated, junk, pixel_at(main, 44.5, 11.0),
                    pixel_at(main, 46.6, 10.0))


def brute_force(path: Path, aoi: str, start: datetime | None = None, end: datetime | None = None,
                qa_min: float = 0.5) -> tuple[float | None, int, float | None, float | None]:
    """(max, valid pixel count, lat, lon) with netCDF4 reading every full array: independent of the reader."""
    import netCDF4

    geom = shapely.from_wkt(aoi)
    with netCDF4.Dataset(path) as nc:
        prod = nc["PRODUCT"]
        co = prod["carbonmonoxide_total_column"][0].filled(np.nan).astype(np.float64)
        qa = prod["qa_value"][0].filled(-1).astype(np.float64)
        lat = prod["latitude"][0].filled(np.nan).astype(np.float64)
        lon = prod["longitude"][0].filled(np.nan).astype(np.float64)
        ref = datetime(2010, 1, 1, tzinfo=UTC) + timedelta(seconds=int(prod["time"][0]))
        delta = prod["delta_time"][0].astype(np.int64)
    times = np.array([ref + timedelta(milliseconds=int(d)) for d in delta])
    rows = np.ones(times.shape, bool)
    if start is not None:
        rows &= times >= start
    if end is not None:
        rows &= times <= end
    inside = shapely.contains_xy(geom, lon, lat) | shapely.contains_xy(geom, lon + 360, lat)
    ok = inside & (qa > qa_min) & np.isfinite(co) & rows[:, None]
    if not ok.any():
        return None, 0, None, None
    idx = np.unravel_index(np.argmax(np.where(ok, co, -np.inf)), co.shape)
    return float(co[idx]), int(ok.sum()), float(lat[idx]), float(lon[idx])


def brute_force_footprints_360(path: Path, box: tuple[float, float, float, float],
                               qa_min: float = 0.5) -> tuple[float | None, int]:
    """(max, valid pixel count) of pixels whose corner polygon meets ``box`` (west, south, east, north) with
    every longitude taken in 0..360: a simple independent answer for boxes around the antimeridian."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        prod = nc["PRODUCT"]
        geo = prod["SUPPORT_DATA/GEOLOCATIONS"]
        co = prod["carbonmonoxide_total_column"][0].filled(np.nan).astype(np.float64).ravel()
        qa = prod["qa_value"][0].filled(-1).astype(np.float64).ravel()
        lat_b = geo["latitude_bounds"][0].astype(np.float64).reshape(-1, 4)
        lon_b = geo["longitude_bounds"][0].astype(np.float64).reshape(-1, 4) % 360.0
    rings = np.stack([lon_b, lat_b], axis=-1)
    polygons = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    ok = shapely.intersects(shapely.box(*box), polygons) & (qa > qa_min) & np.isfinite(co)
    if not ok.any():
        return None, 0
    return float(co[ok].max()), int(ok.sum())


class NoRangeHandler(SimpleHTTPRequestHandler):
    """A static file server that ignores ``Range`` (always 200 with the whole file) and counts its GETs."""

    gets = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).gets += 1
        super().do_GET()


@pytest.fixture(scope="session")
def s3_server(products: Products) -> Iterator[str]:
    """A real S3 server on loopback holding the products; ``denied/`` is forbidden by a bucket policy."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for path in (products.main, products.second, products.antimeridian, products.truncated, products.junk):
        client.upload_file(str(path), BUCKET, f"Sentinel-5P/{path.name}")
    client.upload_file(str(products.main), BUCKET, f"denied/{products.main.name}")
    client.put_object(Bucket=BUCKET, Key="empty.nc", Body=b"")
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/denied/*"}],
    }))
    yield url
    server.stop()


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single-range support, like an object store's HTTPS endpoint; /denied/ gives 403."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/denied/"):
            self.send_error(403, "Forbidden")
            return
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match is None:
            self.send_response(200)
            body = data
        else:
            first = int(match.group(1))
            last = min(int(match.group(2) or len(data) - 1), len(data) - 1)
            if first >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            body = data[first:last + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def http_server(products: Products) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(products.folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def http_no_range_server(products: Products) -> Iterator[tuple[str, type[NoRangeHandler]]]:
    """A loopback HTTP server ignoring Range, and its handler class (``gets`` counts the requests)."""
    handler = type("CountingNoRange", (NoRangeHandler,), {"gets": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(products.folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


class Served:
    """One analyzer served as in production: its gRPC server and its web app, each on a free port."""

    def __init__(self, settings: Settings):
        component = build(settings)
        self.component = component
        self.server, port = create_server(component.services, settings)
        self.server.start()
        self.web = WebServer(create_web_app("comax", component.web_app), "127.0.0.1", 0)
        self.web.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = contract.contract_pb2_grpc.COMaxStub(self.channel)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.web.port}", timeout=10)
        self.stopped = False

    def analyze(self, href: str, aoi: str = AOI, window: tuple[datetime, datetime] | None = None,
                metadata: Any = None, **extra: Any) -> Any:
        """``COMax.analyze`` of one Product for ``aoi`` and ``window`` (none: the whole product), with call
        ``metadata``."""
        fields = {"href": href, "aoi_wkt": aoi, **extra}
        if window is not None:
            fields.update(query_start=isoformat(window[0]), query_end=isoformat(window[1]))
        return self.stub.analyze(contract.contract_pb2.Product(**fields), timeout=30, metadata=metadata)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.http.close()
        self.channel.close()
        self.server.stop(0)
        self.web.stop()
        for hook in self.component.on_stop:
            hook()


@pytest.fixture
def serve_comax(products: Products, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Served]]:
    """Start analyzers reading ``products.folder`` (and S3 at ``s3_url``); all are stopped after the test."""
    monkeypatch.delenv("SHARED_FOLDER_PATH", raising=False)
    started: list[Served] = []

    def start(results: Path | None, s3_url: str = "", **settings: Any) -> Served:
        served = Served(Settings(host="127.0.0.1", port=0, results_folder=results, data_folder=products.folder,
                                 s3_endpoint=s3_url or None, s3_access_key="test", s3_secret_key="test",
                                 s3_region="us-east-1", **settings))
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()
