"""Build a component's gRPC server (health + reflection) and its HTTP app, serve both, stop both cleanly."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from components.common.errors import Unavailable
from components.common.settings import ComponentSettings
from components.common.web import WebServer, create_web_app

logger = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass(frozen=True)
class ServiceBinding:
    """One gRPC service of a component: its full name and how to add its servicer to a server."""

    name: str
    add_to_server: Callable[[grpc.Server], None]


@dataclass
class Component:
    """Everything a component serves: gRPC services, optional extra HTTP routes, and clean-up."""

    name: str
    services: Sequence[ServiceBinding]
    web_app: object | None = None
    on_stop: list[Callable[[], None]] = field(default_factory=list)


class ComponentServer:
    """A started-or-startable gRPC server with its health servicer; ``stop`` shuts down in the right order."""

    def __init__(self, server: grpc.Server, health_servicer: health.HealthServicer, names: Sequence[str]):
        self.grpc_server = server
        self.health = health_servicer
        self.service_names = list(names)

    def start(self) -> None:
        self.grpc_server.start()
        for name in ["", *self.service_names]:
            self.health.set(name, SERVING)

    def stop(self, grace: float = 5.0) -> None:
        """Health to NOT_SERVING for every service, then ``stop(grace)`` and wait for it."""
        self.health.enter_graceful_shutdown()
        self.grpc_server.stop(grace).wait()


def create_server(
    services: Sequence[ServiceBinding], settings: ComponentSettings
) -> tuple[ComponentServer, int]:
    """Build a gRPC server with ``services``, health and reflection, bound to ``settings.host:port``.

    Returns the server (not started) and the port really bound (useful with port 0).
    """
    # no SO_REUSEPORT: a second server on a busy port must fail, not silently share it; keepalive pings from
    # clients (the orchestrator finds lost peers with them) are accepted every 10 s even during a silent call
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=settings.max_workers),
                         options=[("grpc.so_reuseport", 0), ("grpc.http2.min_ping_interval_without_data_ms", 10_000)])
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [binding.name for binding in services]
    for binding in services:
        binding.add_to_server(server)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
    )
    for name in ["", *names]:
        health_servicer.set(name, NOT_SERVING)
    address = f"{settings.host}:{settings.port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as err:
        raise Unavailable(f"cannot listen for gRPC on {address}: is the port in use? ({err})") from err
    if port == 0:
        raise Unavailable(f"cannot listen for gRPC on {address}: is the port in use?")
    return ComponentServer(server, health_servicer, names), port


def serve(component: Component, settings: ComponentSettings) -> None:
    """Serve ``component`` on gRPC and HTTP until SIGTERM/SIGINT, then stop gracefully (entry points only)."""
    web = WebServer(create_web_app(component.name, component.web_app), settings.web_host, settings.web_port)
    server, port = create_server(component.services, settings)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: shutting down", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    web.start()
    logger.info("%s: gRPC on %s:%d, HTTP on %s:%d", component.name, settings.host, port, settings.web_host,
                web.port)
    stopping.wait()
    server.stop(settings.grace_seconds)
    web.stop()
    for hook in component.on_stop:
        hook()
    logger.info("%s stopped", component.name)
