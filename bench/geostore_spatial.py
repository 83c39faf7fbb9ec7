"""Benchmark (Geographica-style): the geostore's index-backed planner against native pyoxigraph, same run.

    .venv/bin/python bench/geostore_spatial.py [--sizes 10000,100000] [--join 1000] [--native-join 1000]

Synthetic polygons, lines and points in a 100 x 100 degree square (seeded). For each size: loading N-Triples
with index upkeep (triples/s), index memory per geometry, restore time of the index from the store, a selection
with a constant polygon (geof:sfIntersects) with the index and natively (pyoxigraph's own geof: functions on a
plain store, no custom functions). Then a polygon join of two sets (``--join`` each) with sfIntersects, sfWithin
and sfTouches, and a distance-free intersects join natively on ``--native-join`` x ``--native-join``.
Queries are run 3 times; the best is reported (first run included in "cold").
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyoxigraph import RdfFormat, Store

from components.geostore.store import GeoStore

GEO = "http://www.opengis.net/ont/geosparql#"
WKT = f"<{GEO}wktLiteral>"
PREFIXES = (f"PREFIX geo: <{GEO}> PREFIX geof: <http://www.opengis.net/def/function/geosparql/> "
            "PREFIX ex: <http://ex.org/> ")


def shape(rng: random.Random, kind: str, size: float) -> str:
    x, y = rng.uniform(0, 100), rng.uniform(0, 100)
    if kind == "point":
        return f"POINT({x:.5f} {y:.5f})"
    if kind == "line":
        return f"LINESTRING({x:.5f} {y:.5f}, {x + size:.5f} {y + size / 2:.5f}, {x + 2 * size:.5f} {y:.5f})"
    ring = [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]
    return "POLYGON((" + ", ".join(f"{a:.5f} {b:.5f}" for a, b in ring) + "))"


def ntriples(n: int, set_name: str, seed: int, kinds: tuple[str, ...] = ("polygon", "line", "point"),
             size: float = 0.3) -> str:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        feature, geometry = f"<http://ex.org/{set_name}{i}>", f"<http://ex.org/{set_name}{i}g>"
        lines.append(f"{feature} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://ex.org/{set_name}> .")
        lines.append(f"{feature} <{GEO}hasGeometry> {geometry} .")
        lines.append(f'{geometry} <{GEO}asWKT> "{shape(rng, kind, size)}"^^{WKT} .')
    return "\n".join(lines) + "\n"


def best(run: object, repeat: int = 3) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), times[0], result


def count(answer_body: bytes) -> int:
    import json

    return len(json.loads(answer_body)["results"]["bindings"])


def selection_query() -> str:
    square = '"POLYGON((10 10, 12 10, 12 12, 10 12, 10 10))"^^geo:wktLiteral'
    return PREFIXES + ("SELECT ?f WHERE { ?f geo:hasGeometry ?g . ?g geo:asWKT ?w "
                       f"FILTER(geof:sfIntersects(?w, {square})) }}")


def join_query(relation: str) -> str:
    return PREFIXES + ("SELECT ?a ?b WHERE { ?a a ex:A ; geo:hasGeometry ?ag . ?ag geo:asWKT ?x . "
                       "?b a ex:B ; geo:hasGeometry ?bg . ?bg geo:asWKT ?y . "
                       f"FILTER(geof:{relation}(?x, ?y)) }}")


def sizes_section(sizes: list[int], folder: Path) -> None:
    print("\n| geometries | triples | load + index (triples/s) | index restore | index memory/geometry | "
          "selection, index (best / cold) | rows | selection, native pyoxigraph | rows |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        data = ntriples(n, "S", seed=n)
        store = GeoStore(folder / f"geo{n}")
        started = time.perf_counter()
        triples = store.load(data, "ntriples")
        load_s = time.perf_counter() - started
        memory = store.index.memory_bytes() / max(1, len(store.index))
        store.close()
        del store
        store = GeoStore(folder / f"geo{n}")
        restore = store.restore_seconds
        q = selection_query()
        fast, cold, answer = best(lambda q=q, store=store: store.query(q))
        rows = count(answer.body)  # type: ignore[attr-defined]
        native = Store()
        native.bulk_load(data.encode(), format=RdfFormat.N_TRIPLES)
        from pyoxigraph import QueryResultsFormat

        slow, _, native_answer = best(
            lambda q=q, native=native: native.query(q).serialize(format=QueryResultsFormat.JSON), repeat=1)
        native_rows = count(native_answer)  # type: ignore[arg-type]
        print(f"| {n:,} | {triples:,} | {triples / load_s:,.0f} ({load_s:.2f} s) | {restore:.2f} s | "
              f"{memory:.0f} B | {fast * 1000:.1f} / {cold * 1000:.1f} ms | {rows} | {slow * 1000:.1f} ms | "
              f"{native_rows} |")


def join_section(join: int, native_join: int) -> None:
    print(f"\n| join ({join} x {join} polygons) | geostore (best / cold) | rows | native pyoxigraph "
          f"({native_join} x {native_join}) | rows |")
    print("|---|---|---|---|---|")
    data = ntriples(join, "A", 1, ("polygon",), size=2.0) + ntriples(join, "B", 2, ("polygon",), size=2.0)
    store = GeoStore()
    store.load(data, "ntriples")
    native = Store()
    native.bulk_load((ntriples(native_join, "A", 1, ("polygon",), size=2.0)
                      + ntriples(native_join, "B", 2, ("polygon",), size=2.0)).encode(), format=RdfFormat.N_TRIPLES)
    from pyoxigraph import QueryResultsFormat

    for relation in ("sfIntersects", "sfWithin", "sfTouches"):
        q = join_query(relation)
        fast, cold, answer = best(lambda q=q: store.query(q))
        native_time = native_rows = "-"
        if relation == "sfIntersects" and native_join:
            slow, _, body = best(lambda q=q: native.query(q).serialize(format=QueryResultsFormat.JSON), repeat=1)
            native_time, native_rows = f"{slow * 1000:,.0f} ms", str(count(body))  # type: ignore[arg-type]
        print(f"| {relation} | {fast * 1000:.1f} / {cold * 1000:.1f} ms | {count(answer.body)} | "  # type: ignore[attr-defined]
              f"{native_time} | {native_rows} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--join", type=int, default=1000)
    parser.add_argument("--native-join", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}")
    with tempfile.TemporaryDirectory() as folder:
        sizes_section([int(s) for s in args.sizes.split(",") if s], Path(folder))
    join_section(args.join, args.native_join)


if __name__ == "__main__":
    main()
