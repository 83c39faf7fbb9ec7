"""Execute a parsed RML mapping, streaming: records are read in batches and turned into quads batch by batch.

Triples maps over the same logical source share one pass over it. Memory stays flat in the number of records
except for joins (``rr:joinCondition``), whose parent side is indexed once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from components.common.errors import Ai4copError, InvalidInput
from components.geotriples_adapter import functions
from components.geotriples_adapter.geometry import coerce, point
from components.geotriples_adapter.mapping import BLANK, IRI, LITERAL, Mapping, TermMap, TriplesMap
from components.geotriples_adapter.records import Batch, Column
from components.geotriples_adapter.sources import open_source
from components.geotriples_adapter.terms import (
    RDF_TYPE,
    STRDF_WKT,
    WKT_LITERAL,
    XSD,
    blank,
    iri,
    iri_safe,
    is_absolute,
    lexical,
    literal,
)

logger = logging.getLogger(__name__)

Quad = tuple[str, str, str, str]  # subject, predicate, object, graph ("" = default graph)
DEFAULT_GRAPH = "http://www.w3.org/ns/r2rml#defaultGraph"
_TEMPLATE_PART = re.compile(r"\\([{}\\])|\{((?:\\.|[^\\}])*)\}")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_INFERRED = {bool: XSD + "boolean", int: XSD + "integer", float: XSD + "double"}


@dataclass
class Options:
    """How to run a mapping: CRS when a source has none, stRDF, invalid-geometry policy, batch size."""

    epsg: int = 4326
    strdf: bool = False
    skip_invalid: bool = False
    batch_size: int = 2000


@dataclass
class Stats:
    triples: int = 0
    skipped: int = 0
    skipped_features: list[str] = field(default_factory=list)


def parse_template(template: str) -> list[tuple[bool, str]]:
    """A template as (is_reference, text) parts, with ``\\{``, ``\\}`` and ``\\\\`` unescaped."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _TEMPLATE_PART.finditer(template):
        text = template[position:match.start()]
        if match.group(1) is not None:
            parts.append((False, text + match.group(1)))
        else:
            if text:
                parts.append((False, text))
            parts.append((True, re.sub(r"\\(.)", r"\1", match.group(2))))
        position = match.end()
    if position < len(template):
        parts.append((False, template[position:]))
    merged: list[tuple[bool, str]] = []
    for is_ref, text in parts:
        if merged and not is_ref and not merged[-1][0]:
            merged[-1] = (False, merged[-1][1] + text)
        else:
            merged.append((is_ref, text))
    return merged


def _text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if hasattr(value, "itertext"):
        return "".join(value.itertext())
    return lexical(value)


class Engine:
    """Runs one mapping; ``quads()`` yields lists of quads, ``stats`` counts triples and skipped features."""

    def __init__(self, mapping: Mapping, options: Options | None = None):
        self.mapping = mapping
        self.options = options or Options()
        self.stats = Stats()
        self._templates: dict[str, list[tuple[bool, str]]] = {}
        self._join_index: dict[tuple[str, tuple[Any, ...]], dict[tuple[str, ...], list[str]]] = {}
        self._parent_subjects: dict[str, list[str]] = {}
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
        groups: dict[tuple[Any, ...], list[TriplesMap]] = {}
        for tm in self.mapping.triples_maps.values():
            groups.setdefault(tm.source.key, []).append(tm)
        for maps in groups.values():
            source = open_source(maps[0].source, self.mapping)
            epsg = source.epsg or self.options.epsg
            for batch in source.batches(self.options.batch_size):
                batch.cache["epsg"] = epsg
                skip = self._invalid(maps, batch)
                out: list[Quad] = []
                for tm in maps:
                    self._emit(tm, batch, skip, out)
                self.stats.triples += len(out)
                yield out

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
        return skip

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

    def _emit(self, tm: TriplesMap, batch: Batch, skip: list[bool] | None, out: list[Quad]) -> None:
        subjects = self._terms(tm.subject, batch, subject=True)
        subject_graphs = [self._terms(g, batch) for g in tm.subject_graphs]
        classes = [f"<{c}>" for c in tm.classes]
        poms = []
        for pom in tm.poms:
            predicates = [self._terms(p, batch) for p in pom.predicates]
            objects = [self._terms(o, batch) for o in pom.objects]
            objects += [self._ref_objects(tm, ref, batch) for ref in pom.ref_objects]
            graphs = [self._terms(g, batch) for g in pom.graphs]
            poms.append((predicates, objects, graphs, bool(pom.graphs) or bool(tm.subject_graphs)))
        if skip is not None:
            subjects = [[] if skipped else subs for subs, skipped in zip(subjects, skip, strict=True)]
        if not tm.subject_graphs and not any(graphs for _, _, graphs, _ in poms) and _at_most_one(subjects):
            self._emit_columns(subjects, classes, poms, out)
        else:
            self._emit_rows(subjects, subject_graphs, classes, poms, out)

    @staticmethod
    def _emit_columns(subjects: list[list[str]], classes: list[str], poms: list[Any], out: list[Quad]) -> None:
        """The common case (no graph maps, one subject per record): whole columns at a time."""
        for c in classes:
            out.extend([(subs[0], RDF_TYPE_TERM, c, "") for subs in subjects if subs])
        for predicates, objects, _, _ in poms:
            for pcol in predicates:
                for ocol in objects:
                    if len(pcol) and _is_constant(pcol) and _at_most_one(ocol):
                        p = pcol[0][0] if pcol[0] else None
                        if p is not None:
                            out.extend([(subs[0], p, objs[0], "")
                                        for subs, objs in zip(subjects, ocol, strict=True) if subs and objs])
                        continue
                    for subs, preds, objs in zip(subjects, pcol, ocol, strict=True):
                        if subs:
                            out.extend([(subs[0], p, o, "") for p in preds for o in objs])

    @staticmethod
    def _emit_rows(subjects: list[list[str]], subject_graphs: list[list[list[str]]], classes: list[str],
                   poms: list[Any], out: list[Quad]) -> None:
        has_subject_graphs = bool(subject_graphs)
        append = out.append
        for i in range(len(subjects)):
            subs = subjects[i]
            if not subs:
                continue
            base_graphs = [g for col in subject_graphs for g in col[i]]
            if has_subject_graphs and not base_graphs:
                continue
            for s in subs:
                for c in classes:
                    for g in base_graphs or ("",):
                        append((s, RDF_TYPE_TERM, c, g))
            for predicates, objects, graphs, named in poms:
                pom_graphs = base_graphs + [g for col in graphs for g in col[i]] if graphs else base_graphs
                if named and not pom_graphs:
                    continue
                for pcol in predicates:
                    for p in pcol[i]:
                        for ocol in objects:
                            for o in ocol[i]:
                                for s in subs:
                                    for g in pom_graphs or ("",):
                                        append((s, p, o, g))

    def _ref_objects(self, tm: TriplesMap, ref: Any, batch: Batch) -> list[list[str]]:
        parent = self.mapping.triples_maps[ref.parent]
        if not ref.joins:
            if parent.source.key == tm.source.key:
                return self._terms(parent.subject, batch, subject=True)
            everything = self._all_parent_subjects(parent)
            return [everything] * len(batch)
        index = self._index(parent, tuple(j.parent for j in ref.joins))
        children = [self._raw_reference(j.child, batch) for j in ref.joins]
        out: list[list[str]] = []
        for i in range(len(batch)):
            keys = _combinations([[_text(v) for v in col[i]] for col in children])
            found: list[str] = []
            for key in keys:
                found.extend(index.get(key, ()))
            out.append(list(dict.fromkeys(found)))
        return out

    def _all_parent_subjects(self, parent: TriplesMap) -> list[str]:
        if parent.name not in self._parent_subjects:
            found: list[str] = []
            for batch in open_source(parent.source, self.mapping).batches(self.options.batch_size):
                for subs in self._terms(parent.subject, batch, subject=True):
                    found.extend(subs)
            self._parent_subjects[parent.name] = list(dict.fromkeys(found))
        return self._parent_subjects[parent.name]

    def _index(self, parent: TriplesMap, references: tuple[str, ...]) -> dict[tuple[str, ...], list[str]]:
        key = (parent.name, references)
        if key not in self._join_index:
            index: dict[tuple[str, ...], list[str]] = {}
            for batch in open_source(parent.source, self.mapping).batches(self.options.batch_size):
                subjects = self._terms(parent.subject, batch, subject=True)
                columns = [self._raw_reference(r, batch) for r in references]
                for i in range(len(batch)):
                    for combo in _combinations([[_text(v) for v in col[i]] for col in columns]):
                        index.setdefault(combo, []).extend(subjects[i])
            self._join_index[key] = index
        return self._join_index[key]

    # ---- terms -------------------------------------------------------------------------------------------------

    def _terms(self, tm: TermMap, batch: Batch, subject: bool = False) -> list[list[str]]:
        key = ("terms", tm, subject)
        cached = batch.cache.get(key)
        if cached is not None:
            return cached
        term_type = IRI if subject and tm.term_type == LITERAL else tm.term_type
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
            result = [[blank(_text(v)) for v in values] for values in self._raw(tm, batch)]
        elif term_type == LITERAL and tm.kind != "function":
            result = _literal_column(self._raw(tm, batch), tm.datatype, tm.language)
        elif term_type == LITERAL:
            raw = self._raw(tm, batch)
            datatype = tm.datatype
            if datatype is None and not tm.language:
                datatype = _INFERRED.get(type(next((v[0] for v in raw if v), "")))
            if self.options.strdf and datatype == WKT_LITERAL:
                datatype = STRDF_WKT
            result = _literal_column(raw, datatype, tm.language)
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
                                           else _INFERRED.get(type(value)))
                if self.options.strdf and datatype == WKT_LITERAL:
                    datatype = STRDF_WKT
                out.append(literal(_text(value), datatype, tm.language))
            else:
                try:
                    out.append(iri(_text(value), self.mapping.base))
                except InvalidInput as err:
                    self._warn(str(err))
        return out

    def _warn(self, message: str) -> None:
        if message not in self._warned and len(self._warned) < 20:
            self._warned.add(message)
            logger.warning("skipping a term: %s", message)

    def _iri_template(self, tm: TermMap, batch: Batch) -> list[list[str]]:
        parts = self._template(tm.value)
        texts = self._template_texts(tm, batch, encode=True)
        if parts and not parts[0][0] and is_absolute(parts[0][1]):
            return [[f"<{t}>" for t in ts] for ts in texts]
        out = []
        for ts in texts:
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
        refs = [text for is_ref, text in parts if is_ref]
        if len(refs) == 1 and len(parts) <= 3:
            return self._one_reference_template(parts, refs[0], batch, encode)
        columns: list[Column | str] = [self._raw_reference(text, batch) if is_ref else text for is_ref, text in parts]
        out: list[list[str]] = []
        for i in range(len(batch)):
            pieces: list[list[str]] = []
            for column in columns:
                if isinstance(column, str):
                    pieces.append([column])
                else:
                    values = [_text(v) for v in column[i]]
                    pieces.append([iri_safe(v) for v in values] if encode else values)
            out.append(["".join(combo) for combo in _combinations(pieces)])
        return out

    def _one_reference_template(self, parts: list[tuple[bool, str]], reference: str, batch: Batch,
                                encode: bool) -> list[list[str]]:
        index = [is_ref for is_ref, _ in parts].index(True)
        prefix = "".join(text for _, text in parts[:index])
        suffix = "".join(text for _, text in parts[index + 1:])
        out = []
        for values in batch.values(reference):
            if len(values) == 1:
                text = _text(values[0])
                out.append([prefix + (iri_safe(text) if encode else text) + suffix])
            else:
                out.append([prefix + (iri_safe(_text(v)) if encode else _text(v)) + suffix for v in values])
        return out

    def _raw_reference(self, reference: str, batch: Batch) -> Column:
        return batch.values(reference)

    def _raw(self, tm: TermMap, batch: Batch) -> Column:
        if tm.kind == "reference":
            return batch.values(tm.value)
        if tm.kind == "constant":
            return [[tm.value]] * len(batch)
        if tm.kind == "template":
            return self._template_texts(tm, batch, encode=False)
        return self._call(tm, batch)

    def _call(self, tm: TermMap, batch: Batch) -> Column:
        kind, fn = functions.lookup(tm.value)  # type: ignore[misc]
        n = len(batch)
        if not tm.arguments:
            raise InvalidInput(f"{self._where(tm.value)}: function {tm.value} called without arguments")
        if kind == "value":
            columns = [self._raw(a, batch) for a in tm.arguments]
            out: Column = []
            for i in range(n):
                args = [col[i][0] if col[i] else None for col in columns]
                out.append([] if any(a is None for a in args) else [fn(args)])
            return out
        try:
            if kind == "relation":
                left, _ = self._geometries(tm.arguments[0], batch)
                right, _ = self._geometries(tm.arguments[1], batch)
                values = fn(left, right)
            else:
                geoms, _ = self._geometry_arg(tm, batch)
                values = fn(geoms, functions.CrsContext(batch.cache["epsg"], self.options.strdf))
        except Ai4copError:
            raise
        except (IndexError, ValueError, TypeError) as err:
            raise InvalidInput(f"{self._where(tm.value)}: function {tm.value} failed: {err}") from err
        return [[] if v is None else [v] for v in values]

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


RDF_TYPE_TERM = f"<{RDF_TYPE}>"


def _literal_column(column: Column, datatype: str | None, language: str | None) -> list[list[str]]:
    """Literal terms for a column of raw values (the hot loop of most mappings, so kept tight)."""
    if language:
        suffix = '"@' + language
    elif datatype and datatype != XSD + "string":
        suffix = f'"^^<{datatype}>'
    else:
        suffix = '"'
    escapes = _ESCAPES
    # numbers and booleans repeat a lot (function results above all): format each distinct one once
    memo: dict[tuple[type, Any], str] = {}
    out: list[list[str]] = []
    append = out.append
    for values in column:
        if len(values) == 1:
            value = values[0]
            if type(value) is str:
                if '"' in value or "\\" in value or "\n" in value or "\r" in value:
                    value = value.translate(escapes)
                append(['"' + value + suffix])
                continue
            key = (type(value), value)
            term = memo.get(key)
            if term is None:
                term = memo[key] = _literal_term(value, suffix, escapes)
            append([term])
        else:
            append([_literal_term(value, suffix, escapes) for value in values])
    return out


def _literal_term(value: Any, suffix: str, escapes: dict[int, str]) -> str:
    kind = type(value)
    text = value if kind is str else repr(value) if kind is float else _text(value)
    if '"' in text or "\\" in text or "\n" in text or "\r" in text:
        text = text.translate(escapes)
    return '"' + text + suffix


def _at_most_one(column: list[list[str]]) -> bool:
    return not column or max(map(len, column)) <= 1


def _is_constant(column: list[list[str]]) -> bool:
    """True for the shared-list column ``[[term]] * n`` a constant term map makes."""
    return all(values is column[0] for values in column[:2]) and len(column[0]) == 1


def _combinations(pieces: list[list[str]]) -> list[Any]:
    """Cartesian product of per-reference value lists (one value each is by far the common case)."""
    if all(len(p) == 1 for p in pieces):
        return [tuple(p[0] for p in pieces)] if pieces else [()]
    combos: list[tuple[str, ...]] = [()]
    for values in pieces:
        combos = [(*c, v) for c in combos for v in values]
    return combos


def _all_term_maps(tm: TriplesMap) -> Iterator[TermMap]:
    def walk(term_map: TermMap) -> Iterator[TermMap]:
        yield term_map
        for arg in term_map.arguments:
            yield from walk(arg)

    yield from walk(tm.subject)
    for pom in tm.poms:
        for term_map in (*pom.predicates, *pom.objects, *pom.graphs):
            yield from walk(term_map)
