"""What the gRPC servicer does, without gRPC: resolve a ``GeoData`` request to a running conversion."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from components.common.errors import InvalidInput, PermissionDenied, UnreadableData
from components.geotriples_adapter.convert import Conversion, confine, convert
from components.geotriples_adapter.engine import Options
from components.geotriples_adapter.inspect_input import input_format
from components.geotriples_adapter.mapping import Mapping
from components.geotriples_adapter.writers import normalise_format

_EXTENSIONS = {"geojson": ".geojson", "csv": ".csv", "kml": ".kml", "gml": ".gml"}
_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}


@dataclass(frozen=True)
class Request:
    """The transport-neutral fields of a ``GeoData`` message."""

    data: bytes = b""
    path: str = ""
    format: str = ""
    base_iri: str = ""
    mapping: str = ""
    layer: str = ""
    rdf_format: str = ""
    strdf: bool = False
    skip_invalid: bool = False


@contextmanager
def conversion_for(request: Request, shared: Path, default_base: str, default_format: str,
                   batch_size: int) -> Iterator[Conversion]:
    """A conversion for ``request``: inline bytes go to a private temporary folder, paths stay in ``shared``.

    Input that cannot be decoded is ``InvalidInput`` here, while the conversion runs too: the client chose it,
    whether it sent the bytes or named a file in the shared folder (``UnreadableData`` would say the server lost
    data).
    """
    if bool(request.data) == bool(request.path):
        raise InvalidInput("give exactly one of data (the file's bytes) or path (inside the shared folder)")
    options = Options(strdf=request.strdf, skip_invalid=request.skip_invalid, batch_size=batch_size)
    rdf_format = normalise_format(request.rdf_format or default_format)
    try:
        with tempfile.TemporaryDirectory(prefix="geotriples-") as scratch:
            if request.data:
                root = Path(scratch)
                path = _write_inline(request.data, request.format, root)
            else:
                root = shared
                path = confine(shared, request.path)
            conversion = convert(path, request.base_iri or default_base, request.format or None,
                                 request.layer or None, rdf_format, options, request.mapping or None)
            check_sources(conversion.mapping, root)
            yield conversion
    except UnreadableData as err:
        raise InvalidInput(str(err)) from err


def _write_inline(data: bytes, fmt: str, folder: Path) -> Path:
    if not fmt:
        raise InvalidInput("format is required with inline data (shapefile as a .zip, geojson, csv, kml or gml)")
    kind = input_format(Path("input"), fmt)
    if kind != "shapefile":
        path = folder / f"input{_EXTENSIONS[kind]}"
        path.write_bytes(data)
        return path
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise InvalidInput(f"shapefile data must be a .zip of .shp/.shx/.dbf(/.prj): {err}") from err
    shp = None
    with archive:
        for member in archive.infolist():
            suffix = Path(member.filename).suffix.lower()
            if suffix in _SHAPEFILE_PARTS and not member.is_dir():
                target = folder / f"input{suffix}"
                target.write_bytes(archive.read(member))
                if suffix == ".shp":
                    shp = target
    if shp is None:
        raise InvalidInput("the zip holds no .shp file")
    return shp


def check_sources(mapping: Mapping, root: Path) -> None:
    """Refuse a mapping whose logical sources point outside ``root`` (a client's mapping could name any file)."""
    base = root.resolve()
    for tm in mapping.triples_maps.values():
        target = (mapping.folder / tm.source.source).resolve()
        if target != base and base not in target.parents:
            raise PermissionDenied(f"mapping source {tm.source.source!r} of {tm.name} is outside the allowed folder")


def counted_chunks(conversion: Conversion) -> Iterator[tuple[str, int, int]]:
    """``(text, triples in it, features skipped so far)`` for each chunk of ``conversion``.

    There is always at least one, and the last one's skipped count is the total: when the last features were all
    skipped (or every one was), a final chunk without text carries the count.
    """
    sent = 0
    reported: int | None = None
    for text in conversion.chunks():
        stats = conversion.stats
        yield text, stats.triples - sent, stats.skipped
        sent, reported = stats.triples, stats.skipped
    stats = conversion.stats
    if reported != stats.skipped or stats.triples != sent:
        yield "", stats.triples - sent, stats.skipped
