"""Listing 20,000 products through 100-product pages of a loopback catalogue (CDSE OData or resto).

Compares the broker's lazy search (``CdseCatalogue.search`` / ``OpenSearchCatalogue.search``: paging, mapping
every product to a full record, dedup, limit) with a bare ``requests`` loop that only fetches and parses the
same pages (sending the broker's own requests; a loop with a short first query, the earlier baseline, is
timed too), and measures peak Python memory (tracemalloc) at 2,000 and 20,000 products to show it stays flat.
Wall time is the figure; the process CPU time is printed beside it.

    .venv/bin/python bench/databroker_paging.py [--products 20000] [--rounds 3] [--footprint-points 5]
        [--catalogue cdse|opensearch]
"""

from __future__ import annotations

import argparse
import gc
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

from components.databroker.catalogues.base import PagedCatalogue
from components.databroker.catalogues.cdse import CdseCatalogue, odata_filter
from components.databroker.catalogues.opensearch import OpenSearchCatalogue, resto_params
from components.databroker.http import HttpPolicy, JsonHttp
from components.databroker.query import build_query
from tests.databroker_helpers import odata_product, resto_feature

PAGE = 100
QUERY = build_query(start="2024-01-01", end="2024-03-01")


def product(i: int, points: int, kind: str) -> dict[str, object]:
    """The test fixture's OData product or resto feature, its footprint ring resampled to ``points`` vertices."""
    item = odata_product(i) if kind == "cdse" else resto_feature(i)
    if points > 5:
        ring = [[-170 + 340 * k / points, 80 * math.sin(k)] for k in range(points)]
        ring.append(ring[0])
        geometry = {"type": "Polygon", "coordinates": [ring]}
        if kind == "cdse":
            item["GeoFootprint"] = geometry
            item["Footprint"] = "geography'SRID=4326;POLYGON ((" + ", ".join(
                f"{x:.6f} {y:.6f}" for x, y in ring) + "))'"
        else:
            item["geometry"] = geometry
    return item


def serve(total: int, points: int, kind: str, port_out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A separate process answering pre-rendered pages (so the server does not share our GIL)."""
    item_json = [json.dumps(product(i, points, kind)) for i in range(total)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            skip = int(params.get("$skip", 0)) if kind == "cdse" else (int(params.get("page", 1)) - 1) * PAGE
            items = ",".join(item_json[skip:skip + PAGE])
            link = ""
            if skip + PAGE < total:
                after = {"$skip": skip + PAGE} if kind == "cdse" else {"page": skip // PAGE + 2}
                link = f"http://127.0.0.1:{self.server.server_port}{parts.path}?" + urlencode({**params, **after})
            if kind == "cdse":
                body = '{"@odata.context": "$metadata#Products", "value": [' + items + "]"
                body += (', "@odata.nextLink": ' + json.dumps(link) if link else "") + "}"
            else:
                links = [{"rel": "next", "type": "application/json", "href": link}] if link else []
                body = ('{"type": "FeatureCollection", "properties": {"itemsPerPage": 100, "links": '
                        + json.dumps(links) + '}, "features": [' + items + "]}")
            payload = body.encode()
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


def first_params(kind: str, same_as_broker: bool) -> dict[str, object]:
    """Query of the first page: the broker's own (filter, order, page size) or just the page size."""
    if not same_as_broker:
        return {"$top": PAGE} if kind == "cdse" else {"maxRecords": PAGE, "page": 1}
    if kind == "cdse":
        return {"$filter": odata_filter(QUERY), "$orderby": "ContentDate/Start asc", "$top": PAGE}
    return resto_params(QUERY, PAGE)


def bare_loop(root: str, kind: str, same_as_broker: bool = True) -> int:
    """The baseline: fetch and parse every page with requests, following the next links, nothing else.

    With ``same_as_broker`` it sends the broker's requests (the server echoes the query into its next
    links, so every URL is the broker's); without, a short first query (the earlier baseline).
    """
    count = 0
    with requests.Session() as session:
        url: str | None = root
        params: dict[str, object] | None = first_params(kind, same_as_broker)
        while url:
            body = session.get(url, params=params, timeout=30).json()
            if kind == "cdse":
                count += len(body["value"])
                url = body.get("@odata.nextLink")
            else:
                count += len(body["features"])
                url = next((link["href"] for link in body["properties"]["links"] if link["rel"] == "next"), None)
            params = None
    return count


def broker(root: str, kind: str, limit: int = 0) -> int:
    query = QUERY.with_limit(limit)
    http = JsonHttp(HttpPolicy(timeout=30))
    catalogue: PagedCatalogue = (CdseCatalogue(http, root.removesuffix("/Products")) if kind == "cdse"
                                 else OpenSearchCatalogue(http, root))
    try:
        return sum(1 for _ in catalogue.search(query))
    finally:
        catalogue.close()


def timed(run: object) -> tuple[float, float]:
    """Wall and process CPU seconds of ``run()``, from a collected heap (a full collection costs ~20 ms)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    run()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_kib(root: str, kind: str, limit: int) -> tuple[int, float]:
    tracemalloc.start()
    count = broker(root, kind, limit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return count, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--footprint-points", type=int, default=5,
                        help="vertices per footprint (CDSE's Sentinel-5P footprints have tens to hundreds)")
    parser.add_argument("--catalogue", choices=("cdse", "opensearch"), default="cdse")
    args = parser.parse_args()
    kind = args.catalogue
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(args.products, args.footprint_points, kind, ports),
                                     daemon=True)
    server.start()
    try:
        port = ports.get(timeout=120)
        root = (f"http://127.0.0.1:{port}/odata/v1/Products" if kind == "cdse"
                else f"http://127.0.0.1:{port}/resto/api/collections/Sentinel5P/search.json")
        print(f"machine: {multiprocessing.cpu_count()} cores, Python {platform.python_version()}, {kind}: "
              f"{args.products} products in pages of {PAGE}, {args.footprint_points}-vertex footprints")
        bare: list[tuple[float, float]] = []
        short: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for _ in range(args.rounds):
            bare.append(timed(lambda: _check(bare_loop(root, kind), args.products)))
            short.append(timed(lambda: _check(bare_loop(root, kind, same_as_broker=False), args.products)))
            ours.append(timed(lambda: _check(broker(root, kind), args.products)))
        for label, runs in (("bare requests loop, the broker's requests:", bare),
                            ("bare requests loop, short first query:   ", short),
                            ("broker search:                           ", ours)):
            wall, cpu = min(runs)
            print(f"{label} best {wall:.2f} s  ({args.products / wall:,.0f} products/s, CPU {cpu:.2f} s)")
        print(f"ratio broker/bare:  {min(ours)[0] / min(bare)[0]:.2f}x  (goal <= 1.2x); against the short-query "
              f"loop {min(ours)[0] / min(short)[0]:.2f}x; broker CPU beyond the bare loop: "
              f"{(min(ours)[1] - min(bare)[1]) / args.products * 1e6:.1f} us/product")
        small = max(PAGE, args.products // 10)
        for limit in (small, args.products):
            count, peak = peak_kib(root, kind, limit)
            print(f"peak traced memory listing {count:>6} products: {peak:,.0f} KiB")
    finally:
        server.terminate()
        server.join(5)


def _check(count: int, expected: int) -> None:
    if count != expected:
        raise SystemExit(f"listed {count} products, expected {expected}")


if __name__ == "__main__":
    main()
