"""RDF terms as N-Triples text: IRIs, literals and blank nodes, with R2RML's IRI-safe template encoding."""

from __future__ import annotations

import re
from urllib.parse import quote

from components.common.errors import InvalidInput

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
GEO = "http://www.opengis.net/ont/geosparql#"
WKT_LITERAL = GEO + "wktLiteral"
STRDF_WKT = "http://strdf.di.uoa.gr/ontology#WKT"
EPSG_IRI = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84_IRI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# The SRID geometries carry for OGC CRS84 (WGS 84, longitude/latitude), which has no EPSG code; negative, so
# it cannot clash with one.
CRS84 = -84

_SAFE = re.compile(r"[A-Za-z0-9\-._~]*\Z")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"([A-Za-z]{2,3}|[ixIX])(-[A-Za-z0-9]{1,8})*\Z")
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_BNODE_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def iri_safe(value: str) -> str:
    """Percent-encode a value for an IRI template (R2RML 7.3: keep unreserved and non-ASCII characters)."""
    if _SAFE.match(value):
        return value
    return "".join(ch if ord(ch) > 127 else quote(ch, safe="-._~") for ch in value)


def is_absolute(iri: str) -> bool:
    """True when ``iri`` has a scheme."""
    return _ABSOLUTE.match(iri) is not None


def forbidden_in_iri(value: str) -> str | None:
    """The first character of ``value`` that an IRI may not contain (space, ``<``, ``{``...), or None."""
    found = _IRI_FORBIDDEN.search(value)
    return found.group() if found else None


def iri(value: str, base: str | None = None) -> str:
    """``<value>``, resolved against ``base`` when relative; ``InvalidInput`` when it is not a valid IRI."""
    if not is_absolute(value):
        if base is None:
            raise InvalidInput(f"{value!r} is not an absolute IRI and the mapping has no base IRI")
        value = base + value
    if _IRI_FORBIDDEN.search(value):
        raise InvalidInput(f"{value!r} is not a valid IRI")
    return f"<{value}>"


def literal(value: str, datatype: str | None = None, language: str | None = None) -> str:
    """A literal in N-Triples syntax (only ``\\``, ``"``, newline and carriage return need escaping)."""
    text = value.translate(_LITERAL_ESCAPES)
    if language:
        return f'"{text}"@{language}'
    if datatype and datatype != XSD + "string":
        return f'"{text}"^^<{datatype}>'
    return f'"{text}"'


def crs_iri(srid: int) -> str:
    """The CRS IRI of an SRID: CRS84's own IRI, else the EPSG one."""
    return CRS84_IRI if srid == CRS84 else f"{EPSG_IRI}{srid}"


def blank(label: str) -> str:
    """A blank node whose label is derived from ``label`` (same label, same node)."""
    return "_:" + _BNODE_UNSAFE.sub(lambda m: f"x{ord(m.group()):X}", label)


def check_language(tag: str) -> str:
    """The tag when it is a well-formed BCP 47 language tag, ``InvalidInput`` otherwise."""
    if not _LANG.match(tag):
        raise InvalidInput(f"rr:language {tag!r} is not a valid language tag")
    return tag


def lexical(value: object) -> str:
    """The lexical form of a source value (booleans lowercase)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
