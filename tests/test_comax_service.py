"""The served component: gRPC analyze through a real server (aggregating, errors in the reply, bad AOI is
INVALID_ARGUMENT), the REST API / page through a real HTTP server, and settings checked when built."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from pydantic import ValidationError

from components.comax.app import Settings
from components.common.aoi import isoformat
from onboarding.cli import main

pytest_plugins = ["comax_helpers"]


@pytest.fixture
def served(serve_comax: Callable[..., Any], s3_server: str, tmp_path: Path) -> Any:
    return serve_comax(tmp_path / "results", s3_server)


def test_grpc_aggregates_and_reports_unreadable_products(served: Any, products: Any) -> None:
    window = products.window
    first = served.analyze(f"file://{products.second}", window=window, name="day2")
    assert first.products_analyzed == 1 and first.products[0].product == "day2"
    assert first.valid_pixels == 0  # day 2 lies after the window
    second = served.analyze(f"s3://{products.bucket}/Sentinel-5P/{products.main.name}", window=window)
    assert second.max_mol_m2 == pytest.approx(products.known_max)
    assert second.max_molecules_cm2 == pytest.approx(products.known_max * 6.02214e19, rel=1e-6)
    assert second.time == isoformat(products.known.time) and second.product == products.main.name
    assert second.products_analyzed == 2 and len(second.products) == 1 and second.bytes_read > 0
    bad = served.analyze(f"s3://{products.bucket}/Sentinel-5P/junk.nc", window=window)
    assert bad.error.startswith("UnreadableData") and bad.products[0].error == bad.error
    assert bad.max_mol_m2 == pytest.approx(products.known_max) and bad.products_analyzed == 3
    outside = served.analyze("/etc/hostname", window=window)
    assert outside.error.startswith(("PermissionDenied", "NotFound"))
    folder = served.analyze(".", window=window)
    assert folder.error.startswith("InvalidInput") and "is a folder" in folder.error


def test_grpc_bad_aoi_is_invalid_argument(served: Any, products: Any) -> None:
    with pytest.raises(grpc.RpcError) as err:
        served.analyze(str(products.main), aoi="POLYGON ((0 0, 1 1))")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "AOI" in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as err:
        served.analyze(str(products.main), aoi="")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "COMAX_AOI" in (err.value.details() or "")


def test_rest_api_page_and_reset(served: Any, products: Any) -> None:
    assert served.http.get("/api/result").json()["products_analyzed"] == 0
    assert "No results yet" in served.http.get("/").text
    served.analyze(str(products.main), window=products.window)
    result = served.http.get("/api/result").json()
    assert result["max_mol_m2"] == pytest.approx(products.known_max) and result["aoi_wkt"]
    listed = served.http.get("/api/products").json()
    assert [p["product"] for p in listed] == [products.main.name]
    page = served.http.get("/")
    assert page.status_code == 200 and page.text.count("<svg") == 2 and products.main.name in page.text
    paths = served.http.get("/openapi.json").json()["paths"]
    assert {"/api/result", "/api/products", "/api/questions"} <= set(paths)
    assert served.http.delete("/api/result").json() == {"reset": True}
    assert served.http.get("/api/products").json() == []
    assert served.http.get("/api/result").json()["products_analyzed"] == 0


def test_no_valid_pixel_is_null_in_json_and_zero_in_the_reply(served: Any, products: Any) -> None:
    reply = served.analyze(str(products.main), aoi="0,0,1,1")
    assert reply.valid_pixels == 0 and reply.max_mol_m2 == 0.0 and not reply.error
    result = served.http.get("/api/result").json()
    assert result["valid_pixels"] == 0 and result["products_analyzed"] == 1
    assert [result[k] for k in ("max_mol_m2", "max_molecules_cm2", "latitude", "longitude", "time", "product")] \
        == [None] * 6
    (product,) = served.http.get("/api/products").json()
    assert product["max_mol_m2"] is None and product["latitude"] is None and product["time"] is None


def test_unknown_question_is_404_with_the_error_body(served: Any) -> None:
    for method, path in (("GET", "/api/result"), ("GET", "/api/products"), ("DELETE", "/api/result")):
        response = served.http.request(method, path, params={"question": "0123456789abcdef"})
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "NotFound" and "0123456789abcdef" in response.json()["detail"]


def test_the_same_area_written_differently_is_one_question(served: Any, products: Any) -> None:
    window = products.window
    served.analyze(str(products.main), aoi="8,42,14,47", window=window)
    ring = served.analyze(str(products.second), aoi="POLYGON ((14 47, 8 47, 8 42, 14 42, 14 47))", window=window)
    assert ring.products_analyzed == 2 and ring.max_mol_m2 == pytest.approx(products.known_max)
    geojson = ('{"type": "Polygon", "coordinates": [[[8, 42], [8, 47], [14, 47], [14, 42], [8, 42]]]}')
    assert served.analyze(str(products.antimeridian), aoi=geojson, window=window).products_analyzed == 3
    (question,) = served.http.get("/api/questions").json()
    assert question["products_analyzed"] == 3 and question["current"] is True
    assert question["start"] == isoformat(window[0]) and question["qa_min"] == 0.5


def test_earlier_questions_are_kept_and_results_survive_a_restart(serve_comax: Callable[..., Any], products: Any,
                                                                   tmp_path: Path) -> None:
    app = serve_comax(tmp_path)
    app.analyze(str(products.main), window=products.window)
    app.analyze(str(products.main), window=products.window)  # the same product again: replaced
    app.stop()
    again = serve_comax(tmp_path)
    kept = again.http.get("/api/result").json()
    assert kept["products_analyzed"] == 1 and kept["max_mol_m2"] == pytest.approx(products.known_max)
    reply = again.analyze(str(products.main), aoi="0,0,1,1")
    assert reply.products_analyzed == 1 and reply.valid_pixels == 0
    questions = again.http.get("/api/questions").json()
    assert [(q["products_analyzed"], q["current"]) for q in questions] == [(1, True), (1, False)]
    earlier = questions[1]["id"]
    old = again.http.get("/api/result", params={"question": earlier}).json()
    assert old["max_mol_m2"] == pytest.approx(products.known_max) and old["aoi_wkt"] == kept["aoi_wkt"]
    assert again.http.get("/api/result").json()["valid_pixels"] == 0  # the current question
    assert again.http.delete("/api/result", params={"question": earlier}).json() == {"reset": True}
    assert [q["current"] for q in again.http.get("/api/questions").json()] == [True]
    assert again.http.delete("/api/questions").json() == {"reset": True, "questions": 1}
    assert again.http.get("/api/questions").json() == []


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHARED_FOLDER_PATH", str(tmp_path))
    monkeypatch.setenv("COMAX_S3_SECRET_KEY", "very-secret")
    monkeypatch.setenv("COMAX_QA_MIN", "0.7")
    monkeypatch.setenv("COMAX_AOI", "8,42,14,47")
    monkeypatch.setenv("COMAX_START", "2024-03-01")
    settings = Settings()
    assert settings.results_folder == tmp_path and settings.data_folder == tmp_path and settings.qa_min == 0.7
    assert settings.aoi == "8,42,14,47" and settings.start == "2024-03-01"
    assert "very-secret" not in repr(settings)
    monkeypatch.setenv("COMAX_RESULTS_FOLDER", str(tmp_path / "r"))
    assert Settings().results_folder == tmp_path / "r"


@pytest.mark.parametrize(("env", "expected"), [
    ({"COMAX_AOI": "POLYGON((0 0"}, "invalid setting aoi (COMAX_AOI): AOI is not valid WKT"),
    ({"COMAX_AOI": "8,42,14"}, "invalid setting aoi (COMAX_AOI): AOI '8,42,14' has 3 numbers; a bbox is "
                               "'west,south,east,north'"),
    ({"COMAX_START": "2024-13-01"}, "invalid setting start (COMAX_START): start is not an ISO"),
    ({"COMAX_END": "yesterday"}, "invalid setting end (COMAX_END): end is not an ISO 8601"),
    ({"COMAX_START": "2024-03-02", "COMAX_END": "2024-03-01"}, "invalid setting end (COMAX_END): "
                                                               "end 2024-03-01T00:00:00Z is before start"),
    ({"COMAX_QA_MIN": "1.5"}, "invalid setting qa_min (COMAX_QA_MIN): Input should be less than or equal to 1"),
])
@pytest.mark.timeout(20)
def test_bad_settings_stop_the_server_at_start_with_one_line(env: dict[str, str], expected: str,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
    assert main(["serve", "comax", "--port", "0", "--web-port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ai4cop serve: error: {expected}") and err.count("\n") == 1
