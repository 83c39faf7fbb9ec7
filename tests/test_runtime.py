"""The server runtime: a real gRPC server on port 0 with health and reflection, graceful stop, /healthz, settings."""

from __future__ import annotations

import threading

import grpc
import pytest
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from components.common.contract import contract_pb2, contract_pb2_grpc
from components.common.errors import InvalidInput, grpc_errors
from components.common.server import ServiceBinding, create_server
from components.common.settings import ComponentSettings, SecretStr, SettingsConfigDict
from components.common.web import WebServer, create_web_app
from tests.conftest import eventually


class EchoSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ECHOTEST_", frozen=True)
    token: SecretStr = SecretStr("")


class Broker(contract_pb2_grpc.DataBrokerServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    @grpc_errors
    def next_product(self, request, context):  # type: ignore[no-untyped-def]
        return contract_pb2.Product(id="p1")

    @grpc_errors
    def search(self, request, context):  # type: ignore[no-untyped-def]
        if not request.aoi_wkt:
            raise InvalidInput("aoi_wkt is required")
        self.entered.set()
        self.release.wait(10)
        yield contract_pb2.Product(id="slow")


def _binding(servicer: Broker) -> ServiceBinding:
    return ServiceBinding("DataBroker", lambda s: contract_pb2_grpc.add_DataBrokerServicer_to_server(servicer, s))


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    servicer = Broker()
    srv, port = create_server([_binding(servicer)], EchoSettings(host="127.0.0.1", port=0))
    srv.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield srv, channel, servicer
    servicer.release.set()
    channel.close()
    srv.stop(0)


def test_health_serving_per_service_and_overall(server) -> None:  # type: ignore[no-untyped-def]
    _, channel, _ = server
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", "DataBroker"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(server) -> None:  # type: ignore[no-untyped-def]
    _, channel, _ = server
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                        timeout=5)
    names = {s.name for reply in replies for s in reply.list_services_response.service}
    assert {"DataBroker", "grpc.health.v1.Health"} <= names


def test_domain_error_becomes_invalid_argument(server) -> None:  # type: ignore[no-untyped-def]
    _, channel, _ = server
    stub = contract_pb2_grpc.DataBrokerStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        list(stub.search(contract_pb2.SearchQuery(), timeout=5))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "aoi_wkt is required" in info.value.details()
    assert stub.next_product(contract_pb2.Empty(), timeout=5).id == "p1"


def test_graceful_stop_turns_health_not_serving_before_stopping(server) -> None:  # type: ignore[no-untyped-def]
    srv, channel, servicer = server
    stub = contract_pb2_grpc.DataBrokerStub(channel)
    results: list[str] = []
    call = stub.search(contract_pb2.SearchQuery(aoi_wkt="x"), timeout=10)
    reader = threading.Thread(target=lambda: results.extend(p.id for p in call))
    reader.start()
    assert servicer.entered.wait(10), "the search never reached the servicer"
    stopper = threading.Thread(target=srv.stop, args=(5,))
    stopper.start()

    # new rpcs are refused once stop() runs, so ask the health servicer itself
    def not_serving(name: str) -> bool:
        reply = srv.health.Check(health_pb2.HealthCheckRequest(service=name), None)
        return bool(reply.status == health_pb2.HealthCheckResponse.NOT_SERVING)

    for name in ("", "DataBroker"):
        eventually(lambda name=name: not_serving(name), what=f"health of {name!r} NOT_SERVING")
    assert stopper.is_alive(), "stop() returned before the in-flight rpc ended"
    servicer.release.set()
    stopper.join(10)
    reader.join(10)
    assert results == ["slow"], "the in-flight rpc finished within the grace period"


def test_web_app_answers_healthz() -> None:
    client = TestClient(create_web_app("demo"))
    assert client.get("/healthz").json() == {"status": "ok", "component": "demo"}


def test_web_server_runs_on_a_free_port_and_stops() -> None:
    import requests

    web = WebServer(create_web_app("demo"), "127.0.0.1", 0)
    web.start()
    try:
        reply = requests.get(f"http://127.0.0.1:{web.port}/healthz", timeout=2)
        assert reply.status_code == 200
    finally:
        web.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{web.port}/healthz", timeout=2)


def test_settings_from_env_with_masked_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHOTEST_PORT", "9999")
    monkeypatch.setenv("ECHOTEST_TOKEN", "s3cr3t-value")
    settings = EchoSettings()
    assert settings.port == 9999
    assert settings.web_port == 8062
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings)
    assert settings.token.get_secret_value() == "s3cr3t-value"


def test_settings_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("ECHOTEST_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        EchoSettings()


def test_busy_ports_are_one_clear_error() -> None:
    import socket

    from components.common.errors import Unavailable

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(Unavailable, match=f"cannot listen for HTTP on 127.0.0.1:{port}"):
            WebServer(create_web_app("demo"), "127.0.0.1", port)
        first, bound = create_server([], EchoSettings(host="127.0.0.1", port=0))
        try:
            with pytest.raises(Unavailable, match=f"cannot listen for gRPC on 127.0.0.1:{bound}"):
                create_server([], EchoSettings(host="127.0.0.1", port=bound))
        finally:
            first.stop(0)


def test_cli_turns_a_bad_setting_into_one_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from onboarding.cli import main

    monkeypatch.setenv("COMAX_QA_MIN", "abc")
    monkeypatch.setenv("COMAX_PORT", "0")
    monkeypatch.setenv("COMAX_WEB_PORT", "0")
    assert main(["serve", "comax"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ai4cop serve: error: invalid setting qa_min (COMAX_QA_MIN): ")


def test_rest_errors_have_one_body_shape() -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{n}")
    def item(n: int) -> dict[str, int]:
        if n < 0:
            raise InvalidInput("n must not be negative")
        return {"n": n}

    client = TestClient(create_web_app("demo", app))
    bad_type = client.get("/items/abc")
    assert bad_type.status_code == 422
    assert bad_type.json()["error"] == "InvalidInput" and "path.n" in bad_type.json()["detail"]
    negative = client.get("/items/-1")
    assert negative.status_code == 422
    assert negative.json() == {"error": "InvalidInput", "detail": "n must not be negative"}
