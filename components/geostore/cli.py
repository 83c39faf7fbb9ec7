"""``ai4cop geostore load FILE...`` and ``ai4cop geostore query SPARQL``: on the store in GEOSTORE_DATA_FOLDER."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.geostore.service import GeoStoreService

FORMATS = ("json", "xml", "csv", "tsv")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("geostore", help="GeoSPARQL store: load RDF, run GeoSPARQL/stSPARQL queries")
    commands = parser.add_subparsers(dest="geostore_command", metavar="SUBCOMMAND", required=True)

    load = commands.add_parser("load", help="load RDF files (each in one transaction)")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE")
    load.add_argument("--graph", help="named graph IRI to load into (default: the default graph)")
    load.add_argument("--rdf-format", help="turtle|ntriples|nquads|trig|rdfxml|jsonld (default: from the extension)")
    load.set_defaults(func=_load)

    query = commands.add_parser("query", help="run a SPARQL query and print its results")
    query.add_argument("sparql", help="the query text, or @FILE to read it from a file")
    query.add_argument("--format", choices=FORMATS, default="json", help="results format (default json)")
    query.add_argument("--explain", action="store_true", help="print the plan (index use, cardinalities) on stderr")
    query.add_argument("--no-index", action="store_true", help="evaluate without the spatial index")
    query.set_defaults(func=_query)


def _service() -> GeoStoreService:
    from components.common.errors import Unavailable
    from components.geostore.service import GeoStoreService
    from components.geostore.settings import Settings

    settings = Settings()
    try:
        return GeoStoreService(settings)
    except OSError as err:
        raise Unavailable(f"cannot open the store in {settings.data_folder} (is a server holding it? "
                          f"then use its /sparql): {err}") from err


def _load(args: argparse.Namespace) -> int:
    from components.common.errors import InvalidInput, NotFound

    service = _service()
    try:
        for path in args.files:
            if not path.is_file():
                raise NotFound(f"no such file: {path}")
            fmt = args.rdf_format or path.suffix
            try:
                report = service.load(path.read_bytes(), fmt, args.graph)
            except InvalidInput as err:
                raise InvalidInput(f"{path}: {err}") from err
            print(f"{path}: {report.triples} triples loaded; store: {report.total_triples} triples, "
                  f"{report.geometries} geometries indexed, {report.unreadable_geometries} unreadable")
    finally:
        service.close()
    return 0


def _query(args: argparse.Namespace) -> int:
    sparql = Path(args.sparql[1:]).read_text() if args.sparql.startswith("@") else args.sparql
    service = _service()
    try:
        answer = service.query(sparql, args.format, use_index=not args.no_index)
    finally:
        service.close()
    sys.stdout.write(answer.body.decode())
    if not answer.body.endswith(b"\n"):
        print()
    if args.explain:
        print(json.dumps({"plan": answer.plan.to_dict(), "seconds": round(answer.seconds, 6),
                          "unreadable_geometries": answer.unreadable}), file=sys.stderr)
    elif answer.unreadable:
        print(f"warning: {answer.unreadable} geometry literal(s) could not be read or transformed",
              file=sys.stderr)
    return 0
