"""The data broker as served: gRPC source contract, search stream, web API, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from components.common.contract import contract_pb2, contract_pb2_grpc
from components.common.server import create_server
from components.common.web import create_web_app
from components.databroker.app import Settings, build
from onboarding.cli import main as cli_main
from tests.conftest import eventually
from tests.databroker_helpers import NGINX_404, as_json, odata_catalogue, repeating_next_link, serve

Q = {"start": "2024-01-01", "end": "2024-01-08", "aoi": "10,40,20,50"}


@pytest.fixture()
def odata() -> Iterator[Any]:
    with serve(lambda r: handler(r)) as server:
        handler = odata_catalogue(23, lambda: server.url, page_items=5)
        yield server


def running(settings: Settings) -> Any:
    component = build(settings)
    server, port = create_server(component.services, settings)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return component, server, channel, contract_pb2_grpc.DataBrokerStub(channel)


def stop(component: Any, server: Any, channel: Any) -> None:
    """What serving does on shutdown: close the channel, stop the server, run the component's stop hooks."""
    channel.close()
    server.stop(0)
    for hook in component.on_stop:
        hook()


def settings_for(url: str, **extra: Any) -> Settings:
    return Settings(**{"catalogue": "cdse", "url": url, "host": "127.0.0.1", "port": 0, "retries": 1,
                       "timeout_seconds": 2, **Q, **extra})


def test_next_product_serves_each_product_once_then_not_found(odata: Any) -> None:
    component, server, channel, stub = running(settings_for(odata.url))
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: _call(stub), range(30)))
        names = [r for r in results if r != "NOT_FOUND"]
        assert len(names) == 23 and len(set(names)) == 23
        assert results.count("NOT_FOUND") == 7
        with pytest.raises(grpc.RpcError) as err:
            stub.next_product(contract_pb2.Empty(), timeout=5)
        assert err.value.code() is grpc.StatusCode.NOT_FOUND
    finally:
        stop(component, server, channel)


def _call(stub: Any) -> str:
    try:
        product = stub.next_product(contract_pb2.Empty(), timeout=10)
    except grpc.RpcError as err:
        return err.code().name
    assert product.aoi_wkt.startswith("POLYGON") and product.query_start == "2024-01-01T00:00:00Z"
    assert product.query_end == "2024-01-08T00:00:00Z" and product.href.startswith("s3://eodata/")
    return str(product.name)


def test_next_product_in_order_and_product_fields(odata: Any) -> None:
    component, server, channel, stub = running(settings_for(odata.url, limit=3))
    try:
        products = [stub.next_product(contract_pb2.Empty(), timeout=5) for _ in range(3)]
        assert [p.start for p in products] == sorted(p.start for p in products)
        first = products[0]
        assert first.size_bytes == 455000000 and first.product_type == "L2__CO____"
        assert first.collection == "SENTINEL-5P" and first.catalogue == "cdse" and first.checksum.startswith("MD5:")
        assert first.start == "2024-01-01T00:00:00Z" and first.footprint_wkt.startswith("POLYGON")
        with pytest.raises(grpc.RpcError) as err:
            stub.next_product(contract_pb2.Empty(), timeout=5)
        assert err.value.code() is grpc.StatusCode.NOT_FOUND
    finally:
        stop(component, server, channel)


def test_search_streams_and_rejects_bad_queries(odata: Any) -> None:
    component, server, channel, stub = running(settings_for(odata.url))
    try:
        query = contract_pb2.SearchQuery(aoi_wkt="POLYGON((0 0, 5 0, 5 5, 0 5, 0 0))", start="2024-01-02",
                                       end="2024-01-03", limit=7)
        products = list(stub.search(query, timeout=10))
        assert len(products) == 7 and products[0].query_start == "2024-01-02T00:00:00Z"
        assert "POLYGON ((0 0, 5 0, 5 5, 0 5, 0 0))" in odata.requests[-1].params["$filter"]
        bad = [contract_pb2.SearchQuery(aoi_wkt="POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"),
               contract_pb2.SearchQuery(start="2024-02-01", end="2024-01-01"),
               contract_pb2.SearchQuery(catalogue="eofinder"),
               contract_pb2.SearchQuery(product_type="L2__XX____"),
               contract_pb2.SearchQuery(aoi_wkt="not wkt")]
        for request in bad:
            with pytest.raises(grpc.RpcError) as err:
                list(stub.search(request, timeout=5))
            assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    finally:
        stop(component, server, channel)


def test_catalogue_failure_is_unavailable_and_the_source_survives(tmp_path: Path) -> None:
    component, server, channel, stub = running(settings_for("http://127.0.0.1:9"))
    try:
        with pytest.raises(grpc.RpcError) as err:
            stub.next_product(contract_pb2.Empty(), timeout=10)
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as err:
            stub.next_product(contract_pb2.Empty(), timeout=10)
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        stop(component, server, channel)


def test_web_api_shows_and_changes_the_query(odata: Any) -> None:
    component = build(settings_for(odata.url, token="s3cr3t"))
    client = TestClient(create_web_app("databroker", component.web_app))
    assert "Data broker" in client.get("/").text
    query = client.get("/api/query").json()
    assert query["catalogue"] == "cdse" and query["start"] == "2024-01-01T00:00:00Z"
    assert "s3cr3t" not in json.dumps(query)
    answer = client.put("/api/query", json={"start": "2024-01-03", "limit": 2})
    assert answer.status_code == 200 and answer.json()["start"] == "2024-01-03T00:00:00Z"
    assert answer.json()["limit"] == 2 and answer.json()["end"] == "2024-01-08T00:00:00Z"
    for body in ({"aoi": "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"}, {"end": "2023-01-01"},
                 {"processing_mode": "FAST"}, {"limit": -1}, {"product_type": "L2__XX____"}):
        bad = client.put("/api/query", json=body)
        assert bad.status_code == 422, body
        assert bad.json()["error"] == "InvalidInput" and isinstance(bad.json()["detail"], str), bad.json()
    assert client.get("/api/query").json()["start"] == "2024-01-03T00:00:00Z"  # bad input lost nothing
    assert client.get("/api/products").json() == {"state": "ready", "delivered": 0, "error": "", "run": "",
                                                  "products": []}


def test_web_products_list_follows_the_source(odata: Any) -> None:
    component, server, channel, stub = running(settings_for(odata.url))
    client = TestClient(create_web_app("databroker", component.web_app))
    try:
        names = [stub.next_product(contract_pb2.Empty(), timeout=5).name for _ in range(4)]
        status = client.get("/api/products").json()
        assert status["delivered"] == 4 and [p["name"] for p in status["products"]] == names
        client.put("/api/query", json={"limit": 1})
        assert client.get("/api/products").json()["delivered"] == 0
        assert stub.next_product(contract_pb2.Empty(), timeout=5).name == names[0]  # restarted from the first
    finally:
        stop(component, server, channel)


def test_settings_mask_secrets_and_pick_the_product_dir(tmp_path: Path) -> None:
    settings = Settings(token="s3cr3t", password="pw", shared_folder_path=tmp_path)
    assert "s3cr3t" not in repr(settings) and "pw'" not in repr(settings)
    assert "s3cr3t" not in repr(settings.catalogue_config())
    assert settings.product_dir() == tmp_path / "s5p"
    assert Settings(dir=tmp_path).product_dir() == tmp_path


def test_build_rejects_bad_configuration() -> None:
    from components.common.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown catalogue"):
        build(Settings(catalogue="eofinder"))
    with pytest.raises(InvalidInput, match="end"):
        build(Settings(catalogue="cdse", start="2024-02-01", end="2024-01-01"))


def test_cli_json_and_table(odata: Any, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "--catalogue", "cdse", "--url", odata.url, "--aoi=10,40,20,50", "--start", "2024-01-01",
            "--end", "2024-01-08"]
    assert cli_main([*args, "--json", "--limit", "12"]) == 0
    products = json.loads(capsys.readouterr().out)
    assert len(products) == 12
    assert {"id", "name", "href", "start", "end", "footprint_wkt", "size_bytes", "product_type"} <= set(products[0])
    assert products[0]["start"].endswith("Z") and products[0]["href"].startswith("s3://")
    assert cli_main(args) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split()[:3] == ["start", "end", "size"] and out.splitlines()[-1] == "23 products"
    assert "cdse: page 1, 5 products" in err


def test_cli_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["search", "--aoi", "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "self-intersection" in err[0].lower()
    assert cli_main(["search", "--start", "2024-02-01", "--end", "2024-01-01"]) == 2
    assert "before start" in capsys.readouterr().err
    assert cli_main(["search", "--aoi", "5,45,15"]) == 2
    assert "has 3 numbers; a bbox is 'west,south,east,north' (4 numbers, comma-separated)" in capsys.readouterr().err
    assert cli_main(["search", "--dir", "/nonexistent/s5p"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "ai4cop sample s5p-co" in err  # no table header before the error


@pytest.mark.parametrize("fail_from", [0, 5])
def test_cli_json_stays_valid_json_when_the_catalogue_fails(fail_from: int,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Failing at once: nothing on stdout; failing on page 2: the array of page 1, closed; the error on stderr."""
    def handle(request: Any) -> Any:
        if int(request.params.get("$skip", 0)) >= fail_from:
            return as_json({"detail": "Invalid filter"}, status=400)
        return pages(request)

    with serve(lambda r: handle(r)) as loop:
        pages = odata_catalogue(23, lambda: loop.url, page_items=5)
        assert cli_main(["search", "--catalogue", "cdse", "--url", loop.url, "--start", "2024-01-01", "--end",
                         "2024-01-08", "--json"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("ai4cop search: error: catalogue ") and "Invalid filter" in err
    if fail_from:
        assert len(json.loads(out)) == fail_from
    else:
        assert out == ""


def test_cli_takes_a_bbox_starting_with_a_minus_sign(odata: Any, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "--catalogue", "cdse", "--url", odata.url, "--aoi", "-10,35,5,45", "--start", "2024-01-01",
            "--end", "2024-01-08", "--limit", "2"]
    assert cli_main(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 products"
    assert "POLYGON ((5 35, 5 45, -10 45, -10 35, 5 35))" in odata.requests[-1].params["$filter"]


def test_next_product_reaches_not_found_when_the_catalogue_repeats_its_next_link() -> None:
    with serve(lambda r: repeating_next_link(r, loop.url)) as loop:
        component, server, channel, stub = running(settings_for(loop.url))
        try:
            names = [stub.next_product(contract_pb2.Empty(), timeout=5).name for _ in range(6)]
            assert len(set(names)) == 6
            with pytest.raises(grpc.RpcError) as err:
                stub.next_product(contract_pb2.Empty(), timeout=5)
            assert err.value.code() is grpc.StatusCode.NOT_FOUND
        finally:
            stop(component, server, channel)


def test_web_api_answers_at_once_while_the_catalogue_is_slow() -> None:
    release = threading.Event()

    def handle(request: Any) -> Any:
        if "ContentDate/End gt 2024-01-01T" in request.params.get("$filter", ""):
            release.wait(10)  # the first query's catalogue hangs until released
        return catalogue_side(request)

    with serve(handle) as loop:
        catalogue_side = odata_catalogue(23, lambda: loop.url, page_items=5)
        component, server, channel, stub = running(settings_for(loop.url, timeout_seconds=20))
        client = TestClient(create_web_app("databroker", component.web_app))
        try:
            with ThreadPoolExecutor(1) as pool:
                stale = pool.submit(stub.next_product, contract_pb2.Empty(), timeout=20)
                eventually(lambda: len(loop.requests) == 1)
                started = time.monotonic()
                status = client.get("/api/products").json()
                changed = client.put("/api/query", json={"start": "2024-01-03"})
                assert time.monotonic() - started < 1.0
                assert status["state"] == "ready" and status["delivered"] == 0 and changed.status_code == 200
                # the new query is served at once: the call still fetching for the old one blocks nobody
                first = stub.next_product(contract_pb2.Empty(), timeout=5)
                assert first.query_start == "2024-01-03T00:00:00Z" and not stale.done()
                release.set()
                second = stale.result(timeout=20)
            # the stale call dropped what it fetched for the old query and served the new one, nothing repeated
            assert second.query_start == "2024-01-03T00:00:00Z" and second.name != first.name
            status = client.get("/api/products").json()
            assert status["delivered"] == 2 and [p["name"] for p in status["products"]] == [first.name, second.name]
        finally:
            release.set()
            stop(component, server, channel)


def test_cli_against_an_html_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(lambda r: (404, {"Content-Type": "text/html"}, NGINX_404)) as loop:
        assert cli_main(["search", "--catalogue", "cdse", "--url", loop.url + "/", "--aoi", "10,40,20,50"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"ai4cop search: error: catalogue {loop.url}/Products answered HTTP 404: "
                                 "404 Not Found 404 Not Found nginx/1.25.3\n")


def test_importing_the_broker_compiles_no_proto() -> None:
    code = ("import sys\n"
            "import components.databroker.app, components.databroker.servicer, components.databroker.cli\n"
            "from components.common import contract\n"
            "assert contract._compiled.cache_info().currsize == 0\n"
            "assert 'contract_pb2' not in sys.modules and 'contract_pb2_grpc' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
