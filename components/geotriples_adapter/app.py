"""The GeoTriples adapter as a platform component: wiring only (``Settings`` and ``build``)."""

from __future__ import annotations

from components.common.contract import contract_pb2_grpc
from components.common.server import Component, ServiceBinding
from components.geotriples_adapter.servicer import GeoTriplesServicer
from components.geotriples_adapter.settings import Settings

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    """The component: the ``GeoTriples`` gRPC service."""
    servicer = GeoTriplesServicer(settings)
    binding = ServiceBinding("GeoTriples",
                             lambda server: contract_pb2_grpc.add_GeoTriplesServicer_to_server(servicer, server))
    return Component("geotriples_adapter", [binding])
