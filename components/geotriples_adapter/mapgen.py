"""Generate a GeoTriples-style RML mapping for a geospatial input.

Each feature becomes ``{base}/{Layer}/id/{n}`` typed ``onto:{Layer}``, linked by ``geo:hasGeometry`` to
``{base}/{Layer}/Geometry/{n}`` typed ``geo:Geometry`` with ``geo:asWKT`` and the GeoSPARQL geometry properties;
each attribute becomes ``onto:has{Column}`` with the XSD datatype of its column.
"""

from __future__ import annotations

import re

from components.common.errors import InvalidInput
from components.geotriples_adapter.inspect_input import Described
from components.geotriples_adapter.terms import GEO, XSD, forbidden_in_iri, is_absolute

DEFAULT_BASE = "http://example.com"
_LAYER = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*\Z")

# (predicate local name, rrxf function, datatype) of the geometry triples map, in GeoTriples' order
GEOMETRY_PROPERTIES = [
    ("dimension", "dimension", XSD + "integer"),
    ("coordinateDimension", "coordinateDimension", XSD + "integer"),
    ("spatialDimension", "spatialDimension", XSD + "integer"),
    ("isEmpty", "isEmpty", XSD + "boolean"),
    ("isSimple", "isSimple", XSD + "boolean"),
    ("is3D", "is3D", XSD + "boolean"),
]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _template_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def predicate_name(column: str) -> str:
    """``has`` + the column name with its first letter capitalised (GeoTriples' WordUtils.capitalize)."""
    safe = re.sub(r"[^A-Za-z0-9_\-]", "_", column.replace(".", ""))
    return "has" + safe[:1].upper() + safe[1:]


def check_base_iri(base_iri: str) -> str:
    """``base_iri`` without its trailing ``/`` or ``#``; ``InvalidInput`` unless it is an absolute IRI that the
    generated IRIs (``{base}/{Layer}/id/{n}``, ``{base}/ontology#``) can extend."""
    base = base_iri.rstrip("/#")
    if not is_absolute(base) or base.endswith(":"):
        raise InvalidInput(f"base IRI {base_iri!r} is not an absolute IRI (like http://example.com/data)")
    bad = forbidden_in_iri(base)
    if bad is not None:
        raise InvalidInput(f"base IRI {base_iri!r} contains {bad!r}, which an IRI may not")
    if "#" in base:
        raise InvalidInput(f"base IRI {base_iri!r} may hold '#' only at its end (the ontology IRI adds one)")
    return base


def check_layer(layer: str) -> str:
    """``layer`` when it can name the class ``onto:{layer}`` and sit in IRIs as it is, ``InvalidInput`` otherwise."""
    if not _LAYER.match(layer):
        raise InvalidInput(f"layer name {layer!r} is not usable: it must start with a letter and hold only letters, "
                           f"digits, '_' and '-'")
    return layer


def generate_mapping(described: Described, source: str, base_iri: str | None = None, strdf: bool = False) -> str:
    """Turtle text of the mapping; ``source`` is how the mapping names the input (relative to the mapping)."""
    base = check_base_iri(base_iri or DEFAULT_BASE)
    layer = check_layer(described.layer)
    prefixes = {
        "rr": "http://www.w3.org/ns/r2rml#", "rml": "http://semweb.mmlab.be/ns/rml#",
        "ql": "http://semweb.mmlab.be/ns/ql#", "rrx": "http://www.w3.org/ns/r2rml-ext#",
        "rrxf": "http://www.w3.org/ns/r2rml-ext/functions/def/", "geo": GEO, "xsd": XSD,
        "onto": f"{base}/ontology#", **described.prefixes,
    }
    named = _q(source)
    if described.delimiter:
        prefixes["csvw"] = "http://www.w3.org/ns/csvw#"
        named = (f"[ a csvw:Table ; csvw:url {named} ;\n"
                 f"        csvw:dialect [ a csvw:Dialect ; csvw:delimiter {_q(described.delimiter)} ] ]")
    lines = [f"@prefix {p}: <{ns}> ." for p, ns in prefixes.items()]
    lines.append(f"@base <{base}/> .")
    logical = [f"rml:logicalSource [ rml:source {named} ;",
               f"    rml:referenceFormulation <{described.formulation}>"]
    if described.iterator:
        logical.append(f"    ; rml:iterator {_q(described.iterator)}")
    logical.append("] ;")
    feature = f"{_template_escape(base)}/{layer}/id/{{GeoTriplesID}}"
    geometry = f"{_template_escape(base)}/{layer}/Geometry/{{GeoTriplesID}}"
    lines += ["", f"<#{layer}>", *logical,
              f"rr:subjectMap [ rr:template {_q(feature)} ; rr:class onto:{layer} ] ;"]
    for column in described.columns:
        lines.append(f"rr:predicateObjectMap [ rr:predicateMap [ rr:constant onto:{predicate_name(column.name)} ] ;")
        lines.append(f"    rr:objectMap [ rr:datatype <{column.datatype}> ; rml:reference {_q(column.reference)} ] ] ;")
    lines.append("rr:predicateObjectMap [ rr:predicateMap [ rr:constant geo:hasGeometry ] ;")
    lines.append(f"    rr:objectMap [ rr:template {_q(geometry)} ] ] .")
    arguments = " ".join(f"[ rml:reference {_q(ref)} ]" for ref in described.geometry)
    wkt_type = "<http://strdf.di.uoa.gr/ontology#WKT>" if strdf else "geo:wktLiteral"
    lines += ["", f"<#Geometry_{layer}>", *logical,
              f"rr:subjectMap [ rr:template {_q(geometry)} ; rr:class geo:Geometry ] ;",
              "rr:predicateObjectMap [ rr:predicateMap [ rr:constant geo:asWKT ] ;",
              f"    rr:objectMap [ rr:datatype {wkt_type} ; rrx:function rrxf:asWKT ;",
              f"        rrx:argumentMap ( {arguments} ) ] ]"]
    for predicate, function, datatype in GEOMETRY_PROPERTIES:
        lines[-1] += " ;"
        lines.append(f"rr:predicateObjectMap [ rr:predicateMap [ rr:constant geo:{predicate} ] ;")
        lines.append(f"    rr:objectMap [ rr:datatype <{datatype}> ; rrx:function rrxf:{function} ;")
        lines.append(f"        rrx:argumentMap ( {arguments} ) ] ]")
    lines[-1] += " ."
    return "\n".join(lines) + "\n"
