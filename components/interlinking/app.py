"""The interlinking component: wiring only (``Settings`` and ``build``)."""

from __future__ import annotations

from components.common.contract import contract_pb2_grpc
from components.common.server import Component, ServiceBinding
from components.interlinking.service import InterlinkingService
from components.interlinking.servicer import InterlinkingServicer
from components.interlinking.settings import Settings

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    """The component: the Interlinking gRPC service over the shared folder."""
    service = InterlinkingService(settings.shared_folder, settings.base_iri, settings.crs, settings.chunk_features)
    servicer = InterlinkingServicer(service)
    binding = ServiceBinding("Interlinking",
                             lambda server: contract_pb2_grpc.add_InterlinkingServicer_to_server(servicer, server))
    return Component("interlinking", [binding])
