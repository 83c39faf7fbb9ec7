"""The store: pyoxigraph (RocksDB on disk) with the GeoSPARQL functions, the spatial index and the planner.

One writer at a time (a lock around loads and updates), readers concurrent (RocksDB snapshots). A load is one
transaction (``Store.extend``): a process killed during it leaves the store as it was before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    parse,
)

from components.geostore.functions import functions
from components.geostore.geometry import GEOMETRY_DATATYPES, counting_failures
from components.geostore.index import Key, SpatialIndex
from components.geostore.planner import Plan, Planner
from components.geostore.rewrite import rewrite_relations

logger = logging.getLogger(__name__)

RDF_FORMATS = {"turtle": RdfFormat.TURTLE, "ttl": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES,
               "nt": RdfFormat.N_TRIPLES, "nquads": RdfFormat.N_QUADS, "nq": RdfFormat.N_QUADS,
               "trig": RdfFormat.TRIG, "rdfxml": RdfFormat.RDF_XML, "rdf": RdfFormat.RDF_XML,
               "xml": RdfFormat.RDF_XML, "owl": RdfFormat.RDF_XML, "jsonld": RdfFormat.JSON_LD,
               "n3": RdfFormat.N3}
RESULT_FORMATS = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "csv": QueryResultsFormat.CSV,
                  "tsv": QueryResultsFormat.TSV}
GRAPH_FORMATS = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES, "rdfxml": RdfFormat.RDF_XML}


class StoreInputError(ValueError):
    """Bad RDF or SPARQL; the message names the line where the parser gave up."""


def _first_line(err: Exception) -> str:
    """The parser's message on one line: where it failed and, shortened, what it expected."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def rdf_format(name: str) -> RdfFormat:
    try:
        return RDF_FORMATS[name.lower().lstrip(".").replace("-", "").replace("_", "")]
    except KeyError:
        raise StoreInputError(f"unknown RDF format {name!r}; known: {', '.join(sorted(RDF_FORMATS))}") from None


def _geometry_key(term: object) -> Key | None:
    if isinstance(term, Literal) and term.datatype.value in GEOMETRY_DATATYPES:
        return (term.value, term.datatype.value)
    return None


@dataclass
class Answer:
    """A query's serialised answer with what the planner did and what could not be read."""

    kind: str  # "solutions", "boolean" or "graph"
    body: bytes
    media_type: str
    plan: Plan
    seconds: float
    unreadable: int = 0
    unreadable_examples: list[str] = field(default_factory=list)


class GeoStore:
    """A GeoSPARQL store at ``folder`` (``None``: in memory)."""

    def __init__(self, folder: Path | None = None, read_only: bool = False):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.store = Store.read_only(str(folder)) if read_only and folder else Store(str(folder) if folder else None)
        self.functions = functions()
        self.index = SpatialIndex()
        self._write = threading.Lock()
        started = time.perf_counter()
        self.index.add(self._stored_geometry_keys())
        self.restore_seconds = time.perf_counter() - started
        logger.info("spatial index: %d geometries restored in %.3f s", len(self.index), self.restore_seconds)

    def _stored_geometry_keys(self) -> set[Key]:
        keys = set()
        for quad in self.store.quads_for_pattern(None, None, None, None):
            key = _geometry_key(quad.object)
            if key is not None:
                keys.add(key)
        return keys

    def __len__(self) -> int:
        return len(self.store)

    def load(self, data: bytes | str, format_name: str, graph: str | None = None,
             base_iri: str | None = None) -> int:
        """Parse and add RDF in one transaction, index its geometries; returns the number of triples."""
        try:
            quads = list(parse(data, rdf_format(format_name), base_iri=base_iri,
                               without_named_graphs=graph is not None))
        except SyntaxError as err:
            raise StoreInputError(f"bad {format_name.lstrip('.')} RDF: {_first_line(err)}") from err
        return self.add(quads, graph)

    def add(self, quads: Iterable[Quad], graph: str | None = None) -> int:
        target = NamedNode(graph) if graph else None
        if target is not None:
            quads = [Quad(q.subject, q.predicate, q.object, target) for q in quads]
        quads = list(quads)
        keys = {key for q in quads if (key := _geometry_key(q.object)) is not None}
        with self._write:
            self.store.extend(quads)
            self.index.add(keys)
        return len(quads)

    def update(self, sparql: str) -> None:
        """Run a SPARQL update (one transaction), then bring the index up to date with what changed."""
        with self._write:
            try:
                self.store.update(sparql, custom_functions=self.functions)
            except SyntaxError as err:
                raise StoreInputError(f"bad SPARQL update: {_first_line(err)}") from err
            stored = self._stored_geometry_keys()
            known = self.index.keys()
            self.index.remove(known - stored)
            self.index.add(stored - known)

    def clear(self, graph: str | None = None) -> None:
        self.update(f"CLEAR GRAPH <{graph}>" if graph else "CLEAR DEFAULT")

    def query(self, sparql: str, result_format: str = "json", use_index: bool = True,
              graph_format: str = "ntriples", limit: int | None = None) -> Answer:
        """Run a query and serialise its answer (SPARQL results for SELECT/ASK, RDF for CONSTRUCT/DESCRIBE)."""
        started = time.perf_counter()
        with counting_failures() as failures:
            sparql = rewrite_relations(sparql)
            plan = Planner(self.index).plan(sparql) if use_index else Plan(sparql, reason="index not used")
            results = self._run(plan.query)
            kind, body, media = self._serialise(results, result_format, graph_format, limit)
        # with the index, unreadable literals are never handed to a function: report the ones the index holds
        unreadable = failures.count + (len(self.index.unreadable) if plan.used_index else 0)
        examples = list(failures.examples) or list(self.index.unreadable.values())[:5] if unreadable else []
        return Answer(kind, body, media, plan, time.perf_counter() - started, unreadable, examples)

    def solutions(self, sparql: str, use_index: bool = True) -> Iterator[dict[str, Any]]:
        """The solutions of a SELECT query one by one, as variable -> term."""
        with counting_failures():
            sparql = rewrite_relations(sparql)
            plan = Planner(self.index).plan(sparql) if use_index else Plan(sparql)
            results = self._run(plan.query)
            if not isinstance(results, QuerySolutions):
                raise StoreInputError("only SELECT queries stream solutions")
            names = [v.value for v in results.variables]
            for solution in results:
                yield {name: solution[name] for name in names if solution[name] is not None}

    def _run(self, sparql: str) -> QuerySolutions | QueryBoolean | QueryTriples:
        try:
            return self.store.query(sparql, custom_functions=self.functions)
        except SyntaxError as err:
            raise StoreInputError(f"bad SPARQL query: {_first_line(err)}") from err

    @staticmethod
    def _serialise(results: Any, result_format: str, graph_format: str,
                   limit: int | None) -> tuple[str, bytes, str]:
        if isinstance(results, QueryTriples):
            fmt = GRAPH_FORMATS.get(graph_format)
            if fmt is None:
                raise StoreInputError(f"unknown graph format {graph_format!r}; known: {', '.join(GRAPH_FORMATS)}")
            from pyoxigraph import serialize

            return "graph", serialize(results, format=fmt) or b"", fmt.media_type
        fmt_results = RESULT_FORMATS.get(result_format)
        if fmt_results is None:
            raise StoreInputError(f"unknown result format {result_format!r}; known: {', '.join(RESULT_FORMATS)}")
        if isinstance(results, QueryBoolean):
            return "boolean", results.serialize(format=fmt_results) or b"", fmt_results.media_type
        if limit is not None:
            results = _capped(results, limit)
        return "solutions", results.serialize(format=fmt_results) or b"", fmt_results.media_type

    def close(self) -> None:
        self.store.flush()


def _capped(results: QuerySolutions, limit: int) -> QuerySolutions:
    """The first ``limit`` solutions, re-read as a QuerySolutions so every format serialises them."""
    from pyoxigraph import parse_query_results

    variables = results.variables
    rows = []
    for i, solution in enumerate(results):
        if i >= limit:
            break
        rows.append(solution)
    import json

    def term_json(term: Any) -> dict[str, str]:
        if isinstance(term, NamedNode):
            return {"type": "uri", "value": term.value}
        if isinstance(term, Literal):
            out = {"type": "literal", "value": term.value}
            if term.language:
                out["xml:lang"] = term.language
            elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
                out["datatype"] = term.datatype.value
            return out
        return {"type": "bnode", "value": term.value}

    doc = {"head": {"vars": [v.value for v in variables]},
           "results": {"bindings": [{v.value: term_json(s[v]) for v in variables if s[v] is not None}
                                    for s in rows]}}
    parsed = parse_query_results(json.dumps(doc), format=QueryResultsFormat.JSON)
    assert isinstance(parsed, QuerySolutions)
    return parsed


__all__ = ["Answer", "DefaultGraph", "GeoStore", "StoreInputError", "rdf_format"]
