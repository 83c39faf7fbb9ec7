"""``ai4cop interlink SOURCE TARGET``: parsing and printing only, over ``service.job``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("interlink", help="DE-9IM and distance links between two geospatial datasets")
    parser.add_argument("source", type=Path, help="GeoJSON, Shapefile, GeoPackage, CSV/TSV with WKT, or RDF file")
    parser.add_argument("target", type=Path, help="same formats as SOURCE")
    parser.add_argument("--relations", nargs="+", metavar="RELATION",
                        help="contains coveredBy covers crosses equals intersects overlaps touches within "
                             "(default: all nine, or none when only --distance is given)")
    parser.add_argument("--distance", type=float, metavar="M", help="also link pairs within M metres (geodesic)")
    parser.add_argument("-f", "--format", default="ntriples", help="ntriples (default) or csv")
    parser.add_argument("-o", "--output", type=Path, help="links file (default: standard output)")
    parser.add_argument("-b", "--base-iri", default="http://example.com",
                        help="base of the {base}/{layer}/id/{n} IRIs of non-RDF inputs (default http://example.com)")
    parser.add_argument("--crs", default="EPSG:4326", help="working CRS both datasets are reprojected to (EPSG:4326)")
    parser.add_argument("--wkt-column", help="the WKT column of CSV/TSV inputs (default: wkt, geometry, geom...)")
    parser.add_argument("--chunk", type=int, default=10_000, help="features of the streamed side per step (10000)")
    parser.add_argument("--qualifying", type=int, help="number of qualifying pairs (ground truth), for recall")
    parser.add_argument("--summary", type=Path, help="also write the summary as JSON to this file")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary on stderr")
    parser.set_defaults(func=_interlink)


def _interlink(args: argparse.Namespace) -> int:
    from components.interlinking.service import job

    work = job(args.source, args.target, args.relations, args.distance, args.format, args.base_iri, args.crs,
               args.chunk, args.qualifying, args.wkt_column)
    progress = None if args.quiet else _Progress(work.source.count() + work.target.count())
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    try:
        for text, _ in work.texts(progress):
            out.write(text)
    finally:
        if args.output:
            out.close()
    summary = work.summary.to_dict()
    if progress is not None:
        progress.finish()
        print(_one_line(summary), file=sys.stderr)
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


def _one_line(summary: dict) -> str:
    links = ", ".join(f"{name} {count}" for name, count in sorted(summary["links"].items())) or "none"
    recall = "" if summary["recall"] is None else f", recall {summary['recall']:.4f}"
    notes = []
    if summary["repaired"]:
        notes.append(f"{len(summary['repaired'])} invalid geometries repaired")
    if summary["dropped"]:
        notes.append(f"{len(summary['dropped'])} empty or unreadable geometries skipped")
    if summary["z_dropped"]:
        notes.append(f"Z ignored on {summary['z_dropped']} geometries")
    tail = f" ({'; '.join(notes)})" if notes else ""
    return (f"{summary['candidates']} candidates, {summary['verified']} verified, {summary['interlinked']} "
            f"interlinked in {summary['seconds']:.2f}s; links: {links}; precision {summary['precision']:.4f}"
            f"{recall}{tail}")


class _Progress:
    """A one-line progress bar on stderr, redrawn only when it changes by a percent (the indexed side counts too:
    it is read first)."""

    def __init__(self, total: int):
        self.total = max(total, 1)
        self.done = 0
        self.shown = -1

    def __call__(self, features: int) -> None:
        self.done += features
        percent = min(100, self.done * 100 // self.total)
        if percent != self.shown and sys.stderr.isatty():
            bar = "#" * (percent // 4)
            print(f"\rinterlinking [{bar:<25}] {percent:3d}%", end="", file=sys.stderr, flush=True)
        self.shown = percent

    def finish(self) -> None:
        if sys.stderr.isatty():
            print(file=sys.stderr)
