"""Execute a parsed RML mapping, streaming: records are read in batches and turned into quads batch by batch.

Triples maps over the same logical source share one pass over it. Memory stays flat in the number of records
except for joins (``rr:joinCondition``), whose parent side is indexed once (see ``joins.py``). Term columns are
made in ``termcolumns.py``, quads from them in ``emit.py``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from components.common.errors import Ai4copError, InvalidInput
from components.geotriples_adapter import functions
from components.geotriples_adapter.emit import EmitColumns, PomColumns, Quad, emit, emit_text
from components.geotriples_adapter.geojson import unclosed_rings
from components.geotriples_adapter.geometry import coerce, point
from components.geotriples_adapter.joins import Joins
from components.geotriples_adapter.mapping import BLANK, IRI, LITERAL, Mapping, TermMap, TriplesMap
from components.geotriples_adapter.records import Batch, Column
from components.geotriples_adapter.sources import open_source
from components.geotriples_adapter.termcolumns import (
    INFERRED,
    combinations,
    literal_column,
    literal_values,
    one_reference_template,
    parse_template,
    text_of,
)
from components.geotriples_adapter.terms import (
    GEO,
    STRDF_WKT,
    WKT_LITERAL,
    blank,
    iri,
    iri_safe,
    is_absolute,
    literal,
)

logger = logging.getLogger(__name__)

DEFAULT_GRAPH = "http://www.w3.org/ns/r2rml#defaultGraph"
GEOMETRY_CLASS = GEO + "Geometry"
LOGGED = 20  # warnings logged per kind; the rest are only counted


@dataclass
class Options:
    """How to run a mapping: CRS when a source has none, stRDF, invalid-geometry policy, batch size."""

    epsg: int = 4326
    strdf: bool = False
    skip_invalid: bool = False
    batch_size: int = 2000

    def __post_init__(self) -> None:
        if self.epsg != 4326:  # the default needs no check (nor pyproj's import time)
            check_epsg(self.epsg)


@functools.lru_cache(maxsize=64)
def check_epsg(code: int) -> None:
    """``InvalidInput`` unless ``code`` is an EPSG code that PROJ knows."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_epsg(code)
    except CRSError as err:
        raise InvalidInput(f"EPSG code {code} is not a known coordinate reference system") from err


@dataclass
class Stats:
    triples: int = 0
    skipped: int = 0
    skipped_features: list[str] = field(default_factory=list)
    closed_rings: int = 0  # features with a polygon ring the input left open (closed in the output)
    without_geometry: int = 0  # features whose geometry is null: no geo:Geometry made for them


@dataclass
class _Unlocated:
    """Per triples map typed geo:Geometry, the records of a batch with no geometry at all, and those records'
    subjects, which no other triple may link to."""

    rows: dict[str, list[bool]] = field(default_factory=dict)
    subjects: set[str] = field(default_factory=set)


class Engine:
    """Runs one mapping; ``quads()`` yields lists of quads, ``stats`` counts triples and skipped features."""

    def __init__(self, mapping: Mapping, options: Options | None = None):
        self.mapping = mapping
        self.options = options or Options()
        self.stats = Stats()
        self._templates: dict[str, list[tuple[bool, str]]] = {}
        self._joins = Joins(mapping, self.options.batch_size, lambda tm, batch: self._terms(tm, batch, subject=True))
        self._blank_counter = 0
        self._warned: set[str] = set()
        self._check_functions()

    def _check_functions(self) -> None:
        for tm in self.mapping.triples_maps.values():
            for term_map in _all_term_maps(tm):
                if term_map.kind == "function" and functions.lookup(term_map.value) is None:
                    raise InvalidInput(
                        f"{self._where(term_map.value)}: unknown function {term_map.value} in triples map {tm.name} "
                        f"(known: {', '.join(functions.known())})")

    def _where(self, needle: str) -> str:
        local = re.split(r"[#/]", needle)[-1] or needle
        for number, line in enumerate(self.mapping.text.splitlines(), 1):
            if local in line:
                return f"mapping line {number}"
        return "mapping"

    def quads(self) -> Iterator[list[Quad]]:
        """Quads of every triples map, one list per batch of records."""
        for maps, batch, skip, unlocated in self._batches():
            out: list[Quad] = []
            for tm in maps:
                emit(*self._columns(tm, batch, skip, unlocated), out)
            self.stats.triples += len(out)
            yield out

    def text(self, nquads: bool = False) -> Iterator[str]:
        """The same as ``quads``, as N-Triples (or N-Quads) text, one chunk per batch of records."""
        for maps, batch, skip, unlocated in self._batches():
            chunks = []
            for tm in maps:
                chunk, count = emit_text(*self._columns(tm, batch, skip, unlocated), graphs=nquads)
                chunks.append(chunk)
                self.stats.triples += count
            yield "".join(chunks)

    def _batches(self) -> Iterator[tuple[list[TriplesMap], Batch, list[bool] | None, _Unlocated]]:
        """Batches of each logical source, with the triples maps over it, which records to skip, and which have
        no geometry."""
        groups: dict[tuple[Any, ...], list[TriplesMap]] = {}
        for tm in self.mapping.triples_maps.values():
            groups.setdefault(tm.source.key, []).append(tm)
        for maps in groups.values():
            source = open_source(maps[0].source, self.mapping)
            epsg = source.epsg or self.options.epsg
            for batch in source.batches(self.options.batch_size):
                batch.cache["epsg"] = epsg
                skip = self._invalid(maps, batch)
                yield maps, batch, skip, self._unlocated(maps, batch, skip)

    # ---- geometry validation -----------------------------------------------------------------------------------

    def _invalid(self, maps: list[TriplesMap], batch: Batch) -> list[bool] | None:
        skip: list[bool] | None = None
        for tm in maps:
            for term_map in _all_term_maps(tm):
                if term_map.kind != "function" or not term_map.arguments:
                    continue
                kind, _ = functions.lookup(term_map.value)  # type: ignore[misc]
                if kind == "value":
                    continue
                if kind == "relation":
                    for arg in term_map.arguments[:2]:
                        skip = self._apply_reasons(self._geometries(arg, batch)[1], batch, tm, skip)
                else:
                    skip = self._apply_reasons(self._geometry_arg(term_map, batch)[1], batch, tm, skip)
                for arg in term_map.arguments[:2]:
                    self._note_open_rings(arg, batch, tm)
        return skip

    def _note_open_rings(self, arg: TermMap, batch: Batch, tm: TriplesMap) -> None:
        """Count (and log the first few) GeoJSON polygons whose rings the input left open; they get closed."""
        key = ("open rings", arg)
        if key in batch.cache or arg.kind != "reference":
            return
        batch.cache[key] = True
        raw = [values[0] if values else None for values in batch.values(arg.value)]
        for i in unclosed_rings(raw):
            self.stats.closed_rings += 1
            if self.stats.closed_rings <= LOGGED:
                logger.warning("feature %d of %s: a polygon ring does not end on its first position (GeoJSON "
                               "requires it); closed it", batch.first + i, tm.source.source)

    def _unlocated(self, maps: list[TriplesMap], batch: Batch, skip: list[bool] | None) -> _Unlocated:
        """Records whose geometry is null, for each triples map typed geo:Geometry: a feature without geometry
        (GeoJSON allows it) gets no geo:Geometry node, rather than one with no serialization."""
        found = _Unlocated()
        for tm in maps:
            if GEOMETRY_CLASS not in tm.classes:
                continue
            present: np.ndarray | None = None
            seen = set()
            for term_map in (o for pom in tm.poms for o in pom.objects):
                if term_map.kind != "function" or not term_map.arguments or term_map.arguments in seen:
                    continue
                if functions.lookup(term_map.value)[0] != "geometry":  # type: ignore[index]
                    continue
                seen.add(term_map.arguments)
                here = ~shapely.is_missing(self._geometry_arg(term_map, batch)[0])
                present = here if present is None else present | here
            if present is None or bool(present.all()):
                continue
            rows = ~present if skip is None else ~present & ~np.array(skip, dtype=bool)
            found.rows[tm.name] = rows.tolist()
            subjects = self._terms(tm.subject, batch, subject=True)
            found.subjects.update(s for i in np.flatnonzero(rows) for s in subjects[i])
            self.stats.without_geometry += int(rows.sum())
        return found

    def _apply_reasons(self, reasons: list[str | None], batch: Batch, tm: TriplesMap,
                       skip: list[bool] | None) -> list[bool] | None:
        if not any(reasons):
            return skip
        skip = skip or [False] * len(batch)
        for i, reason in enumerate(reasons):
            if reason is None or skip[i]:
                continue
            feature = f"feature {batch.first + i} of {tm.source.source}"
            if not self.options.skip_invalid:
                raise InvalidInput(f"{feature}: invalid geometry: {reason}")
            skip[i] = True
            self.stats.skipped += 1
            if len(self.stats.skipped_features) < 100:
                self.stats.skipped_features.append(f"{feature}: {reason}")
            logger.warning("skipping %s: invalid geometry: %s", feature, reason)
        return skip

    def _geometries(self, arg: TermMap, batch: Batch) -> tuple[np.ndarray, list[str | None]]:
        key = ("geom", arg)
        cached = batch.cache.get(key)
        if cached is None:
            raw = [values[0] if values else None for values in self._raw(arg, batch)]
            cached = coerce(raw)
            batch.cache[key] = cached
        return cached

    # ---- emission ----------------------------------------------------------------------------------------------

    def _columns(self, tm: TriplesMap, batch: Batch, skip: list[bool] | None, unlocated: _Unlocated) -> EmitColumns:
        """The term columns of ``tm`` over ``batch``: subjects (none for skipped records, nor for geometries of
        records without one), subject graphs, classes, and per predicate-object map its predicates, objects (none
        linking to a geometry that was not made) and graphs."""
        subjects = self._terms(tm.subject, batch, subject=True)
        subject_graphs = [self._terms(g, batch) for g in tm.subject_graphs]
        poms: list[PomColumns] = []
        for pom in tm.poms:
            predicates = [self._terms(p, batch) for p in pom.predicates]
            objects = [self._terms(o, batch) for o in pom.objects]
            objects += [self._joins.objects(tm, ref, batch) for ref in pom.ref_objects]
            if unlocated.subjects:
                objects = [[[o for o in terms if o not in unlocated.subjects] for terms in column]
                           for column in objects]
            graphs = [self._terms(g, batch) for g in pom.graphs]
            poms.append((predicates, objects, graphs, bool(pom.graphs) or bool(tm.subject_graphs)))
        if skip is not None:
            subjects = [[] if skipped else subs for subs, skipped in zip(subjects, skip, strict=True)]
        rows = unlocated.rows.get(tm.name)
        if rows is not None:
            subjects = [[] if absent else subs for subs, absent in zip(subjects, rows, strict=True)]
        return subjects, subject_graphs, [f"<{c}>" for c in tm.classes], poms

    # ---- terms -------------------------------------------------------------------------------------------------

    def _terms(self, tm: TermMap, batch: Batch, subject: bool = False) -> list[list[str]]:
        term_type = IRI if subject and tm.term_type == LITERAL else tm.term_type
        # keyed by the effective term type: a template used as subject and as object is made once
        key = ("terms", tm, term_type)
        cached = batch.cache.get(key)
        if cached is not None:
            return cached
        n = len(batch)
        result: list[list[str]]
        if tm.kind == "constant" and tm.value == DEFAULT_GRAPH:
            result = [[""]] * n
        elif tm.kind == "constant":
            term = self._constant(tm, term_type)
            result = [[term]] * n if term else [[] for _ in range(n)]
        elif tm.kind == "template" and term_type == IRI:
            result = self._iri_template(tm, batch)
        elif tm.kind == "template":
            texts = self._template_texts(tm, batch, encode=False)
            result = [[self._make(term_type, t, tm) for t in ts] for ts in texts]
        elif term_type == BLANK and tm.kind == "reference":
            result = [[blank(text_of(v)) for v in values] for values in self._raw(tm, batch)]
        elif term_type == LITERAL and tm.kind != "function":
            result = literal_column(self._raw(tm, batch), tm.datatype, tm.language)
        elif term_type == LITERAL:
            values = self._call(tm, batch)
            datatype = tm.datatype
            if datatype is None and not tm.language:
                datatype = INFERRED.get(type(next((v for v in values if v is not None), "")))
            if self.options.strdf and datatype == WKT_LITERAL:
                datatype = STRDF_WKT
            result = literal_values(values, datatype, tm.language)
        else:
            result = [self._convert(values, term_type, tm) for values in self._raw(tm, batch)]
        if term_type == BLANK and tm.kind == "constant":
            result = [[self._fresh_blank()] for _ in range(n)]
        batch.cache[key] = result
        return result

    def _constant(self, tm: TermMap, term_type: str) -> str:
        if term_type == IRI:
            return iri(tm.value, self.mapping.base)
        if term_type == LITERAL:
            return literal(tm.value, tm.datatype, tm.language)
        return ""

    def _fresh_blank(self) -> str:
        self._blank_counter += 1
        return f"_:n{self._blank_counter}"

    def _make(self, term_type: str, text: str, tm: TermMap) -> str:
        if term_type == LITERAL:
            return literal(text, tm.datatype, tm.language)
        if term_type == BLANK:
            return blank(text)
        return iri(text, self.mapping.base)

    def _convert(self, values: list[Any], term_type: str, tm: TermMap) -> list[str]:
        out = []
        for value in values:
            if term_type == LITERAL:
                datatype = tm.datatype or (None if tm.language or tm.kind != "function"
                                           else INFERRED.get(type(value)))
                if self.options.strdf and datatype == WKT_LITERAL:
                    datatype = STRDF_WKT
                out.append(literal(text_of(value), datatype, tm.language))
            else:
                try:
                    out.append(iri(text_of(value), self.mapping.base))
                except InvalidInput as err:
                    self._warn(str(err))
        return out

    def _warn(self, message: str) -> None:
        if message not in self._warned and len(self._warned) < 20:
            self._warned.add(message)
            logger.warning("skipping a term: %s", message)

    def _iri_template(self, tm: TermMap, batch: Batch) -> list[list[str]]:
        parts = self._template(tm.value)
        if parts and not parts[0][0] and is_absolute(parts[0][1]):
            single = self._single_reference(parts)
            if single is not None:
                prefix, reference, suffix = single
                return one_reference_template(batch.values(reference), "<" + prefix, suffix + ">", encode=True)
            return [[f"<{t}>" for t in ts] for ts in self._template_texts(tm, batch, encode=True)]
        out = []
        for ts in self._template_texts(tm, batch, encode=True):
            terms = []
            for t in ts:
                try:
                    terms.append(iri(t, self.mapping.base))
                except InvalidInput as err:
                    self._warn(str(err))
            out.append(terms)
        return out

    def _template(self, template: str) -> list[tuple[bool, str]]:
        if template not in self._templates:
            self._templates[template] = parse_template(template)
        return self._templates[template]

    def _template_texts(self, tm: TermMap, batch: Batch, encode: bool) -> list[list[str]]:
        parts = self._template(tm.value)
        single = self._single_reference(parts)
        if single is not None:
            prefix, reference, suffix = single
            return one_reference_template(batch.values(reference), prefix, suffix, encode)
        columns: list[Column | str] = [batch.values(text) if is_ref else text for is_ref, text in parts]
        out: list[list[str]] = []
        for i in range(len(batch)):
            pieces: list[list[str]] = []
            for column in columns:
                if isinstance(column, str):
                    pieces.append([column])
                else:
                    values = [text_of(v) for v in column[i]]
                    pieces.append([iri_safe(v) for v in values] if encode else values)
            out.append(["".join(combo) for combo in combinations(pieces)])
        return out

    @staticmethod
    def _single_reference(parts: list[tuple[bool, str]]) -> tuple[str, str, str] | None:
        """(prefix, reference, suffix) of a template with exactly one reference, else None."""
        refs = [i for i, (is_ref, _) in enumerate(parts) if is_ref]
        if len(refs) != 1:
            return None
        index = refs[0]
        return "".join(t for _, t in parts[:index]), parts[index][1], "".join(t for _, t in parts[index + 1:])

    def _raw(self, tm: TermMap, batch: Batch) -> Column:
        if tm.kind == "reference":
            return batch.values(tm.value)
        if tm.kind == "constant":
            return [[tm.value]] * len(batch)
        if tm.kind == "template":
            return self._template_texts(tm, batch, encode=False)
        return [[] if v is None else [v] for v in self._call(tm, batch)]

    def _call(self, tm: TermMap, batch: Batch) -> list[Any]:
        """The function's value for each record (None when it has none)."""
        kind, fn = functions.lookup(tm.value)  # type: ignore[misc]
        n = len(batch)
        if not tm.arguments:
            raise InvalidInput(f"{self._where(tm.value)}: function {tm.value} called without arguments")
        if kind == "value":
            columns = [self._raw(a, batch) for a in tm.arguments]
            out: list[Any] = []
            for i in range(n):
                args = [col[i][0] if col[i] else None for col in columns]
                out.append(None if any(a is None for a in args) else fn(args))
            return out
        try:
            if kind == "relation":
                left, _ = self._geometries(tm.arguments[0], batch)
                right, _ = self._geometries(tm.arguments[1], batch)
                values = fn(left, right)
            else:
                geoms, _ = self._geometry_arg(tm, batch)
                values = fn(geoms, functions.CrsContext(batch.cache.get("epsg", self.options.epsg), self.options.strdf))
        except Ai4copError:
            raise
        except (IndexError, ValueError, TypeError) as err:
            raise InvalidInput(f"{self._where(tm.value)}: function {tm.value} failed: {err}") from err
        return values

    def _geometry_arg(self, tm: TermMap, batch: Batch) -> tuple[np.ndarray, list[str | None]]:
        if len(tm.arguments) < 2:
            return self._geometries(tm.arguments[0], batch)
        # GeoTriples-style lon/lat columns: two arguments make a point
        key = ("point", tm.arguments[:2])
        if key not in batch.cache:
            xs, ys = (self._raw(a, batch) for a in tm.arguments[:2])
            geoms = np.empty(len(batch), dtype=object)
            reasons: list[str | None] = [None] * len(batch)
            for i in range(len(batch)):
                if xs[i] and ys[i]:
                    try:
                        geoms[i] = point(xs[i][0], ys[i][0])
                    except InvalidInput as err:
                        reasons[i] = str(err)
            batch.cache[key] = (geoms, reasons)
        return batch.cache[key]


def _all_term_maps(tm: TriplesMap) -> Iterator[TermMap]:
    def walk(term_map: TermMap) -> Iterator[TermMap]:
        yield term_map
        for arg in term_map.arguments:
            yield from walk(arg)

    yield from walk(tm.subject)
    for pom in tm.poms:
        for term_map in (*pom.predicates, *pom.objects, *pom.graphs):
            yield from walk(term_map)
