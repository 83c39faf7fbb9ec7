"""``ai4cop search``: list the products of a catalogue that match an area and a time window."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from components.databroker.query import CATALOGUES, PROCESSING_MODES


def register(subparsers: argparse._SubParsersAction) -> None:
    search = subparsers.add_parser(
        "search", help="find products (Sentinel-5P CO by default) in a catalogue",
        description="Find the products of a catalogue that intersect an AOI during a time window. Settings not "
                    "given here come from DATABROKER_* variables; credentials only from DATABROKER_TOKEN, "
                    "DATABROKER_USERNAME, DATABROKER_PASSWORD.")
    search.add_argument("--catalogue", choices=CATALOGUES, help="catalogue API (default: local)")
    search.add_argument("--url", help="catalogue root: OData service root (cdse), collection search.json URL "
                                      "(opensearch), STAC API root (stac); each has a default")
    search.add_argument("--dir", help="product folder of the local catalogue")
    search.add_argument("--aoi", help="WKT, GeoJSON or bbox 'west,south,east,north' (default: the world)")
    search.add_argument("--start", help="ISO 8601 start of the window")
    search.add_argument("--end", help="ISO 8601 end of the window (default: now)")
    search.add_argument("--collection", help="collection (default SENTINEL-5P)")
    search.add_argument("--product-type", help="product type (default L2__CO____)")
    search.add_argument("--processing-mode", choices=PROCESSING_MODES, type=str.upper)
    search.add_argument("--limit", type=int, help="at most N products (default: all)")
    search.add_argument("--timeout", type=float, help="seconds per request (default 30)")
    search.add_argument("--json", action="store_true", help="print a JSON array of products")
    search.set_defaults(func=_search)


def _search(args: argparse.Namespace) -> int:
    from components.databroker.catalogues import open_catalogue
    from components.databroker.settings import Settings

    overrides = {key: value for key, value in {
        "catalogue": args.catalogue, "url": args.url, "dir": args.dir, "aoi": args.aoi, "start": args.start,
        "end": args.end, "collection": args.collection, "product_type": args.product_type,
        "processing_mode": args.processing_mode, "limit": args.limit, "timeout_seconds": args.timeout,
    }.items() if value is not None}
    settings = Settings(**overrides)
    query = settings.query()
    catalogue = open_catalogue(settings.catalogue_config())
    try:
        if args.json:
            _print_json(catalogue.search(query), query, sys.stdout)
        else:
            _print_table(catalogue.search(query, on_page=_Progress(catalogue.name, sys.stderr)), sys.stdout)
    finally:
        catalogue.close()
    return 0


def _print_json(records: Any, query: Any, out: TextIO) -> None:
    """Stream a JSON array, one product per line, without holding the result."""
    out.write("[")
    for count, record in enumerate(records):
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record.as_dict(query)))
    out.write("\n]\n")


def _print_table(records: Any, out: TextIO) -> None:
    from components.common.aoi import isoformat

    out.write(f"{'start':<20}  {'end':<20}  {'size MB':>8}  name\n")
    count = 0
    for record in records:
        count += 1
        size = f"{record.size_bytes / 1e6:8.1f}" if record.size_bytes else f"{'-':>8}"
        out.write(f"{isoformat(record.start)[:19]:<20}  {isoformat(record.end)[:19]:<20}  {size}  {record.name}\n")
        out.write(f"{'':<20}  {'':<20}  {'':>8}  {record.href}\n")
    out.write(f"{count} product{'s' if count != 1 else ''}\n")


class _Progress:
    """``page N, M products`` on stderr as pages arrive (rewritten in place on a terminal)."""

    def __init__(self, name: str, stream: TextIO):
        self.name = name
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, pages: int, products: int) -> None:
        end = "\r" if self.tty else "\n"
        self.stream.write(f"{self.name}: page {pages}, {products} products{end}")
        self.stream.flush()
