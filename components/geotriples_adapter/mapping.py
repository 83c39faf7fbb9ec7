"""Read an RML mapping (legacy ``rml:``/``rr:`` vocabulary, GeoTriples ``rrx:`` functions, FnML) into plain objects.

rdflib only parses the Turtle; everything after that works on these frozen dataclasses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from components.common.errors import InvalidInput
from components.geotriples_adapter.terms import check_language

RR = Namespace("http://www.w3.org/ns/r2rml#")
RML = Namespace("http://semweb.mmlab.be/ns/rml#")
QL = Namespace("http://semweb.mmlab.be/ns/ql#")
RRX = Namespace("http://www.w3.org/ns/r2rml-ext#")
FNML = Namespace("http://semweb.mmlab.be/ns/fnml#")
FNO = Namespace("https://w3id.org/function/ontology#")
FNO_OLD = Namespace("http://w3id.org/function/ontology#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

IRI, BLANK, LITERAL = "iri", "blank", "literal"
_TERM_TYPES = {RR.IRI: IRI, RR.BlankNode: BLANK, RR.Literal: LITERAL}
_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.MULTILINE | re.IGNORECASE)
_BASE = re.compile(r"^\s*(?:@base\s+<([^>]*)>\s*\.|BASE\s+<([^>]*)>)", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class TermMap:
    """How one RDF term is made for each record: a constant, a reference, a template or a function call."""

    kind: str  # "constant" | "reference" | "template" | "function"
    value: str = ""  # constant lexical/IRI, reference, template, or function IRI
    term_type: str = IRI
    datatype: str | None = None
    language: str | None = None
    arguments: tuple[TermMap, ...] = ()
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Join:
    child: str
    parent: str


@dataclass(frozen=True)
class RefObjectMap:
    parent: str
    joins: tuple[Join, ...]


@dataclass(frozen=True)
class PredicateObjectMap:
    predicates: tuple[TermMap, ...]
    objects: tuple[TermMap, ...]
    ref_objects: tuple[RefObjectMap, ...]
    graphs: tuple[TermMap, ...]


@dataclass(frozen=True)
class LogicalSource:
    """Where records come from: a file (relative to the mapping), its reference formulation and iterator."""

    source: str
    formulation: str
    iterator: str | None = None
    delimiter: str | None = None  # a CSV source's csvw:delimiter; None: by its extension (tab for .tsv, else comma)

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        return (self.source, self.formulation, self.iterator, self.delimiter)


@dataclass(frozen=True)
class TriplesMap:
    name: str
    source: LogicalSource
    subject: TermMap
    classes: tuple[str, ...]
    subject_graphs: tuple[TermMap, ...]
    poms: tuple[PredicateObjectMap, ...]


@dataclass
class Mapping:
    """A parsed mapping: its triples maps (by name), base IRI, prefixes and the folder sources resolve against."""

    triples_maps: dict[str, TriplesMap]
    base: str | None
    prefixes: dict[str, str]
    folder: Path
    text: str = field(repr=False, default="")


def load_mapping(path: Path) -> Mapping:
    """Parse the mapping file at ``path`` (sources resolve relative to its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"cannot read mapping {path}: {err}") from err
    return parse_mapping(text, path.resolve().parent, name=str(path))


def parse_mapping(text: str, folder: Path, name: str = "mapping") -> Mapping:
    """Parse RML mapping text; ``InvalidInput`` naming the line or triples map when it is not usable RML."""
    match = _BASE.search(text)
    base = (match.group(1) or match.group(2)) if match else None
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=base or "http://example.com/base/")
    except Exception as err:  # rdflib raises several unrelated types for bad Turtle
        raise InvalidInput(f"{name} is not valid Turtle: {' '.join(str(err).split())}") from err
    reader = _Reader(graph, text, name)
    maps = {}
    for node in sorted(set(graph.subjects(RML.logicalSource, None)) | set(graph.subjects(RDF_TYPE, RR.TriplesMap)),
                       key=str):
        tm = reader.triples_map(node)
        maps[tm.name] = tm
    if not maps:
        raise InvalidInput(f"{name} is not an RML mapping: it defines no rr:TriplesMap with an rml:logicalSource")
    for tm in maps.values():
        for pom in tm.poms:
            for ref in pom.ref_objects:
                if ref.parent not in maps:
                    raise InvalidInput(f"{name}: triples map {tm.name} refers to unknown parent {ref.parent}")
    # only the mapping's own declarations (rdflib binds many more by default)
    prefixes = {m.group(1): m.group(2) for m in _PREFIX.finditer(text) if m.group(1)}
    return Mapping(maps, base, prefixes, folder, text)


class _Reader:
    def __init__(self, graph: Graph, text: str, name: str):
        self.g = graph
        self.text = text
        self.name = name

    def where(self, needle: str) -> str:
        """``name:line`` of the first line mentioning ``needle`` (rdflib keeps no positions)."""
        local = re.split(r"[#/]", needle)[-1] or needle
        for number, line in enumerate(self.text.splitlines(), 1):
            if local in line:
                return f"{self.name}:{number}"
        return self.name

    def one(self, node: Node, prop: URIRef) -> Node | None:
        values = list(self.g.objects(node, prop))
        if len(values) > 1:
            raise InvalidInput(f"{self.where(str(prop))}: {_short(prop)} given {len(values)} times on {_label(node)}")
        return values[0] if values else None

    def triples_map(self, node: Node) -> TriplesMap:
        name = _label(node)
        if self.one(node, RR.logicalTable) is not None:
            raise InvalidInput(f"{self.where('logicalTable')}: {name} uses rr:logicalTable (a database): unsupported")
        source_node = self.one(node, RML.logicalSource)
        if source_node is None:
            raise InvalidInput(f"{self.where(name)}: triples map {name} has no rml:logicalSource")
        source = self.logical_source(source_node, name)
        subjects = list(self.g.objects(node, RR.subjectMap)) + [
            self.constant_node(c) for c in self.g.objects(node, RR.subject)]
        if len(subjects) != 1:
            raise InvalidInput(
                f"{self.where(name)}: triples map {name} needs exactly one subject map, has {len(subjects)}")
        subject_node = subjects[0]
        subject = self.term_map(subject_node, IRI, "subject")
        # rr:termType rr:Literal on a subject map is ignored (an IRI is made), as the RML test cases expect
        classes = tuple(str(c) for c in self.g.objects(subject_node, RR["class"]))
        graphs = self.graph_maps(subject_node)
        poms = tuple(self.pom(p, name) for p in self.g.objects(node, RR.predicateObjectMap))
        return TriplesMap(name, source, subject, classes, graphs, poms)

    def logical_source(self, node: Node, name: str) -> LogicalSource:
        for prop in (RR.sqlQuery, RML.query, RR.tableName):
            if self.one(node, prop) is not None:
                raise InvalidInput(f"{self.where(str(prop))}: {name} uses {_short(prop)}: database sources unsupported")
        src = self.one(node, RML.source)
        delimiter = None
        if isinstance(src, Literal):
            source = str(src)
        elif src is not None and self.one(src, CSVW.url) is not None:
            source = str(self.one(src, CSVW.url))
            dialect = self.one(src, CSVW.dialect)
            if dialect is not None and self.one(dialect, CSVW.delimiter) is not None:
                delimiter = str(self.one(dialect, CSVW.delimiter))
        else:
            raise InvalidInput(f"{self.where('source')}: {name} has no file rml:source (databases are unsupported)")
        formulation = self.one(node, RML.referenceFormulation)
        if formulation is None:
            raise InvalidInput(f"{self.where(name)}: {name} has no rml:referenceFormulation")
        iterator = self.one(node, RML.iterator)
        return LogicalSource(source, str(formulation), str(iterator) if iterator is not None else None, delimiter)

    def constant_node(self, value: Node) -> Node:
        node = BNode()
        self.g.add((node, RR.constant, value))
        return node

    def graph_maps(self, node: Node) -> tuple[TermMap, ...]:
        nodes = list(self.g.objects(node, RR.graphMap))
        nodes += [self.constant_node(c) for c in self.g.objects(node, RR.graph)]
        maps = tuple(self.term_map(n, IRI, "graph") for n in nodes)
        for m in maps:
            if m.term_type != IRI:
                raise InvalidInput(f"{self.where('graphMap')}: graph maps must make IRIs")
        return maps

    def pom(self, node: Node, name: str) -> PredicateObjectMap:
        preds = [*self.g.objects(node, RR.predicateMap)]
        preds += [self.constant_node(c) for c in self.g.objects(node, RR.predicate)]
        predicates = tuple(self.term_map(p, IRI, "predicate") for p in preds)
        if not predicates:
            raise InvalidInput(f"{self.where(name)}: a predicate-object map of {name} has no predicate")
        objects: list[TermMap] = []
        refs: list[RefObjectMap] = []
        object_nodes = [*self.g.objects(node, RR.objectMap)]
        object_nodes += [self.constant_node(c) for c in self.g.objects(node, RR.object)]
        for obj in object_nodes:
            parent = self.one(obj, RR.parentTriplesMap)
            if parent is not None:
                joins = tuple(
                    Join(str(self.one(j, RR.child) or ""), str(self.one(j, RR.parent) or ""))
                    for j in self.g.objects(obj, RR.joinCondition))
                refs.append(RefObjectMap(_label(parent), tuple(j for j in joins if j.child and j.parent)))
            else:
                objects.append(self.term_map(obj, None, "object"))
        return PredicateObjectMap(predicates, tuple(objects), tuple(refs), self.graph_maps(node))

    def term_map(self, node: Node, default_type: str | None, position: str) -> TermMap:
        datatype = self.one(node, RR.datatype)
        language = self.one(node, RR.language)
        term_type_node = self.one(node, RR.termType)
        if term_type_node is not None and term_type_node not in _TERM_TYPES:
            raise InvalidInput(f"{self.where('termType')}: unknown rr:termType {term_type_node}")
        explicit = _TERM_TYPES.get(URIRef(str(term_type_node))) if term_type_node is not None else None
        constant = self.one(node, RR.constant)
        reference = self.one(node, RML.reference) or self.one(node, RR.column)
        template = self.one(node, RR.template)
        function = self.one(node, RRX.function)
        fn_value = self.one(node, FNML.functionValue)
        given = [x for x in (constant, reference, template, function, fn_value) if x is not None]
        if len(given) != 1:
            raise InvalidInput(
                f"{self.where(position + 'Map')}: a {position} map needs exactly one of rr:constant, rml:reference, "
                f"rr:template, rrx:function or fnml:functionValue")
        if language is not None:
            check_language(str(language))
        kind, value = "constant", ""
        arguments: tuple[TermMap, ...] = ()
        parameters: tuple[str, ...] = ()
        if constant is not None:
            kind, value = "constant", str(constant)
            implied = LITERAL if isinstance(constant, Literal) else BLANK if isinstance(constant, BNode) else IRI
            if isinstance(constant, Literal):
                datatype = datatype or (constant.datatype if constant.datatype else None)
                language = language or (Literal(constant.language) if constant.language else None)
        elif reference is not None:
            kind, value, implied = "reference", str(reference), LITERAL
        elif template is not None:
            kind, value, implied = "template", str(template), IRI
        elif function is not None:
            kind, value, implied = "function", str(function), LITERAL
            args = self.one(node, RRX.argumentMap)
            arguments = tuple(self.term_map(a, LITERAL, "argument") for a in Collection(self.g, args)) if args else ()
        else:
            kind, implied = "function", LITERAL
            value, arguments, parameters = self.fnml(given[0])
        if default_type is None:
            default_type = LITERAL if (datatype is not None or language is not None) else implied
        term_type = explicit or default_type
        if term_type != LITERAL and (datatype is not None or language is not None):
            raise InvalidInput(f"{self.where('datatype')}: rr:datatype/rr:language on a non-literal {position} map")
        return TermMap(kind, value, term_type, str(datatype) if datatype is not None else None,
                       str(language) if language is not None else None, arguments, parameters)

    def fnml(self, node: Node) -> tuple[str, tuple[TermMap, ...], tuple[str, ...]]:
        function = ""
        args: list[TermMap] = []
        params: list[str] = []
        for pom in self.g.objects(node, RR.predicateObjectMap):
            preds = [*self.g.objects(pom, RR.predicate)] + [
                self.one(p, RR.constant) for p in self.g.objects(pom, RR.predicateMap)]
            objs = [self.constant_node(c) for c in self.g.objects(pom, RR.object)] + [
                *self.g.objects(pom, RR.objectMap)]
            for pred in preds:
                for obj in objs:
                    if pred in (FNO.executes, FNO_OLD.executes):
                        function = str(self.one(obj, RR.constant) or "")
                    else:
                        params.append(str(pred))
                        args.append(self.term_map(obj, LITERAL, "parameter"))
        if not function:
            raise InvalidInput(f"{self.where('functionValue')}: fnml:functionValue without fno:executes")
        return function, tuple(args), tuple(params)


def _label(node: Node) -> str:
    return str(node) if isinstance(node, URIRef) else f"_:{node}"


def _short(prop: URIRef) -> str:
    text = str(prop)
    for prefix, ns in (("rr:", RR), ("rml:", RML)):
        if text.startswith(str(ns)):
            return prefix + text[len(str(ns)):]
    return text
