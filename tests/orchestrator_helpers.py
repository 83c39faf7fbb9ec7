"""Small real gRPC components for orchestrator tests, and blueprint/dockerinfo builders.

Messages: ``Empty`` and ``Num {int64 value = 1}`` (the wire form of ``google.protobuf.Int64Value``), so the
components need no generated code. Run as a script (``python tests/orchestrator_helpers.py PORT``) it serves a
slow ``Doubler`` until killed.
"""

from __future__ import annotations

import json
import socket
import struct
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


@dataclass
class TestComponent:
    """A real gRPC server for one service, built from ``RpcSpec`` handlers on bytes."""

    __test__ = False
    service: str
    rpcs: list[RpcSpec]
    port: int = 0
    num_name: str = "Num"
    host: str = "127.0.0.1"
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
        # The ping policy of our components' servers (components.common.server), for keepalive tests.
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                                  options=[("grpc.http2.min_ping_interval_without_data_ms", 500)])
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(self.service, handlers)])
        self.port = self.server.add_insecure_port(f"{self.host}:{self.port}")
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


def blueprint(nodes: dict[str, TestComponent], links: list[tuple[str, str]], *, legacy: bool = False,
              images: dict[str, str] | None = None) -> str:
    """Blueprint JSON (Graphene format; ``legacy`` drops stream flags and Graphene keys); node images are
    ``test/<node>:1`` unless given in ``images``."""
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
        out.append({"container_name": name, "node_type": "MLModel", "image": (images or {}).get(name, f"test/{name}:1"),
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


class DnsServer:
    """A tiny DNS server on loopback (UDP) answering A queries from ``records``, as a cluster DNS answers for a
    headless Service: one name, every pod's address. gRPC's resolver asks it when the target names it:
    ``dns://127.0.0.1:<port>/<name>:<grpc port>``."""

    def __init__(self, records: dict[str, list[str]]):
        self.records = records
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self._sock.recvfrom(512)
            except OSError:
                return
            self._sock.sendto(self._answer(data), peer)

    def _answer(self, query: bytes) -> bytes:
        ident = struct.unpack(">H", query[:2])[0]
        labels, i = [], 12
        while query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode())
            i += 1 + query[i]
        qtype = struct.unpack(">H", query[i + 1:i + 3])[0]
        question, name = query[12:i + 5], ".".join(labels).lower()
        self.queries.append(name)
        addresses = self.records.get(name, []) if qtype == 1 else []  # A records only (AAAA: none)
        answers = b"".join(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton(a) for a in addresses)
        rcode = 0 if name in self.records else 3  # NXDOMAIN for other names
        return struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, len(addresses), 0, 0) + question + answers

    def close(self) -> None:
        self._sock.close()


class FreezingProxy:
    """A TCP relay to ``127.0.0.1:target`` that can go silent: ``freeze`` stops forwarding in both directions
    and refuses new connections, but never closes the open ones, as when a pod or node is lost without a reset."""

    def __init__(self, target: int):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._frozen = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._frozen.is_set():  # a thread blocked in accept() may outlive close(): refuse explicitly
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    return
                if not self._frozen.is_set():
                    dst.sendall(data)
            except OSError:
                return

    def freeze(self) -> None:
        self._frozen.set()
        self._listener.close()

    def close(self) -> None:
        self.freeze()
        for sock in self._sockets:
            sock.close()


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
