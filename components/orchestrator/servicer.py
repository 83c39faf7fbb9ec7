"""The gRPC adapter of the platform's ``orchestrator.proto`` over the transport-free ``Orchestrator``."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc

from components.common.contract import load_proto
from components.common.errors import grpc_errors
from components.common.server import ServiceBinding
from components.orchestrator.service import Configuration, Orchestrator, Status

SERVICE = "Orchestrator"


@functools.cache
def control_api() -> tuple[Any, Any]:
    """The (messages, services) modules compiled from ``orchestrator.proto`` (kept apart from the contract)."""
    return load_proto(Path(__file__).parent, "orchestrator.proto")


class OrchestratorServicer:
    """Thin adapter: protobuf in, core call, protobuf out."""

    def __init__(self, orchestrator: Orchestrator):
        self.core = orchestrator
        self.pb = control_api()[0]

    def _status(self, status: Status) -> Any:
        return self.pb.OrchestrationStatus(success=status.success, code=status.code, message=status.message,
                                           active_threads=status.active_threads)

    @grpc_errors
    def initialize(self, request: Any, context: grpc.ServicerContext) -> Any:
        config = Configuration(request.blueprint, request.dockerinfo, dict(request.protofiles),
                               request.queuesize, request.iterations)
        return self._status(self.core.initialize(config))

    @grpc_errors
    def run(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._status(self.core.run(request.label))

    @grpc_errors
    def get_status(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._status(self.core.status(request.label))

    @grpc_errors
    def stop_orchestration(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._status(self.core.stop(request.label))

    @grpc_errors
    def observe(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        subscription = self.core.observe(request.name_regex, request.component_regex)
        context.add_callback(lambda: self.core.bus.unsubscribe(subscription))
        for event in subscription:
            yield self.pb.OrchestrationEvent(run=event.run, name=event.name, component=event.component,
                                             detail=event.detail)


def binding(orchestrator: Orchestrator) -> ServiceBinding:
    """The service binding for ``components.common.server``."""
    servicer = OrchestratorServicer(orchestrator)
    return ServiceBinding(SERVICE, lambda server: control_api()[1].add_OrchestratorServicer_to_server(servicer,
                                                                                                        server))
