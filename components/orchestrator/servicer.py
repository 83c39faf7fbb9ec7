"""The gRPC adapter of the platform's ``orchestrator.proto`` over the transport-free ``Orchestrator``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from components.common.contract import LazyProto
from components.common.errors import grpc_errors
from components.common.server import ServiceBinding
from components.orchestrator.service import Configuration, Orchestrator, Status

if TYPE_CHECKING:
    # the committed mypy-protobuf stubs; mypy checks the rpcs against the generated servicer
    from components.orchestrator import orchestrator_pb2 as orchestrator_pb2
    from components.orchestrator import orchestrator_pb2_grpc as orchestrator_pb2_grpc
    from components.orchestrator.orchestrator_pb2_grpc import OrchestratorServicer as _Generated
else:
    # compiled on first use and kept apart from the contract's classes
    orchestrator_pb2 = LazyProto(Path(__file__).parent, "orchestrator.proto")
    orchestrator_pb2_grpc = LazyProto(Path(__file__).parent, "orchestrator.proto", services=True)
    _Generated = object

SERVICE = "Orchestrator"


class OrchestratorServicer(_Generated):
    """Thin adapter: protobuf in, core call, protobuf out."""

    def __init__(self, orchestrator: Orchestrator):
        self.core = orchestrator

    @staticmethod
    def _status(status: Status) -> orchestrator_pb2.OrchestrationStatus:
        return orchestrator_pb2.OrchestrationStatus(success=status.success, code=status.code, message=status.message,
                                                    active_threads=status.active_threads)

    @grpc_errors
    def initialize(self, request: orchestrator_pb2.OrchestrationConfiguration,
                   context: grpc.ServicerContext) -> orchestrator_pb2.OrchestrationStatus:
        config = Configuration(request.blueprint, request.dockerinfo, dict(request.protofiles),
                               request.queuesize, request.iterations)
        return self._status(self.core.initialize(config))

    @grpc_errors
    def run(self, request: orchestrator_pb2.RunLabel,
            context: grpc.ServicerContext) -> orchestrator_pb2.OrchestrationStatus:
        return self._status(self.core.run(request.label))

    @grpc_errors
    def get_status(self, request: orchestrator_pb2.RunLabel,
                   context: grpc.ServicerContext) -> orchestrator_pb2.OrchestrationStatus:
        return self._status(self.core.status(request.label))

    @grpc_errors
    def stop_orchestration(self, request: orchestrator_pb2.RunLabel,
                           context: grpc.ServicerContext) -> orchestrator_pb2.OrchestrationStatus:
        return self._status(self.core.stop(request.label))

    @grpc_errors
    def observe(self, request: orchestrator_pb2.OrchestrationObservationConfiguration,
                context: grpc.ServicerContext) -> Iterator[orchestrator_pb2.OrchestrationEvent]:
        subscription = self.core.observe(request.name_regex, request.component_regex)
        context.add_callback(lambda: self.core.bus.unsubscribe(subscription))
        for event in subscription:
            yield orchestrator_pb2.OrchestrationEvent(run=event.run, name=event.name, component=event.component,
                                                      detail=event.detail)


def binding(orchestrator: Orchestrator) -> ServiceBinding:
    """The service binding for ``components.common.server``."""
    servicer = OrchestratorServicer(orchestrator)
    return ServiceBinding(SERVICE,
                          lambda server: orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(servicer, server))
