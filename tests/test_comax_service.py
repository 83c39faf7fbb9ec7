"""The served component: gRPC analyze through a real server (aggregating, errors in the reply, bad AOI is
INVALID_ARGUMENT) and the REST API / page through a real HTTP server; results survive a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from components.comax.app import Settings, build
from components.common import contract
from components.common.aoi import isoformat
from components.common.server import create_server
from components.common.web import WebServer, create_web_app

pytest_plugins = ["comax_helpers"]


class Served:
    def __init__(self, settings: Settings):
        component = build(settings)
        self.component = component
        self.server, port = create_server(component.services, settings)
        self.server.start()
        self.web = WebServer(create_web_app("comax", component.web_app), "127.0.0.1", 0)
        self.web.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = contract.services().COMaxStub(self.channel)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.web.port}", timeout=10)

    def stop(self) -> None:
        self.http.close()
        self.channel.close()
        self.server.stop(0)
        self.web.stop()
        for hook in self.component.on_stop:
            hook()


def _settings(products: Any, results: Path, s3_url: str = "") -> Settings:
    return Settings(host="127.0.0.1", port=0, results_folder=results, data_folder=products.folder,
                    s3_endpoint=s3_url or None, s3_access_key="test", s3_secret_key="test", s3_region="us-east-1")


@pytest.fixture
def served(products: Any, s3_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.delenv("SHARED_FOLDER_PATH", raising=False)
    app = Served(_settings(products, tmp_path / "results", s3_server))
    yield app
    app.stop()


def _product(products: Any, href: str, **extra: Any) -> Any:
    start, end = products.window
    fields = {"href": href, "aoi_wkt": products.aoi, "query_start": isoformat(start), "query_end": isoformat(end)}
    return contract.messages().Product(**{**fields, **extra})


def test_grpc_aggregates_and_reports_unreadable_products(served: Served, products: Any) -> None:
    first = served.stub.analyze(_product(products, f"file://{products.second}", name="day2"), timeout=30)
    assert first.products_analyzed == 1 and first.products[0].product == "day2"
    assert first.valid_pixels == 0  # day 2 lies after the window
    second = served.stub.analyze(_product(products, f"s3://{products.bucket}/Sentinel-5P/{products.main.name}"),
                                 timeout=30)
    assert second.max_mol_m2 == pytest.approx(products.known_max)
    assert second.max_molecules_cm2 == pytest.approx(products.known_max * 6.02214e19, rel=1e-6)
    assert second.time == isoformat(products.known.time) and second.product == products.main.name
    assert second.products_analyzed == 2 and len(second.products) == 1 and second.bytes_read > 0
    bad = served.stub.analyze(_product(products, f"s3://{products.bucket}/Sentinel-5P/junk.nc"), timeout=30)
    assert bad.error.startswith("UnreadableData") and bad.products[0].error == bad.error
    assert bad.max_mol_m2 == pytest.approx(products.known_max) and bad.products_analyzed == 3
    outside = served.stub.analyze(_product(products, "/etc/hostname"), timeout=30)
    assert outside.error.startswith(("PermissionDenied", "NotFound"))


def test_grpc_bad_aoi_is_invalid_argument(served: Served, products: Any) -> None:
    with pytest.raises(grpc.RpcError) as err:
        served.stub.analyze(_product(products, str(products.main), aoi_wkt="POLYGON ((0 0, 1 1))"), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "AOI" in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as err:
        served.stub.analyze(_product(products, str(products.main), aoi_wkt=""), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "COMAX_AOI" in (err.value.details() or "")


def test_rest_api_page_and_reset(served: Served, products: Any) -> None:
    assert served.http.get("/api/result").json()["products_analyzed"] == 0
    assert "No results yet" in served.http.get("/").text
    served.stub.analyze(_product(products, str(products.main)), timeout=30)
    result = served.http.get("/api/result").json()
    assert result["max_mol_m2"] == pytest.approx(products.known_max) and result["aoi_wkt"]
    listed = served.http.get("/api/products").json()
    assert [p["product"] for p in listed] == [products.main.name]
    page = served.http.get("/")
    assert page.status_code == 200 and page.text.count("<svg") == 2 and products.main.name in page.text
    assert "/api/result" in served.http.get("/openapi.json").json()["paths"]
    assert served.http.delete("/api/result").json() == {"reset": True}
    assert served.http.get("/api/products").json() == []


def test_results_survive_a_restart_and_a_new_question_starts_over(products: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARED_FOLDER_PATH", raising=False)
    app = Served(_settings(products, tmp_path))
    try:
        app.stub.analyze(_product(products, str(products.main)), timeout=30)
        app.stub.analyze(_product(products, str(products.main)), timeout=30)  # same product: replaced
    finally:
        app.stop()
    assert (tmp_path / "comax-results.json").exists()
    again = Served(_settings(products, tmp_path))
    try:
        kept = again.http.get("/api/result").json()
        assert kept["products_analyzed"] == 1 and kept["max_mol_m2"] == pytest.approx(products.known_max)
        reply = again.stub.analyze(_product(products, str(products.main), aoi_wkt="0,0,1,1"), timeout=30)
        assert reply.products_analyzed == 1 and reply.valid_pixels == 0
    finally:
        again.stop()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHARED_FOLDER_PATH", str(tmp_path))
    monkeypatch.setenv("COMAX_S3_SECRET_KEY", "very-secret")
    monkeypatch.setenv("COMAX_QA_MIN", "0.7")
    settings = Settings()
    assert settings.results_folder == tmp_path and settings.data_folder == tmp_path and settings.qa_min == 0.7
    assert "very-secret" not in repr(settings)
    monkeypatch.setenv("COMAX_RESULTS_FOLDER", str(tmp_path / "r"))
    assert Settings().results_folder == tmp_path / "r"
