"""Query rewrite (GeoSPARQL 1.0 §11, "Query Rewrite Extension"): a topological property between spatial objects,
``?a geo:sfWithin ?b``, is answered with the matching function on their geometries instead of being materialised.

A feature stands for its default geometry (``geo:hasDefaultGeometry``); a geometry for itself. Only the plain
triple form ``S geo:REL O`` (S and O a variable, a prefixed name or an IRI) is rewritten.
"""

from __future__ import annotations

import re

from components.geostore.functions import GEOF, RELATIONS
from components.geostore.geometry import GEO

_PREFIX = re.compile(r"PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.I)
_NODE = r"(\?\w+|[\w.-]*:[\w.-]*|<[^>\s]*>)"


def _geometry_path(node: str, literal: str) -> str:
    return f"{node} <{GEO}hasDefaultGeometry>?/<{GEO}asWKT> {literal} ."


def rewrite_relations(query: str) -> str:
    """The query with every ``S geo:REL O`` triple pattern replaced by a sub-select over the geometries."""
    prefixes = {name: iri for name, iri in _PREFIX.findall(query)}
    geo_names = [re.escape(name) for name, iri in prefixes.items() if iri == GEO]
    alternatives = [f"{name}:" for name in geo_names] + [re.escape(f"<{GEO}")]
    pattern = re.compile(rf"{_NODE}\s+(?:{'|'.join(alternatives)})({'|'.join(RELATIONS)})>?\s+{_NODE}(\s*\.)?")
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        subject, relation, obj = match.group(1), match.group(2), match.group(3)
        left, right = f"?_geo_l{count}", f"?_geo_r{count}"
        variables = " ".join(dict.fromkeys(v for v in (subject, obj) if v.startswith("?"))) or "*"
        # asserted triples and entailed ones: the entailment regime answers both
        return (f"{{ SELECT DISTINCT {variables} WHERE {{ {{ {subject} <{GEO}{relation}> {obj} }} UNION "
                f"{{ {_geometry_path(subject, left)} {_geometry_path(obj, right)} "
                f"FILTER(<{GEOF}{relation}>({left}, {right})) }} }} }}")

    if not alternatives:
        return query
    head, brace, body = query.partition("{")
    return head + brace + pattern.sub(replace, body) if brace else query
