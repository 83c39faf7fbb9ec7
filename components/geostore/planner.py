"""The spatial planner: answers a spatial FILTER from the R-tree with exact refinement and hands the store the
surviving geometry literals as ``VALUES`` instead of the FILTER.

Recognised, in a query whose WHERE is one basic graph pattern with FILTERs (no OPTIONAL, UNION, MINUS, GRAPH,
BIND, VALUES, sub-queries or EXISTS: there the rewrite would not keep the answer the same):

- selections ``FILTER(geof:sfX(?g, "WKT"^^geo:wktLiteral))`` (either argument order);
- joins ``FILTER(geof:sfX(?g1, ?g2))``;

for every simple-features, Egenhofer and RCC8 relation that implies that the boxes meet (not the disjoint ones).
The rewrite is exact because the refinement runs the same shapely predicate as the function on the same parsed
geometry, and a variable that a triple pattern binds to anything outside the index (an IRI, an unreadable literal)
makes the function an error, which the FILTER turns into false, as the missing VALUES row does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from components.geostore.functions import GEOF, RELATIONS
from components.geostore.geometry import GEO, GEOMETRY_DATATYPES, STRDF, Geom, GeometryError, parse
from components.geostore.index import SpatialIndex

_NEEDS_MEETING = {name for name in RELATIONS if name not in ("sfDisjoint", "ehDisjoint", "rcc8dc")}
_EQUALS = {"sfEquals", "ehEquals", "rcc8eq"}
_PREFIX = re.compile(r"PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.I)
_STRING = r'"((?:[^"\\]|\\.)*)"'
_TERM = r"(?:[\w.-]*:[\w.-]+|<[^>\s]*>)"
_FILTER = re.compile(
    rf"FILTER\s*\(\s*({_TERM})\s*\(\s*(\?\w+|{_STRING}\^\^{_TERM})\s*,\s*(\?\w+|{_STRING}\^\^{_TERM})\s*\)\s*\)",
    re.I)
_BLOCKERS = re.compile(r"\b(OPTIONAL|UNION|MINUS|SERVICE|GRAPH|BIND|VALUES|EXISTS)\b", re.I)
_WHERE = re.compile(r"(WHERE\s*)?\{", re.I)


@dataclass
class Step:
    """One part of the plan, for explain: what the index answered and how many rows it let through."""

    kind: str
    function: str
    variables: list[str]
    candidates: int
    matches: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function, "variables": self.variables,
                "candidates": self.candidates, "matches": self.matches}


@dataclass
class Plan:
    query: str
    steps: list[Step] = field(default_factory=list)
    reason: str = ""

    @property
    def used_index(self) -> bool:
        return bool(self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"used_index": self.used_index, "steps": [s.to_dict() for s in self.steps], "reason": self.reason}


def _prefixes(query: str) -> dict[str, str]:
    return {name: iri for name, iri in _PREFIX.findall(query)}


def _expand(term: str, prefixes: dict[str, str]) -> str:
    if term.startswith("<"):
        return term[1:-1]
    prefix, _, local = term.partition(":")
    return prefixes.get(prefix, "\0") + local


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text)


def _literal(raw: str, prefixes: dict[str, str]) -> tuple[str, str] | None:
    match = re.fullmatch(rf"{_STRING}\^\^({_TERM})", raw)
    if not match:
        return None
    datatype = _expand(match.group(2), prefixes)
    return (_unescape(match.group(1)), datatype) if datatype in GEOMETRY_DATATYPES else None


class Planner:
    """Rewrites one query against one index (see the module docstring for what it recognises)."""

    def __init__(self, index: SpatialIndex):
        self.index = index

    def plan(self, query: str) -> Plan:
        prefixes = _prefixes(query)
        body = query[query.find("{"):] if "{" in query else ""
        if _BLOCKERS.search(re.sub(_STRING, '""', body)):
            return Plan(query, reason="the WHERE clause is not one basic graph pattern")
        if re.sub(_STRING, '""', body).count("{") != 1:
            return Plan(query, reason="the WHERE clause is not one basic graph pattern")
        for match in _FILTER.finditer(query):
            iri = _expand(match.group(1), prefixes)
            name = iri[len(GEOF):] if iri.startswith(GEOF) else ""
            if name not in _NEEDS_MEETING:
                continue
            rest = query[:match.start()] + query[match.end():]
            left, right = match.group(2), match.group(4)
            plan = self._rewrite(query, rest, name, left, right, prefixes)
            if plan is not None:
                return plan
        return Plan(query, reason="no spatial FILTER the index can answer")

    def _rewrite(self, query: str, rest: str, name: str, left: str, right: str,
                 prefixes: dict[str, str]) -> Plan | None:
        variables = [v for v in (left, right) if v.startswith("?")]
        body_rest = rest[rest.find("{"):]
        if any(not re.search(re.escape(v) + r"\b", re.sub(r"FILTER\s*\(.*?\)\s*\)", "", body_rest, flags=re.S))
               for v in variables):
            return None
        if name in _EQUALS and self.index.empty:
            return None
        test = RELATIONS[name]
        if len(variables) == 2 and variables[0] != variables[1]:
            rows, step = self._join(test, name, variables)
        elif len(variables) == 1:
            constant = _literal(right if left.startswith("?") else left, prefixes)
            if constant is None:
                return None
            try:
                geom = parse(*constant)
            except GeometryError:
                return None
            rows, step = self._selection(test, name, variables[0], geom, variable_first=left.startswith("?"))
        else:
            return None
        opening = _WHERE.search(rest)
        if opening is None:
            return None
        # as a sub-select: pyoxigraph then joins the rows in first instead of after the triple patterns' product
        values = f" {{ SELECT * WHERE {{ VALUES ({' '.join(variables)}) {{ {' '.join(rows)} }} }} }} "
        rewritten = rest[:opening.end()] + values + rest[opening.end():]
        return Plan(rewritten, [step])

    def _selection(self, test: Callable[[Any, Any], Any], name: str, variable: str, constant: Geom,
                   variable_first: bool) -> tuple[list[str], Step]:
        try:
            box = constant.crs84().shape.bounds
        except GeometryError:
            box = (np.nan,) * 4
        ids = np.asarray(self.index.search(tuple(box)) if np.all(np.isfinite(box)) else [], dtype=np.int64)
        shapes, crss = self.index.shapes(ids)
        keep = np.zeros(len(ids), dtype=bool)
        if len(ids):
            same = np.array([crs == constant.crs for crs in crss])
            if same.any():
                pair = (shapes[same], constant.shape) if variable_first else (constant.shape, shapes[same])
                keep[same] = np.asarray(test(*pair), dtype=bool)
            for i in np.flatnonzero(~same).tolist():
                a, b = self.index.entry(int(ids[i])).geom.crs84().shape, constant.crs84().shape
                keep[i] = bool(test(a, b) if variable_first else test(b, a))
        rows = [f"({self.index.entry(int(i)).term})" for i in ids[keep].tolist()]
        return rows, Step("selection", name, [variable], len(ids), len(rows))

    def _join(self, test: Callable[[Any, Any], Any], name: str, variables: list[str]) -> tuple[list[str], Step]:
        left, right = self.index.box_pairs()
        a_shapes, a_crs = self.index.shapes(left)
        b_shapes, b_crs = self.index.shapes(right)
        keep = np.zeros(len(left), dtype=bool)
        if len(left):
            same = np.array([x == y for x, y in zip(a_crs, b_crs, strict=True)])
            if same.any():
                keep[same] = np.asarray(test(a_shapes[same], b_shapes[same]), dtype=bool)
            for i in np.flatnonzero(~same).tolist():
                a = self.index.entry(int(left[i])).geom.crs84().shape
                b = self.index.entry(int(right[i])).geom.crs84().shape
                keep[i] = bool(test(a, b))
        rows = [f"({self.index.entry(a).term} {self.index.entry(b).term})"
                for a, b in zip(left[keep].tolist(), right[keep].tolist(), strict=True)]
        return rows, Step("join", name, variables, len(left), len(rows))


__all__ = ["GEO", "STRDF", "Plan", "Planner", "Step"]
