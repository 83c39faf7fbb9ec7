"""The store: GeoSPARQL functions, the index kept current, and the planner giving the answers the store gives
without it, on generated data and queries."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from components.geostore.planner import Planner
from components.geostore.store import GeoStore, StoreInputError

PREFIXES = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
            "PREFIX geof: <http://www.opengis.net/def/function/geosparql/>\n"
            "PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>\n"
            "PREFIX strdf: <http://strdf.di.uoa.gr/ontology#>\n"
            "PREFIX ex: <http://ex.org/>\n")
WKT = "<http://www.opengis.net/ont/geosparql#wktLiteral>"


def _shape(rng: random.Random) -> str:
    x, y = rng.uniform(0, 20), rng.uniform(0, 20)
    kind = rng.choice(["point", "line", "box", "box"])
    if kind == "point":
        return f"POINT({x:.1f} {y:.1f})"
    w, h = rng.uniform(0.5, 4), rng.uniform(0.5, 4)
    if kind == "line":
        return f"LINESTRING({x:.1f} {y:.1f}, {x + w:.1f} {y + h:.1f})"
    ring = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
    return "POLYGON((" + ", ".join(f"{a:.1f} {b:.1f}" for a, b in ring) + "))"


def generated(rng: random.Random, n: int, prefix: str = "a") -> str:
    lines = []
    for i in range(n):
        lines.append(f"<http://ex.org/{prefix}{i}> <http://www.opengis.net/ont/geosparql#hasGeometry> "
                     f"<http://ex.org/{prefix}{i}g> .")
        lines.append(f'<http://ex.org/{prefix}{i}g> <http://www.opengis.net/ont/geosparql#asWKT> '
                     f'"{_shape(rng)}"^^{WKT} .')
    lines.append(f'<http://ex.org/bad> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(1"^^{WKT} .')
    return "\n".join(lines)


def bindings(store: GeoStore, query: str, use_index: bool) -> list[tuple[tuple[str, str], ...]]:
    answer = store.query(query, use_index=use_index)
    rows = json.loads(answer.body)["results"]["bindings"]
    return sorted(tuple(sorted((k, v["value"]) for k, v in row.items())) for row in rows)


@pytest.fixture(scope="module")
def store() -> GeoStore:
    rng = random.Random(13)
    geo = GeoStore()
    geo.load(generated(rng, 80, "a") + "\n" + generated(rng, 80, "b"), "ntriples")
    return geo


RELATIONS = ["sfIntersects", "sfWithin", "sfContains", "sfTouches", "sfOverlaps", "sfCrosses", "sfEquals",
             "ehMeet", "ehCovers", "ehInside", "rcc8po", "rcc8ec", "rcc8ntpp", "rcc8tpp"]


@pytest.mark.parametrize("relation", RELATIONS)
def test_planner_join_answers_as_the_store_does_without_it(store: GeoStore, relation: str) -> None:
    query = PREFIXES + (f"SELECT ?a ?b WHERE {{ ?a geo:hasGeometry ?ag . ?ag geo:asWKT ?x . "
                        f"?b geo:hasGeometry ?bg . ?bg geo:asWKT ?y . FILTER(geof:{relation}(?x, ?y)) "
                        'FILTER(STRSTARTS(STR(?a), "http://ex.org/a")) '
                        'FILTER(STRSTARTS(STR(?b), "http://ex.org/b")) }')
    plan = Planner(store.index).plan(query)
    assert plan.used_index and plan.steps[0].kind == "join"
    with_index = bindings(store, query, True)
    assert with_index == bindings(store, query, False)
    assert with_index or relation not in ("sfIntersects", "rcc8po")


@pytest.mark.parametrize("seed", range(12))
def test_planner_selection_answers_as_the_store_does_without_it(store: GeoStore, seed: int) -> None:
    rng = random.Random(seed)
    relation = rng.choice(RELATIONS)
    constant = _shape(rng)
    left, right = ("?w", f'"{constant}"^^geo:wktLiteral')
    if rng.random() < 0.5:
        left, right = right, left
    query = PREFIXES + f"SELECT ?g WHERE {{ ?g geo:asWKT ?w . FILTER(geof:{relation}({left}, {right})) }}"
    assert Planner(store.index).plan(query).used_index
    assert bindings(store, query, True) == bindings(store, query, False)


def test_planner_leaves_what_it_cannot_rewrite_exactly(store: GeoStore) -> None:
    optional = PREFIXES + ("SELECT ?g WHERE { ?g geo:asWKT ?w OPTIONAL { ?g ?p ?o } "
                           'FILTER(geof:sfIntersects(?w, "POINT(1 1)"^^geo:wktLiteral)) }')
    point = '"POINT(1 1)"^^geo:wktLiteral'
    disjoint = PREFIXES + f"SELECT ?g WHERE {{ ?g geo:asWKT ?w FILTER(geof:sfDisjoint(?w, {point})) }}"
    unbound = PREFIXES + f"SELECT ?g WHERE {{ ?g geo:asWKT ?w FILTER(geof:sfIntersects(?v, {point})) }}"
    for query in (optional, disjoint, unbound):
        assert not Planner(store.index).plan(query).used_index
        assert bindings(store, query, True) == bindings(store, query, False)


def test_explain_counts_candidates_and_matches(store: GeoStore) -> None:
    query = PREFIXES + ('SELECT ?g WHERE { ?g geo:asWKT ?w '
                        'FILTER(geof:sfWithin(?w, "POLYGON((0 0, 5 0, 5 5, 0 5, 0 0))"^^geo:wktLiteral)) }')
    answer = store.query(query)
    step = answer.plan.to_dict()["steps"][0]
    assert step["kind"] == "selection" and step["candidates"] >= step["matches"] > 0
    assert step["matches"] == len(json.loads(answer.body)["results"]["bindings"])
    # the unreadable literal is reported with the answer, not silently dropped
    assert answer.unreadable == 1


def test_unreadable_geometries_are_counted_without_the_index(store: GeoStore) -> None:
    query = PREFIXES + 'SELECT ?g WHERE { ?g geo:asWKT ?w FILTER(geof:sfIntersects(?w, "POINT(1 1)"^^geo:wktLiteral)) }'
    answer = store.query(query, use_index=False)
    assert answer.unreadable == 1 and "POINT(1" in answer.unreadable_examples[0]


def test_index_follows_updates_and_deletes() -> None:
    store = GeoStore()
    store.load(f'<http://ex.org/g1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(1 1)"^^{WKT} .', "nt")
    select = PREFIXES + ('SELECT ?g WHERE { ?g geo:asWKT ?w '
                         'FILTER(geof:sfWithin(?w, "POLYGON((0 0, 3 0, 3 3, 0 3, 0 0))"^^geo:wktLiteral)) }')
    assert bindings(store, select, True) == [(("g", "http://ex.org/g1"),)]
    store.update(PREFIXES + 'INSERT DATA { ex:g2 geo:asWKT "POINT(2 2)"^^geo:wktLiteral }')
    store.update(PREFIXES + "DELETE WHERE { ex:g1 geo:asWKT ?w }")
    assert bindings(store, select, True) == [(("g", "http://ex.org/g2"),)] == bindings(store, select, False)
    assert len(store.index) == 1
    # a literal computed by an update (a buffer) is indexed too
    store.update(PREFIXES + "INSERT { ex:g3 geo:asWKT ?b } WHERE { ex:g2 geo:asWKT ?w "
                            "BIND(geof:buffer(?w, 0.5, uom:degree) AS ?b) }")
    assert len(store.index) == 2


def test_store_persists_and_restores_the_index(tmp_path: Path) -> None:
    first = GeoStore(tmp_path / "db")
    first.load(f'<http://ex.org/g1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(1 1)"^^{WKT} .', "nt")
    first.close()
    del first
    again = GeoStore(tmp_path / "db")
    assert len(again.index) == 1 and len(again) == 1


def test_a_load_is_all_or_nothing() -> None:
    store = GeoStore()
    good = f'<http://ex.org/g1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(1 1)"^^{WKT} .'
    with pytest.raises(StoreInputError, match="line 2"):
        store.load(good + "\n<http://ex.org/x> <http://ex.org/p> .\n", "nt")
    assert len(store) == 0 and len(store.index) == 0


FUNCTION_CASES = [
    ('geof:sfContains("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral, "POINT(1 1)"^^geo:wktLiteral)', "true"),
    ('geof:ehMeet("POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"^^geo:wktLiteral, '
     '"POLYGON((1 0, 2 0, 2 1, 1 1, 1 0))"^^geo:wktLiteral)', "true"),
    ('geof:rcc8ec("POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"^^geo:wktLiteral, '
     '"POLYGON((1 0, 2 0, 2 1, 1 1, 1 0))"^^geo:wktLiteral)', "true"),
    ('geof:distance("POINT(0 0)"^^geo:wktLiteral, "POINT(3 4)"^^geo:wktLiteral, uom:degree)', "5"),
    ('geof:asText(geof:envelope("LINESTRING(0 0, 2 1)"^^geo:wktLiteral))', "POLYGON ((0 0, 2 0, 2 1, 0 1, 0 0))"),
    ('geof:getSRID("<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(1 2)"^^geo:wktLiteral)',
     "http://www.opengis.net/def/crs/EPSG/0/4326"),
    # EPSG:4326 is lat, lon: POINT(1 2) there is lon 2, lat 1
    ('geof:sfEquals("<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(1 2)"^^geo:wktLiteral, '
     '"POINT(2 1)"^^geo:wktLiteral)', "true"),
    ('geof:sfIntersects("<gml:Point xmlns:gml=\\"http://www.opengis.net/gml\\"><gml:pos>1 1</gml:pos></gml:Point>"'
     '^^geo:gmlLiteral, "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral)', "true"),
    ('strdf:contains("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0));http://www.opengis.net/def/crs/EPSG/0/4326"^^strdf:WKT, '
     '"POINT(1 1)"^^strdf:WKT)', "true"),
    ('geof:isEmpty(""^^geo:wktLiteral)', "true"),
]


@pytest.mark.parametrize(("expression", "value"), FUNCTION_CASES)
def test_functions(expression: str, value: str) -> None:
    answer = GeoStore().query(PREFIXES + f"SELECT ({expression} AS ?v) WHERE {{}}")
    assert json.loads(answer.body)["results"]["bindings"][0]["v"]["value"] == value


def test_metric_distance_is_geodesic() -> None:
    # one degree of latitude on WGS84 at the equator: 110574 m
    answer = GeoStore().query(PREFIXES + 'SELECT (geof:distance("POINT(0 0)"^^geo:wktLiteral, '
                              '"POINT(0 1)"^^geo:wktLiteral, uom:metre) AS ?d) WHERE {}')
    assert round(float(json.loads(answer.body)["results"]["bindings"][0]["d"]["value"])) == 110574


def test_bad_sparql_names_the_line() -> None:
    with pytest.raises(StoreInputError, match="bad SPARQL query: error at 2:"):
        GeoStore().query("SELECT ?x\nWHERE { ?x ")
