"""Orchestrator throughput and memory: a 3-node echo pipeline (source -> echo -> sink), each node its own process.

1. messages/s through our orchestrator (no observer, and with a ``.*`` observer like the platform's client)
   against the baseline: this process calling the three components directly, in a loop, one message at a time.
2. memory of the orchestrator process with a slow sink, as the run grows: bounded queues (queuesize 0 = default)
   against an effectively unbounded queue (what the platform's orchestrator does).

    .venv/bin/python bench/orchestrator_throughput.py [--messages 3000] [--payload 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc

from components.orchestrator.engine import RunOptions
from components.orchestrator.service import Configuration, Orchestrator
from components.runner.local import free_port

PROTOS = {
    "source": ("Source", "next", "Empty", "Blob"),
    "echo": ("Echo", "echo", "Blob", "Blob"),
    "sink": ("Sink", "put", "Blob", "Empty"),
}


def proto(service: str, rpc: str, inp: str, out: str) -> str:
    return (f'syntax = "proto3";\n\nmessage Empty {{\n}}\n\nmessage Blob {{\n  bytes data = 1;\n}}\n\n'
            f"service {service} {{\n  rpc {rpc}({inp}) returns ({out});\n}}\n")


def serve(role: str, port: int, payload: int, delay: float) -> None:
    """One node: raw bytes handlers, no (de)serialization cost beyond gRPC's own."""
    service, rpc, _, _ = PROTOS[role]
    blob = b"\x0a" + _varint(payload) + b"x" * payload

    def handler(request: bytes, context: grpc.ServicerContext) -> bytes:
        if delay:
            time.sleep(delay)
        return {"source": blob, "echo": request, "sink": b""}[role]

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {rpc: grpc.unary_unary_rpc_method_handler(handler)}
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(service, handlers)])
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Nodes:
    """The three node processes."""

    def __init__(self, payload: int, sink_delay: float = 0.0):
        self.ports = {role: free_port() for role in PROTOS}
        self.procs = []
        for role, port in self.ports.items():
            delay = sink_delay if role == "sink" else 0.0
            proc = subprocess.Popen([sys.executable, __file__, "--serve", role, str(port), str(payload), str(delay)],
                                    stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            self.procs.append(proc)

    def config(self, queuesize: int = 0, iterations: int = 0) -> Configuration:
        nodes = []
        for role, (_service, rpc, inp, out) in PROTOS.items():
            nxt = {"source": "echo", "echo": "sink"}.get(role)
            connected = [{"container_name": nxt, "operation_signature": {"operation_name": PROTOS[nxt][1]}}] \
                if nxt else []
            nodes.append({"container_name": role, "node_type": "MLModel", "image": f"bench/{role}",
                          "operation_signature_list": [{"operation_signature": {
                              "operation_name": rpc, "input_message_name": inp, "output_message_name": out},
                              "connected_to": connected}]})
        info = [{"container_name": r, "ip_address": "127.0.0.1", "port": p} for r, p in self.ports.items()]
        return Configuration(json.dumps({"name": "bench", "version": "1", "nodes": nodes}),
                             json.dumps({"docker_info_list": info}),
                             {f"{r}.proto": proto(*spec) for r, spec in PROTOS.items()}, queuesize, iterations)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def direct(nodes: Nodes, n: int) -> float:
    """Baseline: call source, echo, sink in a loop; messages per second."""
    channels = {r: grpc.insecure_channel(f"127.0.0.1:{p}") for r, p in nodes.ports.items()}
    calls = {r: channels[r].unary_unary(f"/{s}/{rpc}") for r, (s, rpc, _, _) in PROTOS.items()}
    calls["source"](b"")  # connect before timing, as the orchestrator's start-up wait does
    started = time.perf_counter()
    for _ in range(n):
        calls["sink"](calls["echo"](calls["source"](b"")))
    elapsed = time.perf_counter() - started
    for channel in channels.values():
        channel.close()
    return n / elapsed


def orchestrated(nodes: Nodes, n: int, observe: bool, queuesize: int = 0) -> tuple[float, int]:
    """Our orchestrator over the same nodes; (messages per second, events seen by the observer)."""
    orch = Orchestrator(RunOptions())
    seen = [0]
    reader = None
    if observe:
        subscription = orch.observe(".*", ".*")

        def read() -> None:
            for _ in subscription:
                seen[0] += 1

        reader = threading.Thread(target=read)
        reader.start()
    status = orch.initialize(nodes.config(queuesize, iterations=n))
    assert status.success, status.message
    orch.run("")
    run = orch.current_run
    assert run is not None
    run.wait()
    assert run.failure is None, run.failure
    if reader is not None:
        reader.join()
    # Time from the first source call: the start-up wait (connecting) is not throughput.
    return n / (run.ended_at - run.started_at), seen[0]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def memory(payload: int, counts: list[int], queuesize: int, sink_delay: float) -> list[tuple[int, float]]:
    """Peak RSS growth of this process during runs of growing length with a slow sink."""
    found = []
    for n in counts:
        nodes = Nodes(payload, sink_delay)
        try:
            orch = Orchestrator(RunOptions())
            assert orch.initialize(nodes.config(queuesize, iterations=n)).success
            base = rss_mb()
            peak = [base]
            orch.run("")
            run = orch.current_run
            assert run is not None
            while not run.wait(0.05):
                peak[0] = max(peak[0], rss_mb())
            found.append((n, peak[0] - base))
        finally:
            nodes.stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--payload", type=int, default=100, help="bytes per message (throughput part)")
    parser.add_argument("--serve", nargs=4, metavar=("ROLE", "PORT", "PAYLOAD", "DELAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        role, port, payload, delay = args.serve
        serve(role, int(port), int(payload), float(delay))
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    nodes = Nodes(args.payload)
    try:
        base = direct(nodes, args.messages)
        ours, _ = orchestrated(nodes, args.messages, observe=False)
        watched, events = orchestrated(nodes, args.messages, observe=True)
    finally:
        nodes.stop()
    print(f"throughput, {args.messages} messages of {args.payload} B through source -> echo -> sink:")
    print(f"  direct calls in a loop (baseline): {base:8.0f} msg/s")
    print(f"  orchestrator, no observer:         {ours:8.0f} msg/s  ({(ours / base - 1) * 100:+.0f}% vs baseline)")
    print(f"  orchestrator, '.*' observer:       {watched:8.0f} msg/s  ({(watched / base - 1) * 100:+.0f}% vs "
          f"baseline; {events} events)")
    payload, delay, counts = 100_000, 0.003, [500, 1000, 2000]
    print(f"memory growth of the orchestrator process, slow sink ({delay * 1000:g} ms/msg), {payload // 1000} kB "
          "messages:")
    for label, queuesize in (("bounded (queuesize 0 = 64)", 0), ("unbounded (queuesize 10^9)", 10**9)):
        figures = ", ".join(f"{n} msgs: {mb:+.0f} MB" for n, mb in memory(payload, counts, queuesize, delay))
        print(f"  {label:28s} {figures}")


if __name__ == "__main__":
    main()
