"""The adapter's core operations, free of transports: generate a mapping, run one, convert in one step.

Everything streams: ``Conversion.chunks()`` yields text as batches of features are converted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from components.common.errors import InvalidInput, NotFound, PermissionDenied
from components.geotriples_adapter.engine import Engine, Options, Stats
from components.geotriples_adapter.inspect_input import describe
from components.geotriples_adapter.mapgen import generate_mapping
from components.geotriples_adapter.mapping import Mapping, load_mapping, parse_mapping
from components.geotriples_adapter.writers import normalise_format, serialise

_MAPPING_PREFIXES = {"rr", "rml", "ql", "rrx", "rrxf", "fnml", "fno", "csvw"}


@dataclass
class Conversion:
    """A mapping ready to run; iterate ``chunks()`` once, then read ``stats``."""

    mapping: Mapping
    rdf_format: str = "ntriples"
    options: Options = field(default_factory=Options)
    stats: Stats = field(default_factory=Stats)

    def chunks(self) -> Iterator[str]:
        engine = Engine(self.mapping, self.options)
        self.stats = engine.stats
        fmt = normalise_format(self.rdf_format)
        if fmt == "turtle":
            prefixes = {p: ns for p, ns in self.mapping.prefixes.items() if p not in _MAPPING_PREFIXES}
            chunks = serialise(engine.quads(), fmt, prefixes)
        else:
            chunks = engine.text(nquads=fmt == "nquads")
        for text in chunks:
            if text:
                yield text


def mapping_for(path: Path, base_iri: str | None = None, fmt: str | None = None, layer: str | None = None,
                relative_to: Path | None = None, strdf: bool = False) -> str:
    """A GeoTriples-style mapping for ``path``, naming the source relative to ``relative_to`` (its folder)."""
    _check_file(path, "input file", "one Shapefile (.shp), GeoJSON, CSV/TSV, KML or GML file")
    described = describe(path, fmt, layer)
    folder = (relative_to or path.parent).resolve()
    source = os.path.relpath(path.resolve(), folder)
    return generate_mapping(described, source, base_iri, strdf=strdf)


def _check_file(path: Path, what: str, expected: str) -> None:
    """``InvalidInput`` for a folder (it exists, so "not found" would mislead), ``NotFound`` when nothing is there."""
    if path.is_dir():
        raise InvalidInput(f"{what} {path} is a folder: give {expected}")
    if not path.is_file():
        raise NotFound(f"{what} {path} not found")


def dump(mapping_path: Path, rdf_format: str = "ntriples", options: Options | None = None) -> Conversion:
    """Run the mapping file at ``mapping_path`` (its sources resolve relative to it)."""
    _check_file(mapping_path, "mapping file", "the RML mapping file")
    return Conversion(load_mapping(mapping_path), normalise_format(rdf_format), options or Options())


def convert(path: Path, base_iri: str | None = None, fmt: str | None = None, layer: str | None = None,
            rdf_format: str = "ntriples", options: Options | None = None,
            mapping_text: str | None = None) -> Conversion:
    """Generate the mapping for ``path`` (or use ``mapping_text``, sources relative to ``path``'s folder) and run it."""
    options = options or Options()
    text = mapping_text or mapping_for(path, base_iri, fmt, layer, strdf=options.strdf)
    return Conversion(parse_mapping(text, path.resolve().parent, name="mapping"), normalise_format(rdf_format),
                      options)


def confine(root: Path, requested: str) -> Path:
    """``requested`` (relative, or absolute inside ``root``) as a path that stays inside ``root``.

    ``..`` components are refused outright; symlinks are resolved and must not lead outside ``root``.
    """
    if not requested or "\x00" in requested:
        raise InvalidInput("path is empty or contains a NUL byte")
    candidate = Path(requested)
    if ".." in candidate.parts:
        raise PermissionDenied(f"path {requested!r} may not contain '..'")
    base = root.resolve()
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(base)
        except ValueError as err:
            raise PermissionDenied(f"path {requested!r} is outside the shared folder") from err
    resolved = (base / candidate).resolve()
    if resolved != base and base not in resolved.parents:
        raise PermissionDenied(f"path {requested!r} leads outside the shared folder (symlink)")
    return resolved
