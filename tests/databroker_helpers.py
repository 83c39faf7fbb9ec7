"""Loopback HTTP catalogues answering in the exact shapes of CDSE OData, resto and STAC APIs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Reply = tuple[int, dict[str, str], bytes]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    authorization: list[str] = field(default_factory=list)


@dataclass
class Loopback:
    """A real HTTP server on 127.0.0.1; ``handle(request) -> (status, headers, body)``; records requests."""

    handle: Callable[[Request], Reply]
    requests: list[Request] = field(default_factory=list)
    url: str = ""


@contextmanager
def serve(handle: Callable[[Request], Reply]) -> Iterator[Loopback]:
    loop = Loopback(handle)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            params = {key: values[0] for key, values in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            request = Request(self.command, parts.path, params, body, self.headers.get_all("Authorization") or [])
            loop.requests.append(request)
            status, headers, payload = loop.handle(request)
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    loop.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# What a plain web server (not a catalogue API) answers for an unknown path.
NGINX_404 = b"""<html>
<head><title>404 Not Found</title>
<style>
  body { font-family: sans-serif; }
</style></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
"""


def as_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, headers or {}, json.dumps(data).encode()


def s5p_name(i: int, mode: str = "OFFL") -> str:
    start = T0 + timedelta(minutes=101 * i)
    end = start + timedelta(minutes=56)
    fmt = "%Y%m%dT%H%M%S"
    return (f"S5P_{mode}_L2__CO_____{start.strftime(fmt)}_{end.strftime(fmt)}_{32384 + i:05d}_03_020400_"
            f"{(end + timedelta(days=4)).strftime(fmt)}.nc")


def _window(i: int) -> tuple[str, str]:
    start = T0 + timedelta(minutes=101 * i)
    return (start.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            (start + timedelta(minutes=56)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")


def odata_product(i: int, mode: str = "OFFL") -> dict[str, Any]:
    """One CDSE OData ``Products`` entity, as the real catalogue returns it."""
    name = s5p_name(i, mode)
    start, end = _window(i)
    lon = -180 + (i * 25) % 330
    ring = [[lon, -80.0], [lon + 30, -80.0], [lon + 30, 80.0], [lon, 80.0], [lon, -80.0]]
    wkt = "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"
    return {
        "@odata.mediaContentType": "application/octet-stream",
        "Id": f"5c1e{i:04d}-0000-4000-8000-{i:012d}", "Name": name, "ContentType": "application/octet-stream",
        "ContentLength": 455000000 + i, "OriginDate": "2024-01-05T02:10:11.000Z",
        "PublicationDate": "2024-01-05T03:12:41.446Z", "ModificationDate": "2024-01-05T03:12:41.446Z",
        "Online": True, "EvictionDate": "9999-12-31T23:59:59.999Z",
        "S3Path": f"/eodata/Sentinel-5P/TROPOMI/L2__CO____/2024/01/{1 + (101 * i) // 1440:02d}/{name}",
        "Checksum": [{"Value": f"{i:032x}", "Algorithm": "MD5", "ChecksumDate": "2024-01-05T03:12:40.000Z"},
                     {"Value": f"{i:064x}", "Algorithm": "BLAKE3", "ChecksumDate": "2024-01-05T03:12:40.000Z"}],
        "ContentDate": {"Start": start, "End": end},
        "Footprint": f"geography'SRID=4326;{wkt}'",
        "GeoFootprint": {"type": "Polygon", "coordinates": [ring]},
    }


def odata_page(base: str, items: list[dict[str, Any]], next_skip: int | None, params: dict[str, str]) -> Reply:
    body: dict[str, Any] = {"@odata.context": "$metadata#Products", "value": items}
    if next_skip is not None:
        query = {**params, "$skip": str(next_skip)}
        body["@odata.nextLink"] = f"{base}/odata/v1/Products?{urlencode(query)}"
    return as_json(body)


def odata_catalogue(total: int, base: Callable[[], str], page_items: int | None = None) -> Callable[[Request], Reply]:
    """A CDSE-like ``/odata/v1/Products`` over ``total`` products, paged by ``$top``/``$skip``."""

    def handle(request: Request) -> Reply:
        top = int(request.params.get("$top", 20)) if page_items is None else page_items
        skip = int(request.params.get("$skip", 0))
        items = [odata_product(i) for i in range(skip, min(skip + top, total))]
        return odata_page(base(), items, skip + top if skip + top < total else None, request.params)

    return handle


def repeating_next_link(request: Request, base: str) -> Reply:
    """OData pages of 3 whose next link, from the second page on, is always the second page's own."""
    skip = int(request.params.get("$skip", 0))
    return odata_page(base, [odata_product(i) for i in range(skip, skip + 3)], 3, request.params)


def resto_feature(i: int, mode: str = "OFFL") -> dict[str, Any]:
    """One resto (CDSE/CREODIAS OpenSearch) feature of the Sentinel5P collection."""
    name = s5p_name(i, mode)
    start, end = _window(i)
    lon = -180 + (i * 25) % 330
    return {
        "type": "Feature", "id": f"5c1e{i:04d}-0000-4000-8000-{i:012d}",
        "geometry": {"type": "Polygon", "coordinates": [[[lon, -80], [lon + 30, -80], [lon + 30, 80], [lon, 80],
                                                           [lon, -80]]]},
        "properties": {
            "collection": "SENTINEL-5P", "status": "ONLINE",
            "productIdentifier": f"/eodata/Sentinel-5P/TROPOMI/L2__CO____/2024/01/01/{name}",
            "parentIdentifier": None, "title": name, "description": None, "organisationName": "ESA",
            "startDate": start.replace("Z", "000Z"), "completionDate": end.replace("Z", "000Z"),
            "productType": "L2__CO____", "processingLevel": "S5PL2", "platform": "S5P", "instrument": "TROPOMI",
            "resolution": 0, "sensorMode": "", "orbitNumber": 32384 + i, "quicklook": None, "thumbnail": None,
            "updated": "2024-01-05T03:12:41.446Z", "published": "2024-01-05T03:12:41.446Z",
            "services": {"download": {"url": f"https://zipper.dataspace.copernicus.eu/download/{i}",
                                      "mimeType": "application/octet-stream", "size": 455000000 + i}},
            "links": [{"rel": "self", "type": "application/json", "title": "GeoJSON link",
                       "href": f"https://catalogue.dataspace.copernicus.eu/resto/collections/SENTINEL-5P/{i}.json"}],
        },
    }


def resto_catalogue(total: int, base: Callable[[], str]) -> Callable[[Request], Reply]:
    """A resto ``search.json`` over ``total`` products, paged by ``maxRecords``/``page``."""

    def handle(request: Request) -> Reply:
        size = int(request.params.get("maxRecords", 20))
        page = int(request.params.get("page", 1))
        begin = (page - 1) * size
        features = [resto_feature(i) for i in range(begin, min(begin + size, total))]
        links = [{"rel": "self", "type": "application/json", "title": "self",
                  "href": f"{base()}{request.path}?{urlencode(request.params)}"}]
        if begin + size < total:
            links.append({"rel": "next", "type": "application/json", "title": "next",
                          "href": f"{base()}{request.path}?{urlencode({**request.params, 'page': page + 1})}"})
        return as_json({"type": "FeatureCollection",
                        "properties": {"id": "search", "totalResults": None, "exactCount": False,
                                       "startIndex": begin + 1, "itemsPerPage": len(features),
                                       "query": {"originalFilters": {}}, "links": links},
                        "features": features})

    return handle


STAC_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]


def stac_item(i: int, collection: str = "SENTINEL-5P") -> dict[str, Any]:
    name = s5p_name(i)
    start, end = _window(i)
    lon = -180 + (i * 25) % 330
    return {
        "type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": name.removesuffix(".nc"),
        "collection": collection, "bbox": [lon, -80, lon + 30, 80],
        "geometry": {"type": "Polygon", "coordinates": [[[lon, -80], [lon + 30, -80], [lon + 30, 80], [lon, 80],
                                                           [lon, -80]]]},
        "properties": {"datetime": start, "start_datetime": start, "end_datetime": end,
                       "product:type": "L2__CO____", "platform": "sentinel-5p"},
        "links": [], "assets": {"product": {"href": f"s3://eodata/Sentinel-5P/TROPOMI/L2__CO____/{name}",
                                            "roles": ["data"], "file:size": 455000000 + i}},
    }


def stac_api(total: int, base: Callable[[], str]) -> Callable[[Request], Reply]:
    """A STAC API: landing page, conformance, ``/search`` (GET and POST) with ``next`` links."""

    def handle(request: Request) -> Reply:
        root = base()
        if request.path in ("", "/"):
            return as_json({"type": "Catalog", "stac_version": "1.0.0", "id": "loopback", "description": "test",
                            "conformsTo": STAC_CONFORMANCE,
                            "links": [{"rel": "self", "href": root + "/", "type": "application/json"},
                                      {"rel": "root", "href": root + "/", "type": "application/json"},
                                      {"rel": "search", "href": root + "/search", "type": "application/geo+json",
                                       "method": "GET"},
                                      {"rel": "search", "href": root + "/search", "type": "application/geo+json",
                                       "method": "POST"}]})
        if request.path == "/conformance":
            return as_json({"conformsTo": STAC_CONFORMANCE})
        if request.path == "/search":
            args = request.body if request.method == "POST" else request.params
            limit = int(args.get("limit", 10))
            token = int(args.get("token", 0))
            features = [stac_item(i) for i in range(token, min(token + limit, total))]
            links = []
            if token + limit < total:
                if request.method == "POST":
                    links.append({"rel": "next", "href": root + "/search", "method": "POST",
                                  "body": {**args, "token": token + limit}, "type": "application/geo+json"})
                else:
                    links.append({"rel": "next", "type": "application/geo+json",
                                  "href": f"{root}/search?{urlencode({**args, 'token': token + limit})}"})
            return as_json({"type": "FeatureCollection", "features": features, "links": links,
                            "numberReturned": len(features)})
        return as_json({"code": "NotFound", "description": f"{request.path} not found"}, 404)

    return handle
