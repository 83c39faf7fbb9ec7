"""``ai4cop search``: list the products of a catalogue that match an area and a time window."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from components.common.aoi import accept_bbox_values
from components.common.providers import PROVIDERS
from components.databroker.catalogues import CATALOGUES
from components.databroker.query import PROCESSING_MODES

_EPILOG = """examples:
  ai4cop sample s5p-co /tmp/s5p --days 2 --scanlines 300   # small sample products, to search offline
  ai4cop search --dir /tmp/s5p --aoi 5,45,15,55 --start 2024-03-01 --end 2024-03-03
  ai4cop search --provider cdse --aoi "POLYGON((5 45,15 45,15 55,5 55,5 45))" \\
      --start 2024-01-01 --end 2024-01-02 --processing-mode OFFL --limit 10 --json
  ai4cop search --provider creodias --catalogue stac --aoi 5,45,15,55 --start 2024-01-01 --end 2024-01-02
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    search = subparsers.add_parser(
        "search", help="find products (Sentinel-5P CO by default) in a catalogue",
        description="Find the products of a catalogue that intersect an AOI during a time window. Settings not "
                    "given here come from DATABROKER_* variables; credentials only from DATABROKER_TOKEN, "
                    "DATABROKER_USERNAME, DATABROKER_PASSWORD.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    accept_bbox_values(search)
    search.add_argument("--provider", choices=tuple(PROVIDERS),
                        help="data provider whose catalogue to search (cdse, creodias): picks the URL")
    search.add_argument("--catalogue", choices=CATALOGUES,
                        help="catalogue API (default: local, or cdse (OData) with a provider)")
    search.add_argument("--url", help="catalogue root: OData service root (cdse), collection search.json URL "
                                      "(opensearch), STAC API root (stac); each has a default, and wins over "
                                      "the provider's")
    search.add_argument("--dir", help="product folder of the local catalogue (default: $SHARED_FOLDER_PATH/s5p, "
                                      "else ~/.cache/ai4cop/s5p-co)")
    search.add_argument("--aoi", help="WKT, GeoJSON or bbox 'west,south,east,north' in degrees (default: the "
                                      "whole world); quote WKT, which has spaces")
    search.add_argument("--start", help="ISO 8601 start of the window, e.g. 2024-03-01 or 2024-03-01T12:00Z "
                                        "(default: 2017-10-13, the Sentinel-5P mission start)")
    search.add_argument("--end", help="ISO 8601 end of the window (default: now)")
    search.add_argument("--collection", help="collection (default SENTINEL-5P)")
    search.add_argument("--product-type", help="product type (default L2__CO____)")
    search.add_argument("--processing-mode", choices=PROCESSING_MODES, type=str.upper,
                        help="only products of this processing mode (default: any)")
    search.add_argument("--limit", type=int, help="at most N products (default: all)")
    search.add_argument("--timeout", type=float, help="seconds per request (default 30)")
    search.add_argument("--json", action="store_true", help="print a JSON array of products")
    search.set_defaults(func=_search)


def _search(args: argparse.Namespace) -> int:
    from components.databroker.catalogues import open_catalogue
    from components.databroker.settings import Settings

    overrides = {key: value for key, value in {
        "catalogue": args.catalogue, "provider": args.provider, "url": args.url, "dir": args.dir, "aoi": args.aoi,
        "start": args.start, "end": args.end, "collection": args.collection, "product_type": args.product_type,
        "processing_mode": args.processing_mode, "limit": args.limit, "timeout_seconds": args.timeout,
    }.items() if value is not None}
    settings = Settings(**overrides)
    query = settings.query()
    catalogue = open_catalogue(settings.catalogue_config())
    try:
        if args.json:
            _print_json(catalogue.search(query), query, sys.stdout)
        else:
            progress = _Progress(catalogue.name, sys.stderr)
            _print_table(catalogue.search(query, on_page=progress), sys.stdout, progress)
    finally:
        catalogue.close()
    return 0


def _print_json(records: Any, query: Any, out: TextIO) -> None:
    """Stream a JSON array, one product per line, without holding the result.

    The output stays valid JSON whatever fails: nothing is written before the first product is in (a catalogue
    failing at once leaves stdout empty), and a failure after that closes the array of what was found, before
    the error goes to stderr.
    """
    products = iter(records)
    first = next(products, None)
    out.write("[")
    try:
        if first is not None:
            out.write("\n" + json.dumps(first.as_dict(query)))
            for record in products:
                out.write(",\n" + json.dumps(record.as_dict(query)))
    finally:
        out.write("\n]\n")


def _print_table(records: Any, out: TextIO, progress: _Progress) -> None:
    """Two lines per product (times, size, name; then href); the header once the first product is in."""
    from components.common.aoi import isoformat

    count = 0
    for record in records:
        progress.clear()
        if not count:
            out.write(f"{'start':<20}  {'end':<20}  {'size MB':>8}  name / href\n")
        count += 1
        size = f"{record.size_bytes / 1e6:8.1f}" if record.size_bytes else f"{'-':>8}"
        out.write(f"{isoformat(record.start)[:19]:<20}  {isoformat(record.end)[:19]:<20}  {size}  {record.name}\n")
        out.write(f"{'':<20}  {'':<20}  {'':>8}  {record.href}\n")
    progress.clear()
    out.write(f"{count} product{'s' if count != 1 else ''}\n")


class _Progress:
    """``page N, M products`` on stderr as pages arrive: one line per page in a log, or, on a terminal,
    one line rewritten in place and cleared before the table goes on."""

    def __init__(self, name: str, stream: TextIO):
        self.name = name
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = False

    def __call__(self, pages: int, products: int) -> None:
        if self.tty:
            self.stream.write(f"\r{self.name}: page {pages}, {products} products so far...\x1b[K")
            self.shown = True
        else:
            self.stream.write(f"{self.name}: page {pages}, {products} products\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
