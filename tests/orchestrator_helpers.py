"""Small real gRPC components for orchestrator tests, and blueprint/dockerinfo builders.

Messages: ``Empty`` and ``Num {int64 value = 1}`` (the wire form of ``google.protobuf.Int64Value``), so the
components need no generated code. Run as a script (``python tests/orchestrator_helpers.py PORT``) it serves a
slow ``Doubler`` until killed.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.wrappers_pb2 import Int64Value

EMPTY = b""


def num(value: int) -> bytes:
    return Int64Value(value=value).SerializeToString()


def value(data: bytes) -> int:
    return Int64Value.FromString(data).value


@dataclass
class RpcSpec:
    """One rpc: its proto types and streaming flags, and a handler over bytes."""

    name: str
    handler: Callable[..., Any]
    input_type: str = "Num"
    output_type: str = "Num"
    input_stream: bool = False
    output_stream: bool = False


def proto_text(service: str, rpcs: list[RpcSpec], num_name: str = "Num") -> str:
    """A platform-style proto for one service (Empty + a Num-shaped message named ``num_name``)."""
    lines = ['syntax = "proto3";', "", "message Empty {", "}", "", f"message {num_name} {{",
             "  int64 value = 1;", "}", "", f"service {service} {{"]
    for rpc in rpcs:
        i = ("stream " if rpc.input_stream else "") + rpc.input_type.replace("Num", num_name)
        o = ("stream " if rpc.output_stream else "") + rpc.output_type.replace("Num", num_name)
        lines.append(f"  rpc {rpc.name}({i}) returns ({o});")
    lines.append("}")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TestComponent:
    """A real gRPC server for one service, built from ``RpcSpec`` handlers on bytes."""

    __test__ = False
    service: str
    rpcs: list[RpcSpec]
    port: int = 0
    num_name: str = "Num"
    server: grpc.Server | None = None
    received: list[int] = field(default_factory=list)

    def start(self) -> TestComponent:
        handlers = {}
        for rpc in self.rpcs:
            factory = {
                (False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler,
            }[(rpc.input_stream, rpc.output_stream)]
            handlers[rpc.name] = factory(rpc.handler)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(self.service, handlers)])
        self.port = self.server.add_insecure_port(f"127.0.0.1:{self.port}")
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(0).wait()

    @property
    def proto(self) -> str:
        return proto_text(self.service, self.rpcs, self.num_name)


def counter(n: int, *, delay: float = 0.0) -> RpcSpec:
    """Source ``next(Empty) -> Num``: 1..n, then NOT_FOUND."""
    state = {"i": 0}
    lock = threading.Lock()

    def next_(request: bytes, context: grpc.ServicerContext) -> bytes:
        with lock:
            state["i"] += 1
            i = state["i"]
        if i > n:
            context.abort(grpc.StatusCode.NOT_FOUND, "no more numbers")
        if delay:
            time.sleep(delay)
        return num(i)

    return RpcSpec("next", next_, input_type="Empty")


def doubler(*, delay: float = 0.0, fail_on: int | None = None) -> RpcSpec:
    def double(request: bytes, context: grpc.ServicerContext) -> bytes:
        v = value(request)
        if fail_on is not None and v == fail_on:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"cannot double {v}")
        if delay:
            time.sleep(delay)
        return num(2 * v)

    return RpcSpec("double", double)


def splitter() -> RpcSpec:
    """``split(Num) -> stream Num``: v -> v copies of v."""

    def split(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        v = value(request)
        for _ in range(v):
            yield num(v)

    return RpcSpec("split", split, output_stream=True)


def totaler() -> RpcSpec:
    """``total(stream Num) -> Num``: the sum of the stream."""

    def total(requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        return num(sum(value(r) for r in requests))

    return RpcSpec("total", total, input_stream=True)


def negator() -> RpcSpec:
    """``negate(stream Num) -> stream Num``."""

    def negate(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
        for r in requests:
            yield num(-value(r))

    return RpcSpec("negate", negate, input_stream=True, output_stream=True)


def collector(into: list[int]) -> RpcSpec:
    """Sink ``collect(Num) -> Empty`` appending every value to ``into``."""
    lock = threading.Lock()

    def collect(request: bytes, context: grpc.ServicerContext) -> bytes:
        with lock:
            into.append(value(request))
        return EMPTY

    return RpcSpec("collect", collect, output_type="Empty")


def blueprint(nodes: dict[str, TestComponent], links: list[tuple[str, str]], *, legacy: bool = False) -> str:
    """Blueprint JSON (Graphene format; ``legacy`` drops stream flags and Graphene keys)."""
    out: list[dict[str, Any]] = []
    for name, comp in nodes.items():
        ops = []
        for rpc in comp.rpcs:
            sig: dict[str, Any] = {"operation_name": rpc.name,
                                   "input_message_name": rpc.input_type.replace("Num", comp.num_name),
                                   "output_message_name": rpc.output_type.replace("Num", comp.num_name)}
            if not legacy:
                sig |= {"input_message_stream": rpc.input_stream, "output_message_stream": rpc.output_stream}
            targets = [t.rsplit(".", 1) for s, t in links if s == f"{name}.{rpc.name}"]
            ops.append({"operation_signature": sig,
                        "connected_to": [{"container_name": n, "operation_signature": {"operation_name": o}}
                                         for n, o in targets]})
        out.append({"container_name": name, "node_type": "MLModel", "image": f"test/{name}:1",
                    "proto_uri": f"org/{name}.proto", "operation_signature_list": ops})
    data: dict[str, Any] = {"name": "test", "version": "1", "nodes": out}
    if legacy:
        data |= {"input_ports": [], "probeIndicator": [{"value": "false"}], "training_clients": []}
    else:
        data |= {"pipeline_id": "p1", "creation_date": "2024-01-01", "type": "pipeline-topology/v2"}
    return json.dumps(data)


def dockerinfo(nodes: dict[str, TestComponent], *, string_ports: bool = True) -> str:
    entries = [{"container_name": n, "ip_address": "127.0.0.1", "port": str(c.port) if string_ports else c.port}
               for n, c in nodes.items()]
    return json.dumps({"docker_info_list": entries})


def protofiles(nodes: dict[str, TestComponent]) -> dict[str, str]:
    return {f"{n}.proto": c.proto for n, c in nodes.items()}


# A client in the shape of the platform's orchestrator_client.py: it knows only orchestrator.proto (compiled by
# the test into its own folder), reads a solution folder, observes first, then initialize + run, and exits when
# the observe stream ends.
PLATFORM_CLIENT = '''
import argparse, glob, os, sys, threading
import grpc
import orchestrator_pb2, orchestrator_pb2_grpc

def readfile(path):
    with open(path) as f:
        return f.read()

parser = argparse.ArgumentParser()
parser.add_argument("--endpoint", required=True)
parser.add_argument("--basepath", required=True)
args = parser.parse_args()
channel = grpc.insecure_channel(args.endpoint)
stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
events = stub.observe(orchestrator_pb2.OrchestrationObservationConfiguration(name_regex=".*", component_regex=".*"))
names = []
def watch():
    for event in events:
        names.append(event.name)
        if event.name == "exception":
            print("%s produced exception in method %s with traceback\\n%s" % (
                event.component, event.detail["method"], event.detail["traceback"]), flush=True)
        else:
            detail = " ".join("%s=%r" % kv for kv in sorted(event.detail.items()))
            print("%s produced event %r with details %s" % (event.component, event.name, detail), flush=True)
observer = threading.Thread(target=watch)
observer.start()
paths = glob.glob(os.path.join(args.basepath, "microservice", "*.proto"))
protofiles = {os.path.basename(p): readfile(p) for p in paths}
print("initialize:", stub.initialize(orchestrator_pb2.OrchestrationConfiguration(
    blueprint=readfile(os.path.join(args.basepath, "blueprint.json")),
    dockerinfo=readfile(os.path.join(args.basepath, "dockerinfo.json")),
    protofiles=protofiles, queuesize=0, iterations=0)).message, flush=True)
print("run:", stub.run(orchestrator_pb2.RunLabel()).message, flush=True)
observer.join()
print("final:", names[-1] if names else "-", flush=True)
'''


def platform_client(folder: Path) -> Path:
    """Compile orchestrator.proto into ``folder`` with protoc and write the client script there."""
    from grpc_tools import protoc

    proto_dir = Path(__file__).parents[1] / "components" / "orchestrator"
    folder.mkdir(parents=True, exist_ok=True)
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={folder}", f"--grpc_python_out={folder}",
                      str(proto_dir / "orchestrator.proto")])
    assert rc == 0, "protoc failed"
    script = folder / "orchestrator_client.py"
    script.write_text(PLATFORM_CLIENT)
    return script


def cli_env(cache: Path) -> dict[str, str]:
    """The environment for ``ai4cop`` subprocesses: the repo importable, the demo cache in ``cache``."""
    import os

    root = str(Path(__file__).parents[1])
    return {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": root, "AI4COP_LOG_LEVEL": "WARNING"}


def ai4cop(*args: str) -> list[str]:
    return [sys.executable, "-m", "onboarding.cli", *args]


if __name__ == "__main__":
    slow = TestComponent("Doubler", [doubler(delay=0.2)], port=int(sys.argv[1])).start()
    print("ready", flush=True)
    assert slow.server is not None
    slow.server.wait_for_termination()
