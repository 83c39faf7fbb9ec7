"""Interlinking against a brute-force oracle on generated edge-case datasets, every reader, the CLI and gRPC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
import shapely

from components.common.contract import contract_pb2, contract_pb2_grpc
from components.common.errors import InvalidInput, NotFound, UnreadableData
from components.common.server import create_server
from components.interlinking.app import Settings, build
from components.interlinking.relations import RELATIONS, parse_relations, relations_of
from components.interlinking.service import job
from onboarding.cli import main as cli
from tests.interlinking_helpers import (
    SOURCE_CASES,
    TARGET_CASES,
    cleaned,
    generated,
    links_of,
    oracle,
    write_csv,
    write_geojson,
    write_ntriples,
    write_ogr,
)

pytestmark = pytest.mark.timeout(120)

BASE = "http://ex.org"
SOURCE = generated(SOURCE_CASES, 150, seed=1)
TARGET = generated(TARGET_CASES, 120, seed=2)
PREDICATES = {"contains": shapely.contains, "coveredBy": shapely.covered_by, "covers": shapely.covers,
              "crosses": shapely.crosses, "equals": shapely.equals, "intersects": shapely.intersects,
              "overlaps": shapely.overlaps, "touches": shapely.touches, "within": shapely.within}


@pytest.fixture(scope="module")
def truth() -> set[tuple[int, int, str]]:
    return oracle(SOURCE, TARGET)


def _run(source: Path, target: Path, **kwargs: object) -> tuple[set[tuple[int, int, str]], dict]:
    work = job(source, target, base_iri=BASE, chunk=37, **kwargs)  # type: ignore[arg-type]
    text = "".join(t for t, _ in work.texts())
    return links_of(text, BASE), work.summary.to_dict()


def test_the_matrix_decides_each_relation_as_shapely_predicates_do() -> None:
    a = [g for g in cleaned(SOURCE) if g is not None]
    b = [g for g in cleaned(TARGET) if g is not None]
    for ga in a:
        for gb in b:
            names = relations_of(shapely.relate(ga, gb), shapely.get_dimensions(ga), shapely.get_dimensions(gb))
            for name, predicate in PREDICATES.items():
                assert (name in names) == bool(predicate(ga, gb)), (name, ga.wkt, gb.wkt)


def test_every_relation_has_precision_and_recall_one_against_the_oracle(tmp_path: Path,
                                                                       truth: set[tuple[int, int, str]]) -> None:
    found, summary = _run(write_geojson(tmp_path / "s.geojson", SOURCE), write_csv(tmp_path / "t.csv", TARGET),
                          qualifying=len({(s, t) for s, t, _ in truth}))
    for name in RELATIONS:
        assert {x for x in found if x[2] == name} == {x for x in truth if x[2] == name}, name
    assert summary["recall"] == 1.0
    assert summary["links"] == {name: sum(1 for x in truth if x[2] == name) for name in RELATIONS}
    assert summary["verified"] == summary["candidates"] >= summary["interlinked"]
    # the edge cases are all there: shared edges, a corner, identical and multi geometries, the antimeridian
    names = {name for _, _, name in truth}
    assert names == set(RELATIONS)
    assert (1, 1, "equals") in truth and (2, 1, "touches") in truth and (15, 13, "contains") in truth
    assert (15, 14, "contains") in truth


def test_edge_cases_are_reported_by_iri_not_fatal(tmp_path: Path) -> None:
    _, summary = _run(write_geojson(tmp_path / "s.geojson", SOURCE), write_csv(tmp_path / "t.csv", TARGET))
    assert f"{BASE}/s/id/13" in summary["repaired"]
    assert f"{BASE}/s/id/14" in summary["dropped"] and f"{BASE}/t/id/12" in summary["dropped"]
    assert summary["z_dropped"] == 2


def test_a_subset_of_relations_and_the_larger_side_indexed_give_the_same_links(tmp_path: Path,
                                                                            truth: set[tuple[int, int, str]]) -> None:
    # the target is indexed when it is the smaller side, the source otherwise: swap sizes by trimming
    small_source = SOURCE[:40]
    found, summary = _run(write_csv(tmp_path / "s.csv", small_source), write_geojson(tmp_path / "t.geojson", TARGET),
                          relations=["within", "TOUCHES"])
    assert summary["indexed"] == "source"
    assert found == {x for x in truth if x[0] <= 40 and x[2] in ("within", "touches")}


@pytest.mark.parametrize("metres", [0.0, 50_000.0, 200_000.0])
def test_distance_links_match_the_geodesic_oracle(tmp_path: Path, metres: float) -> None:
    source, target = SOURCE[:60], TARGET[:60]
    found, _ = _run(write_csv(tmp_path / "s.csv", source), write_csv(tmp_path / "t.csv", target), distance=metres)
    assert found == oracle(source, target, relations=(), distance=metres)


def test_every_reader_gives_the_same_links(tmp_path: Path) -> None:
    source = [w for w in SOURCE[:80] if "EMPTY" not in w and "COLLECTION" not in w]
    target = [w for w in TARGET[:80] if "EMPTY" not in w]
    expected = oracle(source, target)
    readers = [write_geojson(tmp_path / "a.geojson", target), write_csv(tmp_path / "a.tsv", target, "geometry", "\t"),
               write_ogr(tmp_path / "a.gpkg", target)]
    for path in readers:
        found, _ = _run(write_csv(tmp_path / "s.csv", source), path)
        assert found == expected, path.name
    polygons = [w for w in target if w.startswith("POLYGON")]
    found, _ = _run(write_csv(tmp_path / "s.csv", source), write_ogr(tmp_path / "p.shp", polygons,
                                                                       driver="ESRI Shapefile"))
    assert found == oracle(source, polygons)


def test_rdf_blank_node_features_are_written_as_blank_nodes(tmp_path: Path) -> None:
    geo = "http://www.opengis.net/ont/geosparql#"
    source = tmp_path / "s.nt"
    source.write_text(f'_:f <{geo}hasGeometry> _:g .\n_:g <{geo}asWKT> "POINT (0.5 0.5)"^^<{geo}wktLiteral> .\n',
                      encoding="utf-8")
    text = "".join(t for t, _ in job(source, write_csv(tmp_path / "t.csv", [SQUARE_WKT]), relations=["within"],
                                     base_iri=BASE).texts())
    subject, link, obj, dot = text.split()
    assert subject.startswith("_:") and link.endswith("#sfWithin>") and obj == f"<{BASE}/t/id/1>" and dot == "."


def test_rdf_inputs_keep_their_feature_iris(tmp_path: Path) -> None:
    source = write_ntriples(tmp_path / "s.nt", ["POINT (0.5 0.5)", "POINT (5 5)"], "http://a.org/f/")
    target = write_ntriples(tmp_path / "t.nt", [SQUARE_WKT], "http://b.org/f/")
    work = job(source, target, relations=["within"])
    assert "".join(t for t, _ in work.texts()) == (
        "<http://a.org/f/1> <http://www.opengis.net/ont/geosparql#sfWithin> <http://b.org/f/1> .\n")


SQUARE_WKT = "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"


def test_a_projected_dataset_is_reprojected_from_its_prj(tmp_path: Path) -> None:
    from pyproj import Transformer

    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    points = [(0.25, 0.25), (0.75, 0.5), (3.0, 3.0)]
    projected = [shapely.Point(*to_mercator.transform(x, y)).wkt for x, y in points]
    shp = write_ogr(tmp_path / "points.shp", projected, crs="EPSG:3857", driver="ESRI Shapefile")
    found, _ = _run(shp, write_csv(tmp_path / "t.csv", [SQUARE_WKT]), relations=["within"])
    assert found == {(1, 1, "within"), (2, 1, "within")}


def test_csv_output_has_a_header_and_one_row_per_link(tmp_path: Path) -> None:
    work = job(write_csv(tmp_path / "s.csv", ["POINT (0.5 0.5)"]), write_csv(tmp_path / "t.csv", [SQUARE_WKT]),
               relations=["within", "intersects"], fmt="csv", base_iri=BASE)
    assert "".join(t for t, _ in work.texts()) == (
        "source,target,relation\n"
        f"{BASE}/s/id/1,{BASE}/t/id/1,intersects\n{BASE}/s/id/1,{BASE}/t/id/1,within\n")


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [SQUARE_WKT])
    with pytest.raises(InvalidInput, match="unknown relation 'near'"):
        parse_relations(["within", "near"])
    with pytest.raises(InvalidInput, match="no geometry column wkt or geometry"):
        nowkt = tmp_path / "x.csv"
        nowkt.write_text("id,name\n1,a\n", encoding="utf-8")
        list(job(nowkt, good).texts())
    with pytest.raises(InvalidInput, match="base IRI 'not an iri' is not an absolute IRI"):
        job(good, good, base_iri="not an iri")
    with pytest.raises(InvalidInput, match="unknown crs 'EPSG:99999999'"):
        job(good, good, crs="EPSG:99999999")
    with pytest.raises(NotFound, match=r"missing\.geojson not found"):
        job(tmp_path / "missing.geojson", good)
    (tmp_path / "bad.geojson").write_text("garbage", encoding="utf-8")
    with pytest.raises(UnreadableData, match=r"unreadable dataset bad\.geojson: 'bad\.geojson' not recognized"):
        list(job(tmp_path / "bad.geojson", good).texts())
    (tmp_path / "bad.csv").write_bytes(b"wkt\n\xff\n")
    with pytest.raises(UnreadableData, match=r"unreadable dataset bad\.csv: 'utf-8' codec"):
        list(job(tmp_path / "bad.csv", good).texts())
    with pytest.raises(InvalidInput, match=r"unknown format \.docx"):
        (tmp_path / "a.docx").write_text("x", encoding="utf-8")
        job(tmp_path / "a.docx", good)


def test_cli_writes_ntriples_to_stdout_and_errors_as_one_line(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "s.csv", ["POINT (0.5 0.5)"])
    target = write_geojson(tmp_path / "t.geojson", [SQUARE_WKT])
    assert cli(["interlink", str(source), str(target), "--relations", "within", "-b", BASE]) == 0
    out, err = capsys.readouterr()
    assert out == f"<{BASE}/s/id/1> <http://www.opengis.net/ont/geosparql#sfWithin> <{BASE}/t/id/1> .\n"
    assert "1 candidates, 1 verified, 1 interlinked" in err
    assert cli(["interlink", str(source), str(target), "--relations", "near"]) == 2
    _, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        "ai4cop interlink: error: unknown relation 'near' (known: " + ", ".join(RELATIONS) + ")"]
    out_file = tmp_path / "links.csv"
    assert cli(["interlink", str(source), str(target), "-f", "csv", "-o", str(out_file), "-q"]) == 0
    assert out_file.read_text(encoding="utf-8").startswith("source,target,relation\n")


@pytest.fixture()
def stub(tmp_path: Path) -> Iterator[object]:
    settings = Settings(port=0, shared_folder=tmp_path, base_iri=BASE, chunk_features=5)
    server, port = create_server(build(settings).services, settings)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield contract_pb2_grpc.InterlinkingStub(channel)
    finally:
        channel.close()
        server.stop(0)


def test_grpc_streams_the_links_and_summarizes(tmp_path: Path, stub: object,
                                               truth: set[tuple[int, int, str]]) -> None:
    write_geojson(tmp_path / "s.geojson", SOURCE)
    write_csv(tmp_path / "t.csv", TARGET)
    request = contract_pb2.InterlinkRequest(source="s.geojson", target=str(tmp_path / "t.csv"))
    chunks = list(stub.interlink(request))  # type: ignore[attr-defined]
    assert links_of("".join(c.data for c in chunks), BASE) == truth
    assert sum(c.triples for c in chunks) == len(truth)
    summary = stub.summarize(contract_pb2.InterlinkRequest(  # type: ignore[attr-defined]
        source="s.geojson", target="t.csv", relations=["equals"], qualifying=2))
    assert summary.links == {"equals": sum(1 for x in truth if x[2] == "equals")}
    assert summary.recall == pytest.approx(summary.interlinked / 2)
    assert f"{BASE}/s/id/14" in summary.dropped


@pytest.mark.parametrize(("fields", "message"), [
    ({"relations": ["near"]}, "unknown relation 'near'"),
    ({"crs": "nonsense"}, "unknown crs 'nonsense'"),
    ({"format": "xml"}, "unknown output format 'xml'"),
    ({"distance_m": -1.0}, "distance_m must be >= 0"),
])
def test_grpc_bad_requests_are_invalid_argument_naming_the_field(tmp_path: Path, stub: object,
                                                                  fields: dict, message: str) -> None:
    write_csv(tmp_path / "t.csv", [SQUARE_WKT])
    request = contract_pb2.InterlinkRequest(source="t.csv", target="t.csv", **fields)
    with pytest.raises(grpc.RpcError) as err:
        list(stub.interlink(request))  # type: ignore[attr-defined]
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert message in (err.value.details() or "")


def test_grpc_refuses_paths_outside_the_shared_folder(tmp_path: Path, stub: object) -> None:
    request = contract_pb2.InterlinkRequest(source="../x.csv", target="t.csv")
    with pytest.raises(grpc.RpcError) as err:
        list(stub.interlink(request))  # type: ignore[attr-defined]
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_the_streamed_side_is_read_one_chunk_at_a_time(tmp_path: Path) -> None:
    big = write_csv(tmp_path / "big.csv", generated([], 2000, seed=3))
    small = write_csv(tmp_path / "small.csv", TARGET[:50])
    work = job(big, small, relations=["intersects"], chunk=100)
    sizes = []
    work.source.clean = _recording(work.source.clean, sizes)  # type: ignore[method-assign]
    list(work.texts())
    assert sizes and max(sizes) == 100 and sum(sizes) == 2000


def _recording(clean: object, sizes: list[int]) -> object:
    def wrapper(iris: list[str], geoms: np.ndarray, crs: str | None) -> object:
        sizes.append(len(iris))
        return clean(iris, geoms, crs)  # type: ignore[operator]

    return wrapper
