"""``ai4cop geotriples generate-mapping|dump-rdf|convert``: thin adapters over ``convert.py``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("geotriples", help="geospatial data to GeoSPARQL RDF (GeoTriples-compatible)")
    commands = parser.add_subparsers(dest="geotriples_command", metavar="SUBCOMMAND", required=True)

    gen = commands.add_parser("generate-mapping", help="write a GeoTriples-style RML mapping for an input file")
    _input_arguments(gen)
    gen.add_argument("-o", "--output", type=Path, help="mapping file (default: standard output)")
    gen.set_defaults(func=_generate)

    dump = commands.add_parser("dump-rdf", help="run an RML mapping (sources relative to the mapping file)")
    dump.add_argument("mapping", type=Path)
    _output_arguments(dump)
    dump.set_defaults(func=_dump)

    conv = commands.add_parser("convert", help="generate the mapping for an input and run it")
    _input_arguments(conv)
    _output_arguments(conv)
    conv.set_defaults(func=_convert)


def _input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="Shapefile, GeoJSON, CSV/TSV, KML or GML file")
    parser.add_argument("-b", "--base-iri", help="base IRI of the generated resources (default http://example.com)")
    parser.add_argument("--input-format", help="shapefile|geojson|csv|kml|gml (default: from the extension)")
    parser.add_argument("--layer", help="layer (class) name (default: the file name)")
    parser.add_argument("--strdf", action="store_true", help="stRDF strdf:WKT literals instead of geo:wktLiteral")


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="RDF file (default: standard output)")
    parser.add_argument("-f", "--format", default="ntriples", help="ntriples (default), turtle or nquads")
    parser.add_argument("--skip-invalid", action="store_true", help="skip features with invalid geometry")
    parser.add_argument("--epsg", type=int, default=4326, help="CRS of sources that do not say (default 4326)")
    if "--strdf" not in parser._option_string_actions:
        parser.add_argument("--strdf", action="store_true", help="stRDF strdf:WKT literals")


def _options(args: argparse.Namespace) -> Any:
    from components.geotriples_adapter.engine import Options

    return Options(epsg=args.epsg, strdf=args.strdf, skip_invalid=args.skip_invalid)


def _generate(args: argparse.Namespace) -> int:
    from components.geotriples_adapter.convert import mapping_for

    folder = args.output.resolve().parent if args.output else Path.cwd()
    text = mapping_for(args.input, args.base_iri, args.input_format, args.layer, folder, strdf=args.strdf)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _write(conversion: Any, output: Path | None) -> int:
    from components.geotriples_adapter.gcpolicy import fewer_collections

    try:
        with fewer_collections():
            _copy(conversion, output)
    except BrokenPipeError:
        # the reader (e.g. `head`) has gone: stop quietly, and keep Python's exit-time flush from failing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    stats = conversion.stats
    print(f"{stats.triples} triples" + (f", {stats.skipped} features skipped (invalid geometry)"
                                         if stats.skipped else ""), file=sys.stderr)
    return 0


def _copy(conversion: Any, output: Path | None) -> None:
    from components.geotriples_adapter.output import write_behind

    if output:
        with output.open("wb") as handle:
            write_behind(conversion.chunks(), handle.write)
    else:
        sys.stdout.flush()
        write_behind(conversion.chunks(), sys.stdout.buffer.write)
        sys.stdout.buffer.flush()


def _dump(args: argparse.Namespace) -> int:
    from components.geotriples_adapter.convert import dump

    return _write(dump(args.mapping, args.format, _options(args)), args.output)


def _convert(args: argparse.Namespace) -> int:
    from components.geotriples_adapter.convert import convert

    return _write(convert(args.input, args.base_iri, args.input_format, args.layer, args.format, _options(args)),
                  args.output)
