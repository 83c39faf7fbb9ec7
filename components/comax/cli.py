"""``ai4cop comax SOURCE... --aoi WKT`` and ``ai4cop sample s5p-co OUTDIR``."""

from __future__ import annotations

import argparse
import json
import sys

from components.common.aoi import accept_bbox_values
from components.common.providers import PROVIDERS

DEFAULT_SAMPLE_START = "2024-03-01T12:00:00Z"


def register(subparsers: argparse._SubParsersAction) -> None:
    comax = subparsers.add_parser("comax", help="maximum Sentinel-5P CO column over an AOI and period")
    comax.add_argument("sources", nargs="+", metavar="SOURCE",
                       help="local path, s3://bucket/key (or a product folder s3://bucket/NAME) or https:// URL")
    comax.add_argument("--aoi", required=True, help="area of interest: WKT, GeoJSON or bbox west,south,east,north")
    comax.add_argument("--start", help="start of the time window (ISO 8601, UTC)")
    comax.add_argument("--end", help="end of the time window (ISO 8601, UTC)")
    comax.add_argument("--qa-min", type=float, default=0.5, help="keep pixels with qa_value above this (0.5)")
    comax.add_argument("--pixel", choices=("centre", "footprint"), default="centre",
                       help="pixel in AOI when its centre is inside (default) or its footprint intersects")
    comax.add_argument("--provider", choices=tuple(PROVIDERS),
                       help="S3 archive of this provider (endpoint, region, limits); default COMAX_PROVIDER")
    comax.add_argument("--json", action="store_true", help="print one JSON object")
    accept_bbox_values(comax)
    comax.set_defaults(func=_comax)

    sample = subparsers.add_parser("sample", help="write synthetic sample data")
    kinds = sample.add_subparsers(dest="kind", metavar="KIND", required=True)
    co = kinds.add_parser("s5p-co", help="synthetic Sentinel-5P L2 CO products in the real layout")
    co.add_argument("outdir", help="folder to write the products to (existing products are kept)")
    co.add_argument("--start", default=DEFAULT_SAMPLE_START,
                    help=f"first product start (default {DEFAULT_SAMPLE_START})")
    co.add_argument("--days", type=int, default=1, help="number of days (default 1)")
    co.add_argument("--per-day", type=int, default=1, help="consecutive orbits per day (default 1)")
    co.add_argument("--scanlines", type=int, default=4000, help="scanlines per product (default 4000, a full granule)")
    co.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    co.set_defaults(func=_sample)


def _sample(args: argparse.Namespace) -> int:
    from pathlib import Path

    from components.comax.sample import generate_products
    from components.common.aoi import parse_time
    from components.common.errors import InvalidInput

    if args.days < 1 or args.per_day < 1 or args.scanlines < 2:
        raise InvalidInput("--days and --per-day must be at least 1 and --scanlines at least 2")
    if Path(args.outdir).exists() and not Path(args.outdir).is_dir():
        raise InvalidInput(f"OUTDIR {args.outdir} is a file, not a folder")
    paths = generate_products(Path(args.outdir), parse_time(args.start, "start"), args.days, args.per_day,
                              scanlines=args.scanlines, seed=args.seed)
    for path in paths:
        print(path)
    return 0


def _comax(args: argparse.Namespace) -> int:
    import logging

    from components.comax.analysis import Query
    from components.comax.report import analyze_sources, format_text
    from components.comax.settings import Settings

    # unreadable sources are reported in the output itself; keep stderr for real failures
    logging.getLogger("components.comax").setLevel(logging.ERROR)
    query = Query.build(args.aoi, args.start, args.end, qa_min=args.qa_min, pixel=args.pixel)
    # S3 access (COMAX_PROVIDER, COMAX_S3_*) as the served analyzer has it; local paths are not restricted
    settings = Settings(**({"provider": args.provider} if args.provider else {}))
    summary = analyze_sources(args.sources, query, settings.source_config(restrict_local=False))
    if args.json:
        json.dump(summary.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print(format_text(summary))
    return 0 if any(not p.error for p in summary.products) else 1
