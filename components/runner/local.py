"""Run a blueprint's nodes as local processes (``ai4cop up``/``run``/``demo``): start, wait healthy, stop.

Each node is ``python -m components.<package>`` on free loopback ports, in its own process group, so stopping
it (SIGTERM, then SIGKILL after a grace period) also ends anything it started. Settings reach a node through
its component's environment prefix (``DATABROKER_``, ``COMAX_``...).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from components.common import registry
from components.common.contract import component_proto
from components.common.errors import InvalidInput, Unavailable
from components.orchestrator.blueprint import Blueprint, Endpoint, dump_dockerinfo

logger = logging.getLogger(__name__)

ORCHESTRATOR = "orchestrator"
LOOPBACK = "127.0.0.1"
CLIENT = Path("orchestrator_client") / "orchestrator_client.py"
# The client `ai4cop export` puts in every solution, installed beside this package. Read as a file, not
# imported: it is a standalone script of the deployment tools, a layer above this one.
CLIENT_SCRIPT = Path(__file__).resolve().parents[2] / "onboarding" / "assets" / "orchestrator_client.py"


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class NodeProcess:
    """One started node: its component, ports, process and log file."""

    name: str
    component: str
    port: int
    web_port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(LOOPBACK, self.port)

    @property
    def web_url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}/"

    def last_line(self) -> str:
        """The last non-empty line of the node's log (usually the error that stopped it)."""
        lines = [line for line in self.log_tail(50).splitlines() if line.strip()]
        return lines[-1].strip() if lines else "(no output)"

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def components_of(blueprint: Blueprint) -> dict[str, str]:
    """The component of every node, from its image; ``InvalidInput`` naming a node whose image is unknown."""
    found = {}
    for name, node in blueprint.nodes.items():
        try:
            found[name] = registry.component_for_image(node.image)
        except InvalidInput as err:
            raise InvalidInput(f"node {name}: {err}") from err
    return found


@dataclass
class LocalDeployment:
    """The processes of one pipeline on this machine; use as a context manager to always stop them."""

    log_dir: Path
    grace_seconds: float = 8.0
    nodes: dict[str, NodeProcess] = field(default_factory=dict)

    def start(self, name: str, component: str, env: dict[str, str] | None = None) -> NodeProcess:
        """Start node ``name`` running ``component`` with extra environment ``env`` (not waiting for it)."""
        try:
            entry = registry.component(component)
        except InvalidInput as err:
            raise InvalidInput(f"node {name}: {err}") from err
        package, prefix = entry.package, entry.prefix
        port, web_port = free_port(), free_port()
        child_env = {**os.environ, **(env or {}), f"{prefix}HOST": LOOPBACK, f"{prefix}PORT": str(port),
                     f"{prefix}WEB_HOST": LOOPBACK, f"{prefix}WEB_PORT": str(web_port)}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", package], env=child_env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                       preexec_fn=_die_with_parent)
        node = NodeProcess(name, component, port, web_port, log, process)
        self.nodes[name] = node
        logger.info("started %s (%s) pid %d on %s:%d", name, component, process.pid, LOOPBACK, port)
        return node

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until every node's gRPC health says SERVING; ``Unavailable`` naming a node that died or is late."""
        deadline = time.monotonic() + timeout
        for node in self.nodes.values():
            with grpc.insecure_channel(node.endpoint.target) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                while True:
                    if node.process.poll() is not None:
                        raise Unavailable(f"node {node.name} ({node.component}) exited with code "
                                          f"{node.process.returncode}: {node.last_line()}")
                    if time.monotonic() > deadline:
                        raise Unavailable(f"node {node.name} ({node.component}) not healthy within {timeout:g} s: "
                                          f"{node.last_line()}")
                    try:
                        reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5, wait_for_ready=True)
                        if reply.status == health_pb2.HealthCheckResponse.SERVING:
                            break
                    except grpc.RpcError:
                        pass
                    time.sleep(0.1)

    def endpoints(self) -> dict[str, Endpoint]:
        return {name: node.endpoint for name, node in self.nodes.items()}

    def dead(self) -> list[NodeProcess]:
        """Nodes whose process has exited."""
        return [node for node in self.nodes.values() if node.process.poll() is not None]

    def stop(self) -> None:
        """SIGTERM every process group, wait up to the grace period, then SIGKILL what is left."""
        for node in self.nodes.values():
            _signal_group(node.process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for node in self.nodes.values():
            try:
                node.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in %g s: killing it", node.name, self.grace_seconds)
            _signal_group(node.process, signal.SIGKILL)
            node.process.wait()
        self.nodes.clear()

    def __enter__(self) -> LocalDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child (Linux): SIGTERM when the parent dies, even by SIGKILL, so no node outlives ``ai4cop up``."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def write_basepath(basepath: Path, blueprint_text: str, endpoints: dict[str, Endpoint],
                   protos: dict[str, str]) -> None:
    """Write the platform's solution layout: ``blueprint.json``, ``dockerinfo.json``, ``microservice/*.proto``
    and ``protobuf/orchestrator.proto`` (what the platform's and our orchestrator clients read), and our client
    as ``orchestrator_client/orchestrator_client.py`` (where a solution has it)."""
    (basepath / "microservice").mkdir(parents=True, exist_ok=True)
    (basepath / "protobuf").mkdir(parents=True, exist_ok=True)
    (basepath / "protobuf" / "orchestrator.proto").write_text(component_proto(ORCHESTRATOR), encoding="utf-8")
    (basepath / "blueprint.json").write_text(blueprint_text, encoding="utf-8")
    (basepath / "dockerinfo.json").write_text(dump_dockerinfo(endpoints), encoding="utf-8")
    for name, text in protos.items():
        (basepath / "microservice" / f"{name}.proto").write_text(text, encoding="utf-8")
    (basepath / CLIENT).parent.mkdir(exist_ok=True)
    (basepath / CLIENT).write_text(CLIENT_SCRIPT.read_text(encoding="utf-8"), encoding="utf-8")
