"""The nine JedAI-spatial relations, all read off one DE-9IM matrix per pair (JTS and GEOS share the semantics).

A matrix alone does not decide ``crosses`` and ``overlaps``: both depend on the dimensions of the two geometries
(as in JTS ``IntersectionMatrix.isCrosses``/``isOverlaps``), so the key of a pair is (matrix, dim A, dim B).
"""

from __future__ import annotations

from functools import lru_cache

from components.common.errors import InvalidInput

# JedAI-spatial's order; the GeoSPARQL predicate of each (Egenhofer for covers/coveredBy, which Simple
# Features does not name)
RELATIONS: tuple[str, ...] = ("contains", "coveredBy", "covers", "crosses", "equals", "intersects", "overlaps",
                              "touches", "within")
GEO = "http://www.opengis.net/ont/geosparql#"
PREDICATES: dict[str, str] = {
    "contains": GEO + "sfContains", "coveredBy": GEO + "ehCoveredBy", "covers": GEO + "ehCovers",
    "crosses": GEO + "sfCrosses", "equals": GEO + "sfEquals", "intersects": GEO + "sfIntersects",
    "overlaps": GEO + "sfOverlaps", "touches": GEO + "sfTouches", "within": GEO + "sfWithin",
}


def parse_relations(names: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The relations asked for (all nine when none), in JedAI-spatial's order; names are case-insensitive."""
    if not names:
        return RELATIONS
    known = {name.lower(): name for name in RELATIONS}
    chosen: set[str] = set()
    for raw in names:
        for part in raw.split(","):
            name = part.strip()
            if not name:
                continue
            if name.lower() not in known:
                raise InvalidInput(f"unknown relation {name!r} (known: {', '.join(RELATIONS)})")
            chosen.add(known[name.lower()])
    if not chosen:
        raise InvalidInput(f"no relation given (known: {', '.join(RELATIONS)})")
    return tuple(name for name in RELATIONS if name in chosen)


def _matches(matrix: str, pattern: str) -> bool:
    for value, want in zip(matrix, pattern, strict=True):
        if want == "*":
            continue
        if want == "T" and value == "F":
            return False
        if want == "F" and value != "F":
            return False
        if want in "012" and value != want:
            return False
    return True


def _any(matrix: str, *patterns: str) -> bool:
    return any(_matches(matrix, pattern) for pattern in patterns)


@lru_cache(maxsize=4096)
def relations_of(matrix: str, dim_a: int, dim_b: int) -> frozenset[str]:
    """The relations that hold for a pair with this DE-9IM ``matrix`` and these geometry dimensions."""
    if _matches(matrix, "FF*FF****"):
        return frozenset()
    found = {"intersects"}
    if _matches(matrix, "T*F**FFF*"):
        found.add("equals")
    if _matches(matrix, "T*****FF*"):
        found.add("contains")
    if _matches(matrix, "T*F**F***"):
        found.add("within")
    if _any(matrix, "T*****FF*", "*T****FF*", "***T**FF*", "****T*FF*"):
        found.add("covers")
    if _any(matrix, "T*F**F***", "*TF**F***", "**FT*F***", "**F*TF***"):
        found.add("coveredBy")
    if _any(matrix, "FT*******", "F**T*****", "F***T****"):
        found.add("touches")
    if _crosses(matrix, dim_a, dim_b):
        found.add("crosses")
    if _overlaps(matrix, dim_a, dim_b):
        found.add("overlaps")
    return frozenset(found)


def _crosses(matrix: str, dim_a: int, dim_b: int) -> bool:
    if dim_a < dim_b:
        return _matches(matrix, "T*T******")
    if dim_a > dim_b:
        return _matches(matrix, "T*****T**")
    return dim_a == 1 and _matches(matrix, "0********")


def _overlaps(matrix: str, dim_a: int, dim_b: int) -> bool:
    if dim_a != dim_b:
        return False
    if dim_a == 1:
        return _matches(matrix, "1*T***T**")
    return _matches(matrix, "T*T***T**")
