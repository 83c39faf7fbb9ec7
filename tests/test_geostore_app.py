"""The component over real gRPC (a server on port 0), its HTTP endpoints (SPARQL Protocol, Graph Store, Strabon),
the ``ai4cop geostore`` CLI, and the GeoSPARQL Compliance Benchmark from the shared material."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pyoxigraph import QueryResultsFormat, parse_query_results

from components.common.contract import contract_pb2, contract_pb2_grpc
from components.common.server import create_server
from components.common.web import create_web_app
from components.geostore.app import Settings, build
from components.geostore.service import GeoStoreService
from components.geostore.web import create_router_app
from onboarding.cli import main as cli
from tests.geostore_gsb import GSB, score

pytestmark = pytest.mark.timeout(120)
NT = ('<http://ex.org/a> <http://www.opengis.net/ont/geosparql#hasGeometry> <http://ex.org/ag> .\n'
      '<http://ex.org/ag> <http://www.opengis.net/ont/geosparql#asWKT> '
      '"POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .\n')
SELECT = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#> "
          "PREFIX geof: <http://www.opengis.net/def/function/geosparql/> "
          "SELECT ?g ?w WHERE { ?g geo:asWKT ?w FILTER(geof:sfContains(?w, \"POINT(1 1)\"^^geo:wktLiteral)) }")
AUTH = {"Authorization": "Basic " + base64.b64encode(b"geostore:s3cret").decode()}


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(port=0, data_folder=tmp_path / "store", password=SecretStr("s3cret"))


@pytest.fixture()
def stub(settings: Settings) -> Iterator[object]:
    component = build(settings)
    server, port = create_server(component.services, settings)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield contract_pb2_grpc.GeoStoreStub(channel)
    finally:
        channel.close()
        server.stop(0)
        for hook in component.on_stop:
            hook()


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    service = GeoStoreService(settings)
    with TestClient(create_web_app("geostore", create_router_app(service))) as test_client:
        yield test_client
    service.close()


def test_grpc_load_then_stream_query(stub: object) -> None:
    loaded = stub.load(contract_pb2.RdfChunk(data=NT, rdf_format="ntriples"))  # type: ignore[attr-defined]
    assert (loaded.triples, loaded.geometries) == (2, 1)
    solutions = list(stub.query(contract_pb2.SparqlQuery(query=SELECT)))  # type: ignore[attr-defined]
    assert (solutions[0].bindings[0].variable, solutions[0].bindings[0].term) == ("g", "<http://ex.org/ag>")


def test_grpc_bad_input_is_invalid_argument(stub: object) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.load(contract_pb2.RdfChunk(data="<a> <b", rdf_format="ntriples"))  # type: ignore[attr-defined]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "line 1" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        list(stub.query(contract_pb2.SparqlQuery(query="SELECT WHERE")))  # type: ignore[attr-defined]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "bad SPARQL query" in err.value.details()


def test_sparql_protocol_query_forms_and_formats(client: TestClient) -> None:
    assert client.post("/sparql", content=f"INSERT DATA {{ {NT} }}",
                       headers={"Content-Type": "application/sparql-update", **AUTH}).status_code == 204
    got = client.get("/sparql", params={"query": SELECT})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/sparql-results+json")
    assert got.json()["results"]["bindings"][0]["g"]["value"] == "http://ex.org/ag"
    assert json.loads(got.headers["X-Geostore-Index"])[0]["kind"] == "selection"
    assert got.headers["X-Geostore-Unreadable-Geometries"] == "0"
    form = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "text/csv"})
    assert form.text.splitlines()[0] == "g,w"
    direct = client.post("/sparql", content=SELECT, headers={"Content-Type": "application/sparql-query",
                                                               "Accept": "application/sparql-results+xml"})
    assert direct.headers["content-type"].startswith("application/sparql-results+xml")
    geojson = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "application/geo+json"})
    assert geojson.json()["features"][0]["geometry"]["type"] == "Polygon"
    construct = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                           headers={"Accept": "text/turtle"})
    assert construct.headers["content-type"].startswith("text/turtle") and "ex.org/ag" in construct.text
    assert "sd:Service" in client.get("/sparql").text


def test_writes_need_credentials_and_bad_sparql_is_400(client: TestClient) -> None:
    refused = client.post("/sparql", data={"update": "CLEAR ALL"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    bad = client.get("/sparql", params={"query": "SELECT ?x WHERE {"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidInput" and "1:" in bad.json()["detail"]
    store = client.post("/Store", data={"data": "<a> <b", "format": "N-Triples"}, headers=AUTH)
    assert store.status_code == 400 and "line 1" in store.json()["detail"]


def test_strabon_endpoints_and_graph_store(client: TestClient) -> None:
    stored = client.post("/Store", data={"data": NT, "format": "N-Triples"}, headers=AUTH)
    assert stored.status_code == 200 and stored.json()["triples"] == 2
    strabon = ("PREFIX strdf: <http://strdf.di.uoa.gr/ontology#> PREFIX geo: <http://www.opengis.net/ont/geosparql#> "
               "SELECT ?g WHERE { ?g geo:asWKT ?w FILTER(strdf:contains(?w, \"POINT(1 1)\"^^strdf:WKT)) }")
    answer = client.post("/Query", data={"query": strabon, "format": "SPARQL/JSON"})
    assert answer.json()["results"]["bindings"] == [{"g": {"type": "uri", "value": "http://ex.org/ag"}}]
    assert client.post("/Update", data={"query": "CLEAR DEFAULT"}, headers=AUTH).status_code == 204
    put = client.put("/rdf-graphs", params={"graph": "http://ex.org/G"}, content=NT,
                     headers={"Content-Type": "application/n-triples", **AUTH})
    assert put.status_code == 204
    got = client.get("/rdf-graphs", params={"graph": "http://ex.org/G"}, headers={"Accept": "application/n-triples"})
    assert len(got.text.strip().splitlines()) == 2
    assert "GeoSPARQL store" in client.get("/").text


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    GeoStoreService(Settings(data_folder=tmp_path / "db")).close()
    service = GeoStoreService(Settings(data_folder=tmp_path / "db", read_only=True, password=SecretStr("s3cret")))
    with TestClient(create_web_app("geostore", create_router_app(service))) as client:
        assert client.post("/Store", data={"data": NT}, headers=AUTH).status_code == 403


def test_cli_load_and_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GEOSTORE_DATA_FOLDER", str(tmp_path / "db"))
    data = tmp_path / "a.nt"
    data.write_text(NT)
    assert cli(["geostore", "load", str(data), "--graph", "http://ex.org/G"]) == 0
    assert "2 triples loaded" in capsys.readouterr().out
    assert cli(["geostore", "query", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"]) == 0
    assert json.loads(capsys.readouterr().out)["results"]["bindings"][0]["n"]["value"] == "2"
    assert cli(["geostore", "query", "SELECT ?x WHERE {", "--format", "csv"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("ai4cop geostore: error: bad SPARQL query: error at 1:") and "\n" not in err


@pytest.mark.slow
@pytest.mark.skipif(not GSB.is_dir(), reason=f"shared test material not found at {GSB}")
def test_geosparql_compliance_benchmark() -> None:
    """The benchmark's own scoring; the figure reached is in docs/geostore.md (goal: 190/206 and 95 %)."""
    from components.geostore.store import GeoStore

    store = GeoStore()
    store.load((GSB / "gsb_dataset" / "dataset.rdf").read_bytes(), "rdfxml")

    def run(query: str) -> object:
        # the planner and functions as served; the JSON answer re-read for the comparison
        answer = store.query(query, "json")
        if answer.kind == "boolean":
            return json.loads(answer.body)["boolean"]
        return parse_query_results(answer.body, format=QueryResultsFormat.JSON)

    result = score(run)
    print(f"GSB: {result.correct}/206, {result.weighted:.2f} % weighted")
    assert result.correct >= 148 and result.weighted >= 75


def test_geotriples_product_to_rdf_chains_into_load(stub: object, tmp_path: Path) -> None:
    """What a blueprint link GeoTriples.product_to_rdf -> GeoStore.load carries, through both real servicers."""
    from components.geotriples_adapter.app import Settings as GeoTriplesSettings
    from components.geotriples_adapter.app import build as build_geotriples

    settings = GeoTriplesSettings(port=0, shared_folder=tmp_path, base_iri="http://ex.org")
    component = build_geotriples(settings)
    server, port = create_server(component.services, settings)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        product = contract_pb2.Product(id="S5P_1", name="S5P_OFFL_L2__CO_____1", href="s3://eodata/x.nc",
                                     footprint_wkt="POLYGON ((0 0, 1 0, 1 1, 0 0))")
        chunk = contract_pb2_grpc.GeoTriplesStub(channel).product_to_rdf(product)
    finally:
        channel.close()
        server.stop(0)
    loaded = stub.load(chunk)  # type: ignore[attr-defined]
    assert loaded.triples == chunk.triples and loaded.geometries == 1 and loaded.unreadable_geometries == 0
    # the adapter writes footprints under GeoTriples' EPSG:4326 IRI: the point is given in the same CRS and order
    point = '"<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(0.7 0.2)"^^geo:wktLiteral'
    query = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#> "
             "PREFIX geof: <http://www.opengis.net/def/function/geosparql/> SELECT ?g WHERE { ?g geo:asWKT ?w "
             f"FILTER(geof:sfContains(?w, {point})) }}")
    assert len(list(stub.query(contract_pb2.SparqlQuery(query=query)))) == 1  # type: ignore[attr-defined]


def test_blueprint_broker_geotriples_geostore_checks(tmp_path: Path) -> None:
    def operation(name: str, given: str, returned: str, to: tuple[str, str] | None = None) -> dict[str, object]:
        links = [{"container_name": to[0], "operation_signature": {"operation_name": to[1]}}] if to else []
        return {"operation_signature": {"operation_name": name, "input_message_name": given,
                                        "input_message_stream": False, "output_message_name": returned,
                                        "output_message_stream": False}, "connected_to": links}

    def node(name: str, image: str, operations: list[dict[str, object]]) -> dict[str, object]:
        return {"container_name": name, "node_type": "MLModel", "image": f"ghcr.io/ai4cop/{image}:0.1.0",
                "proto_uri": f"{name}.proto", "operation_signature_list": operations}

    blueprint = {"name": "broker-to-geostore", "version": "1", "nodes": [
        node("databroker1", "ai4cop-databroker",
             [operation("next_product", "Empty", "Product", ("geotriples1", "product_to_rdf"))]),
        node("geotriples1", "ai4cop-geotriples",
             [operation("product_to_rdf", "Product", "RdfChunk", ("geostore1", "load"))]),
        node("geostore1", "ai4cop-geostore", [operation("load", "RdfChunk", "LoadResult")]),
    ]}
    path = tmp_path / "blueprint.json"
    path.write_text(json.dumps(blueprint))
    assert cli(["blueprint", "check", str(path)]) == 0
