"""The orchestrator's gRPC control API, driven by a client that knows only the platform's orchestrator.proto."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from components.common.server import create_server
from components.orchestrator.app import Settings, build
from components.orchestrator.blueprint import Endpoint
from components.orchestrator.servicer import orchestrator_pb2 as pb
from components.orchestrator.servicer import orchestrator_pb2_grpc
from components.runner.local import write_basepath
from tests.conftest import eventually
from tests.orchestrator_helpers import (
    TestComponent,
    blueprint,
    collector,
    counter,
    dockerinfo,
    doubler,
    platform_client,
    protofiles,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def orchestrator() -> Iterator[int]:
    component = build(Settings(host="127.0.0.1", port=0))
    server, port = create_server(component.services, Settings(host="127.0.0.1", port=0))
    server.start()
    yield port
    for hook in component.on_stop:
        hook()
    server.stop(0)


@pytest.fixture
def pipeline() -> Iterator[dict[str, TestComponent]]:
    got: list[int] = []
    nodes = {"source": TestComponent("Counter", [counter(5)]).start(),
             "double": TestComponent("Doubler", [doubler()]).start(),
             "sink": TestComponent("Collector", [collector(got)]).start()}
    yield nodes
    for node in nodes.values():
        node.stop()


LINKS = [("source.next", "double.double"), ("double.double", "sink.collect")]


def test_platform_client_runs_the_pipeline_and_its_stream_ends(orchestrator: int, pipeline: dict[str, Any],
                                                               tmp_path: Path) -> None:
    endpoints = {name: Endpoint("127.0.0.1", comp.port) for name, comp in pipeline.items()}
    endpoints["orchestrator"] = Endpoint("127.0.0.1", orchestrator)
    write_basepath(tmp_path / "solution", blueprint(pipeline, LINKS), endpoints,
                   {name: comp.proto for name, comp in pipeline.items()})
    script = platform_client(tmp_path / "client")
    proc = subprocess.run([sys.executable, str(script), f"--endpoint=127.0.0.1:{orchestrator}",
                           f"--basepath={tmp_path / 'solution'}"], cwd=script.parent, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "initialize: initialized" in proc.stdout
    assert "final: run.finished" in proc.stdout
    assert "sink produced event 'RPC.call'" in proc.stdout


def test_deployer_flow_status_initialize_run_active_threads(orchestrator: int,
                                                            pipeline: dict[str, TestComponent]) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{orchestrator}") as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        status = stub.get_status(pb.RunLabel(), timeout=5)
        assert (status.success, status.message) == (False, "not initialized")
        reply = stub.initialize(pb.OrchestrationConfiguration(
            blueprint=blueprint(pipeline, LINKS), dockerinfo=dockerinfo(pipeline, string_ports=False),
            protofiles=protofiles(pipeline), queuesize=0, iterations=0), timeout=30)
        assert (reply.success, reply.message) == (True, "initialized")
        assert stub.run(pb.RunLabel(label="r1"), timeout=5).success
        eventually(lambda: stub.get_status(pb.RunLabel(), timeout=5).active_threads == 0, 20, "no active threads")
        final = stub.get_status(pb.RunLabel(), timeout=5)
        assert (final.success, final.message) == (True, "finished")
        late = list(stub.observe(pb.OrchestrationObservationConfiguration(name_regex=".*", component_regex=".*"),
                                 timeout=5))
        assert [(e.run, e.name) for e in late] == [("r1", "run.finished")]


def test_invalid_pipeline_is_reported_not_crashed(orchestrator: int, pipeline: dict[str, TestComponent]) -> None:
    protos = protofiles(pipeline)
    protos["double.proto"] = protos["double.proto"].replace("int64 value = 1;", "string value = 1;")
    with grpc.insecure_channel(f"127.0.0.1:{orchestrator}") as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        events = stub.observe(pb.OrchestrationObservationConfiguration(name_regex=".*", component_regex=".*"))
        reply = stub.initialize(pb.OrchestrationConfiguration(
            blueprint=blueprint(pipeline, LINKS), dockerinfo=dockerinfo(pipeline), protofiles=protos), timeout=30)
        assert not reply.success
        assert reply.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert "source.next -> double.double" in reply.message and "differ" in reply.message
        assert not stub.run(pb.RunLabel(), timeout=5).success
        seen = [(e.name, e.component) for e in events]
        assert seen[0] == ("exception", "orchestrator")
        assert seen[-1][0] == "run.failed"


def test_bad_observe_regex_is_invalid_argument(orchestrator: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{orchestrator}") as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            list(stub.observe(pb.OrchestrationObservationConfiguration(name_regex="(", component_regex=".*"),
                              timeout=5))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
