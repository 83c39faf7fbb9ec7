"""Listing 20,000 products through 100-product pages of a loopback CDSE OData catalogue.

Compares the broker's lazy search (``CdseCatalogue.search``: paging, mapping, dedup, limit) with a bare
``requests`` loop that only fetches and parses the same pages, and measures peak Python memory
(tracemalloc) at 2,000 and 20,000 products to show it stays flat.

    .venv/bin/python bench/databroker_paging.py [--products 20000] [--rounds 3] [--footprint-points 5]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import platform
import sys
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from components.databroker.catalogues.cdse import CdseCatalogue
from components.databroker.http import HttpPolicy, JsonHttp
from components.databroker.query import build_query
from tests.databroker_helpers import odata_product

PAGE = 100


def product(i: int, points: int) -> dict[str, object]:
    """The test fixture's OData product, its footprint ring resampled to ``points`` vertices."""
    item = odata_product(i)
    if points > 5:
        ring = [[-170 + 340 * k / points, 80 * math.sin(k)] for k in range(points)]
        ring.append(ring[0])
        item["GeoFootprint"] = {"type": "Polygon", "coordinates": [ring]}
        item["Footprint"] = "geography'SRID=4326;POLYGON ((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in ring) + "))'"
    return item


def serve(total: int, points: int, port_out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A separate process answering pre-rendered OData pages (so the server does not share our GIL)."""
    item_json = [json.dumps(product(i, points)) for i in range(total)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            skip = int(params.get("$skip", 0))
            body = '{"@odata.context": "$metadata#Products", "value": [' + ",".join(item_json[skip:skip + PAGE]) + "]"
            if skip + PAGE < total:
                link = f"http://127.0.0.1:{self.server.server_port}/odata/v1/Products?" + urlencode(
                    {**params, "$skip": skip + PAGE})
                body += ', "@odata.nextLink": ' + json.dumps(link)
            payload = (body + "}").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_port)
    server.serve_forever()


def bare_loop(root: str) -> int:
    """The baseline: fetch and parse every page with requests, following nextLink, nothing else."""
    count = 0
    with requests.Session() as session:
        url: str | None = f"{root}/Products"
        params: dict[str, object] | None = {"$top": PAGE}
        while url:
            body = session.get(url, params=params, timeout=30).json()
            count += len(body["value"])
            url, params = body.get("@odata.nextLink"), None
    return count


def broker(root: str, limit: int = 0) -> int:
    query = build_query(start="2024-01-01", end="2024-03-01", limit=limit)
    catalogue = CdseCatalogue(JsonHttp(HttpPolicy(timeout=30)), root)
    try:
        return sum(1 for _ in catalogue.search(query))
    finally:
        catalogue.close()


def peak_kib(root: str, limit: int) -> tuple[int, float]:
    tracemalloc.start()
    count = broker(root, limit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return count, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--footprint-points", type=int, default=5,
                        help="vertices per footprint (CDSE's Sentinel-5P footprints have tens to hundreds)")
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(args.products, args.footprint_points, ports), daemon=True)
    server.start()
    try:
        root = f"http://127.0.0.1:{ports.get(timeout=120)}/odata/v1"
        print(f"machine: {multiprocessing.cpu_count()} cores, Python {platform.python_version()}, "
              f"{args.products} products in pages of {PAGE}, {args.footprint_points}-vertex footprints")
        bare, ours = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            assert bare_loop(root) == args.products
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert broker(root) == args.products
            ours.append(time.perf_counter() - started)
        print(f"bare requests loop: best {min(bare):.2f} s  ({args.products / min(bare):,.0f} products/s)")
        print(f"broker search:      best {min(ours):.2f} s  ({args.products / min(ours):,.0f} products/s)")
        print(f"ratio broker/bare:  {min(ours) / min(bare):.2f}x  (goal <= 1.2x)")
        small = max(PAGE, args.products // 10)
        for limit in (small, args.products):
            count, peak = peak_kib(root, limit)
            print(f"peak traced memory listing {count:>6} products: {peak:,.0f} KiB")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
