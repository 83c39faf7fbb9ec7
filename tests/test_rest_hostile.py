"""Hostile input on the REST APIs: every answer is a 4xx with the one JSON error body, no server path in it, and
the published OpenAPI declares each error status with that body (issue 12, items 7 and 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from components.comax.app import Settings as ComaxSettings
from components.comax.app import build as build_comax
from components.common.web import create_web_app
from components.databroker.app import Settings as BrokerSettings
from components.databroker.app import build as build_broker


@pytest.fixture()
def broker(tmp_path: Path) -> TestClient:
    component = build_broker(BrokerSettings(catalogue="local", dir=tmp_path, cache_dir=tmp_path / "cache"))
    return TestClient(create_web_app("databroker", component.web_app), raise_server_exceptions=False)


@pytest.fixture()
def comax(tmp_path: Path) -> TestClient:
    component = build_comax(ComaxSettings(results_folder=tmp_path, data_folder=tmp_path))
    return TestClient(create_web_app("comax", component.web_app), raise_server_exceptions=False)


def one_error(response: Any, status: int, error: str, root: Path) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and isinstance(body["detail"], str), body
    assert str(root) not in response.text and "Traceback" not in response.text
    return str(body["detail"])


@pytest.mark.parametrize("body, says", [
    (b"not json", "JSON decode error"),
    (b"\xff\xfe{}", "body"),
    (b'{"limit": 1e999}', "finite number"),
    (b'{"limit": "many"}', "limit"),
    (b'[1, 2]', "dictionary"),
    (json.dumps({"start": "9999-12-31T23:59:59-23:59"}).encode(), "start is outside the years 1 to 9999"),
    (json.dumps({"end": "9999-12-31T23:59:59-23:59"}).encode(), "end is outside the years 1 to 9999"),
    (json.dumps({"start": "0001-01-01T00:00:00+01:00"}).encode(), "start is outside the years 1 to 9999"),
    (json.dumps({"aoi": "POLYGON ((" + "é" * 100_000 + "))"}).encode(), "non-ASCII"),
    (json.dumps({"aoi": "ü" * 100_000}).encode(), "non-ASCII"),
])
def test_databroker_put_query_refuses_hostile_bodies(broker: TestClient, tmp_path: Path, body: bytes,
                                                     says: str) -> None:
    before = broker.get("/api/query").json()
    answer = broker.put("/api/query", content=body, headers={"content-type": "application/json"})
    assert says in one_error(answer, 422, "InvalidInput", tmp_path)
    assert len(answer.content) < 2_000  # the input is not echoed back
    assert broker.get("/api/query").json() == before


def test_databroker_calendar_ends_in_utc_are_accepted(broker: TestClient) -> None:
    answer = broker.put("/api/query", json={"start": "0001-01-01T00:00:00-01:00", "end": "9999-12-31T23:59:59+23:59"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["start"] == "0001-01-01T01:00:00Z" and answer.json()["end"] == "9999-12-31T00:00:59Z"


@pytest.mark.parametrize("method, question", [
    ("GET /api/result", "q" * 5000), ("GET /api/products", "é" * 5000), ("DELETE /api/result", "\x00"),
    ("GET /api/result", "../../etc"), ("DELETE /api/result", "/" + "a" * 300), ("GET /api/result", "0123456789ABCDEF"),
])
def test_comax_question_must_be_an_id(comax: TestClient, tmp_path: Path, method: str, question: str) -> None:
    verb, path = method.split()
    answer = comax.request(verb, path, params={"question": question})
    assert "question" in one_error(answer, 422, "InvalidInput", tmp_path)


def test_comax_unknown_question_id_is_not_found(comax: TestClient, tmp_path: Path) -> None:
    for verb, path in (("GET", "/api/result"), ("GET", "/api/products"), ("DELETE", "/api/result")):
        answer = comax.request(verb, path, params={"question": "0123456789abcdef"})
        assert "0123456789abcdef" in one_error(answer, 404, "NotFound", tmp_path)


def test_unknown_paths_methods_and_bugs_answer_the_one_error_body(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise OSError(2, "No such file", str(tmp_path / "secret"))

    client = TestClient(create_web_app("demo", app), raise_server_exceptions=False)
    one_error(client.get("/nowhere"), 404, "NotFound", tmp_path)
    answer = client.delete("/healthz")
    one_error(answer, 405, "MethodNotAllowed", tmp_path)
    assert answer.headers["allow"] == "GET"
    assert one_error(client.get("/boom"), 500, "InternalError", tmp_path) == "internal error (see the server log)"


def _openapi(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


@pytest.mark.parametrize("which", ["broker", "comax"])
def test_openapi_declares_each_error_with_the_one_body(which: str, request: pytest.FixtureRequest) -> None:
    spec = _openapi(request.getfixturevalue(which))
    assert "HTTPValidationError" not in json.dumps(spec)
    declared = {}
    for path, operations in spec["paths"].items():
        for verb, operation in operations.items():
            errors = {status: r["content"]["application/json"]["schema"]["$ref"]
                      for status, r in operation["responses"].items() if status != "200"}
            assert set(errors.values()) <= {"#/components/schemas/ErrorBody"}, (verb, path, errors)
            declared[f"{verb.upper()} {path}"] = sorted(errors)
    expected = {
        "broker": {"PUT /api/query": ["422"], "GET /api/search": ["403", "422", "502", "503"]},
        "comax": {"GET /api/result": ["404", "422"], "GET /api/products": ["404", "422"],
                  "DELETE /api/result": ["404", "422", "503"], "DELETE /api/questions": ["503"]},
    }[which]
    assert {key: value for key, value in declared.items() if value} == expected
