"""``ai4cop geotriples generate-mapping|dump-rdf|convert``: thin adapters over ``convert.py``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from components.common.errors import Ai4copError, InvalidInput, NotFound, PermissionDenied


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
        with _writing(args.output):
            args.output.write_text(text, encoding="utf-8")
    else:
        try:
            with _writing("standard output"):
                sys.stdout.write(text)
                sys.stdout.flush()
        except Ai4copError:
            _discard_stdout()
            raise
    return 0


def _write(conversion: Any, output: Path | None) -> int:
    from components.geotriples_adapter.gcpolicy import fewer_collections

    try:
        with fewer_collections():
            if output:
                _to_file(conversion, output)
            else:
                _to_stdout(conversion)
    except BrokenPipeError:
        # the reader (e.g. `head`) has gone: stop quietly
        _discard_stdout()
        return 0
    stats = conversion.stats
    notes = [f"{stats.triples} triples"]
    if stats.skipped:
        notes.append(f"{stats.skipped} features skipped (invalid geometry)")
    if stats.closed_rings:
        notes.append(f"{_features(stats.closed_rings)} with a polygon ring closed (left open in the input)")
    if stats.without_geometry:
        notes.append(f"{_features(stats.without_geometry)} without geometry (no geo:Geometry made)")
    print(", ".join(notes), file=sys.stderr)
    return 0


def _features(count: int) -> str:
    return f"{count} feature{'' if count == 1 else 's'}"


def _to_file(conversion: Any, output: Path) -> None:
    from components.geotriples_adapter.output import write_behind

    with _writing(output):
        handle = output.open("wb")
    try:
        write_behind(conversion.chunks(), _guarded(handle.write, output))
    except BaseException:
        with contextlib.suppress(OSError):
            handle.close()
        raise
    with _writing(output):
        handle.close()


def _to_stdout(conversion: Any) -> None:
    from components.geotriples_adapter.output import write_behind

    sys.stdout.flush()
    try:
        write_behind(conversion.chunks(), _guarded(sys.stdout.buffer.write, "standard output"))
        with _writing("standard output"):
            sys.stdout.buffer.flush()
    except Ai4copError:
        # keep what was converted before an input error; after a write error, drop what cannot be written
        try:
            sys.stdout.buffer.flush()
        except OSError:
            _discard_stdout()
        raise


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so that Python's exit-time flush of what is left cannot fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _guarded(write: Callable[[bytes], object], target: Path | str) -> Callable[[bytes], None]:
    def guarded(data: bytes) -> None:
        with _writing(target):
            write(data)

    return guarded


@contextlib.contextmanager
def _writing(target: Path | str) -> Iterator[None]:
    """OS errors (missing folder, disk full...) as one-line domain errors naming ``target``; a closed pipe stays
    ``BrokenPipeError`` (it ends the output quietly)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as err:
        raise _output_error(target, err) from err


def _output_error(target: Path | str, err: OSError) -> Ai4copError:
    """The domain error saying why ``target`` cannot be written."""
    reason = err.strerror or str(err)
    if isinstance(err, FileNotFoundError) and isinstance(target, Path):
        return NotFound(f"cannot write {target}: folder {target.parent} does not exist")
    if isinstance(err, PermissionError):
        return PermissionDenied(f"cannot write {target}: {reason}")
    return InvalidInput(f"cannot write {target}: {reason}")


def _dump(args: argparse.Namespace) -> int:
    from components.geotriples_adapter.convert import dump

    return _write(dump(args.mapping, args.format, _options(args)), args.output)


def _convert(args: argparse.Namespace) -> int:
    from components.geotriples_adapter.convert import convert

    return _write(convert(args.input, args.base_iri, args.input_format, args.layer, args.format, _options(args)),
                  args.output)
