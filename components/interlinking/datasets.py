"""Datasets to interlink: each reader yields its features in chunks (IRI, 2-D geometry in the working CRS).

Readers register by file extension (a plug-in table, not an if-chain): OGR formats through pyogrio (GeoJSON,
Shapefile with its ``.prj``, GeoPackage, FlatGeobuf), CSV/TSV with a WKT column, and RDF files whose features carry
``geo:asWKT`` literals (feature IRIs kept). Every chunk is cleaned the same way (see ``clean``).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from components.common.errors import InvalidInput, NotFound, UnreadableData

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom")


@dataclass
class Chunk:
    """Consecutive features: their IRIs and their geometries (shapely array, same length)."""

    iris: list[str]
    geoms: np.ndarray


@dataclass
class Issues:
    """What cleaning did, per dataset: repaired and dropped features by IRI, and how many had Z."""

    repaired: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    had_z: int = 0


class Dataset:
    """One side of the interlinking: a named file read in chunks and reprojected to ``crs``."""

    def __init__(self, path: Path, crs: str = WGS84, base_iri: str = "http://example.com",
                 wkt_column: str | None = None):
        if not path.exists():
            raise NotFound(f"dataset {path.name} not found")
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in READERS:
            raise InvalidInput(f"unreadable dataset {path.name}: unknown format .{suffix} "
                               f"(known: {', '.join(sorted(READERS))})")
        self.path = path
        self.crs = check_crs(crs, "crs")
        self.base = base_iri.rstrip("/")
        self.layer = path.stem
        self.wkt_column = wkt_column
        self.issues = Issues()
        self._count: int | None = None
        self._reader: Callable[[Dataset, int], Iterator[tuple[list[str], np.ndarray, str | None]]] = READERS[suffix]

    def iri(self, n: int) -> str:
        """The GeoTriples-style IRI of the n-th feature (1-based)."""
        return f"{self.base}/{self.layer}/id/{n}"

    def chunks(self, size: int) -> Iterator[Chunk]:
        """The features, ``size`` at a time, cleaned and in the working CRS."""
        for iris, geoms, crs in self._reader(self, size):
            yield self.clean(iris, geoms, crs)

    def count(self) -> int:
        """How many features (counted once, cheaply where the format allows it)."""
        if self._count is None:
            self._count = COUNTERS.get(self.path.suffix.lower().lstrip("."), _count_by_reading)(self)
        return self._count

    def clean(self, iris: list[str], geoms: np.ndarray, crs: str | None) -> Chunk:
        """Z dropped, invalid geometries repaired (``make_valid``), empty or unparsable ones dropped: each
        reported by IRI, none fatal; then reprojected from ``crs`` to the working CRS."""
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if missing.any():
            self.issues.dropped.extend(iri for iri, bad in zip(iris, missing, strict=True) if bad)
            keep = ~missing
            iris = [iri for iri, ok in zip(iris, keep, strict=True) if ok]
            geoms = geoms[keep]
        with_z = shapely.has_z(geoms)
        if with_z.any():
            self.issues.had_z += int(with_z.sum())
            geoms = shapely.force_2d(geoms)
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            self.issues.repaired.extend(iri for iri, bad in zip(iris, invalid, strict=True) if bad)
            geoms = geoms.copy()
            geoms[invalid] = shapely.make_valid(geoms[invalid])
        source = crs or WGS84
        if source != self.crs:
            geoms = reproject(geoms, source, self.crs)
        return Chunk(iris, geoms)


def check_crs(crs: str, what: str) -> str:
    """``crs`` if pyproj knows it, else ``InvalidInput`` naming it."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError as err:
        raise InvalidInput(f"unknown {what} {crs!r}") from err
    return crs


def reproject(geoms: np.ndarray, source: str, target: str) -> np.ndarray:
    """``geoms`` from ``source`` to ``target`` (x = easting/longitude on both sides)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs(source, target, always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def _ogr(dataset: Dataset, size: int) -> Iterator[tuple[list[str], np.ndarray, str | None]]:
    import pyogrio.raw

    for first in range(0, _count_ogr(dataset), size):
        try:
            meta, _, wkb, _ = pyogrio.raw.read(dataset.path, skip_features=first, max_features=size,
                                               read_geometry=True, columns=[])
        except _ogr_errors() as err:
            raise _unreadable(dataset.path, err) from err
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        yield [dataset.iri(first + n + 1) for n in range(len(geoms))], geoms, meta.get("crs")


def _count_ogr(dataset: Dataset) -> int:
    import pyogrio

    try:
        return int(pyogrio.read_info(dataset.path)["features"])
    except _ogr_errors() as err:
        raise _unreadable(dataset.path, err) from err


def _ogr_errors() -> tuple[type[Exception], ...]:
    from pyogrio import errors

    return (errors.DataSourceError, errors.DataLayerError, errors.GeometryError, errors.FieldError, errors.CRSError)


def _unreadable(path: Path, err: Exception) -> UnreadableData:
    """The library's message up to its advice, naming the file without the server's folders."""
    text = str(err).split(";")[0]
    for full in (str(path.resolve()), str(path)):
        text = text.replace(full, path.name)
    return UnreadableData(f"unreadable dataset {path.name}: {text}")


def _delimited(dataset: Dataset, size: int) -> Iterator[tuple[list[str], np.ndarray, str | None]]:
    try:
        yield from _delimited_rows(dataset, size)
    except (UnicodeDecodeError, csv.Error) as err:
        raise UnreadableData(f"unreadable dataset {dataset.path.name}: {err}") from err


def _delimited_rows(dataset: Dataset, size: int) -> Iterator[tuple[list[str], np.ndarray, str | None]]:
    delimiter = "\t" if dataset.path.suffix.lower() == ".tsv" else ","
    csv.field_size_limit(2**31 - 1)
    with dataset.path.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle, delimiter=delimiter)
        header = next(rows, None)
        if header is None:
            raise UnreadableData(f"unreadable dataset {dataset.path.name}: empty file")
        column = _wkt_column(dataset, header)
        n = 0
        batch: list[str] = []
        for row in rows:
            batch.append(row[column] if column < len(row) else "")
            if len(batch) == size:
                yield _parsed(dataset, n, batch)
                n += len(batch)
                batch = []
        if batch:
            yield _parsed(dataset, n, batch)


def _wkt_column(dataset: Dataset, header: list[str]) -> int:
    names = [name.strip() for name in header]
    wanted = [dataset.wkt_column] if dataset.wkt_column else list(WKT_COLUMNS)
    lower = [name.lower() for name in names]
    for name in wanted:
        if name.lower() in lower:
            return lower.index(name.lower())
    raise InvalidInput(f"dataset {dataset.path.name} has no geometry column {' or '.join(wanted)} "
                       f"(columns: {', '.join(names)})")


def _parsed(dataset: Dataset, first: int, texts: list[str]) -> tuple[list[str], np.ndarray, str | None]:
    geoms = shapely.from_wkt(np.array(texts, dtype=object), on_invalid="ignore")
    return [dataset.iri(first + k + 1) for k in range(len(texts))], geoms, None


def _count_lines(dataset: Dataset) -> int:
    with dataset.path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


GEO = "http://www.opengis.net/ont/geosparql#"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _rdf(dataset: Dataset, size: int) -> Iterator[tuple[list[str], np.ndarray, str | None]]:
    """Features with ``geo:hasGeometry/geo:asWKT`` (the feature's IRI) or a bare ``geo:asWKT`` (the subject's).

    A WKT literal may start with its CRS IRI (GeoSPARQL); without one it is CRS84 (longitude, latitude).
    Coordinates are read as x = longitude whatever the CRS's axis order says (what GeoTriples writes)."""
    from rdflib import BNode, Graph, URIRef

    graph = Graph()
    try:
        graph.parse(dataset.path)
    except Exception as err:  # rdflib raises many unrelated types for a malformed file
        raise _unreadable(dataset.path, err) from err
    owners: dict[Any, Any] = {geom: feature for feature, geom in graph.subject_objects(URIRef(GEO + "hasGeometry"))}
    by_crs: dict[str | None, tuple[list[str], list[str]]] = {}
    for subject, literal in sorted(graph.subject_objects(URIRef(GEO + "asWKT"))):
        crs, wkt = _split_wkt(str(literal))
        iris, texts = by_crs.setdefault(crs, ([], []))
        owner = owners.get(subject, subject)
        iris.append(f"_:{owner}" if isinstance(owner, BNode) else str(owner))
        texts.append(wkt)
    for crs, (iris, texts) in by_crs.items():
        for first in range(0, len(texts), size):
            geoms = shapely.from_wkt(np.array(texts[first:first + size], dtype=object), on_invalid="ignore")
            yield iris[first:first + size], geoms, crs


def _split_wkt(text: str) -> tuple[str | None, str]:
    text = text.strip()
    if text.startswith("<"):
        end = text.find(">")
        iri = text[1:end]
        wkt = text[end + 1:].strip()
        if iri == CRS84:
            return WGS84, wkt
        if "/def/crs/EPSG/0/" in iri:
            return "EPSG:" + iri.rsplit("/", 1)[1], wkt
        return iri, wkt
    return None, text


def _count_by_reading(dataset: Dataset) -> int:
    return sum(len(iris) for iris, _, _ in dataset._reader(dataset, 100_000))


READERS: dict[str, Callable[[Dataset, int], Iterator[tuple[list[str], np.ndarray, str | None]]]] = {
    "geojson": _ogr, "json": _ogr, "shp": _ogr, "gpkg": _ogr, "fgb": _ogr,
    "csv": _delimited, "tsv": _delimited,
    "nt": _rdf, "ttl": _rdf, "rdf": _rdf, "owl": _rdf, "xml": _rdf, "jsonld": _rdf, "n3": _rdf,
}
COUNTERS: dict[str, Callable[[Dataset], int]] = {
    "geojson": _count_ogr, "json": _count_ogr, "shp": _count_ogr, "gpkg": _count_ogr, "fgb": _count_ogr,
    "csv": _count_lines, "tsv": _count_lines,
}
